"""Fault-injection suite (issue 23): the pipeline run through the `cyclonediff` command in subprocesses, with faults.

Every job of the pipeline (world synthesis, store build, VAE training, LDM training, evaluation) first runs once
uninterrupted: the reference. Then each fault is injected into a fresh copy of that job's work and the job is run
again as a user would (`--resume` for training). A fault is survived when the job either finishes with results
identical to the reference, or stops with a clear one-line error naming what and where (and the rerun then finishes
identically). "Data lost" counts files that existed before the fault and are gone, changed or half-written after it,
plus outputs left visible in a half-written state (a torn world file, store or checkpoint).

    python benchmarks/faults.py [--quick|--full] [--trials N] [--seed S] [--out benchmarks/FAULTS.md]

Faults: SIGKILL of the process group at a seeded uniform(0.15, 0.9) x the reference duration; a full disk
(RLIMIT_FSIZE, SIGXFSZ ignored) while a checkpoint, a store chunk or the report is written; a corrupted chunk and
NaN / inf values in a store sample; a truncated checkpoint; a checkpoint of another configuration; two processes
writing one run folder; bad configuration values. All processes run with OMP_NUM_THREADS=1 on the CPU.
"""
from __future__ import annotations
import argparse, hashlib, os, random, resource, shlex, shutil, signal, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / 'configs' / 'tiny.yaml'
WORLD_ARGS = ['--preset', 'tiny', 'days=2', 'n_storms=8']       # 8 storms, 2 days
DATA_ARGS = ['--every-h', '6', 'image_size=32', 'leads_h=[3,6]', 'history=1']   # a sample every 6 h: a small, quick store
TRAIN_ARGS = ['data.history=1', 'train.dataset=store', 'train.epochs=2', 'train.ckpt_every=2', 'train.keep_last=50',
              'train.progress=false', 'train.tensorboard=false']
EVAL_ARGS = ['--members', '2', '--steps', '3', '--max-samples', '3', '--baselines', 'persistence', '--no-progress',
             '--device', 'cpu']
JOBS = ('synth', 'build', 'vae', 'ldm', 'eval')
QUICK_KILL_JOBS = ('synth', 'build', 'vae', 'eval')    # quick: ldm resumes through the same trainer code as vae


# ---------------------------------------------------------------- running the command line
@dataclass
class Run:
    args: list
    rc: int
    out: str
    err: str
    wall: float
    killed: bool = False

    @property
    def last_line(self) -> str:
        lines = [l for l in self.err.replace('\r', '\n').splitlines() if l.strip()]
        return lines[-1] if lines else ''

    def show(self) -> str:
        return f"cyclonediff {shlex.join(map(str, self.args))} -> {self.rc}\n{self.out[-2000:]}\n{self.err[-4000:]}"


def _env() -> dict:
    return {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1',
            'MKL_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1', 'CUDA_VISIBLE_DEVICES': ''}


def _file_size_limit(nbytes: int):
    "A preexec_fn: files may grow to `nbytes` at most (a full disk, as the writer sees it); SIGXFSZ ignored."
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


def start(args, fsize: int | None = None) -> subprocess.Popen:
    "`cyclonediff ARGS` in its own process group (so that a kill reaches every process it started)."
    return subprocess.Popen([sys.executable, '-m', 'cyclonediff.cli', *map(str, args)], env=_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_file_size_limit(fsize) if fsize else None)


def finish(p: subprocess.Popen, args, t0: float, timeout: float | None = 900) -> Run:
    out, err = p.communicate(timeout=timeout)
    return Run(list(args), p.returncode, out, err, time.perf_counter() - t0)


def cli(*args, fsize: int | None = None) -> Run:
    t0 = time.perf_counter()
    return finish(start(args, fsize), args, t0)


