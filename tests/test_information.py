"""Stage 2 trained on rollout pairs (train.rollout_lags) under each information set, end to end on tiny toy storms.

The training data's `era5_future` (the ERA5 valid after t) is replaced by NaN. Under `analysis` nothing valid after
the input time's t enters a pair, so training runs with finite losses and the checkpoint records the set and the
lags; under `oracle` the pairs issued after t read the future ERA5, so the same run meets NaN losses and stops (the
check has teeth). The checkpoint then forecasts under `analysis` from batches whose future is NaN.
"""
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from cyclonediff.monitors import NonFiniteLossError
from cyclonediff.checkpoint import load_ldm
from cyclonediff.configs import load_config
from cyclonediff.sampling import forecast
from cyclonediff.trainer import make_datasets, train

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / 'configs' / 'tiny.yaml'
QUIET = ['train.tensorboard=false', 'train.progress=false', 'train.eval_at_start=false', 'train.random_samples=16',
         'train.batch_size=4', 'train.ckpt_every=1000', 'train.recon_check_every=1000', 'train.log_every=2']


class NaNFuture(Dataset):
    "Items of a data set with everything in era5_future replaced by NaN."
    def __init__(self, ds): self.ds = ds
    def __len__(self): return len(self.ds)
    def __getitem__(self, i):
        it = dict(self.ds[i])
        it['era5_future'] = torch.full_like(it['era5_future'], float('nan'))
        return it


@pytest.fixture(scope='module')
def vae(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp('runs')
    return train(load_config(CFG, [*QUIET, 'train.stage=vae', f'train.out_dir={out}/vae', 'train.max_steps=4']))


def ldm_config(vae, out, information, lags=1):
    return load_config(CFG, [*QUIET, 'train.stage=ldm', f'train.out_dir={out}', f'train.vae_ckpt={vae}',
                             'train.max_steps=4', 'train.max_bad_steps=2', f'train.information={information}',
                             f'train.rollout_lags={lags}'])


def test_analysis_training_reads_no_future_and_oracle_does(vae, tmp_path):
    cfg = ldm_config(vae, tmp_path / 'analysis', 'analysis')
    tr, va = make_datasets(cfg)
    ck = train(cfg, train_ds=NaNFuture(tr), val_ds=NaNFuture(va))
    saved = load_config(ck / 'config.yaml')
    assert saved.train.information == 'analysis' and saved.train.rollout_lags == 1
    model = load_ldm(ck)
    batch = {k: (torch.stack([NaNFuture(va)[i][k] for i in range(2)]) if torch.is_tensor(va[0][k]) else None)
             for k in ('gridsat', 'era5', 'era5_future', 'target', 'lead_h')}
    fc = forecast(model['unet'], model['vae'], batch, steps=2, members=2, schedule=model['schedule'], vae_cfg=model['cfg'].vae)
    assert fc.shape == (2, 2, 2, 32, 32) and torch.isfinite(fc).all()

    cfg_o = ldm_config(vae, tmp_path / 'oracle', 'oracle')
    with pytest.raises(NonFiniteLossError):
        train(cfg_o, train_ds=NaNFuture(tr), val_ds=NaNFuture(va))


@pytest.mark.parametrize('shift', ['latent', 'image'])
def test_storm_following_reference_trains_and_forecasts(vae, tmp_path, shift):
    "unet.reference='storm_following' (the latent or the frame moved): stage 2 on rollout pairs (the input cache holds the motion), then a forecast."
    cfg = load_config(CFG, [*QUIET, 'train.stage=ldm', f'train.out_dir={tmp_path}', f'train.vae_ckpt={vae}', 'train.max_steps=4',
                            'train.max_bad_steps=1', 'train.rollout_lags=1', 'train.cache_inputs=true',
                            'unet.target=change', 'unet.reference=storm_following', f'unet.reference_shift={shift}'])
    tr, va = make_datasets(cfg)
    assert tr[0]['motion'].shape == (2,) and tr[0]['motion'].abs().max() > 0
    ck = train(cfg, train_ds=tr, val_ds=va)
    assert load_config(ck / 'config.yaml').unet.reference == 'storm_following'
    assert load_config(ck / 'config.yaml').unet.reference_shift == shift
    model = load_ldm(ck)
    batch = {k: torch.stack([va[i][k] for i in range(2)]) for k in ('gridsat', 'era5', 'target', 'lead_h', 'motion')}
    kw = dict(steps=2, members=2, schedule=model['schedule'], vae_cfg=model['cfg'].vae)
    fc = forecast(model['unet'], model['vae'], batch, **kw)
    assert fc.shape == (2, 2, 2, 32, 32) and torch.isfinite(fc).all()
    still = forecast(model['unet'], model['vae'], {**batch, 'motion': torch.zeros(2, 2)}, **kw)
    assert not torch.equal(fc, still)                      # the motion moves the reference
    with pytest.raises(ValueError, match='motion'):
        forecast(model['unet'], model['vae'], {k: v for k, v in batch.items() if k != 'motion'}, **kw)


def test_motion_film_trains_and_forecasts(vae, tmp_path):
    "unet.motion_film: the storm's motion reaches stage 2's loss (its embedding learns) and every forecast step."
    cfg = load_config(CFG, [*QUIET, 'train.stage=ldm', f'train.out_dir={tmp_path}', f'train.vae_ckpt={vae}', 'train.max_steps=4',
                            'train.max_bad_steps=1', 'train.rollout_lags=1', 'train.cache_inputs=true', 'unet.motion_film=true'])
    tr, va = make_datasets(cfg)
    ck = train(cfg, train_ds=tr, val_ds=va)
    assert load_config(ck / 'config.yaml').unet.motion_film
    model = load_ldm(ck)
    assert model['unet'].motion_embed[2].weight.abs().max() > 0        # zero at the start: only the loss moved it
    batch = {k: torch.stack([va[i][k] for i in range(2)]) for k in ('gridsat', 'era5', 'target', 'lead_h', 'motion')}
    kw = dict(steps=2, members=2, schedule=model['schedule'], vae_cfg=model['cfg'].vae)
    fc = forecast(model['unet'], model['vae'], batch, **kw)
    assert fc.shape == (2, 2, 2, 32, 32) and torch.isfinite(fc).all()
    assert not torch.equal(fc, forecast(model['unet'], model['vae'], {**batch, 'motion': torch.zeros(2, 2)}, **kw))
    with pytest.raises(ValueError, match='motion'):
        forecast(model['unet'], model['vae'], {k: v for k, v in batch.items() if k != 'motion'}, **kw)
