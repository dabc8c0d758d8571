"""The baseline cache (`cyclonediff.baseline_cache`, issue 18 item 7) on this machine: the same small evaluation of a
tiny trained checkpoint with no cache, with an empty cache (it fills it) and with the filled cache; each run's
timings.json parts (baselines_s, scoring_s, storm_s, total_s) and whether the baselines' score rows agree.

    python benchmarks/baseline_cache_speed.py [--out DIR] [--size 64] [--members 8] [--samples 4] [--workers 0]

The world is the synthetic 'tiny' preset (three storms, two days), the store `--size` px with one earlier frame
(extrapolation and STEPS run) and leads 3 and 6 h; the VAE and LDM are configs/tiny.yaml trained a few steps (the
model's skill is not measured); every default baseline.
"""
import argparse, json, tempfile, time
from pathlib import Path

import pandas as pd


def setup(root: Path, size: int):
    "(store, stage-2 checkpoint) of a tiny world at `size` px."
    from cyclonediff.configs import load_config
    from cyclonediff.data import DataConfig
    from cyclonediff.store import SplitConfig, build_store, sources_from_world
    from cyclonediff.trainer import train
    from cyclonediff.world import make_world, world_preset
    make_world(root / 'world', world_preset('tiny', days=2))
    patch = size * 5 // 4
    store = build_store(sources_from_world(root / 'world'), root / 'store',
                        DataConfig(patch_size=patch, image_size=size, history=1, leads_h=(3, 6)),
                        splits=SplitConfig(method='rank'), progress=False)
    cfg = Path(__file__).resolve().parent.parent / 'configs' / 'tiny.yaml'
    over = lambda stage, *x: load_config(cfg, [
        'train.dataset=store', f'train.store={store}', f'train.stage={stage}', f'train.out_dir={root / "runs" / "{stage}"}',
        f'data.image_size={size}', f'data.patch_size={patch}', 'data.history=1', 'data.leads_h=[3,6]', 'train.batch_size=4',
        'train.progress=false', 'train.tensorboard=false', 'train.eval_at_start=false', 'train.ckpt_every=1000',
        'train.recon_check_every=1000', 'train.max_steps=2', *x])
    vae = train(over('vae'))
    return store, train(over('ldm', f'train.vae_ckpt={vae}'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=None)
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--members', type=int, default=8)
    ap.add_argument('--samples', type=int, default=4)
    ap.add_argument('--workers', type=int, default=0)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    from cyclonediff.evaluation import EvalRunConfig, evaluate
    root = Path(a.out or tempfile.mkdtemp(prefix='bcache_speed_'))
    store, ckpt = setup(root, a.size)
    kw = dict(members=a.members, steps=2, max_samples=a.samples, workers=a.workers, progress=False, device='cpu')
    res, rows = {}, {}
    for name, cache in (('no cache', None), ('cold cache', root / 'cache'), ('warm cache', root / 'cache')):
        t0 = time.perf_counter()
        r = evaluate(ckpt, store, root / name.replace(' ', '_'), baseline_cache=cache and str(cache), **kw)
        t = json.loads(r['timings'].read_text())
        res[name] = dict(wall_s=time.perf_counter() - t0, **{k: t.get(k, 0) for k in (
            'baselines_s', 'scoring_s', 'storm_s', 'figures_s', 'forecast_s', 'total_s', 'n_samples',
            'baseline_cache_hits', 'baseline_cache_misses', 'baseline_cache_write_s')})
        s = pd.read_csv(r['scores'], dtype={'member': str})
        rows[name] = s[s.method.isin(EvalRunConfig().baselines)].sort_values(['sample', 'lead', 'method', 'member', 'metric'])
    same = all(rows[n].reset_index(drop=True).equals(rows['no cache'].reset_index(drop=True)) for n in rows)
    print(f'{a.samples} samples requested, {a.size} px, {a.members} members, workers {a.workers}; folder {root}')
    print(pd.DataFrame(res).T.to_string(float_format=lambda v: f'{v:.2f}'))
    print(f"baseline score rows identical in the three runs: {same} ({len(rows['no cache'])} rows)")
    (root / 'baseline_cache_speed.json').write_text(json.dumps(dict(args=vars(a), runs=res, identical=same), indent=1))


if __name__ == '__main__':
    main()
