"""Samples per second of `make_loader` over a sample store with 0, 2 and 8 workers, and their ratio to 0 workers.

    python benchmarks/loader_throughput.py                      # builds a demo-size store from a tiny world
    python benchmarks/loader_throughput.py --store PATH         # an existing store
    python benchmarks/loader_throughput.py --workers 0 4 16 --batch-size 16 --samples 512
    python benchmarks/loader_throughput.py --store PATH --split train --cache cuda   # + stage 2's input cache

`--cache DEVICE` also times what stage 2 does with `train.cache_inputs`: the split's inputs (IR frames, ERA5, the
first lead's target) read once into DEVICE, then random batches gathered by index.

All numbers come from one run on one machine; only the ratios are meant to be compared across machines. The first
batch of each loader (worker start-up) is timed separately from the steady state.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from cyclonediff.data import DataConfig
from cyclonediff.datasets import CycloneDataset, make_loader
from cyclonediff.store import SplitConfig, build_store, inspect_store, sources_from_world


def measure(ds, batch_size, workers, n_samples, seed=0):
    "(first-batch seconds, steady-state samples/s over at least `n_samples` samples after the first batch)."
    dl = make_loader(ds, batch_size, shuffle=True, num_workers=workers, seed=seed, drop_last=False)
    t0 = time.perf_counter()
    it = iter(dl)
    next(it)
    first = time.perf_counter() - t0
    seen, t1 = 0, time.perf_counter()
    while seen < n_samples:
        for b in it:
            seen += b['gridsat'].shape[0]
            if seen >= n_samples: break
        else:
            it = iter(dl)                               # next epoch (persistent workers stay alive)
    rate = seen / (time.perf_counter() - t1)
    del it, dl
    return first, rate


def measure_cache(ds, batch_size, n_samples, device):
    "(seconds to read the split into `device`, GiB held, samples/s of random index gathers of `batch_size`)."
    from cyclonediff.stages import ldm_inputs, read_arrays      # what stage 2 does with train.cache_inputs
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    t0 = time.perf_counter()
    cache = read_arrays(ds, ldm_inputs, dev, batch_size, min(8, os.cpu_count() or 1))
    sync(); read_s = time.perf_counter() - t0
    g = torch.Generator(device='cpu').manual_seed(0)
    n, seen = len(ds), 0
    t1 = time.perf_counter()
    while seen < n_samples:
        idx = torch.randint(0, n, (batch_size,), generator=g).to(dev)
        _gathered = {k: v[idx] for k, v in cache.items()}                       # the gather stage 2 does
        seen += batch_size
    sync()
    gib = sum(v.numel() * v.element_size() for v in cache.values()) / 2**30
    return read_s, gib, seen / (time.perf_counter() - t1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--store', help='an existing store (default: build a demo-size store from a tiny world)')
    ap.add_argument('--world', help='an existing world folder to build the store from')
    ap.add_argument('--days', type=float, default=2.0, help='days of the tiny world when one is made')
    ap.add_argument('--image-size', type=int, default=256)
    ap.add_argument('--patch-size', type=int, default=286)
    ap.add_argument('--split', default='all')
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2, 8])
    ap.add_argument('--samples', type=int, default=256, help='samples to time per setting (after the first batch)')
    ap.add_argument('--build-workers', type=int, default=0)
    ap.add_argument('--torch-threads', type=int, help='torch intra-op threads of this process (workers always use 1)')
    ap.add_argument('--cache', default=None, help="also time stage 2's input cache on this device ('cpu', 'cuda')")
    a = ap.parse_args(argv)
    if a.torch_threads: torch.set_num_threads(a.torch_threads)

    tmp = Path(tempfile.mkdtemp(prefix='cyclonediff_bench_'))
    store = a.store
    if store is None:
        world = a.world
        if world is None:
            from cyclonediff.world import make_world, world_preset
            t0 = time.perf_counter()
            world = make_world(tmp / 'world', world_preset('tiny', days=a.days))['root']
            print(f'world: tiny, {a.days:g} days, written in {time.perf_counter() - t0:.1f} s')
        cfg = DataConfig(patch_size=a.patch_size, image_size=a.image_size)
        t0 = time.perf_counter()
        store = build_store(sources_from_world(world), tmp / 'store', cfg, splits=SplitConfig(),
                            workers=a.build_workers, progress=True)
        dt = time.perf_counter() - t0
        ds_all = CycloneDataset(store, 'all')
        print(f'store built in {dt:.1f} s: {len(ds_all)} samples, {len(ds_all) / dt:.2f} samples/s '
              f'(build workers {a.build_workers})')
    print(inspect_store(store))
    ds = CycloneDataset(store, a.split)
    if len(ds) == 0: raise SystemExit(f'no samples in split {a.split!r} of {store}')
    print(f'\nloader over {len(ds)} samples ({a.split}), batch {a.batch_size}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} torch threads, {__import__("os").cpu_count()} CPUs')
    print(f'{"workers":>8} {"first batch s":>14} {"samples/s":>10} {"ratio to 0":>11}')
    base = None
    for w in a.workers:
        first, rate = measure(ds, a.batch_size, w, a.samples)
        base = rate if (base is None and w == 0) else base
        ratio = f'{rate / base:.2f}' if base else '-'
        print(f'{w:>8d} {first:>14.2f} {rate:>10.1f} {ratio:>11}', flush=True)
    if a.cache:
        read_s, gib, rate = measure_cache(ds, a.batch_size, max(a.samples, 20 * a.batch_size), a.cache)
        print(f'input cache on {a.cache}: read once in {read_s:.1f} s ({gib:.2f} GiB), then {rate:.0f} samples/s '
              f'of random batches of {a.batch_size} (stage 2 with train.cache_inputs)')


if __name__ == '__main__':
    main()