def cli_watched(*args, kill_after: float | None = None, from_output: bool = True) -> Run:
    """Run `cyclonediff ARGS`, noting when its first output appears (`run.started`: it has imported and begun its
    work); with `kill_after`, SIGKILL its process group that many seconds after that first output (after the launch
    when `from_output` is False). killed=False: it ended before."""
    with tempfile.TemporaryDirectory() as td:
        paths = [Path(td) / 'out', Path(td) / 'err']
        with open(paths[0], 'w') as fo, open(paths[1], 'w') as fe:
            t0 = time.perf_counter()
            p = subprocess.Popen([sys.executable, '-m', 'cyclonediff.cli', *map(str, args)], env=_env(), cwd=ROOT,
                                 stdout=fo, stderr=fe, text=True, start_new_session=True)
            started, killed = None if from_output else 0.0, False
            while p.poll() is None:
                now = time.perf_counter() - t0
                if started is None and any(f.stat().st_size for f in paths): started = now
                if kill_after is not None and started is not None and now - started >= kill_after:
                    os.killpg(p.pid, signal.SIGKILL); killed = True; p.wait(); break
                time.sleep(0.01)
            wall = time.perf_counter() - t0
        run = Run(list(args), p.returncode, paths[0].read_text(), paths[1].read_text(), wall, killed)
    run.started = wall if started is None else started
    return run


def must(run: Run) -> Run:
    if run.rc != 0: raise RuntimeError(f'a run that must succeed failed:\n{run.show()}')
    return run


def clean_error(run: Run, *needles) -> bool:
    "Stopped by itself (not killed) with a one-line `cyclonediff ...` error naming every needle, and no traceback."
    line = run.last_line
    return (run.rc not in (0, -signal.SIGKILL) and 'Traceback' not in run.err and line.startswith('cyclonediff')
            and all(str(n) in line for n in needles))


# ---------------------------------------------------------------- the jobs
def synth_args(out): return ['data', 'synth', '--out', out, *WORLD_ARGS]
def build_args(world, out): return ['data', 'build', '--world', world, '--out', out, *DATA_ARGS]
def eval_args(ckpt, store, out): return ['eval', '--ckpt', ckpt, '--store', store, '--out', out, *EVAL_ARGS]


def train_args(stage, store, out, vae=None, resume=False, extra=()):
    args = ['train', stage, '--cfg', CFG, *TRAIN_ARGS, f'train.store={store}', f'train.out_dir={out}', *extra]
    if vae is not None: args.append(f'train.vae_ckpt={vae}')
    return args + (['--resume'] if resume else [])


# ---------------------------------------------------------------- fingerprints
def visible(rel: Path) -> bool:
    "Not a temporary or lock file (any path part starting with a dot, e.g. .lock, .partial, .tmp-step_*)."
    return not any(part.startswith('.') for part in rel.parts)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_hashes(folder) -> dict:
    "{relative path: sha256} of the visible files under `folder` (empty when it does not exist)."
    folder = Path(folder)
    if not folder.exists(): return {}
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob('*'))
            if p.is_file() and visible(p.relative_to(folder))}


def lost_files(before: dict, after: dict) -> list:
    "Files of `before` that are gone or changed in `after`."
    return sorted(k for k, h in before.items() if after.get(k) != h)


def store_print(store) -> dict:
    "A store's content: every array decoded (hashed), the manifest, the stats and the config ({'unreadable': ...} if not)."
    try: return _store_print(Path(store))
    except Exception as e: return {'unreadable': f'{type(e).__name__}: {e}'}


def _store_print(store: Path) -> dict:
    import numpy as np, zarr
    g = zarr.open_group(store / 'store.zarr', mode='r')
    out = {}
    for name in sorted(g.array_keys()):
        a = np.asarray(g[name][...])
        data = a.tobytes() if a.dtype.kind in 'biuf' else repr(a.tolist()).encode()
        out[f'array:{name}'] = hashlib.sha256(f'{a.dtype}{a.shape}'.encode() + data).hexdigest()
    out.update({f'file:{p.name}': sha256(p) for p in sorted(store.iterdir()) if p.is_file() and visible(Path(p.name))})
    return out


def checkpoint_tensors(ckpt) -> dict:
    from safetensors.torch import load_file
    ckpt = Path(ckpt)
    return {f'{f.stem}:{k}': v for f in sorted(ckpt.glob('*.safetensors')) for k, v in load_file(str(f)).items()}


def same_tensors(a: dict, b: dict) -> bool:
    import torch
    return a.keys() == b.keys() and all(torch.allclose(a[k].float(), b[k].float(), rtol=1e-5, atol=1e-6) for k in a)


def steps_of(run_dir) -> list:
    return sorted(p.name for p in (Path(run_dir) / 'checkpoints').glob('step_*') if visible(Path(p.name)))


