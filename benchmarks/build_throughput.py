"""Samples per second of the store build: the serial `build_store` (and its pool of 2 processes) against
`build_store_dask` on a LocalCluster of 1 and 2 worker processes (one thread each), on one world, in one run.

    python benchmarks/build_throughput.py                       # writes a world (8 storms, 3 days, 80 x 160 deg)
    python benchmarks/build_throughput.py --world DIR --workers 1 2 4 --no-pool
    python benchmarks/build_throughput.py --days 6 --no-pool --repeat 3   # 16 blocks of 6 h; 1 and 2 workers interleaved 3 times
    python benchmarks/build_throughput.py --world DIR --no-pool --stream  # and where each worker's time went (task stream)

Each build starts from nothing and cuts every sample at the default DataConfig (286 px -> 256, 8 leads, 4 ERA5
channels). Reported per build: wall seconds, samples/s, CPU seconds (all processes of the build: the client or
the serial process plus the workers) per sample, and the peak RSS of each process (dask workers: sampled every 0.1 s during the build). The dask numbers exclude the
cluster start (timed apart) but include the index, the planning and the finish (manifest, stats, rename), as
the serial numbers do. Every store is checked against the serial one (`store_differences`: bit for bit).
Ratios are to the serial build of the same run; wall-time ratios mean something only on an otherwise idle
machine with at least as many free cores as workers. With --repeat N the dask builds run N times, worker counts
interleaved (1, 2, 1, 2, ...), and the 2-worker / 1-worker ratio is given per round and for the medians.
"""
import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path


def usage():
    "(CPU seconds, peak RSS MiB) of this process so far."
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def serial_build(world, out, workers):
    "Run in a fresh spawned process: (wall s, CPU s of it and its pool, peak RSS MiB of it and of its children)."
    from cyclonediff.store import build_store, sources_from_world
    c0, t0 = usage()[0], time.perf_counter()
    build_store(sources_from_world(world), out, progress=False, workers=workers)
    wall = time.perf_counter() - t0
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage()[0] - c0 + ch.ru_utime + ch.ru_stime, usage()[1], ch.ru_maxrss / 1024


def run_serial(world, out, workers=0):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as ex:
        return ex.submit(serial_build, str(world), str(out), workers).result()


def worker_usage():
    return usage()


class PeakRSS:
    "Peak resident memory (MiB) of some processes, sampled every 0.1 s in a thread while the block runs."
    def __init__(self, pids):
        import psutil, threading
        self.procs, self.peak, self.stop = [psutil.Process(p) for p in pids], [0.0] * len(pids), threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.stop.wait(0.1):
            for i, p in enumerate(self.procs):
                try: self.peak[i] = max(self.peak[i], p.memory_info().rss / 2 ** 20)
                except Exception: pass

    def __enter__(self): self.thread.start(); return self
    def __exit__(self, *exc): self.stop.set(); self.thread.join()


def stream_summary(records, t0) -> str:
    """One line from `distributed.get_task_stream` records of a build that started at `t0` (epoch s): the tasks, the
    seconds spent sending data between workers, and per worker its busy seconds, first start and last stop."""
    busy, first, last, sent = {}, {}, {}, 0.0
    for r in records:
        w = r['worker'].rsplit(':', 1)[-1]
        for s in r['startstops']:
            if s['action'] == 'transfer': sent += s['stop'] - s['start']
            if s['action'] != 'compute': continue
            busy[w] = busy.get(w, 0.0) + s['stop'] - s['start']
            first[w], last[w] = min(first.get(w, 1e30), s['start'] - t0), max(last.get(w, 0.0), s['stop'] - t0)
    per = '; '.join(f'worker :{w} busy {busy[w]:.1f} s, first start {first[w]:.2f} s, last stop {last[w]:.2f} s' for w in sorted(busy))
    return f'{len(records)} tasks, transfers {sent:.2f} s; {per}'


def run_dask(world, out, workers, block_h, stream=False):
    """(cluster start s, wall s, CPU s of client + workers, peak RSS MiB of each worker, task-stream line or None) on
    the cluster `dask_client` starts."""
    from contextlib import nullcontext
    from distributed import get_task_stream
    from cyclonediff.store import sources_from_world
    from cyclonediff.store_dask import build_store_dask, dask_client
    t0 = time.perf_counter()
    with dask_client('local', workers) as c:
        c.run(lambda: __import__('cyclonediff.store_dask'))            # the workers import torch & co. before the clock
        start = time.perf_counter() - t0
        w0, c0, pids = c.run(worker_usage), usage()[0], c.run(os.getpid)
        t1, e1 = time.perf_counter(), time.time()
        with PeakRSS([pids[k] for k in sorted(pids)]) as rss, (get_task_stream(client=c) if stream else nullcontext()) as ts:
            build_store_dask(sources_from_world(world), out, scheduler=c, block_h=block_h, progress=False)
        wall = time.perf_counter() - t1
        w1 = c.run(worker_usage)
        cpu = usage()[0] - c0 + sum(w1[k][0] - w0[k][0] for k in w1)
        return start, wall, cpu, rss.peak, (stream_summary(ts.data, e1) if stream else None)


