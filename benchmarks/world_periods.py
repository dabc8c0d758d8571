"""Do a world's training, validation and test periods intensify alike? The 24-h change of the track's wind at every
sample of a built store, by split and by block of valid time (issue 18: the cold drift; a test held out in time).

    python benchmarks/world_periods.py /tmp/skill/store /tmp/skill/world [--block-days 6]

Reads the store's manifest (its `ok` samples and their split) and the world's IBTrACS file (the wind 24 h after each
sample's time, on the same storm); writes nothing. A period whose storms intensify more on average teaches a model
that reads the period's mean a drift that a later period does not have.
"""
import argparse
from pathlib import Path

import pandas as pd

from cyclonediff.overlap import TIME_FORMAT
from cyclonediff.readers import read_ibtracs
from cyclonediff.store import read_manifest


def wind_change_24h(store: Path, world: Path) -> pd.DataFrame:
    "The store's ok samples (sid, split, time) with the track's wind at t and its change to t + 24 h (kt)."
    m = read_manifest(store)
    m = m[m.status == 'ok'].assign(time=lambda d: pd.to_datetime(d.timestamp, format=TIME_FORMAT))
    ib = read_ibtracs(next((world / 'ibtracs').glob('*.csv')))[['sid', 'time', 'wind_kt']]
    later = ib.assign(time=ib.time - pd.Timedelta(hours=24)).rename(columns={'wind_kt': 'wind_24h'})
    d = m.merge(ib, on=['sid', 'time'], how='left').merge(later, on=['sid', 'time'], how='left')
    return d.assign(wind=d.wind_kt, dwind_24h=d.wind_24h - d.wind_kt)[['sid', 'split', 'time', 'wind', 'dwind_24h']]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('store', type=Path); ap.add_argument('world', type=Path)
    ap.add_argument('--block-days', type=float, default=6.0)
    a = ap.parse_args(argv)
    d = wind_change_24h(a.store, a.world)
    agg = dict(samples=('dwind_24h', 'size'), storms=('sid', 'nunique'), wind_kt=('wind', 'mean'),
               dwind_24h_kt=('dwind_24h', 'mean'), share_intensifying=('dwind_24h', lambda x: (x > 0).mean()))
    print(d.groupby('split').agg(**agg).round(2).to_string())
    block = ((d.time - d.time.min()) / pd.Timedelta(days=a.block_days)).astype(int) * a.block_days
    print(); print(d.assign(first_day=block).groupby(['first_day', 'split']).agg(**agg).round(2).to_string())


if __name__ == '__main__':
    main()
