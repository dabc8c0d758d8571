#!/usr/bin/env python
"""Issue 18 item 6 on the CPU: stage-2 variants trained on a finished demo's store with its VAE (60 epochs of
configs/demo.yaml plus one change each), scored on the validation storms (24 samples, 8 members, guidance 1) beside
persistence and storm-following persistence; one JSON line a variant.

    cyclonediff demo --out demo_out                      # first: the demo's world, store, VAE and model
    python benchmarks/demo_levers.py demo_out /tmp/levers [base v minsnr5 storm]
    python benchmarks/demo_levers.py demo_out /tmp/levers latest motion latest_s1 motion_s1      # unet.motion_film
    python benchmarks/demo_levers.py demo_out /tmp/levers base steps20 ddim_eta1 noise1.15 g1.5 g0.7   # sampling only
    python benchmarks/demo_levers.py demo_out /tmp/levers carry lags7 storm_img noclip     # RESULTS.md, 2026-12-07 evening

A variant is either training overrides (a list: a new stage-2 run) or sampling options (a dict: the demo's own model
sampled differently, nothing trained).
"""
import sys, time, json
import pandas as pd
from cyclonediff.cli import config_dir
from cyclonediff.configs import load_config
from cyclonediff.trainer import train
from cyclonediff.evaluation import evaluate
D, OUT = sys.argv[1], sys.argv[2]
variants = {'base': None, 'v': ['loss.prediction=v'], 'minsnr5': ['loss.min_snr_gamma=5.0'],
            'storm': ['unet.reference=storm_following'],    # the change measured from the latest latent moved with the storm
            'latest': ['unet.reference=latest'],            # its control: the same training path as 'storm', the switch off
            'storm_s1': ['unet.reference=storm_following', 'train.seed=1'], 'latest_s1': ['unet.reference=latest', 'train.seed=1'],
            'motion': ['unet.motion_film=true'], 'motion_s1': ['unet.motion_film=true', 'train.seed=1'],   # the motion at every scale
            # the storm-following reference moved in image pixels before encoding (no sub-latent-pixel blur)
            'storm_img': ['unet.reference=storm_following', 'unet.reference_shift=image'],
            'storm_img_s1': ['unet.reference=storm_following', 'unet.reference_shift=image', 'train.seed=1'],
            # pairs issued 0..7 model steps after t (teacher forcing, the ERA5 of t as the analysis rollout reads it):
            # the conditions of every rollout step seen in training, and 8 pairs a sample instead of 1
            'lags7': ['train.rollout_lags=7'], 'lags7_s1': ['train.rollout_lags=7', 'train.seed=1'],
            # sampling levers on the demo's own model (spread and storm structure): more ODE steps, a stochastic
            # sampler (DDIM eta=1: DDPM-like), a wider z_T, guidance above and below 1
            'steps20': {'steps': 20}, 'ddim_eta1': {'sampler': 'ddim', 'eta': 1.0, 'steps': 50},
            'noise1.15': {'init_noise_scale': 1.15}, 'g1.5': {'guidance': 1.5}, 'g0.7': {'guidance': 0.7},
            'noclip': {'clip_output': False},     # decoded frames not clamped to [-1, 1] (does the clamp bias the mean?)
            # the rollout's later steps add their change to the latent the step before generated, not to the decoded
            # frame encoded again (no decode-encode round trip per step)
            'carry': {'rollout_latent': 'carry'}, 'carry_g0.7': {'rollout_latent': 'carry', 'guidance': 0.7}}
which = sys.argv[3:] or list(variants)
t00 = time.time()
for name in which:
    t0 = time.time()
    sampling = dict(guidance=1.0, steps=10)
    if variants[name] is None: ck = f'{D}/runs/ldm'
    elif isinstance(variants[name], dict): ck, sampling = f'{D}/runs/ldm', {**sampling, **variants[name]}
    else:
        ov = ['data.history=1', 'train.stage=ldm', 'train.dataset=store', f'train.store={D}/store', f'train.out_dir={OUT}/{name}',
              f'train.vae_ckpt={D}/runs/vae', 'train.epochs=60', 'train.progress=false'] + variants[name]
        ck = train(load_config(config_dir() / 'demo.yaml', ov), resume=True)
    t1 = time.time()
    res = evaluate(ck, f'{D}/store', f'{OUT}/eval_{name}', split='val', max_samples=24, members=8, **sampling,
                   leads=(3, 6, 12, 24), baselines=('persistence', 'storm_persistence'), progress=False, device='cpu')
    s = pd.read_csv(res['summary'])
    pick = lambda m, metric, member: s[(s.method == m) & (s.metric == metric) & (s.member == member)].set_index('lead')['mean'].round(2).to_dict()
    out = dict(variant=name, train_s=round(t1 - t0), eval_s=round(time.time() - t1), crps=pick('ldm', 'crps', 'ens'),
               rmse_mean=pick('ldm', 'rmse', 'mean'), ssr=pick('ldm', 'ssr', 'ens'), centre_km=pick('ldm', 'mean_centre_error_km', 'ens'),
               found=pick('ldm', 'found_share', 'ens'), tb_abs=pick('ldm', 'mean_tb_abs_error', 'ens'),
               sp_centre_km=pick('storm_persistence', 'mean_centre_error_km', 'ens'), pers_crps=pick('persistence', 'crps', 'ens'))
    print(json.dumps(out), flush=True)
print('total', round(time.time() - t00))
