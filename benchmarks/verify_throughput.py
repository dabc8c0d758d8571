"""The CPU side of `cyclonediff eval` (baselines, every score, spectra, forecast files) for one 256x256 sample with
16-member ensembles, serially and in a process pool, in one run: samples/s and the ratio.

    python benchmarks/verify_throughput.py [--samples 8] [--workers 2 8 16] [--members 16] [--size 256]

The jobs are what `evaluation.evaluate` hands to `evaluation.verify_sample`: the model's and the ablation's ensembles
(smooth random fields in kelvin here: the cost does not depend on the values), two input frames, four leads, and
the baselines persistence, pySTEPS extrapolation and STEPS. On the GPU machine this work, not the sampler, set the
pace of the evaluation (about 34 s a sample on one H200 with 16 members, serial).
"""
import argparse, tempfile, time
from pathlib import Path

import numpy as np
from scipy import ndimage


def jobs(n, members, size, out):
    from cyclonediff.eval import EvalConfig
    from cyclonediff.evaluation import VerifyJob
    rng = np.random.default_rng(0)
    field = lambda *s: 250 + 30 * ndimage.gaussian_filter(rng.standard_normal(s), [0] * (len(s) - 2) + [4, 4])
    verify_cfg = EvalConfig(res_km=0.07 * 111.2 * 286 / size)
    leads_h = np.array([3, 6, 12, 24])
    return [VerifyJob(index=i, sample_id=f's{i}', meta=dict(sample=f's{i}', sid=f's{i}', name='X', time='t', lat=0.0, lon=0.0),
                      frames=field(2, size, size), truth=field(len(leads_h), size, size), leads_h=leads_h,
                      forecasts={'ldm': field(members, len(leads_h), size, size),
                                 'ldm_no_era5': field(members, len(leads_h), size, size)},
                      seed=i, baselines=('persistence', 'extrapolation', 'steps'), members=members, verify_cfg=verify_cfg,
                      npz=Path(out) / f's{i}.npz', figure=None, n_show=3) for i in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--samples', type=int, default=8); ap.add_argument('--workers', type=int, nargs='+', default=[2])
    ap.add_argument('--members', type=int, default=16); ap.add_argument('--size', type=int, default=256)
    a = ap.parse_args()
    from cyclonediff.evaluation import verify_pool, verify_sample
    with tempfile.TemporaryDirectory() as out:
        js = jobs(a.samples, a.members, a.size, out)
        verify_sample(js[0])                                             # imports and pySTEPS start-up
        t0 = time.perf_counter()
        parts = [verify_sample(j)['timings'] for j in js]
        serial = a.samples / (time.perf_counter() - t0)
        share = {k: sum(p[k] for p in parts) / a.samples for k in parts[0]}
        print(f"serial: {serial:.3f} samples/s ({1 / serial:.1f} s a sample: " +
              ', '.join(f"{k} {v:.1f} s" for k, v in share.items()) + ')')
        for w in a.workers:
            pool = verify_pool(w)
            list(pool.map(verify_sample, js[:w]))                        # start the workers
            t0 = time.perf_counter()
            list(pool.map(verify_sample, js))
            rate = a.samples / (time.perf_counter() - t0)
            pool.shutdown()
            print(f"{w} workers: {rate:.3f} samples/s, {rate / serial:.2f}x serial")


if __name__ == '__main__':
    main()
