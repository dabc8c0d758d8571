"The `cyclonediff` command as a user runs it: a real subprocess each time."
import os, subprocess, sys
from pathlib import Path
import pytest

def cli(*args, cwd=None, check=True):
    r = subprocess.run([sys.executable, '-m', 'cyclonediff.cli', *map(str, args)], capture_output=True, text=True,
                       cwd=cwd, env={**os.environ, 'PYTHONUNBUFFERED': '1'}, timeout=600)
    if check and r.returncode: raise AssertionError(f'exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}')
    return r

def test_help_lists_every_command():
    out = cli('--help').stdout
    for cmd in ('data', 'train', 'eval', 'demo'): assert cmd in out

def test_fetch_dry_run_prints_the_real_plan():
    out = cli('data', 'fetch', '--dry-run', '--start', '2020-08-25', '--end', '2020-08-25T21:00', '--box', '10,35,-100,-70').stdout
    assert out.count('GRIDSAT-B1.2020.08.25.') == 8
    assert 'ibtracs.ALL.list.v04r01.csv' in out and "'area': [35.0, -100.0, 10.0, -70.0]" in out

def test_fetch_bad_box_is_a_clear_error():
    r = cli('data', 'fetch', '--dry-run', '--start', '2020-08-25', '--end', '2020-08-26', '--box', '10,35', check=False)
    assert r.returncode != 0 and 'south,north,west,east' in r.stderr

@pytest.fixture(scope='module')
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp('w') / 'world'
    cli('data', 'synth', '--out', out, '--preset', 'tiny', 'n_storms=2', 'days=2')
    return out

def test_synth_then_inspect_each_format(world):
    assert 'IBTrACS v04 CSV, 2 storms' in cli('data', 'inspect', next((world / 'ibtracs').glob('*.csv'))).stdout
    assert 'GridSat-B1' in cli('data', 'inspect', world / 'gridsat').stdout
    assert 'sst' in cli('data', 'inspect', world / 'era5').stdout

def test_synth_unknown_field_is_refused(tmp_path):
    r = cli('data', 'synth', '--out', tmp_path / 'w', '--preset', 'tiny', 'n_storm=2', check=False)
    assert r.returncode != 0 and 'unknown field' in r.stderr and 'n_storms' in r.stderr

def test_inspect_missing_and_corrupt_files(tmp_path):
    r = cli('data', 'inspect', tmp_path / 'GRIDSAT-B1.2020.01.01.00.v02r01.nc', check=False)
    assert r.returncode != 0 and 'no such file' in r.stderr
    bad = tmp_path / 'era5_broken.nc'; bad.write_bytes(b'CDF\x01' + b'\x00' * 20)
    r = cli('data', 'inspect', bad, check=False)
    assert r.returncode != 0 and 'era5_broken.nc' in r.stderr and 'Traceback' not in r.stderr

def test_build_store_from_world_and_inspect(world, tmp_path):
    store = tmp_path / 'store'
    out = cli('data', 'build', '--world', world, '--out', store, 'image_size=32', 'leads_h=[3]').stdout
    assert 'train' in out
    again = cli('data', 'inspect', store).stdout
    assert 'train' in again

def test_build_runs_on_dask_unless_scheduler_none(world, tmp_path):
    "`data build` builds on a local dask cluster by default; `--scheduler none` in this process: the same store."
    import yaml
    from cyclonediff.store_dask import store_differences
    for name, extra in (('dask', ['--workers', 2]), ('plain', ['--scheduler', 'none'])):
        cli('data', 'build', '--world', world, '--out', tmp_path / name, *extra, 'image_size=32', 'leads_h=[3]')
    builders = {n: yaml.safe_load((tmp_path / n / 'config.yaml').read_text()).get('builder') for n in ('dask', 'plain')}
    assert builders == {'dask': 'dask.distributed', 'plain': None}, builders
    assert store_differences(tmp_path / 'dask', tmp_path / 'plain') == []

