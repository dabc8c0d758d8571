#!/usr/bin/env python
"""Wall time of an ensemble forecast: 16 members at 256 x 256, 20 DPM-Solver++ steps, classifier-free guidance,
against DDPM with 1000 steps (or DDIM with 50) measured in the same run.

    python benchmarks/sampling_speed.py                                # tiny model on the CPU
    python benchmarks/sampling_speed.py --config seed --device cuda     # the seed model on a GPU, bf16 autocast
    python benchmarks/sampling_speed.py --config seed --device cuda --compile reduce-overhead   # + compiled, CUDA graphs

The models have random weights (timing does not depend on them); the VAE's scaling factor is set to 1. Each
forecast is `cyclonediff.sampling.forecast` for one lead (one model step): condition encoding, `steps` batched
network calls on 2 x members rows (conditional + unconditional), VAE decoding. Needs only torch and diffusers
(plus this repository on the path).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..')))

import torch  # noqa: E402

from cyclonediff.sampling import SamplingConfig, forecast, get_sampler  # noqa: E402
from cyclonediff.unet import CycloneUNet, UNetConfig  # noqa: E402
from cyclonediff.vae import VAEConfig, build_vae  # noqa: E402

# model sizes: 'seed' is UNetConfig() / VAEConfig() (seed 001: latent 64, base 128, mults 1-2-4-8, ConvVAE
# 64-128-256); 'improved' is seed 000's smaller latent (16 channels); 'gpu' that with configs/gpu.yaml's condition
# encoder at 64 x 64 (cond_patch 4); 'tiny' runs in seconds on a CPU.
CONFIGS = {
    'tiny': dict(unet=dict(latent_channels=4, cond_channels=8, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                           attn_resolutions=(), num_heads=2, norm_groups=4),
                 vae=dict(latent_channels=4, enc_channels=(8, 8, 8), dec_channels=(8, 8, 8, 8), norm_groups=4)),
    'improved': dict(unet=dict(latent_channels=16), vae=dict(latent_channels=16)),
    'gpu': dict(unet=dict(latent_channels=16, cond_patch=4), vae=dict(latent_channels=16)),   # configs/gpu.yaml's sizes
    'seed': dict(unet={}, vae={}),
}


def build_models(name: str, size: int, device):
    spec = CONFIGS[name]
    unet = CycloneUNet(UNetConfig(image_size=size, latent_size=size // 8, **spec['unet']))
    vae = build_vae(VAEConfig(scaling_factor=1.0, **spec['vae']))
    return unet.to(device).eval(), vae.to(device).eval()


def toy_batch(storms: int, size: int, device):
    g = torch.Generator().manual_seed(0)
    return {'gridsat': (torch.rand(storms, 1, size, size, generator=g) * 2 - 1).to(device),
            'era5': torch.randn(storms, 4, size, size, generator=g).to(device),
            'era5_future': torch.randn(storms, 1, 4, size, size, generator=g).to(device),
            'lead_h': torch.tensor([[3]] * storms)}


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def time_forecast(unet, vae, batch, device, repeats: int, **kw) -> list:
    "Wall seconds of `repeats` forecasts (after the caller's warm-up)."
    times = []
    for r in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        out = forecast(unet, vae, batch, leads=1, seed=r, **kw)
        sync(device)
        times.append(time.perf_counter() - t0)
        assert torch.isfinite(out).all(), 'non-finite forecast'
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', choices=sorted(CONFIGS), default='tiny', help='model size (default tiny)')
    p.add_argument('--device', default='cpu', help="torch device, e.g. 'cpu', 'cuda', 'cuda:1' (default cpu)")
    p.add_argument('--size', type=int, default=256, help='image side in pixels (default 256)')
    p.add_argument('--members', type=int, default=16, help='ensemble members (default 16)')
    p.add_argument('--storms', type=int, default=1, help='storms in the batch (default 1)')
    p.add_argument('--sampler', default='dpmpp', help='sampler to time (default dpmpp)')
    p.add_argument('--steps', type=int, default=20, help='its steps (default 20)')
    p.add_argument('--guidance', type=float, default=SamplingConfig.guidance,
                   help=f'CFG scale (default {SamplingConfig.guidance:g}; 1 = no guidance)')
    p.add_argument('--baseline', default='ddpm', help="reference sampler, 'ddpm' or 'ddim' (default ddpm)")
    p.add_argument('--baseline-steps', type=int, default=None, help='its steps (default: ddpm 1000, ddim 50)')
    p.add_argument('--repeats', type=int, default=3, help='timed forecasts of the fast sampler (median reported)')
    p.add_argument('--baseline-repeats', type=int, default=1, help='timed forecasts of the baseline')
    p.add_argument('--autocast', default='auto', choices=['auto', 'none', 'bfloat16', 'float16'],
                   help='autocast dtype (auto: bfloat16 on CUDA, none on CPU)')
    p.add_argument('--compile', default=None, help="also time the fast sampler with the UNet compiled in this "
                   "torch.compile mode ('reduce-overhead': CUDA graphs; 'default'), in the same run")
    p.add_argument('--compile-backend', default='inductor', help="torch.compile backend (default inductor)")
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args(argv)

    device = torch.device(a.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        p.error(f"--device {a.device}: CUDA is not available on this machine")
    if a.threads: torch.set_num_threads(a.threads)
    if device.type == 'cuda': torch.backends.cudnn.benchmark = True
    autocast = {'auto': 'bfloat16' if device.type == 'cuda' else None, 'none': None}.get(a.autocast, a.autocast)
    base_steps = a.baseline_steps or get_sampler(a.baseline).default_steps

    torch.manual_seed(0)
    unet, vae = build_models(a.config, a.size, device)
    batch = toy_batch(a.storms, a.size, device)
    common = dict(members=a.members, guidance=a.guidance, autocast=autocast)
    n_unet = sum(p.numel() for p in unet.parameters())
    n_vae = sum(p.numel() for p in vae.parameters())
    rows = a.storms * a.members * (1 if a.guidance in (0.0, 1.0) else 2)
    dev_name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    import diffusers
    print(f"device: {dev_name} ({device}), torch {torch.__version__}, diffusers {diffusers.__version__}, "
          f"autocast {autocast or 'off'}, threads {torch.get_num_threads()}")
    print(f"model: {a.config}: UNet {n_unet / 1e6:.2f} M parameters, VAE {n_vae / 1e6:.2f} M; image {a.size}x{a.size}, "
          f"latent {unet.cfg.latent_channels}x{unet.cfg.latent_size}x{unet.cfg.latent_size}")
    print(f"ensemble: {a.storms} storm(s) x {a.members} members, guidance {a.guidance} "
          f"({rows} rows per network call)")

    forecast(unet, vae, batch, sampler=a.sampler, steps=2, leads=1, **common)        # warm-up (cudnn autotune, caches)
    forecast(unet, vae, batch, sampler=a.baseline, steps=2, leads=1, **common)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    fast = time_forecast(unet, vae, batch, device, a.repeats, sampler=a.sampler, steps=a.steps, **common)
    t_fast = statistics.median(fast)
    per = a.storms * a.members
    print(f"{a.sampler:>6} {a.steps:>5} steps: {t_fast:8.3f} s per forecast (median of {a.repeats}: "
          f"{', '.join(f'{t:.3f}' for t in fast)}), {t_fast / per:.4f} s per member, "
          f"{t_fast / a.steps * 1e3:.1f} ms per step")
    if a.compile:
        ckw = dict(common, compile=a.compile, compile_backend=a.compile_backend)
        t0 = time.perf_counter()
        forecast(unet, vae, batch, sampler=a.sampler, steps=a.steps, leads=1, **ckw)        # compiles (and records)
        forecast(unet, vae, batch, sampler=a.sampler, steps=a.steps, leads=1, **ckw)
        sync(device)
        t_compile = time.perf_counter() - t0
        comp = time_forecast(unet, vae, batch, device, a.repeats, sampler=a.sampler, steps=a.steps, **ckw)
        t_comp = statistics.median(comp)
        print(f"{a.sampler:>6} {a.steps:>5} steps, compile={a.compile}: {t_comp:8.3f} s per forecast (median of "
              f"{a.repeats}: {', '.join(f'{t:.3f}' for t in comp)}), {t_comp / a.steps * 1e3:.1f} ms per step; "
              f"{t_fast / t_comp:.2f}x eager; compilation and two warm-up forecasts {t_compile:.1f} s")
        same = dict(sampler=a.sampler, steps=a.steps, leads=1, seed=123)
        diff = (forecast(unet, vae, batch, **same, **ckw) - forecast(unet, vae, batch, **same, **common)).abs()
        print(f"compiled vs eager, same seed: mean |difference| {diff.mean():.2e}, max {diff.max():.2e} "
              f"(images in [-1, 1]; bf16 kernels differ in rounding)")
    slow = time_forecast(unet, vae, batch, device, a.baseline_repeats, sampler=a.baseline, steps=base_steps, **common)
    t_slow = statistics.median(slow)
    print(f"{a.baseline:>6} {base_steps:>5} steps: {t_slow:8.3f} s per forecast, {t_slow / per:.4f} s per member, "
          f"{t_slow / base_steps * 1e3:.1f} ms per step")
    ratio = t_slow / t_fast
    print(f"speed-up {a.sampler}-{a.steps} vs {a.baseline}-{base_steps}: {ratio:.1f}x "
          f"(network calls {base_steps / a.steps:.1f}x fewer)")
    res = dict(device=dev_name, config=a.config, size=a.size, storms=a.storms, members=a.members, guidance=a.guidance,
               autocast=autocast, sampler=a.sampler, steps=a.steps, seconds_per_forecast=t_fast,
               seconds_per_member=t_fast / per, baseline=a.baseline, baseline_steps=base_steps,
               baseline_seconds_per_forecast=t_slow, speedup=ratio, unet_params=n_unet, vae_params=n_vae)
    if a.compile:
        res.update(compile=a.compile, compiled_seconds_per_forecast=t_comp, compiled_speedup=t_fast / t_comp,
                   compile_seconds=t_compile, compiled_vs_eager_mean_abs=float(diff.mean()))
    if device.type == 'cuda':
        res['peak_memory_gib'] = torch.cuda.max_memory_allocated(device) / 2 ** 30
        print(f"peak GPU memory: {res['peak_memory_gib']:.2f} GiB")
    if a.json:
        with open(a.json, 'w') as f: json.dump(res, f, indent=1)
    return res


if __name__ == '__main__':
    main()
