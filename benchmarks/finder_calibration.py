#!/usr/bin/env python
"""The storm-centre finder's own error where the skill runs measure (issue 18 item 4): `find_centre` on the TRUTH
frames of a store cut like benchmarks/skill18_device_call.sh's (256 px, 286-px crops, the dense `train` world),
against the world's track, with the first guess a forecaster has at t (the track extrapolated from the fixes at
t - 3 h and t), by lead and by whether another storm's track lies inside the crop. 05_eval_storm states the bound on
a tiny 3-storm world of 80-px crops; the headline centre errors are read against the one printed here.

    cyclonediff data synth --out W --preset train --workers 2 n_storms=50 days=9 genesis=count start="'2020-08-01'" neighbourhood_deg=0
    cyclonediff data build --world W --out S --workers 2 --every-h 12 --split-method time --split-fractions 0.58,0.2,0.22 \\
        image_size=256 history=1 'leads_h=[3,6,9,12,15,18,21,24]' 'era5_channels=[u500,v500,sst,shear]'
    python benchmarks/finder_calibration.py S --world W

(50 storms in 9 days: the skill runs' density of storms, 200 in 36 days.) Per frame: the error (km) of the found
centre from the track position; `found` the share of frames with a centre; `neighbour`: another storm's track
position inside the crop at that time. `--centre-km inf` gives the finder before 2026-12-07 for comparison.
"""
import argparse
import numpy as np
import pandas as pd
import zarr
from cyclonediff.data import DataConfig, denormalise_tb
from cyclonediff.readers import read_ibtracs
from cyclonediff.store import read_manifest, read_store_config, sources_from_world, zarr_path
from cyclonediff.storm_scores import find_centre, image_centre, track_centre_px
from cyclonediff.storm_verify import FINDER


def track_positions(world) -> pd.DataFrame:
    "(sid, time) -> lat, lon of every 3-hourly fix of the world's IBTrACS file."
    tr = read_ibtracs(sources_from_world(world).ibtracs)
    return tr.assign(time=pd.to_datetime(tr['time'])).set_index(['sid', 'time'])[['lat', 'lon']].sort_index()


def frames_of(store, cfg: DataConfig, pos: pd.DataFrame, deg_px: float, max_samples: int | None):
    "(sample, lead, Tb image, true centre, first guess, neighbours in the crop) for every frame of the ok samples."
    m = read_manifest(store)
    m = m[m.status == 'ok']
    if max_samples: m = m.iloc[np.linspace(0, len(m) - 1, min(max_samples, len(m))).astype(int)]
    g = zarr.open_group(zarr_path(store), mode='r')
    by_time = pos.reset_index().groupby('time')
    for r in m.itertuples():
        t = pd.to_datetime(r.timestamp, format='%Y-%m-%d %H_%M_%S')
        prev = pos.loc[(r.sid, t - pd.Timedelta(hours=3))] if (r.sid, t - pd.Timedelta(hours=3)) in pos.index else None
        frames = [(0, g['gridsat'][r.slot, 0])] + [(h, g['target'][r.slot, i]) for i, h in enumerate(cfg.leads_h)]
        for h, x in frames:
            th = t + pd.Timedelta(hours=h)
            if (r.sid, th) not in pos.index: continue
            la, lo = pos.loc[(r.sid, th)]
            true = track_centre_px(r.lat, r.lon, la, lo, deg_px, x.shape)
            guess = (image_centre(x.shape) if prev is None else
                     track_centre_px(r.lat, r.lon, r.lat + (r.lat - prev.lat) * h / 3, r.lon + (r.lon - prev.lon) * h / 3, deg_px, x.shape))
            others = by_time.get_group(th) if th in by_time.groups else pd.DataFrame(columns=['sid', 'lat', 'lon'])
            others = others[others.sid != r.sid]
            px = [track_centre_px(r.lat, r.lon, a, b, deg_px, x.shape) for a, b in zip(others.lat, others.lon)]
            inside = sum(0 <= pr < x.shape[0] and 0 <= pc < x.shape[1] for pr, pc in px)
            yield r.slot, h, np.asarray(denormalise_tb(x, cfg), dtype='float64'), true, guess, inside


def summary(e: pd.Series) -> pd.Series:
    f = e.dropna()
    return pd.Series(dict(n=len(e), found=e.notna().mean(), median_km=f.median(), p80_km=f.quantile(0.8),
                          p90_km=f.quantile(0.9), mean_km=f.mean(), over_100km=(f > 100).mean(), over_300km=(f > 300).mean()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('store'); ap.add_argument('--world', required=True)
    ap.add_argument('--max-samples', type=int, default=None)
    ap.add_argument('--centre-km', type=float, default=None, help="find_centre's centre_km (default: its search_km; "
                    "'inf': the finder before 2026-12-07, whose centre could lie anywhere in the cold region)")
    a = ap.parse_args()
    finder = {**FINDER, **({} if a.centre_km is None else {'centre_km': a.centre_km})}   # as the evaluation finds centres
    cfg = DataConfig(**read_store_config(a.store)['data'])
    deg_px = cfg.res * cfg.patch_size / cfg.image_size
    res_km = deg_px * 111.2                                           # EvalConfig.res_km of these images
    rows = [dict(sample=s, lead=h, neighbour=n > 0, err=np.nan if (c := find_centre(tb, res_km, guess=gs, **finder)) is None
                 else float(np.hypot(c[0] - tr[0], c[1] - tr[1]) * res_km))
            for s, h, tb, tr, gs, n in frames_of(a.store, cfg, track_positions(a.world), deg_px, a.max_samples)]
    cal = pd.DataFrame(rows)
    print(f'finder {finder}')
    print(f'{cal["sample"].nunique()} samples, {len(cal)} truth frames at {res_km:.2f} km per pixel '
          f'({cfg.patch_size} px of {cfg.res} deg resized to {cfg.image_size}); another storm in the crop in {cal.neighbour.mean():.0%}')
    table = {'all': summary(cal.err), **{f'+{h} h': summary(d.err) for h, d in cal.groupby('lead')},
             'no other storm': summary(cal.err[~cal.neighbour]), 'another storm in crop': summary(cal.err[cal.neighbour])}
    print(pd.concat(table, axis=1).round(2).to_string())


if __name__ == '__main__':
    main()