def test_build_split_fractions(world, tmp_path):
    "`--split-fractions` reaches SplitConfig: 1,0,0 puts every storm in train; a malformed value is one line, no traceback."
    import pandas as pd
    store = tmp_path / 'all_train'
    cli('data', 'build', '--world', world, '--out', store, '--scheduler', 'none', '--split-fractions', '1,0,0',
        'image_size=32', 'leads_h=[3]')
    man = pd.read_csv(store / 'manifest.csv')
    assert set(man.loc[man.status == 'ok', 'split']) == {'train'}, set(man.split)
    r = cli('data', 'build', '--world', world, '--out', tmp_path / 'bad', '--split-fractions', '0.5,0.5', check=False)
    assert r.returncode != 0 and 'fractions' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-500:]

def test_build_needs_sources(tmp_path):
    r = cli('data', 'build', '--out', tmp_path / 's', check=False)
    assert r.returncode != 0 and '--world' in r.stderr

def test_build_every_12h_takes_every_fourth_time(world, tmp_path):
    import pandas as pd
    counts = {}
    for h in (3, 12):
        store = tmp_path / f'store{h}'
        cli('data', 'build', '--world', world, '--out', store, '--every-h', h, 'image_size=32', 'leads_h=[3]')
        man = pd.read_csv(store / 'manifest.csv')
        counts[h] = int((man.status == 'ok').sum())
        if h == 12: assert 'between_samples' in set(man.reason_code.dropna())
    assert 0 < counts[12] < counts[3] / 2
    r = cli('data', 'build', '--world', world, '--out', tmp_path / 'bad', '--every-h', 4, check=False)
    assert r.returncode != 0 and 'every_h' in r.stderr and 'Traceback' not in r.stderr

def test_no_era5_is_for_stage_ldm():
    r = cli('train', 'vae', '--cfg', Path(__file__).parents[1] / 'configs' / 'tiny.yaml', '--no-era5', check=False)
    assert r.returncode != 0 and '--no-era5 is for stage ldm' in r.stderr

def test_help_answers_without_torch():
    "`cyclonediff --help` declares no eval options, so it imports neither torch nor the sampling module."
    r = subprocess.run([sys.executable, '-c', 'import sys; from cyclonediff.cli import make_parser; make_parser(["--help"]); '
                        'print("torch" in sys.modules, "cyclonediff.sampling" in sys.modules)'],
                       capture_output=True, text=True, check=True)
    assert r.stdout.split() == ['False', 'False'], r.stdout

def test_eval_defaults_have_one_home():
    "guidance, members, steps and sampler are written once, in SamplingConfig: `cyclonediff eval --help` and evaluate read them."
    import inspect
    from cyclonediff.cli import make_parser
    from cyclonediff.cli import eval_config_from_args
    from cyclonediff.evaluation import EvalRunConfig, eval_run_config, evaluate
    from cyclonediff.sampling import SAMPLERS, SamplingConfig
    s = SamplingConfig()
    text = ' '.join(cli('eval', '--help').stdout.split())
    assert f'ensemble size (default {s.members})' in text, text
    assert f'classifier-free guidance scale (default {s.guidance:g})' in text, text
    assert f'(default {s.sampler})' in text, text
    assert s.steps is None and f"sampler steps (default: the sampler's own," in text          # None: the sampler's own
    assert f'{s.sampler} {SAMPLERS[s.sampler].default_steps}' in text and s.resolved_steps == SAMPLERS[s.sampler].default_steps
    # the command with no choices runs the evaluation's defaults, which are SamplingConfig's
    a = make_parser(['eval']).parse_args(['eval', '--ckpt', 'c', '--store', 's', '--out', 'o'])
    assert eval_config_from_args(a) == EvalRunConfig() == eval_run_config()
    assert EvalRunConfig().sampling == s
    # evaluate carries no copy: its configuration is `cfg` (None: EvalRunConfig()) and options replace its fields
    params = inspect.signature(evaluate).parameters
    assert params['cfg'].default is None and not {'members', 'guidance', 'steps', 'sampler'} & set(params)


