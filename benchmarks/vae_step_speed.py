#!/usr/bin/env python
"""One training step of the VAE stage (issue 10), with LPIPS and the PatchGAN discriminator on, three ways:

  seed     float32, eager, plain AdamW (no foreach, no fused), contiguous memory
  ours     bf16 autocast, channels_last, fused AdamW, cuDNN benchmark mode (the trainer's defaults on CUDA)
  ours+c   the same with the VAE under torch.compile (default mode)
  PATH@fused  PATH with vae.fused_norm: GroupNorm + SiLU in one Triton kernel (cyclonediff.layers)
  PATH@dcl    PATH with the discriminator and the LPIPS trunk in channels_last too, as the trainer has them with
              train.channels_last since issue 20 (without @dcl they are moved back to the contiguous layout)
  PATH@cd     PATH with the discriminator under torch.compile;  PATH@cp: the LPIPS network under torch.compile

`--profile PATH:BATCH` also records 5 steps with torch.profiler and prints the GPU time by kernel kind (step_speed's).

The step is the project's own: `VAEStage.losses` (reconstruction + KL + LPIPS + adaptive-weight generator loss, then
the discriminator loss), each loss back-propagated, both AdamW optimisers stepped, as `Trainer` does it. LPIPS runs
with `lpips_fallback=random` (the AlexNet weights are not on the GPU machines; a random trunk has the same FLOPs).

    python benchmarks/vae_step_speed.py --device cuda --batches 8 32 64 [--cfg configs/gpu.yaml] [--paths seed ours ours+c]
    python benchmarks/vae_step_speed.py --tiny                  # a CPU check that everything runs

For each (path, batch; a batch is that many samples of `frames` IR frames each, folded into the VAE's batch):
samples/s (median of timed steps after warm-up, synchronised), FLOPs of one step counted with FlopCounterMode on the
uncompiled modules, achieved TFLOP/s, MFU against --peak-tflops, peak memory; ratios ours / seed and ours+c / seed.
"""
from __future__ import annotations

import argparse, json, os, statistics, sys, time, types, warnings

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..')))

import torch  # noqa: E402

from cyclonediff.configs import load_config  # noqa: E402
from cyclonediff.optim import make_optimizer  # noqa: E402
from cyclonediff.stages import VAEStage  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
ON = ['loss.perceptual_weight=0.1', 'loss.lpips_fallback=random', 'loss.disc_start=0', 'loss.disc_factor=1.0',
      'train.cache_inputs=false']                          # the batch is made here, on the device