def read_cpu(world_file, tmp):
    """(CPU s to read the world's GridSat file, to read a full-size one): `open_gridsat` (decode, mask, float32) of the
    file and of a global 2000 x 5143 file (the real grid, packed as the real ones) tiled from its values; best of 3."""
    import numpy as np
    from cyclonediff.formats import write_gridsat
    from cyclonediff.readers import open_gridsat
    def best(path):
        out = []
        for _ in range(3):
            c0 = time.process_time(); open_gridsat(path); out.append(time.process_time() - c0)
        return min(out)
    da = open_gridsat(world_file).isel(time=0)
    lat, lon = np.round(-70 + 0.07 * np.arange(2000), 2), np.round(-180 + 0.07 * np.arange(5143), 2)
    reps = (-(-2000 // da.shape[0]), -(-5143 // da.shape[1]))
    big = write_gridsat(tmp, da.time.values, lat, lon, np.tile(da.values, reps)[:2000, :5143], extra_vars=False)
    return best(world_file), best(big), da.size


def store_bytes(store) -> int:
    return sum(f.stat().st_size for f in Path(store).rglob('*') if f.is_file())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--world', help='an existing world folder (default: write one)')
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2], help='dask worker counts')
    ap.add_argument('--no-pool', action='store_true', help="skip build_store(workers=2), the old pool")
    ap.add_argument('--block-h', type=int, default=6, help='hours of sample times per dask block task (default 6: the 3-day world then has 8 blocks for the workers to share; build_store_dask defaults to 12)')
    ap.add_argument('--days', type=int, default=3, help='days of the written world (default 3: 97 samples in 8 blocks of 6 h)')
    ap.add_argument('--repeat', type=int, default=1, help='dask builds per worker count, interleaved (default 1)')
    ap.add_argument('--keep', action='store_true')
    ap.add_argument('--stream', action='store_true', help="record each dask build's task stream and print a line of it "
                    '(tasks, transfer seconds, per worker busy seconds, first start and last stop)')
    a = ap.parse_args()
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    tmp = Path(tempfile.mkdtemp(prefix='cyclonediff_build_bench_'))
    from cyclonediff.readers import gridsat_files
    from cyclonediff.store import read_manifest, sources_from_world
    from cyclonediff.store_dask import store_differences
    world = Path(a.world) if a.world else tmp / 'world'
    if not a.world:
        from cyclonediff.world import WorldConfig, make_world
        make_world(world, WorldConfig(n_storms=8, days=a.days, lat_range=(-40, 40), lon_range=(100, 260), gap_prob=0.1))
    src = sources_from_world(world)
    n_files = len(gridsat_files(src.gridsat))
    print(f'machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start; world {world}: {n_files} GridSat files')
    rows = []
    wall, cpu, rss, rss_ch = run_serial(world, tmp / 'serial')
    ref = tmp / 'serial'
    n = int((read_manifest(ref).slot >= 0).sum())
    rows.append(('serial build_store', 0.0, wall, cpu, f'{rss:.0f}'))
    if not a.no_pool:
        wall, cpu, rss, rss_ch = run_serial(world, tmp / 'pool2', workers=2)
        assert store_differences(ref, tmp / 'pool2') == []
        rows.append(('build_store(workers=2) pool', 0.0, wall, cpu, f'{rss:.0f} + pool {rss_ch:.0f} (max)'))
    walls = {}
    for rnd in range(a.repeat):
        for k in a.workers:
            start, wall, cpu, rss, line = run_dask(world, tmp / f'dask{k}', k, a.block_h, a.stream)
            if line: print(f'task stream, {k} worker{"s" * (k > 1)}, round {rnd + 1}, wall {wall:.1f} s: {line}', flush=True)
            if rnd == 0:
                diff = store_differences(ref, tmp / f'dask{k}')
                assert diff == [], diff
            shutil.rmtree(tmp / f'dask{k}')
            walls.setdefault(k, []).append(wall)
            rows.append((f'dask, {k} worker{"s" * (k > 1)}, {a.block_h} h blocks' + (f', round {rnd + 1}' if a.repeat > 1 else ''),
                         start, wall, cpu, ' / '.join(f'{r:.0f}' for r in rss)))
    c_world, c_global, px = read_cpu(gridsat_files(src.gridsat).iloc[0], tmp / 'global')
    print(f'open_gridsat CPU s: world file ({px} px) {c_world:.3f}, global file (2000 x 5143 px) {c_global:.3f}')
    print(f'load average {os.getloadavg()[0]:.2f} at the end; {n} samples per build; every store equals the serial one bit for bit')
    print(f'store: {store_bytes(ref) / 2 ** 20:.1f} MiB on disk, {store_bytes(ref) / n / 2 ** 20:.2f} MiB per sample')
    print('| build | cluster start s | wall s | samples/s | x serial | CPU s / sample | x serial CPU | peak RSS MiB |')
    print('|---|---|---|---|---|---|---|---|')
    base_rate, base_cpu = n / rows[0][2], rows[0][3] / n
    for name, start, wall, cpu, rss in rows:
        print(f'| {name} | {start:.1f} | {wall:.1f} | {n / wall:.2f} | {n / wall / base_rate:.2f} | {cpu / n:.3f} | '
              f'{base_cpu / (cpu / n):.2f} | {rss} |')
    if 1 in walls and 2 in walls:
        import statistics
        print('dask 2 workers / 1 worker, samples/s, per round: ' + ', '.join(f'{w1 / w2:.2f}x' for w1, w2 in zip(walls[1], walls[2]))
              + f'; of the median walls ({statistics.median(walls[1]):.1f} s / {statistics.median(walls[2]):.1f} s): '
              f'{statistics.median(walls[1]) / statistics.median(walls[2]):.2f}x')
    if not a.keep: shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
