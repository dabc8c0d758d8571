#!/usr/bin/env python
"""One training step of the latent diffusion stage, three ways in one run (issue 10):

  seed     the seeds' way: float32, eager, plain AdamW (no foreach, no fused)
  ours     bf16 autocast, channels_last, fused AdamW, cuDNN benchmark mode (the trainer's defaults on CUDA)
  ours+c   the same under torch.compile (default mode)
  ours+cg  the same under torch.compile(mode='reduce-overhead'): CUDA graphs for the host-bound small batches
  peer     diffusers' UNet2DModel with the seed UNet's layout (in = latent 64 + condition 128, out 64, 32 x 32,
           blocks 128/256/512/1024, 2 layers a block, attention in the two lowest blocks), fed the same
           condition through our condition encoder, under the `ours` harness
  peer+c   the peer under torch.compile (default mode): the fair partner of ours+c
  PATH@pN  PATH with UNetConfig.cond_patch = N instead of --cond-patch (e.g. seed@p1: the seeds' way on the seed's
           full-resolution condition encoder while the other paths use --cond-patch 4)
  PATH@cf  PATH in the default (NCHW) memory format instead of channels_last
  PATH@nhwc  PATH with its GroupNorms replaced by GroupNormNHWC (unet.norm_nhwc: outputs keep channels_last strides)
  PATH@fused PATH with its GroupNorms replaced by layers.FusedGroupNorm (unet.fused_norm: one Triton kernel for
           GroupNorm + SiLU, forward and backward, in the tensor's own layout)
  PATH@views PATH with unet.nhwc_views: the condition's pixel-unshuffle written into channels_last memory and the
           attention's heads cut as views of its channels_last qkv (no layout copies there)

Every path but seed runs with torch.backends.cudnn.benchmark on (the trainer's `train.cudnn_benchmark`); the seeds
left it off. Each compiled path is compiled afresh (torch._dynamo.reset(), static shapes).

`--profile PATH:BATCH` (e.g. ours+c:256) also records 5 steps with torch.profiler and prints the GPU (or CPU) time
by kernel kind: convolution/matmul, normalisation, elementwise/activation, optimiser, copies, other.

    python benchmarks/step_speed.py --device cuda --batches 8 32 128 256 [--latent 64 16] [--paths seed ours ours+c peer]
    python benchmarks/step_speed.py --tiny                                # a CPU check that everything runs

For each (path, latent, batch): samples/s (median of timed steps after warm-up, CUDA synchronised), FLOPs of one
forward + backward counted with torch.utils.flop_counter.FlopCounterMode on an uncompiled copy, achieved TFLOP/s,
MFU against --peak-tflops (989: H100/H200 dense bf16), peak memory. Ratios: ours / peer at each batch, ours / seed.
The condition encoder (B, 1+history, 256, 256) + (B, 4, 256, 256) -> (B, 128, 32, 32) is part of every step.
"""
from __future__ import annotations

import argparse, copy, json, os, statistics, sys, time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..')))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cyclonediff.layers import use_fused_group_norm  # noqa: E402
from cyclonediff.unet import CycloneUNet, UNetConfig, use_nhwc_group_norm  # noqa: E402

TINY = dict(cond_channels=8, base_channels=16, channel_mults=(1, 2), num_res_blocks=1, attn_resolutions=(),
            num_heads=2, norm_groups=4, image_size=64, latent_size=8)


class PeerUNet(torch.nn.Module):
    "diffusers' UNet2DModel on [latent, downsampled condition], the condition from our encoder."
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        from diffusers import UNet2DModel
        ours = CycloneUNet(cfg)
        self.encoder, self.down = ours.cond_encoder, ours.cond_down
        ch = [cfg.base_channels * m for m in cfg.channel_mults]
        n = len(ch)
        self.net = UNet2DModel(sample_size=cfg.latent_size, in_channels=cfg.latent_channels + self.down.out_channels,
                               out_channels=cfg.latent_channels, block_out_channels=tuple(ch), layers_per_block=cfg.num_res_blocks,
                               down_block_types=tuple('AttnDownBlock2D' if i >= n - 2 else 'DownBlock2D' for i in range(n)),
                               up_block_types=tuple('AttnUpBlock2D' if i < 2 else 'UpBlock2D' for i in range(n)),
                               norm_num_groups=min(32, cfg.norm_groups), attention_head_dim=max(ch[-1] // cfg.num_heads, 8))

    def forward(self, z, t, gridsat, era5):
        c = self.down(self.encoder(gridsat, era5))
        return self.net(torch.cat([z, c], 1), t).sample


def build(path, cfg, device, channels_last: bool = True, nhwc_norm: bool = False, fused_norm: bool = False):
    net = (PeerUNet(cfg) if path.startswith('peer') else CycloneUNet(cfg)).to(device)
    if nhwc_norm: use_nhwc_group_norm(net)     # unet.norm_nhwc; for the peer too (diffusers' blocks use nn.GroupNorm)
    if fused_norm: use_fused_group_norm(net)   # unet.fused_norm (the peer's blocks call SiLU apart: norms only there)
    fast = path != 'seed' and device.type == 'cuda'
    torch.backends.cudnn.benchmark = fast
    if fast and channels_last: net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, **(dict(fused=True) if fast else dict(foreach=False, fused=False)))
    return net, opt, fast


def inputs(cfg, batch, device, fast):
    mf = torch.channels_last if fast else torch.contiguous_format
    g = torch.Generator(device='cpu').manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g).to(device).contiguous(memory_format=mf)
    return dict(z=r(batch, cfg.latent_channels, cfg.latent_size, cfg.latent_size),
                gridsat=r(batch, cfg.in_gridsat, cfg.image_size, cfg.image_size),
                era5=r(batch, cfg.in_era5, cfg.image_size, cfg.image_size),
                t=torch.randint(0, 1000, (batch,), generator=g).to(device))


