#!/usr/bin/env python
"""Scoring one forecast (`score_forecast`: every per-member and ensemble score) with the numpy reference
(`cyclonediff.eval`) and with torch (`cyclonediff.eval_torch`) on the CPU and, where there is one, the GPU; one run,
the ratios printed against the reference.

    python benchmarks/score_speed.py [--size 256] [--members 16] [--leads 4] [--repeat 3]
"""
import argparse, os, statistics, sys, time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..')))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy import ndimage  # noqa: E402

import cyclonediff.eval as eval_np  # noqa: E402
import cyclonediff.eval_torch as eval_torch  # noqa: E402


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        if torch.cuda.is_available(): torch.cuda.synchronize()
        t0 = time.perf_counter(); fn()
        if torch.cuda.is_available(): torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--size', type=int, default=256); ap.add_argument('--members', type=int, default=16)
    ap.add_argument('--leads', type=int, default=4); ap.add_argument('--repeat', type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    field = lambda *s: 250 + 240 * ndimage.gaussian_filter(rng.standard_normal(s), [0] * (len(s) - 2) + [3, 3])
    obs, mem = field(a.leads, a.size, a.size), field(a.members, a.leads, a.size, a.size)
    kw = dict(sample_id='s', lead_h=list(range(3, 3 * a.leads + 1, 3)), method='ldm')
    runs = {'numpy (reference)': lambda: eval_np.score_forecast(obs, mem, **kw),
            'torch cpu float64': lambda: eval_torch.score_forecast(obs, mem, device='cpu', **kw),
            'torch cpu float32': lambda: eval_torch.score_forecast(obs, mem, device='cpu', dtype=torch.float32, **kw)}
    if torch.cuda.is_available():
        runs['torch cuda float32'] = lambda: eval_torch.score_forecast(obs, mem, device='cuda', **kw)
        runs['torch cuda float32'](); runs['torch cuda float32']()          # warm-up (kernels, allocator)
    print(f'score_forecast of one forecast: {a.members} members, {a.leads} leads, {a.size} x {a.size} px, '
          f'torch {torch.__version__}, {torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"}, '
          f'{torch.get_num_threads()} CPU threads')
    ref = None
    for name, fn in runs.items():
        t = timed(fn, a.repeat)
        ref = ref or t
        print(f'{name:20s} {t:8.3f} s   {ref / t:6.2f}x the reference')


if __name__ == '__main__':
    main()