def same_checkpoints(run, ref) -> bool:
    "Every checkpoint of the reference run is in `run`, with tensors allclose (rtol 1e-5, atol 1e-6)."
    return steps_of(run) == steps_of(ref) and all(
        same_tensors(checkpoint_tensors(Path(run) / 'checkpoints' / s), checkpoint_tensors(Path(ref) / 'checkpoints' / s))
        for s in steps_of(ref))


def torn_checkpoints(run, ref) -> list:
    "The checkpoints visible in `run` that fail verification or differ from the reference's at the same step."
    from cyclonediff.checkpoint import CheckpointError, verify_checkpoint
    bad = []
    for s in steps_of(run):
        try: verify_checkpoint(Path(run) / 'checkpoints' / s)
        except CheckpointError: bad.append(s); continue
        ref_s = Path(ref) / 'checkpoints' / s
        if not ref_s.exists() or not same_tensors(checkpoint_tensors(Path(run) / 'checkpoints' / s), checkpoint_tensors(ref_s)):
            bad.append(s)
    return bad


def same_scores(a, b) -> bool:
    "scores.csv of two evaluations: the same rows, values allclose (rtol 1e-5, atol 1e-6)."
    import numpy as np, pandas as pd
    x, y = pd.read_csv(Path(a) / 'scores.csv'), pd.read_csv(Path(b) / 'scores.csv')
    if list(x.columns) != list(y.columns) or len(x) != len(y): return False
    keys = [c for c in x.columns if c != 'value']
    if not x[keys].astype(str).equals(y[keys].astype(str)): return False
    return bool(np.allclose(x.value.to_numpy(float), y.value.to_numpy(float), rtol=1e-5, atol=1e-6, equal_nan=True))


# ---------------------------------------------------------------- the table
@dataclass
class Row:
    fault: str
    job: str
    expected: str
    trials: int = 0
    survived: int = 0              # finished identically, or stopped with the clear error this fault calls for
    identical: int = 0             # results identical to the uninterrupted reference (after the rerun where there is one)
    reruns: int = 0                # trials whose results were compared with the reference
    lost: int = 0                  # files lost, changed or left half-written (must be 0)
    notes: list = field(default_factory=list)

    def cells(self) -> list:
        ident = f'{self.identical}/{self.reruns}' if self.reruns else 'n/a'
        return [self.fault, self.job, str(self.trials), f'{self.survived}/{self.trials}', ident, str(self.lost),
                self.expected, '; '.join(dict.fromkeys(self.notes))]

    @property
    def passed(self) -> bool:
        return self.trials > 0 and self.survived == self.trials and self.identical == self.reruns and self.lost == 0


HEADER = ['fault', 'job', 'trials', 'survived', 'identical', 'data lost', 'expected', 'notes']


def markdown_table(rows) -> str:
    lines = ['| ' + ' | '.join(HEADER) + ' |', '|' + '---|' * len(HEADER)]
    return '\n'.join(lines + ['| ' + ' | '.join(c.replace('|', '/') for c in r.cells()) + ' |' for r in rows])


