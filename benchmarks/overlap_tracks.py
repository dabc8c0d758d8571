"""How far is a test split held out from training? `cyclonediff.overlap` on manifests rebuilt from a world's tracks alone
(no IR is written: seconds instead of hours), for two questions of issue 18 item 2:

    python benchmarks/overlap_tracks.py preset train      # the 'train' preset split by season and by storm (rank)
    python benchmarks/overlap_tracks.py run4              # the run-4 audit (SKILL.md's old run), its 12 test samples

A rebuilt manifest has a sample at every `--every-h` hours of each track whose history frame (t - 3 h) and longest lead
(t + 24 h) lie inside the world's period; the store's other skips (too much fill, missing IR) are not modelled, so
its training split is a few per cent larger than a built store's. `run4` rebuilds the tracks of the run-4 world
(eval_config.json's world) with today's world code: the storm ids are the same but positions differ by up to ~2 deg,
so its numbers approximate the audit's (78 % of a +24 h target's area in training frames, 91 % of +24 h patches
with a training storm's centre), they do not reproduce them.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd

from cyclonediff.data import DataConfig
from cyclonediff.overlap import TIME_FORMAT, overlap_table
from cyclonediff.store import SplitConfig, assign_splits
from cyclonediff.world import WorldConfig, simulate_tracks, world_preset

RUN4 = Path(__file__).parent / 'results' / 'skill_h200x2_run4' / 'eval'


def rebuilt_manifest(tracks: pd.DataFrame, times, method: str, every_h: int) -> pd.DataFrame:
    "Manifest rows (sid, split, timestamp, lat, lon, status) of `tracks` split by `method`, as build_store would sample them."
    storms = tracks.groupby('sid', sort=True).agg(season=('season', 'first'), start=('time', 'min'), end=('time', 'max')).reset_index()
    split = dict(zip(storms.sid, assign_splits(storms, SplitConfig(method=method))))
    g = tracks.assign(split=tracks.sid.map(split).fillna(''))
    first = g.groupby('sid').time.transform('min')
    ok = ((g.time - first) % pd.Timedelta(hours=every_h) == pd.Timedelta(0)) & (g.time - pd.Timedelta(hours=3) >= times[0]) \
        & (g.time + pd.Timedelta(hours=24) <= times[-1]) & (g.split != '')
    return pd.DataFrame(dict(sid=g.sid, split=g.split, timestamp=g.time.dt.strftime(TIME_FORMAT), lat=g.lat, lon=g.lon,
                             status=np.where(ok, 'ok', 'skipped')))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('what', choices=('preset', 'run4'))
    p.add_argument('preset', nargs='?', default='train')
    p.add_argument('--every-h', type=int, default=None, help='sampling of the tracks (default: 3 for preset, 6 for run4)')
    a = p.parse_args(argv)
    leads, cfg = [3, 6, 12, 24], DataConfig(history=1)
    t0 = time.process_time()
    if a.what == 'run4':
        info = json.loads((RUN4 / 'eval_config.json').read_text())
        wc, cfg = WorldConfig(**info['world']), DataConfig(**info['data'])
        tracks = simulate_tracks(wc)
        man = rebuilt_manifest(tracks, wc.times, 'rank', a.every_h or 6)
        ev = pd.read_csv(RUN4 / 'samples.csv', dtype={'sid': str, 'timestamp': str})
        print(f'run-4 world rebuilt: {tracks.sid.nunique()} storms; splits of the rebuilt samples '
              f'{man[man.status == "ok"].split.value_counts().to_dict()} (the store had train 3237, val 698, test 623)')
        print('the 12 test samples evaluated in run 4 against train (rank split):')
        print(overlap_table(ev, man, cfg, leads).to_string(index=False))
    else:
        wc = world_preset(a.preset)
        tracks = simulate_tracks(wc)
        print(f'preset {a.preset}: {tracks.sid.nunique()} storms over {wc.days:g} days, tracks in {time.process_time() - t0:.1f} s CPU')
        for method in ('season', 'rank'):
            man = rebuilt_manifest(tracks, wc.times, method, a.every_h or 3)
            ok = man[man.status == 'ok']
            print(f'\nSplitConfig(method={method!r}): samples (storms) '
                  + ', '.join(f'{s} {len(d)} ({d.sid.nunique()})' for s, d in ok.groupby('split')))
            for split in ('test', 'val'):
                print(f'{split} against train:'); print(overlap_table(ok[ok.split == split], man, cfg, leads).to_string(index=False))
    print(f'\n{time.process_time() - t0:.1f} s CPU in all')


if __name__ == '__main__':
    sys.exit(main())