def test_verify_finds_a_corrupt_chunk_and_build_repairs_only_it(world, tmp_path):
    "A byte flipped in one chunk: verify exits 1 naming the sample and storm; build with the same arguments re-cuts it."
    import pandas as pd
    store, args = tmp_path / 'store', ('image_size=32', 'leads_h=[3]')
    cli('data', 'build', '--world', world, '--out', store, *args)
    assert 'checks out' in cli('data', 'verify', store, '--no-progress').stdout
    man = pd.read_csv(store / 'manifest.csv', dtype=str, keep_default_na=False)
    row = man[man.status == 'ok'].iloc[2]
    chunk = store / 'store.zarr' / 'target' / 'c' / row.slot / '0' / '0' / '0'
    good = chunk.read_bytes(); b = bytearray(good); b[len(b) // 2] ^= 0xFF; chunk.write_bytes(bytes(b))
    r = cli('data', 'verify', store, '--no-progress', check=False)
    assert r.returncode == 1 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert '1 problems in 1 samples' in r.stderr and 'repair.csv' in r.stderr
    assert row.sid in r.stdout and 'checksum' in r.stdout
    listed = pd.read_csv(store / 'repair.csv', dtype=str)
    assert listed.slot.tolist() == [row.slot] and listed.array.tolist() == ['target']
    cli('data', 'build', '--world', world, '--out', store, *args)
    assert chunk.read_bytes() == good and not (store / 'repair.csv').exists()
    assert 'checks out' in cli('data', 'verify', store, '--no-progress').stdout


def test_verify_needs_a_store(tmp_path):
    r = cli('data', 'verify', tmp_path, check=False)
    assert r.returncode != 0 and 'not a finished sample store' in r.stderr and 'Traceback' not in r.stderr


def test_eval_baselines_only_fills_a_cache_the_next_run_reads(world, tmp_path):
    """`eval --baselines-only --baseline-cache DIR` needs no checkpoint; a second run reads every entry; a corrupt entry
    is recomputed with one line naming it; `eval` without --ckpt (and without --baselines-only) is one line."""
    import json
    import pandas as pd
    store, cache = tmp_path / 'store', tmp_path / 'cache'
    cli('data', 'build', '--world', world, '--out', store, '--scheduler', 'none', 'image_size=32', 'leads_h=[3,6]', 'history=1')
    run = lambda out: cli('eval', '--baselines-only', '--baseline-cache', cache, '--store', store, '--out', tmp_path / out,
                          '--split', 'train', '--members', 2, '--max-samples', 2, '--workers', 1, '--no-progress')
    first, second = run('b1'), run('b2')
    assert '0 from the cache, 2 computed' in first.stdout and '2 from the cache, 0 computed' in second.stdout, second.stdout
    t1, t2 = (json.loads((tmp_path / o / 'timings.json').read_text()) for o in ('b1', 'b2'))
    assert t2['baselines_s'] < 0.2 * t1['baselines_s'], (t1, t2)
    s1, s2 = (pd.read_csv(tmp_path / o / 'scores.csv') for o in ('b1', 'b2'))
    pd.testing.assert_frame_equal(s1, s2)
    assert {'persistence', 'steps', 'storm_steps'} <= set(s1.method)
    bad = sorted(cache.glob('*.npz'))[0]
    bad.write_bytes(b'PK\x03\x04 torn')
    third = run('b3')
    assert '1 from the cache, 1 computed' in third.stdout and f'{bad} is unreadable' in third.stderr, third.stderr
    assert 'Traceback' not in third.stderr and sum(str(bad) in l for l in third.stderr.splitlines()) == 1
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / 'b3' / 'scores.csv'), s1)
    r = cli('eval', '--store', store, '--out', tmp_path / 'e', check=False)
    assert r.returncode != 0 and '--ckpt' in r.stderr and 'Traceback' not in r.stderr, r.stderr