# ---------------------------------------------------------------- the lab: reference runs and fresh folders
class Lab:
    "A temporary folder with the reference runs of every job, and fresh folders for the trials."
    def __init__(self, root, seed: int = 0, log=print):
        self.root, self.seed, self.log, self.n, self.lock = Path(root), seed, log, 0, threading.Lock()
        ref = self.root / 'ref'
        self.world, self.store, self.vae, self.ldm, self.eval = (ref / n for n in ('world', 'store', 'vae', 'ldm', 'eval'))
        self.wall, self.from_output = {}, {}       # per job: the reference's work time, counted from its first output?

    def fresh(self, name: str) -> Path:
        with self.lock: self.n += 1; n = self.n
        p = self.root / 'trials' / f'{n:03d}_{name}'
        p.mkdir(parents=True)
        return p

    def job_args(self, job: str, out, resume: bool = False) -> list:
        return {'synth': lambda: synth_args(out), 'build': lambda: build_args(self.world, out),
                'vae': lambda: train_args('vae', self.store, out, resume=resume),
                'ldm': lambda: train_args('ldm', self.store, out, vae=self.vae, resume=resume),
                'eval': lambda: eval_args(self.ldm, self.store, out)}[job]()

    def reference(self):
        "Run every job once, uninterrupted, timing each."
        for job, out in zip(JOBS, (self.world, self.store, self.vae, self.ldm, self.eval)):
            run = must(cli_watched(*self.job_args(job, out)))
            # the work: from the first output (imports done) to the end; a job silent until its end: all of it
            early = run.started < 0.8 * run.wall
            self.wall[job], self.from_output[job] = (run.wall - run.started if early else run.wall), early
            self.log(f'reference {job}: {run.wall:.1f} s, {self.wall[job]:.1f} s of it '
                     + ('after its first output' if early else 'from the launch'))
        return self

    def inputs(self, job: str) -> list:
        return {'synth': [], 'build': [self.world], 'vae': [self.store], 'ldm': [self.store, self.vae],
                'eval': [self.store, self.ldm]}[job]

    def snapshot(self, job: str) -> dict:
        return {str(d): file_hashes(d) for d in self.inputs(job)}

    def inputs_lost(self, job: str, before: dict) -> list:
        return [f'{d}/{f}' for d, h in before.items() for f in lost_files(h, file_hashes(d))]

    def identical(self, job: str, out) -> bool:
        out = Path(out)
        if job == 'synth': return file_hashes(out) == file_hashes(self.world)
        if job == 'build': return out.exists() and store_print(out) == store_print(self.store)
        if job in ('vae', 'ldm'): return same_checkpoints(out, self.vae if job == 'vae' else self.ldm)
        return (out / 'report.html').exists() and same_scores(out, self.eval)


# ---------------------------------------------------------------- faults
def kill_trials(lab: Lab, job: str, trials: int) -> Row:
    """SIGKILL the job's process group at uniform(0.15, 0.9) x its reference duration, counted from its first output
    (imports done: the work begins; from the launch for a job silent until its end), then run it again."""
    row = Row('SIGKILL mid-run, rerun', job, 'rerun finishes, identical')
    ref = {'synth': lab.world, 'build': lab.store, 'vae': lab.vae, 'ldm': lab.ldm, 'eval': lab.eval}[job]
    rng = random.Random(f'{lab.seed}-kill-{job}')                # the kill times: seeded per job
    reached = []                                                   # where each kill landed
    for _ in range(trials):
        out = lab.fresh(f'kill_{job}') / 'out'
        if job == 'eval': shutil.copytree(lab.eval, out)           # an earlier evaluation that the rerun replaces
        before, prior = lab.snapshot(job), file_hashes(out)
        run, dur = None, lab.wall[job]
        for attempt in range(3):                                   # a job that ended before its kill: drawn again
            run = cli_watched(*lab.job_args(job, out), kill_after=rng.uniform(0.15, 0.9) * dur,
                              from_output=lab.from_output[job])
            if run.killed: break
            row.notes.append('a job ended before its kill: redrawn')
            dur = min(dur, run.wall - (run.started if lab.from_output[job] else 0))
            shutil.rmtree(out)
            if job == 'eval': shutil.copytree(lab.eval, out)
        row.trials += 1
        if not run.killed: row.notes.append('not interrupted in 3 tries')
        else: reached.append(f'{run.wall:.1f} s: {progress(job, out, ref)}')
        lost = lost_files(prior, file_hashes(out)) + lab.inputs_lost(job, before)        # what existed before
        if job == 'synth':                                         # visible world files must be whole
            ref_h = file_hashes(ref)
            lost += [f for f, h in file_hashes(out).items() if ref_h.get(f) != h]
        elif job == 'build':
            if out.exists() and store_print(out) != store_print(ref): lost.append(str(out))
        elif job in ('vae', 'ldm'):
            lost += torn_checkpoints(out, ref)
        after_kill = file_hashes(out)
        rerun = cli(*lab.job_args(job, out, resume=True))
        if job in ('vae', 'ldm'): lost += lost_files({k: v for k, v in after_kill.items() if k.startswith('checkpoints/step_')},
                                                     file_hashes(out))   # checkpoints made before the kill: kept as they were
        row.lost += len(lost)
        if lost: row.notes.append(f'lost or torn: {lost[:3]}')
        if rerun.rc != 0: row.notes.append(f'rerun failed: {rerun.last_line[:200]}'); continue
        row.reruns += 1
        same = lab.identical(job, out)
        row.identical += same
        row.survived += same
    row.notes.append('killed at ' + ', '.join(reached))
    return row


