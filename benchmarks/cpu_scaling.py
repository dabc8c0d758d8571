"""How many cores' worth of work a machine does at once: the same single-threaded numpy work (FFTs, a sort and a
separable filter on 256 x 256 fields, the kinds of work STEPS and the scores do) in P processes at a time, for
each P, in one run: work units a second per process and in all, and the speed-up over one process.

    python benchmarks/cpu_scaling.py [--procs 1 2 4 8 16] [--seconds 8]

On a machine of C free cores the speed-up grows ~P up to C and stays there; a lower plateau means fewer cores than
`nproc` says (hyper-threads, a CPU quota, a busy host). Printed too: nproc, the cgroup's CPU quota, the CPU model.
"""
import argparse, os, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import numpy as np
from scipy import ndimage


def unit(x):
    "One work unit: an FFT round trip, a sort and a gaussian filter of a 256 x 256 field."
    y = np.fft.irfft2(np.fft.rfft2(x) * 0.5, s=x.shape)
    return float(np.sort(y, axis=None)[1000] + ndimage.gaussian_filter(y, 2.0).sum())


def work(seconds: float) -> int:
    "Work units done in `seconds` (after a warm-up unit)."
    x = np.random.default_rng(os.getpid()).standard_normal((256, 256))
    unit(x)
    n, t_end = 0, time.perf_counter() + seconds
    while time.perf_counter() < t_end: unit(x); n += 1
    return n


def machine() -> str:
    quota = Path('/sys/fs/cgroup/cpu.max')
    q = quota.read_text().split() if quota.is_file() else None
    cpus = f'{int(q[0]) / int(q[1]):g}' if q and q[0] != 'max' else 'none'
    model = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                  if l.startswith('model name')), '?') if Path('/proc/cpuinfo').is_file() else '?'
    return f'nproc {os.cpu_count()}, usable {len(os.sched_getaffinity(0))}, cgroup CPU quota {cpus}, {model}'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--procs', type=int, nargs='*', default=[1, 2, 4, 8, 16]); ap.add_argument('--seconds', type=float, default=8.0)
    a = ap.parse_args()
    print(machine(), flush=True)
    base = None
    for p in a.procs:
        with ProcessPoolExecutor(p) as ex:
            list(ex.map(int, range(p)))                          # the processes start before the clock
            done = list(ex.map(work, [a.seconds] * p))
        rate = sum(done) / a.seconds
        base = base or rate / p
        print(f'{p:3d} processes: {rate / p:6.2f} units/s each, {rate:7.2f} in all, {rate / base:5.2f}x one process', flush=True)


if __name__ == '__main__':
    main()
