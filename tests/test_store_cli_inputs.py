"""The sample store with the inputs a user gives on the command line: globs, lists, folders, seasons, workers,
float16, bad paths. Runs on a tiny synthetic world with small patches (a minute or so on 2 CPU cores)."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from cyclonediff.data import DataConfig
from cyclonediff.datasets import CycloneDataset
from cyclonediff.store import (Sources, SplitConfig, build_store, inspect_store, read_manifest, sample_index,
                               sources_from_world)
from cyclonediff.world import make_world, world_preset

CFG = DataConfig(patch_size=40, image_size=32, leads_h=(3, 6))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp('world') / 'w'
    make_world(out, world_preset('tiny', days=2))
    return out


@pytest.fixture(scope='module')
def src(world):
    return sources_from_world(world)


@pytest.fixture(scope='module')
def serial_store(src, tmp_path_factory):
    return build_store(src, tmp_path_factory.mktemp('s') / 'serial', CFG, splits=SplitConfig(), progress=False)


def test_globs_lists_and_folders_give_the_same_index(src, world):
    ref = sample_index(src, CFG)[0]
    as_glob = Sources(ibtracs=src.ibtracs, gridsat=str(world / 'gridsat' / 'GRIDSAT-B1.2020.08.*.nc'), era5=str(world / 'era5' / 'ERA5_*'))
    as_list = Sources(ibtracs=Path(src.ibtracs), gridsat=sorted((world / 'gridsat').glob('*.nc')), era5=sorted((world / 'era5').iterdir()))
    for s in (as_glob, as_list):
        pd.testing.assert_frame_equal(sample_index(s, CFG)[0], ref)
    assert all(isinstance(p, str) for p in as_list.gridsat)          # serialisable


def test_bad_inputs_name_the_file(src, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.csv'):
        sample_index(dataclasses.replace(src, ibtracs=str(tmp_path / 'nope.csv')), CFG)
    with pytest.raises(FileNotFoundError, match='no files match'):
        sample_index(dataclasses.replace(src, gridsat=str(tmp_path / 'GRIDSAT-B1.*.nc')), CFG)
    with pytest.raises(KeyError, match='XXXX'):
        sample_index(dataclasses.replace(src, sids=['XXXX']), CFG)
    with pytest.raises(FileNotFoundError, match='no such world folder'):
        sources_from_world(tmp_path / 'missing')


def test_workers_give_the_same_store(src, serial_store, tmp_path):
    par = build_store(src, tmp_path / 'parallel', CFG, splits=SplitConfig(), workers=2, progress=False)
    a, b = zarr.open_group(serial_store / 'store.zarr', mode='r'), zarr.open_group(par / 'store.zarr', mode='r')
    for k in a.array_keys():
        np.testing.assert_array_equal(a[k][:], b[k][:], err_msg=k)
    assert (par / 'stats.json').read_text() == (serial_store / 'stats.json').read_text()


def test_season_ranges_leave_out_other_seasons(src, tmp_path):
    st = build_store(src, tmp_path / 'seasons', CFG, splits=SplitConfig(seasons={'test': (2020, 2020)}), progress=False)
    m = read_manifest(st)
    assert set(m[m.status == 'ok'].split) == {'test'}
    assert json.loads((st / 'stats.json').read_text())['n_samples'] == 0           # no train split: identity stats
    assert json.loads((st / 'stats.json').read_text())['std'] == [1.0] * 4
    st2 = build_store(src, tmp_path / 'seasons2', CFG, splits=SplitConfig(seasons={'train': (2019, 2019)}), progress=False)
    m2 = read_manifest(st2)
    assert (m2.status == 'skipped').all() and set(m2.reason_code) <= {'season_not_in_split', 'missing_ir'}
    assert 'samples: 0 built' in inspect_store(st2)


def test_float16_store_reads_as_float32(src, serial_store, tmp_path):
    h = build_store(src, tmp_path / 'half', CFG, splits=SplitConfig(), dtype='float16', progress=False)
    assert zarr.open_group(h / 'store.zarr', mode='r')['gridsat'].dtype == np.float16
    a, b = CycloneDataset(serial_store, 'train')[0], CycloneDataset(h, 'train')[0]
    assert b['gridsat'].dtype == torch.float32 and b['target'].dtype == torch.float32
    torch.testing.assert_close(a['target'], b['target'], atol=1e-3, rtol=0)        # float16 step near 1 is 1e-3
    torch.testing.assert_close(a['era5'], b['era5'])                               # ERA5 stays float32
    with pytest.raises(ValueError, match='dtype'):
        build_store(src, tmp_path / 'bad', CFG, dtype='int8', progress=False)


def test_unfinished_partial_with_other_config_is_refused(src, tmp_path):
    calls = []

    def stop(slot):
        calls.append(slot)
        if len(calls) == 2: raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_store(src, tmp_path / 'st', CFG, progress=False, on_sample=stop)
    assert not (tmp_path / 'st').exists() and 'UNFINISHED' in inspect_store(tmp_path / 'st.partial')
    other = dataclasses.replace(CFG, max_fill_frac=0.5)
    with pytest.raises(ValueError, match='another configuration'):
        build_store(src, tmp_path / 'st', other, progress=False)
    out = build_store(src, tmp_path / 'st', other, progress=False, overwrite=True)
    assert (out / 'manifest.csv').exists() and not (tmp_path / 'st.partial').exists()


def test_never_deletes_a_folder_it_did_not_make(src, tmp_path):
    precious = tmp_path / 'precious'
    precious.mkdir(); (precious / 'thesis.tex').write_text('years of work')
    with pytest.raises(FileExistsError, match='not a sample store'):
        build_store(src, precious, CFG, progress=False, overwrite=True)
    assert (precious / 'thesis.tex').exists()


def test_dataset_pickles_without_its_zarr_handle(serial_store):
    import pickle
    ds = CycloneDataset(serial_store, 'train')
    a = ds[0]
    ds2 = pickle.loads(pickle.dumps(ds))
    assert ds2._g is None and torch.equal(ds2[0]['target'], a['target'])