def progress(job: str, out: Path, ref: Path) -> str:
    "How far a killed job had come: files, samples, checkpoints or staged outputs on disk."
    if job == 'synth': return f'{len(file_hashes(out))}/{len(file_hashes(ref))} files'
    if job == 'build':
        if out.exists(): return 'store complete'
        partial = out.with_name(out.name + '.partial') / 'store.zarr'
        if not partial.exists(): return 'no store yet'
        import zarr
        try: done = zarr.open_group(partial, mode='r')['done'][:]
        except Exception: return 'store being created'
        return f'{int(done.sum())}/{done.size} samples'
    if job in ('vae', 'ldm'): return f'{len(steps_of(out))}/{len(steps_of(ref))} checkpoints'
    staged = out / '.partial'
    return f'{sum(1 for p in staged.rglob("*") if p.is_file())} files staged' if staged.exists() else 'nothing staged'


def full_disk_checkpoint(lab: Lab) -> Row:
    "Resume a run (checkpoints 2 and 4 on disk) with files capped below a checkpoint's size; then without the cap."
    row = Row('full disk writing a checkpoint', 'vae', "error names the checkpoint; checkpoints 2, 4 kept; rerun identical")
    run_dir = lab.fresh('disk_ckpt') / 'run'
    shutil.copytree(lab.vae, run_dir, ignore=shutil.ignore_patterns('.lock'))
    for p in (run_dir / 'checkpoints').iterdir():
        if p.name == 'best' or int(p.name[5:]) > 4: shutil.rmtree(p)
    before = file_hashes(run_dir / 'checkpoints')
    limit = min(f.stat().st_size for f in (lab.vae / 'checkpoints' / 'step_0000002').glob('*.safetensors')) // 2
    run = cli(*train_args('vae', lab.store, run_dir, resume=True), fsize=limit)
    row.trials = 1
    ok = clean_error(run, 'step_0000006')
    if not ok: row.notes.append(f'error: {run.last_line[:300]!r}')
    lost = lost_files(before, file_hashes(run_dir / 'checkpoints'))
    if any(p.name.startswith('.tmp-') for p in (run_dir / 'checkpoints').iterdir()): row.notes.append('temporary folder left (removed by the next run)')
    if 'step_0000006' in steps_of(run_dir): lost.append('step_0000006 visible after the failed write')
    rerun = must(cli(*train_args('vae', lab.store, run_dir, resume=True)))
    row.reruns, row.identical, row.lost = 1, int(same_checkpoints(run_dir, lab.vae) and rerun.rc == 0), len(lost)
    row.survived = int(ok and row.identical)
    return row


def full_disk_store(lab: Lab) -> Row:
    "Build a store with files capped below a chunk's size; then without the cap."
    row = Row('full disk writing a store chunk', 'build', 'error names the store; rerun identical')
    out = lab.fresh('disk_store') / 'store'
    before = lab.snapshot('build')
    run = cli(*build_args(lab.world, out), fsize=2048)
    row.trials = 1
    ok = clean_error(run, str(out))
    if not ok: row.notes.append(f'error: {run.last_line[:300]!r}')
    lost = lab.inputs_lost('build', before) + ([str(out)] if out.exists() else [])
    rerun = cli(*build_args(lab.world, out))
    row.reruns, row.identical, row.lost = 1, int(rerun.rc == 0 and lab.identical('build', out)), len(lost)
    row.survived = int(ok and row.identical)
    return row


def full_disk_report(lab: Lab) -> Row:
    "Re-evaluate into a folder holding an earlier evaluation with files capped below the report's size."
    row = Row('full disk writing the report', 'eval', 'error names report.html; earlier report kept; rerun identical')
    out = lab.fresh('disk_report') / 'eval'
    shutil.copytree(lab.eval, out)
    before, inputs = file_hashes(out), lab.snapshot('eval')
    sizes = {p.name: p.stat().st_size for p in lab.eval.rglob('*') if p.is_file()}
    limit = (sizes['report.html'] + max(v for k, v in sizes.items() if k != 'report.html')) // 2
    run = cli(*eval_args(lab.ldm, lab.store, out), fsize=limit)
    row.trials = 1
    ok = clean_error(run, 'report.html')
    if not ok: row.notes.append(f'error: {run.last_line[:300]!r}')
    lost = lost_files(before, file_hashes(out)) + lab.inputs_lost('eval', before=inputs)
    if (out / '.partial').exists(): row.notes.append('staging folder left')
    rerun = cli(*eval_args(lab.ldm, lab.store, out))
    row.reruns, row.identical, row.lost = 1, int(rerun.rc == 0 and lab.identical('eval', out)), len(lost)
    row.survived = int(ok and row.identical)
    return row