def step_fn(net, opt, fast, device):
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if fast else torch.autocast(device.type, enabled=False)
    def step(x):
        with amp:
            pred = net(x['z'], x['t'], x['gridsat'], x['era5'])
        loss = F.mse_loss(pred.float(), x['z'])
        loss.backward()
        opt.step(); opt.zero_grad(set_to_none=True)
    return step


def flops_per_sample(net, x, fast, device) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    m = copy.deepcopy(net)
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if fast else torch.autocast(device.type, enabled=False)
    with FlopCounterMode(display=False) as fc:
        with amp:
            out = m(x['z'], x['t'], x['gridsat'], x['era5'])
        F.mse_loss(out.float(), x['z']).backward()
    return fc.get_total_flops() / x['z'].shape[0]


KINDS = (('optimiser', ('adam', 'multi_tensor', 'foreach')),       # first: 'FusedAdamMathFunctor' holds 'mm'
         ('conv/matmul', ('conv', 'gemm', 'cutlass', 'sm90', 'xmma', 'wgrad', 'dgrad', 'mm', 'addmm', 'bmm', 'flash',
                         'attention', 'cudnn')),
         ('norm', ('norm', 'welford', '_gn_')),            # _gn_: layers' fused GroupNorm (+ SiLU) kernels
         ('copy/cast', ('copy', 'cast', 'to_copy', 'memcpy', 'memset', 'contiguous', 'transpose')),
         ('elementwise', ('elementwise', 'triton', 'silu', 'add', 'mul', 'fused', 'vectorized', 'reduce', 'sigmoid')))


def kind_of(name: str) -> str:
    n = name.lower()
    return next((k for k, keys in KINDS if any(w in n for w in keys)), 'other')


def profile(step, x, device, step_s: float, steps: int = 5):
    "Time by kernel kind over `steps` training steps (GPU kernels on CUDA, CPU ops elsewhere); their share of `step_s`."
    from torch.profiler import ProfilerActivity, profile as tprofile
    cuda = device.type == 'cuda'
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with tprofile(activities=acts, record_shapes=True) as prof:
        for _ in range(steps): step(x)
        if cuda: torch.cuda.synchronize()
    times = {}
    for e in prof.key_averages():
        if cuda and e.device_type != torch.autograd.DeviceType.CUDA or getattr(e, 'is_user_annotation', False): continue
        t = e.self_device_time_total if cuda else e.self_cpu_time_total
        if t > 0: times.setdefault(kind_of(e.key), []).append((t, e.key))
    total = sum(t for v in times.values() for t, _ in v) or 1
    busy = f", GPU busy {100 * total / 1e6 / steps / step_s:.0f} %" if cuda else ''
    print(f"profile ({'GPU kernels' if cuda else 'CPU ops'}, {steps} steps): {total / 1e3 / steps:.1f} ms of kernels a step; "
          f"{step_s * 1e3:.1f} ms a step timed without the profiler{busy}")
    for k, v in sorted(times.items(), key=lambda kv: -sum(t for t, _ in kv[1])):
        top = ', '.join(n[:40] for _, n in sorted(v, reverse=True)[:3])
        print(f"  {k:12s} {100 * sum(t for t, _ in v) / total:5.1f} %   top: {top}")
    print('  copies by the operator that asked for them (device time, input shapes):')
    ops = [e for e in prof.key_averages(group_by_input_shape=True) if e.key in ('aten::copy_', 'aten::contiguous', 'aten::clone', 'aten::_to_copy')]
    for e in sorted(ops, key=lambda e: -e.device_time_total)[:8]:
        print(f"    {100 * e.device_time_total / total:5.1f} %  {e.key} x{e.count // steps} {str(e.input_shapes)[:100]}")
    print('  the 12 longest kernels:')
    for t, k, n in sorted(((t, k, n) for k, v in times.items() for t, n in v), reverse=True)[:12]:
        print(f"    {100 * t / total:5.1f} %  {k:12s} {n[:110]}")


