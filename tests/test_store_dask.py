"""The store build on dask.distributed (issue 22, cyclonediff.store_dask) against the serial `build_store`.

- `cyclonediff data build --workers 2` (by default a LocalCluster of 2 processes, `build_store_dask`'s default
  path) gives the serial store bit for bit;
- a dask build killed with SIGKILL (the whole process tree: client, nannies and workers) mid-way is finished by
  a re-run that cuts exactly the samples without a done flag, and the result is the serial store again.
The tiny world, its small patches and the serial store are shared by the module's tests.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from cyclonediff.data import DataConfig
from cyclonediff.store import SplitConfig, build_store, sample_index, sources_from_world
from cyclonediff.store_dask import build_store_dask, store_differences
from cyclonediff.world import make_world, world_preset

ROOT = Path(__file__).resolve().parents[1]
CFG = dict(patch_size=40, image_size=32, history=1, leads_h=(3, 6, 12))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp('dask_world')
    make_world(d / 'world', world_preset('tiny', days=2))
    src = sources_from_world(d / 'world')
    serial = build_store(src, d / 'serial', DataConfig(**CFG), splits=SplitConfig(), progress=False)
    return d, src, serial


def test_cli_build_on_a_local_cluster_is_the_serial_store(world, tmp_path):
    "`data build --workers 2`: dask by default, on build_store_dask's default path, a LocalCluster of 2 processes."
    d, src, serial = world
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    sets = ['patch_size=40', 'image_size=32', 'history=1', 'leads_h=[3,6,12]']
    r = subprocess.run([sys.executable, '-m', 'cyclonediff.cli', 'data', 'build', '--world', str(d / 'world'),
                        '--out', str(tmp_path / 'cli'), '--workers', '2', *sets],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert store_differences(serial, tmp_path / 'cli') == []
    assert not (tmp_path / 'cli.partial').exists() and 'dask' in (tmp_path / 'cli' / 'config.yaml').read_text()


KILLED_BUILD = textwrap.dedent('''
    import sys
    from cyclonediff.data import DataConfig
    from cyclonediff.store import SplitConfig, sources_from_world
    from cyclonediff.store_dask import build_store_dask
    build_store_dask(sources_from_world(sys.argv[1]), sys.argv[2], DataConfig(**{cfg!r}), splits=SplitConfig(),
                     workers=2, block_h=3, in_flight=1, progress=False)
''')


def done_flags(partial: Path):
    "The done flags of an unfinished build, or None while it cannot be read (not created yet, or being written)."
    try: return zarr.open_group(partial / 'store.zarr', mode='r')['done'][:]
    except Exception: return None


def test_killed_dask_build_resumes_without_loss(world, tmp_path):
    d, src, serial = world
    out, partial = tmp_path / 'killed', tmp_path / 'killed.partial'
    n = len(sample_index(src, DataConfig(**CFG), SplitConfig())[0])
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([sys.executable, '-c', KILLED_BUILD.format(cfg=CFG), str(d / 'world'), str(out)], env=env,
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0, done = time.time(), None
    try:
        while time.time() - t0 < 240 and p.poll() is None:
            done = done_flags(partial)
            if done is not None and done.sum() >= 4: break
            time.sleep(0.05)
    finally:
        os.killpg(p.pid, signal.SIGKILL)            # the client, its nannies and workers, all at once
        p.wait()
    assert done is not None and done.sum() >= 4, f'the build did not get going: {p.stderr.read()[-2000:]}'
    for _ in range(100):                            # wait until every process of the group is gone
        try: os.killpg(p.pid, 0); time.sleep(0.1)
        except ProcessLookupError: break
    assert not out.exists() and partial.exists()
    done_at_kill = done_flags(partial)
    assert 4 <= done_at_kill.sum() < n, (done_at_kill.sum(), n)
    rest = []
    build_store_dask(src, out, DataConfig(**CFG), splits=SplitConfig(), workers=2, progress=False, on_sample=rest.append)
    assert sorted(rest) == sorted(np.flatnonzero(~done_at_kill).tolist())       # nothing cut twice, nothing left out
    assert store_differences(serial, out) == []
