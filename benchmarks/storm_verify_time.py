"""CPU time that the storm-aware verification (`storm_verify.verify_storm`) adds to one sample of `cyclonediff eval`,
at 64 and 256 px with 16-member ensembles and four leads, one process, one thread.

    OMP_NUM_THREADS=1 python benchmarks/storm_verify_time.py [--sizes 64 256] [--members 16] [--repeat 3]

The methods are those of a default evaluation with the ablation: four 16-member ensembles (ldm, ldm_no_era5, steps,
storm_persistence_ens) and four single forecasts (persistence, extrapolation, storm_persistence, vae_recon). The
fields are synthetic storms (a cold CDO with a warm eye, spiral-free, on textured clear sky) that the centre finder
does find, each member displaced by a few pixels: the finder's cost depends on the size of the storm's cold region,
so storm-free random fields would understate it. Pixel size: the store's 0.07 deg x 286 / size. Prints CPU seconds
per sample (time.process_time) for the whole of verify_storm and for its parts, with the finder's work grid of
FINDER (16 km) and of find_centre's default (12 km).
"""
import argparse, time

import numpy as np
from scipy import ndimage


def storm(size, centre, res_km, rng):
    from cyclonediff.storm_scores import distance_km
    d = distance_km((size, size), centre, res_km)
    tb = np.where(d <= 250, 200 + 30 * (d / 250) ** 2, 290.0)
    tb = np.where(d <= 20, 280.0, tb)
    return tb + 4 * ndimage.gaussian_filter(rng.standard_normal((size, size)), 1.5)


def sample(size, members, res_km, seed=0):
    rng = np.random.default_rng(seed)
    leads = [3, 6, 12, 24]
    c0 = (size - 1) / 2
    track = [(c0 - 0.01 * h * size / 8, c0 + 0.02 * h * size / 8) for h in leads]
    truth = np.stack([storm(size, c, res_km, rng) for c in track])
    ens = lambda: np.stack([np.stack([storm(size, (r + rng.normal(0, 2), c + rng.normal(0, 2)), res_km, rng) for r, c in track])
                            for _ in range(members)])
    methods = {k: ens() for k in ('ldm', 'ldm_no_era5', 'steps', 'storm_persistence_ens')}
    methods.update({k: ens()[:1] for k in ('persistence', 'extrapolation', 'storm_persistence', 'vae_recon')})
    return truth, methods, leads


def cpu(fn, repeat):
    t0 = time.process_time()
    for _ in range(repeat): fn()
    return (time.process_time() - t0) / repeat


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='+', default=[64, 256]); ap.add_argument('--members', type=int, default=16)
    ap.add_argument('--repeat', type=int, default=3)
    a = ap.parse_args()
    from cyclonediff import storm_verify as sv
    for size in a.sizes:
        res_km = 0.07 * 111.2 * 286 / size
        truth, methods, leads = sample(size, a.members, res_km)
        n_img = sum(v.shape[0] for v in methods.values()) * len(leads)
        sv.verify_storm(truth, methods, leads, sample_id='s', res_km=res_km)           # warm caches (ring FFTs, distance maps)
        whole = cpu(lambda: sv.verify_storm(truth, methods, leads, sample_id='s', res_km=res_km), a.repeat)
        rows16 = cpu(lambda: sv.storm_rows(truth, methods, leads, sample_id='s', res_km=res_km), a.repeat)
        rows12 = cpu(lambda: sv.storm_rows(truth, methods, leads, sample_id='s', res_km=res_km, finder={}), a.repeat)
        events = cpu(lambda: sv.event_rows(truth, methods, leads, sample_id='s'), a.repeat)
        rel = cpu(lambda: [sv.reliability_counts(v, truth) for v in methods.values() if v.shape[0] > 1], a.repeat)
        found = sv.storm_rows(truth, methods, leads, sample_id='s', res_km=res_km)
        share = found[found.metric == 'found_share'].value.mean()
        print(f'{size} px ({res_km:.1f} km), {a.members} members, {len(leads)} leads, {len(methods)} methods ({n_img} images): '
              f'verify_storm {whole:.2f} CPU-s per sample = storm_rows {rows16:.2f} + event_rows {events:.3f} + '
              f'reliability {rel:.3f}; storm_rows with the 12 km work grid {rows12:.2f} s; mean found share {share:.2f}')


if __name__ == '__main__':
    main()