def split_path(path: str, cond_patch: int):
    "'seed@p1' -> ('seed', 1, set()); 'ours+c@cf@nhwc' -> ('ours+c', cond_patch, {'cf', 'nhwc'})."
    base, *mods = path.split('@')
    p = [int(m[1:]) for m in mods if m[:1] == 'p' and m[1:].isdigit()]
    return base, p[0] if p else cond_patch, set(mods) - {f'p{q}' for q in p}


def measure(path, latent, batch, a, device):
    kind, cond_patch, mods = split_path(path, a.cond_patch)
    nchw = 'cf' in mods
    cfg = UNetConfig(latent_channels=latent, in_gridsat=1 + a.history, cond_patch=cond_patch, nhwc_views='views' in mods,
                     **(TINY if a.tiny else {}))
    torch.manual_seed(0)
    torch._dynamo.reset()               # no automatic dynamic shapes carried over from the previous batch size
    net, opt, fast = build(kind, cfg, device, channels_last=not nchw, nhwc_norm='nhwc' in mods, fused_norm='fused' in mods)
    x = inputs(cfg, batch, device, fast and not nchw)
    flops = flops_per_sample(net, x, fast, device)
    if kind in ('ours+c', 'peer+c'): net = torch.compile(net, dynamic=False)
    if kind == 'ours+cg': net = torch.compile(net, mode='reduce-overhead', dynamic=False)
    step = step_fn(net, opt, fast, device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    for _ in range(a.warmup): step(x)
    sync()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter(); step(x); sync(); times.append(time.perf_counter() - t0)
    sps = batch / statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == 'cuda' else float('nan')
    if a.profile and a.profile == f'{path}:{batch}': profile(step, x, device, statistics.median(times))
    del net, opt, x
    if device.type == 'cuda': torch.cuda.empty_cache()
    tf = flops * sps / 1e12
    return dict(path=path, latent=latent, batch=batch, samples_per_s=round(sps, 1), gflop_per_sample=round(flops / 1e9, 2),
                tflops=round(tf, 1), mfu=round(tf / a.peak_tflops, 4), peak_gib=round(peak, 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--batches', type=int, nargs='+', default=[8, 32, 128, 256])
    ap.add_argument('--latent', type=int, nargs='+', default=[64, 16])
    ap.add_argument('--paths', nargs='+', default=['seed', 'ours', 'ours+c', 'peer'])
    ap.add_argument('--history', type=int, default=0); ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10); ap.add_argument('--peak-tflops', type=float, default=989.0)
    ap.add_argument('--tiny', action='store_true', help='small model and images: a quick check on a CPU')
    ap.add_argument('--json', default=None, help='also write the rows here')
    ap.add_argument('--profile', default=None, help='PATH:BATCH to profile, e.g. ours+c:256')
    ap.add_argument('--cond-patch', type=int, default=1, help='UNetConfig.cond_patch (1: the seed encoder; configs/gpu.yaml: 4)')
    a = ap.parse_args()
    if a.tiny: a.batches, a.latent, a.steps, a.warmup = [b for b in a.batches if b <= 8] or [4], [4], 2, 1
    device = torch.device(a.device)
    rows = []
    for latent in a.latent:
        for batch in a.batches:
            for path in a.paths:
                if path.startswith('peer') and latent != 64 and not a.tiny: continue   # the peer's layout is the latent-64 one
                try: r = measure(path, latent, batch, a, device)
                except torch.OutOfMemoryError: r = dict(path=path, latent=latent, batch=batch, samples_per_s=float('nan'), error='OOM')
                rows.append(r); print(json.dumps(r), flush=True)
    by = {(r['path'], r['latent'], r['batch']): r['samples_per_s'] for r in rows}
    pairs = [(x, y) for x in a.paths for y in a.paths
             if split_path(x, 0)[0].startswith('ours') and not split_path(y, 0)[0].startswith('ours')]
    print('\n| latent | batch | ' + ' | '.join(a.paths) + ''.join(f' | {x}/{y}' for x, y in pairs) + ' |')
    print('|---|---|' + '---|' * (len(a.paths) + len(pairs)))
    for latent in a.latent:
        for batch in a.batches:
            v = {p: by.get((p, latent, batch), float('nan')) for p in a.paths}
            print(f"| {latent} | {batch} | " + ' | '.join(f"{v[p]:.1f}" for p in a.paths) +
                  ''.join(f" | {v[x] / v[y]:.2f}" for x, y in pairs) + ' |')
    if a.json: open(a.json, 'w').write(json.dumps(rows, indent=1))


if __name__ == '__main__':
    main()