def build(path: str, a, device):
    "The stage with its two optimisers, set up as the trainer would for `path` (base path, then @modifiers)."
    path, *mods = path.split('@')
    fast = path != 'seed' and device.type == 'cuda'
    torch.backends.cudnn.benchmark = fast                  # the trainer's train.cudnn_benchmark (the seeds left it off)
    torch._dynamo.reset()
    extra = ['vae.fused_norm=true' if 'fused' in mods else 'vae.fused_norm=false']   # the default is on since issue 20's curve
    cfg = load_config(a.cfg, ON + extra + [f'train.channels_last={str(fast).lower()}', f'data.image_size={a.size}'])
    torch.manual_seed(0)
    stage = VAEStage(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                      # the random-LPIPS-trunk warning
        stage.build(types.SimpleNamespace(device=device))
    if fast: opts = {k: make_optimizer(ps, cfg.train, device) for k, ps in stage.param_groups().items()}
    else:
        opts = {k: torch.optim.AdamW([p for p in ps if p.requires_grad], lr=cfg.train.lr, foreach=False, fused=False)
                for k, ps in stage.param_groups().items()}
    if fast and 'dcl' not in mods: stage.gan.to(memory_format=torch.contiguous_format)   # the layout before issue 20
    if path == 'ours+c': stage.vae_train = torch.compile(stage.vae, dynamic=False)
    if 'cd' in mods: stage.gan.discriminator = torch.compile(stage.gan.discriminator, dynamic=False)
    if 'cp' in mods and stage.gan.vae_loss.perceptual is not None:
        stage.gan.vae_loss.perceptual.lpips = torch.compile(stage.gan.vae_loss.perceptual.lpips, dynamic=False)
    return stage, opts, fast


def step_fn(stage, opts, fast, device):
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if fast else torch.autocast(device.type, enabled=False)
    def step(batch, k=1):
        losses = stage.losses(batch, k, 1.0)
        while True:
            with amp:
                item = next(losses, None)
            if item is None: break
            item[1].backward()
        for o in opts.values(): o.step(); o.zero_grad(set_to_none=True)
    return step


def flops_per_sample(a, batch, device, n: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    stage, opts, fast = build('ours', a, device)
    step = step_fn(stage, opts, fast, device)
    with FlopCounterMode(display=False) as fc: step(batch)
    return fc.get_total_flops() / n


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def measure(path, n, a, device) -> dict:
    stage, opts, fast = build(path, a, device)
    g = torch.Generator(device='cpu').manual_seed(0)
    x = torch.rand(n, a.frames, a.size, a.size, generator=g).mul(2).sub(1).to(device)
    batch = {stage.cfg.train.image_key: x}
    step = step_fn(stage, opts, fast, device)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    for _ in range(a.warmup): step(batch)
    times = []
    for _ in range(a.steps):
        sync(device); t0 = time.perf_counter(); step(batch); sync(device)
        times.append(time.perf_counter() - t0)
    flops = flops_per_sample(a, batch, device, n)
    sps = n / statistics.median(times)
    if a.profile == f'{path}:{n}':
        from step_speed import profile                     # benchmarks/ is on sys.path when run as a script
        profile(step, batch, device, statistics.median(times))
    return dict(path=path, batch=n, frames=a.frames, samples_per_s=round(sps, 1), gflop_per_sample=round(flops / 1e9, 2),
                tflops=round(sps * flops / 1e12, 2), mfu=round(sps * flops / 1e12 / a.peak_tflops, 4),
                peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == 'cuda' else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--cfg', default=os.path.join(ROOT, 'configs', 'gpu.yaml'))
    ap.add_argument('--batches', type=int, nargs='+', default=[8, 32])
    ap.add_argument('--paths', nargs='+', default=['seed', 'ours', 'ours+c'])
    ap.add_argument('--frames', type=int, default=8, help='IR frames a sample (the store has 8 leads)')
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--steps', type=int, default=10); ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--peak-tflops', type=float, default=989.0)
    ap.add_argument('--tiny', action='store_true', help='configs/tiny.yaml at 32 px, 2 frames, 2 steps: a CPU check')
    ap.add_argument('--json', default=None)
    ap.add_argument('--profile', default=None, help='PATH:BATCH to profile, e.g. ours:32')
    a = ap.parse_args()
    if a.tiny: a.cfg, a.size, a.frames, a.steps, a.warmup, a.batches = os.path.join(ROOT, 'configs', 'tiny.yaml'), 32, 2, 2, 1, [2]
    device = torch.device(a.device)
    print(f'VAE stage step ({os.path.basename(a.cfg)}, {a.size} px, {a.frames} frames a sample, LPIPS + PatchGAN on), '
          f'torch {torch.__version__}, {torch.cuda.get_device_name() if device.type == "cuda" else "CPU"}', flush=True)
    rows = []
    for n in a.batches:
        for path in a.paths:
            r = measure(path, n, a, device)
            rows.append(r); print(json.dumps(r), flush=True)
    print('\n| batch | ' + ' | '.join(a.paths) + ' | ' + ' | '.join(f'{p}/seed' for p in a.paths if p != 'seed' and 'seed' in a.paths)
          + ' | MFU ' + a.paths[-1] + ' |')
    print('|' + '---|' * (2 + len(a.paths) + (len(a.paths) - 1 if 'seed' in a.paths else 0)))
    for n in a.batches:
        by = {r['path']: r for r in rows if r['batch'] == n}
        ratios = [f"{by[p]['samples_per_s'] / by['seed']['samples_per_s']:.2f}" for p in a.paths if p != 'seed' and 'seed' in by]
        print(f'| {n} | ' + ' | '.join(str(by[p]['samples_per_s']) for p in a.paths) + ' | ' + ' | '.join(ratios)
              + f" | {100 * by[a.paths[-1]]['mfu']:.1f} % |")
    if a.json:
        with open(a.json, 'w') as f: json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
