"""Storm-following baselines on the synthetic world's storms, beside persistence and pySTEPS extrapolation: the
ensemble-mean MAE per lead over every val and test sample of a small world, the fair CRPS of the position-perturbed
ensemble, the track spread fitted on the train storms, and the CPU time of the baselines.

    OMP_NUM_THREADS=1 python benchmarks/storm_baselines_world.py [days]     # default 3 (the 'tiny' world, 3 storms)

It builds the world and a store of 96-pixel patches resized to 64 (history 1, leads 3, 6, 12, 24 h) in a temporary
folder, so it needs no GPU and no data. At the first sample of a storm (one track fix up to t) the storm
baselines have no motion and are persistence.
"""
import shutil, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from cyclonediff.world import make_world, world_preset
from cyclonediff.store import build_store, sources_from_world, SplitConfig, read_manifest
from cyclonediff.datasets import CycloneDataset
from cyclonediff.data import DataConfig
from cyclonediff.eval import frames_from_item, EvalConfig, mae, crps_ensemble
from cyclonediff.baselines import run_baselines
from cyclonediff.storm_baselines import StormTrack, fit_track_spread, spread_pairs, track_until
days = int(sys.argv[1]) if len(sys.argv) > 1 else 3
TMP = Path(tempfile.mkdtemp(prefix='stormbase_'))
t0 = time.process_time()
make_world(TMP / 'world', world_preset('tiny', days=days))
dcfg = DataConfig(patch_size=96, image_size=64, history=1, leads_h=(3, 6, 12, 24))
store = build_store(sources_from_world(TMP / 'world'), TMP / 'store', dcfg, splits=SplitConfig(method='rank'), progress=False)
print(f'world + store {time.process_time() - t0:.1f} s CPU')
man = read_manifest(store)
leads = [3.0, 6.0, 12.0, 24.0]
spread = fit_track_spread(man[man.split == 'train'], leads)
print(spread.round(1).to_string())
vcfg = EvalConfig(res_km=dcfg.res * 111.2 * dcfg.patch_size / dcfg.image_size)
deg = dcfg.res * dcfg.patch_size / dcfg.image_size
names = ['persistence', 'extrapolation', 'storm_persistence', 'storm_persistence_smooth', 'storm_persistence_ens']
rows, t_b, skipped = [], 0.0, {}
for split in ('val', 'test'):
    ds = CycloneDataset(store, split)
    for i in range(len(ds)):
        it = ds[i]
        fr, truth, lh = frames_from_item(it, dcfg)
        t = pd.to_datetime(it['timestamps'], format='%Y-%m-%d %H_%M_%S')
        trk = StormTrack(track_until(man, it['sid'], t), t, deg, spread_pairs(spread))
        c0 = time.process_time()
        out, sk = run_baselines(fr, lh, names, members=16, seed=i, cfg=vcfg, track=trk)
        t_b += time.process_time() - c0
        for k, v in sk.items(): skipped[k] = skipped.get(k, 0) + 1
        for k, fc in out.items():
            for j, h in enumerate(lh):
                rows.append(dict(split=split, sid=it['sid'], method=k, lead=h, mae=mae(fc[:, j].mean(0), truth[j]),
                                 crps=float(np.nanmean(crps_ensemble(fc[:, j], truth[j], fair=fc.shape[0] > 1)))))
df = pd.DataFrame(rows)
print('samples', df.groupby('method').size().to_dict(), 'storms', df.sid.nunique(), 'skipped', skipped)
print('MAE (ensemble mean)\n', df.pivot_table(index='method', columns='lead', values='mae').round(2).to_string())
print('CRPS (fair for the ensemble; MAE for one member)\n', df.pivot_table(index='method', columns='lead', values='crps').round(2).to_string())
print(f'baselines {t_b:.1f} s CPU')
shutil.rmtree(TMP)
