"""The CPU side of `cyclonediff eval` (baselines, every score, the storm scores, spectra, forecast files) for 256x256
samples with 16-member ensembles, serially and in a process pool, in one run: seconds a sample by part, samples/s
and the ratio.

    python benchmarks/verify_throughput.py [--samples 8] [--workers 2 8 16] [--members 16] [--size 256]
                                           [--baselines persistence,steps,...] [--score-on cpu|device]
                                           [--serial-samples N] [--no-save] [--baselines-on cuda]

The jobs are what `evaluation.evaluate` hands to `evaluation.verify_sample`: the model's ensemble and the VAE floor
(smooth random fields in kelvin with a cold storm moving across the frame: the storm scores find a centre), two
input frames, four leads, the storm's fixes up to t, and the evaluation's default baselines (EvalRunConfig).
`--score-on device` leaves the model's ensembles to the GPU (their score rows are made before the clock starts), as
`cyclonediff eval --score-on device` does; `--baselines-on cuda` has the workers score the baselines they run on
the GPU (what `eval --score-on device` does where there is one). `--no-save`: no forecasts/*.npz (the skill run's
`--no-save-forecasts`). `--serial-samples N`: the serial pass on the first N samples only. Use it to plan an evaluation: samples x seconds a sample / workers.
"""
import argparse, tempfile, time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage


def storm_field(rng, lead_px, shape):
    "Smooth random kelvin fields with a cold disc whose centre moves `lead_px` (rows, cols) from the middle."
    *lead, size, _ = shape
    f = 260 + 20 * ndimage.gaussian_filter(rng.standard_normal(shape), [0] * (len(shape) - 2) + [4, 4])
    yy, xx = np.mgrid[:size, :size]
    for idx in np.ndindex(*lead):
        dr, dc = lead_px[idx[-1]] if lead_px is not None else (0, 0)
        r2 = (yy - size / 2 - dr) ** 2 + (xx - size / 2 - dc) ** 2
        f[idx] -= 70 * np.exp(-r2 / (2 * (size / 10) ** 2))
    return f


def jobs(n, members, size, out, baselines, score_on, save=True, score_device=None):
    from cyclonediff.eval import EvalConfig
    from cyclonediff.evaluation import VerifyJob
    from cyclonediff.eval import score_forecast, scores_frame
    from cyclonediff.storm_baselines import StormTrack
    rng = np.random.default_rng(0)
    deg_per_px = 0.07 * 286 / size
    verify_cfg = EvalConfig(res_km=deg_per_px * 111.2)
    leads_h = np.array([3, 6, 12, 24])
    t = pd.Timestamp('2020-08-10 12:00')
    fixes = pd.DataFrame(dict(time=[t - pd.Timedelta(hours=6), t], lat=[15.0, 15.3], lon=[140.0, 139.7]))
    move = [(-0.05 * h / deg_per_px, -0.05 * h / deg_per_px) for h in leads_h]
    spread = tuple((float(h), 30.0 * h / 6) for h in leads_h)
    out_jobs = []
    for i in range(n):
        truth = storm_field(rng, move, (len(leads_h), size, size))
        fc = {'ldm': storm_field(rng, move, (members, len(leads_h), size, size)), 'vae_recon': truth[None] + 1.0}
        scored = None
        if score_on == 'device':                            # made where the ensembles were sampled, not here
            scored = scores_frame([r for k, v in fc.items() for r in score_forecast(truth, v, sample_id=f's{i}',
                                                                                  lead_h=leads_h, method=k, cfg=verify_cfg)])
        out_jobs.append(VerifyJob(index=i, sample_id=f's{i}', meta=dict(sample=f's{i}', sid=f's{i}', name='X', time=str(t),
                                                                        lat=15.3, lon=139.7),
                                  frames=storm_field(rng, [(0, 0), (0, 0)], (2, size, size)), truth=truth, leads_h=leads_h,
                                  forecasts=fc, seed=i, baselines=baselines, members=members, verify_cfg=verify_cfg,
                                  npz=Path(out) / f's{i}.npz' if save else None, figure=None, n_show=3,
                                  track=StormTrack(fixes, t, deg_per_px, spread), scored=scored,
                                  score_device=score_device))
    return out_jobs


def main():
    from cyclonediff.evaluation import EvalRunConfig
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--samples', type=int, default=8); ap.add_argument('--workers', type=int, nargs='*', default=[2])
    ap.add_argument('--members', type=int, default=16); ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--baselines', default=','.join(EvalRunConfig().baselines))
    ap.add_argument('--score-on', default='cpu', choices=['cpu', 'device'])
    ap.add_argument('--baselines-on', default=None, help='torch device the workers score the baselines on (default: numpy)')
    ap.add_argument('--serial-samples', type=int, default=None); ap.add_argument('--no-save', action='store_true')
    a = ap.parse_args()
    from cyclonediff.evaluation import verify_pool, verify_sample
    baselines = tuple(b for b in a.baselines.split(',') if b)
    with tempfile.TemporaryDirectory() as out:
        js = jobs(a.samples, a.members, a.size, out, baselines, a.score_on, not a.no_save, a.baselines_on)
        ns = min(a.serial_samples or a.samples, a.samples)
        verify_sample(js[0])                                             # imports and pySTEPS start-up
        t0 = time.perf_counter()
        parts = [verify_sample(j)['timings'] for j in js[:ns]]
        serial = ns / (time.perf_counter() - t0)
        share = {k: sum(p[k] for p in parts) / ns for k in parts[0]}
        print(f"baselines {','.join(baselines)}; score_on {a.score_on}; baselines scored on {a.baselines_on or 'numpy'}; "
              f"save {not a.no_save}; {ns} samples serial")
        print(f"serial: {serial:.3f} samples/s ({1 / serial:.1f} s a sample: " +
              ', '.join(f"{k} {v:.1f} s" for k, v in share.items()) + ')', flush=True)
        for w in a.workers:
            pool = verify_pool(w)
            list(pool.map(verify_sample, js[:w]))                        # start the workers
            t0 = time.perf_counter()
            list(pool.map(verify_sample, js))
            rate = a.samples / (time.perf_counter() - t0)
            pool.shutdown()
            print(f"{w} workers: {rate:.3f} samples/s, {rate / serial:.2f}x serial", flush=True)


if __name__ == '__main__':
    main()
