"""Faults survived, measured (issue 23): the fault-injection suite of benchmarks/faults.py, through the command line.

The quick version (one trial of each fault) runs by default; the reference runs of every job are shared by the
module-scoped fixture. The full version (5 kill trials a job, every fault) runs when CYCLONEDIFF_SLOW=1 is set:
    CYCLONEDIFF_SLOW=1 pytest -q tests/test_faults.py -k full
Each row of the table must pass: every trial survived (finished identically, or stopped with the clear one-line
error the fault calls for and then finished identically), and no file that existed before a fault was lost,
changed or left half-written.
"""
import importlib.util, os, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('faults', ROOT / 'benchmarks' / 'faults.py')
faults = importlib.util.module_from_spec(spec)
sys.modules['faults'] = faults
spec.loader.exec_module(faults)

FAMILIES = {   # fault (prefix of Row.fault) -> the jobs it is tried on in the quick suite
    'SIGKILL mid-run': list(faults.QUICK_KILL_JOBS),
    'full disk writing a checkpoint': ['vae'], 'full disk writing a store chunk': ['build'],
    'full disk writing the report': ['eval'],
    'corrupted chunk': ['eval'], 'NaN in a store sample': ['vae'],
    'truncated checkpoint': ['vae'], 'checkpoint of another configuration': ['vae', 'eval'],
    'two processes, one run folder': ['vae'],
    'bad config train.batch_size=0': ['vae'], 'bad config train.lr=-0.001': ['vae'], 'bad config data.leads_h': ['vae'],
}


def explain(rows) -> str:
    return '\n' + faults.markdown_table(rows)


@pytest.fixture(scope='module')
def quick_rows(tmp_path_factory):
    return faults.run_suite(tmp_path_factory.mktemp('faults'), trials=1, seed=0, full=False, parallel=2)


@pytest.mark.parametrize('family', list(FAMILIES))
def test_fault_is_survived_without_data_loss(quick_rows, family):
    rows = [r for r in quick_rows if r.fault.startswith(family)]
    assert sorted(r.job for r in rows) == sorted(FAMILIES[family]), explain(quick_rows)
    for r in rows:
        assert r.trials >= 1, explain([r])
        assert r.lost == 0, f'data lost: {explain([r])}'
        assert r.survived == r.trials, f'not survived: {explain([r])}'
        assert r.identical == r.reruns, f'results differ from the uninterrupted run: {explain([r])}'


def test_every_row_is_in_a_family(quick_rows):
    assert all(any(r.fault.startswith(f) for f in FAMILIES) for r in quick_rows), explain(quick_rows)


@pytest.mark.skipif(os.environ.get('CYCLONEDIFF_SLOW') != '1', reason='the full fault suite: set CYCLONEDIFF_SLOW=1')
def test_full_suite(tmp_path):
    rows = faults.run_suite(tmp_path, trials=5, seed=1, full=True, parallel=2)
    assert rows and all(r.passed for r in rows), explain(rows)
    assert sum(r.trials for r in rows if r.fault.startswith('SIGKILL')) == 5 * len(faults.JOBS)
    assert {r.fault for r in rows} >= {'inf in a store sample', 'checkpoint of another configuration'}