def _test_sample(store, evaluated):
    "A manifest row of a built sample in split test (one that the evaluation reads) or train."
    import pandas as pd
    from cyclonediff.store import read_manifest
    man = read_manifest(store)
    ok = man[man.status == 'ok']
    if evaluated:
        ev = pd.read_csv(Path(evaluated) / 'samples.csv', dtype=str, keep_default_na=False)
        keys = set(zip(ev.sid, ev.timestamp))
        return ok[[(r.sid, r.timestamp) in keys for r in ok.itertuples()]].iloc[0]
    return ok[ok.split == 'train'].iloc[len(ok[ok.split == 'train']) // 2]


def damage_sample(store, row, how: str):
    "Flip a byte in the sample's gridsat chunk ('chunk'), or write NaN where the mask says observed / inf ('nan', 'inf')."
    import numpy as np, zarr
    slot = int(row.slot)
    if how == 'chunk':
        chunk = next(p for p in (Path(store) / 'store.zarr' / 'gridsat' / 'c' / str(slot)).rglob('*') if p.is_file())
        b = bytearray(chunk.read_bytes()); b[len(b) // 2] ^= 0xFF; chunk.write_bytes(bytes(b))
        return
    g = zarr.open_group(Path(store) / 'store.zarr', mode='r+')
    name = 'gridsat' if how == 'nan' else 'target'
    x = np.asarray(g[name][slot])
    mask = np.asarray(g['mask'][slot], bool)[: x.shape[0]] if name == 'gridsat' else np.ones_like(x, bool)
    i = tuple(np.argwhere(mask)[len(np.argwhere(mask)) // 2])
    x[i] = np.nan if how == 'nan' else np.inf
    g[name][slot] = x


def damaged_store(lab: Lab, how: str, job: str) -> Row:
    "A store sample damaged: the job reading it stops naming sample and storm; verify lists it; build repairs it."
    what = {'chunk': 'corrupted chunk (gridsat)', 'nan': 'NaN in a store sample', 'inf': 'inf in a store sample'}[how]
    row = Row(what, job, 'one-line error naming sample + storm; `data verify` finds it; `data build` repairs, identical')
    tmp = lab.fresh(f'damage_{how}')
    store = tmp / 'store'
    shutil.copytree(lab.store, store)
    sample = _test_sample(store, lab.eval if job == 'eval' else None)
    damage_sample(store, sample, how)
    damaged = file_hashes(store)
    if job == 'eval': run = cli(*eval_args(lab.ldm, store, tmp / 'eval'))
    else: run = cli(*train_args(job, store, tmp / 'run'))
    row.trials = 1
    ok = clean_error(run, sample.sid, f'sample {int(sample.slot)}')
    if not ok: row.notes.append(f'error: {run.last_line[:300]!r}')
    if (tmp / 'run' / 'checkpoints').exists() and steps_of(tmp / 'run'): row.notes.append('trained on the damaged store')
    lost = [] if file_hashes(store) == damaged else ['the store changed']
    verify = cli('data', 'verify', store, '--no-progress')
    found = verify.rc == 1 and sample.sid in verify.out and clean_error(verify, 'repair.csv')
    if not found: row.notes.append(f'verify: {verify.last_line[:200]!r}')
    repair = cli(*build_args(lab.world, store))
    row.reruns, row.identical, row.lost = 1, int(repair.rc == 0 and lab.identical('build', store)), len(lost)
    row.survived = int(ok and found and row.identical)
    return row


def truncated_checkpoint(lab: Lab) -> Row:
    "The newest checkpoint of a run cut to half its size: --resume skips it (named), resumes from the one before."
    row = Row('truncated checkpoint', 'vae', 'resume names and skips it, falls back to step 4; identical')
    run_dir = lab.fresh('truncated') / 'run'
    shutil.copytree(lab.vae, run_dir, ignore=shutil.ignore_patterns('.lock'))
    for p in (run_dir / 'checkpoints').iterdir():
        if p.name == 'best' or int(p.name[5:]) > 6: shutil.rmtree(p)
    f = run_dir / 'checkpoints' / 'step_0000006' / 'model.safetensors'
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    before = {k: v for k, v in file_hashes(run_dir / 'checkpoints').items() if not k.startswith('step_0000006')}
    run = cli(*train_args('vae', lab.store, run_dir, resume=True))
    row.trials = row.reruns = 1
    named = 'skipping unusable checkpoint' in run.err and 'step_0000006' in run.err
    if not named: row.notes.append('the broken checkpoint was not named')
    row.lost = len(lost_files(before, file_hashes(run_dir / 'checkpoints')))
    row.identical = int(run.rc == 0 and same_checkpoints(run_dir, lab.vae))
    row.survived = int(named and row.identical)
    return row


def other_config(lab: Lab, job: str) -> Row:
    "A checkpoint of another configuration: resume a run folder with another architecture, or evaluate a VAE."
    if job == 'eval':
        row = Row('checkpoint of another configuration', 'eval', 'clear error (a VAE checkpoint given to eval)')
        out = lab.fresh('other_eval') / 'eval'
        before = lab.snapshot('vae')
        run = cli(*eval_args(lab.vae, lab.store, out))
        needles = ["stage 'vae'"]
        lost = lab.inputs_lost('vae', before)
    else:
        change = {'vae': 'vae.latent_channels=8', 'ldm': 'unet.base_channels=16'}[job]
        row = Row('checkpoint of another configuration', job, f'clear error naming the checkpoint ({change}, --resume)')
        run_dir = lab.fresh(f'other_{job}') / 'run'
        shutil.copytree(lab.vae if job == 'vae' else lab.ldm, run_dir, ignore=shutil.ignore_patterns('.lock'))
        before = file_hashes(run_dir / 'checkpoints')
        run = cli(*train_args(job, lab.store, run_dir, vae=lab.vae if job == 'ldm' else None, resume=True, extra=[change]))
        needles = ['model.safetensors']
        lost = lost_files(before, file_hashes(run_dir / 'checkpoints'))
    row.trials, row.lost = 1, len(lost)
    row.survived = int(clean_error(run, *needles))
    if not row.survived: row.notes.append(f'error: {run.last_line[:200]!r}' + (' after a traceback' if 'Traceback' in run.err else ''))
    return row


def two_writers(lab: Lab) -> Row:
    "A second `train vae` into the run folder of one still running: refused with the lock's message; the first unharmed."
    row = Row('two processes, one run folder', 'vae', 'second refused (folder in use by pid ...); first identical')
    run_dir = lab.fresh('two_writers') / 'run'
    args = train_args('vae', lab.store, run_dir)
    t0 = time.perf_counter()
    first = start(args)
    deadline = time.time() + 300
    while not ((run_dir / '.lock').exists() and 'pid' in (run_dir / '.lock').read_text()):
        if first.poll() is not None or time.time() > deadline: break
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGSTOP)                        # paused while the second tries: it keeps its lock
    try: second = cli(*train_args('vae', lab.store, run_dir, resume=True))
    finally: os.killpg(first.pid, signal.SIGCONT)
    first_run = finish(first, args, t0)
    row.trials = row.reruns = 1
    refused = clean_error(second, 'is in use by', str(run_dir))
    if not refused: row.notes.append(f'second: {second.last_line[:200]!r}')
    row.identical = int(first_run.rc == 0 and same_checkpoints(run_dir, lab.vae))
    row.survived = int(refused and row.identical)
    return row


def bad_config(lab: Lab, override: str, needle: str) -> Row:
    "A bad value: refused with one line naming the field; nothing written into the run folder."
    row = Row(f'bad config {override}', 'vae', f'one-line error naming {needle}; nothing written')
    run_dir = lab.fresh('bad_config') / 'run'
    before = lab.snapshot('vae')
    run = cli(*train_args('vae', lab.store, run_dir, extra=[override]))
    row.trials = 1
    row.survived = int(clean_error(run, needle))
    if not row.survived: row.notes.append(f'error: {run.last_line[:200]!r}')
    written = sorted(file_hashes(run_dir))
    row.lost = len(lab.inputs_lost('vae', before))
    if written: row.notes.append(f'written: {written[:3]}'); row.survived = 0
    return row


# ---------------------------------------------------------------- the suite
def scenarios(lab: Lab, trials: int, full: bool) -> list:
    """The fault trials to run, [(name, callable returning a Row)], independent of each other once the references
    exist. Quick: one trial of each fault; full adds the kill of stage ldm, inf values and a stage-2 checkpoint of
    another configuration."""
    kill_jobs = JOBS if full else QUICK_KILL_JOBS
    out = [(f'kill {j}', lambda j=j: kill_trials(lab, j, trials)) for j in kill_jobs]
    out += [('full disk checkpoint', lambda: full_disk_checkpoint(lab)), ('full disk store', lambda: full_disk_store(lab)),
            ('full disk report', lambda: full_disk_report(lab)),
            ('corrupted chunk', lambda: damaged_store(lab, 'chunk', 'eval')),
            ('NaN', lambda: damaged_store(lab, 'nan', 'vae')),
            ('truncated checkpoint', lambda: truncated_checkpoint(lab)),
            ('other config vae', lambda: other_config(lab, 'vae')), ('other config eval', lambda: other_config(lab, 'eval')),
            ('two writers', lambda: two_writers(lab)),
            ('bad batch', lambda: bad_config(lab, 'train.batch_size=0', 'TrainConfig.batch_size')),
            ('bad lr', lambda: bad_config(lab, 'train.lr=-0.001', 'TrainConfig.lr')),
            ('bad leads', lambda: bad_config(lab, 'data.leads_h=[3,12]', 'leads'))]
    if full: out += [('inf', lambda: damaged_store(lab, 'inf', 'eval')), ('other config ldm', lambda: other_config(lab, 'ldm'))]
    return out


def run_suite(root, *, trials: int = 1, seed: int = 0, full: bool = False, parallel: int = 2, log=print) -> list:
    "Reference runs, then every fault (`parallel` at a time); the rows of the table."
    lab = Lab(root, seed, log).reference()
    todo = scenarios(lab, trials, full)
    def one(item):
        name, fn = item
        t0 = time.perf_counter()
        try: row = fn()
        except Exception as e:                                     # a harness failure is a failed row, not a crash
            import traceback
            row = Row(name, '?', 'the trial runs', trials=1, notes=[f'harness error {type(e).__name__}: {e}'])
            log(traceback.format_exc())
        log(f"{row.fault} / {row.job}: {row.survived}/{row.trials} survived, data lost {row.lost} "
            f"({time.perf_counter() - t0:.0f} s){' ' + '; '.join(row.notes) if row.notes else ''}")
        return row
    with ThreadPoolExecutor(parallel) as ex: return list(ex.map(one, todo))


BEGIN, END = '<!-- faults-table -->', '<!-- /faults-table -->'

def write_table(path, text: str):
    "Write `text` to `path`; where the file exists with the markers BEGIN / END, only the text between them is replaced."
    from cyclonediff.files import write_text
    path = Path(path)
    old = path.read_text() if path.exists() else ''
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        text = f'{head}{BEGIN}\n{text}{END}{rest.split(END, 1)[1]}'
    write_text(path, text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument('--quick', action='store_true', help='one trial of each fault (the default)')
    mode.add_argument('--full', action='store_true', help='--trials trials of each kill (default 5) and every fault')
    ap.add_argument('--trials', type=int, default=None)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--parallel', type=int, default=2, help='faults run at a time (default 2)')
    ap.add_argument('--out', default=None, help='write the table (markdown) to this file')
    ap.add_argument('--keep', default=None, help='work in this folder and keep it (default: a temporary folder)')
    a = ap.parse_args(argv)
    trials = a.trials or (5 if a.full else 1)
    cmd = 'python benchmarks/faults.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='cyclonediff-faults-'))
    try:
        rows = run_suite(work, trials=trials, seed=a.seed, full=a.full, parallel=a.parallel)
    finally:
        if not a.keep: shutil.rmtree(work, ignore_errors=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
    table = markdown_table(rows)
    text = (f'Command: `{cmd}` (seed {a.seed}, {trials} trial(s) per kill)\n\n{table}\n\n'
            f'{sum(r.passed for r in rows)} of {len(rows)} rows pass; total {time.perf_counter() - t0:.0f} s wall, '
            f'{cpu:.0f} s CPU of the subprocesses.\n')
    print(text)
    if a.out: write_table(a.out, text)
    return 0 if all(r.passed for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
