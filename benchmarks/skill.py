"""Forecast skill at GPU scale (issue 8): world -> store -> VAE -> LDM and its no-ERA5 ablation -> 16-member
verification on held-out storms against persistence, pySTEPS extrapolation and STEPS -> benchmarks/SKILL.md's table.

    python benchmarks/skill.py --out /tmp/skill --gpus 2 [--storms 200 --days 40 --every-h 12]
                               [--vae-steps 1500 --vae-min 2] [--ldm-steps 2500 --ldm-min 3] [--members 16]

Every step is the user's command (`cyclonediff data synth|build`, `[accelerate launch] cyclonediff train`,
`cyclonediff eval`) with configs/gpu.yaml. With 2 GPUs the VAE trains on both (DDP), then the model and its
no-ERA5 ablation train side by side, one per GPU. `--*-min` caps each training in minutes (train.time_limit_min:
a checkpoint at the first log step after the limit), so the whole run fits one 10-minute device call.
Each phase is skipped when its output exists; `--phase table` only rebuilds the table from --out; `--phase baselines`
makes the world and the store and verifies the test baselines into --baseline-cache (a CPU machine's part, ahead
of the GPU's calls: benchmarks/skill18_device_call.sh reuses a carried cache). The recipe that
met issue 8's targets (2 x H200, three device calls) is benchmarks/skill_device_call.sh; SKILL.md has its results.

Training longer than one call: with `--resume-training` the trainings run with `--resume`, and a stage that the
time limit stopped before its max_steps is not done: the script stops after it (exit status 75) and the same
command continues it. A warm device machine keeps /tmp between calls, so e.g. 3 calls of ~9 minutes give each
LDM ~20 minutes (`--ldm-steps` for the whole run, `--ldm-min` per call). `--deadline-min D` makes each call plan
for D wall minutes: a training gets at most what is left (minus a minute for start-up and the checkpoint), and a
phase that no longer fits (training: < 0.5 min; guidance: < 0.6 min a scale; eval: < `--eval-min`) ends the call with exit 75 before it
starts. A SIGTERM (e.g. from `timeout`) stops the running commands too, so nothing outlives the call.
"""
import argparse, json, os, signal, subprocess, sys, time
from pathlib import Path

from launch import cyclonediff_cmd as cli

ROOT = Path(__file__).resolve().parents[1]
LEADS = [3, 6, 12, 24]
TARGETS = "VAE PSNR >= 30 dB; mean beats persistence and extrapolation on RMSE and CSI 220 K from +6 h; " \
          "CRPS beats STEPS; SSR in [0.8, 1.2] at +12 h; member spectrum within 2x of truth at the smallest scales; " \
          "ERA5 improves the +24 h scores"


CHILDREN = []


def stop_children(signum, frame):
    "On SIGTERM / SIGINT: terminate the running commands (their own process groups), then exit."
    for p in CHILDREN:
        if p.poll() is None:
            try: os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError: pass
    sys.exit(128 + signum)


class Deadline:
    "Wall minutes left in this call (None: no deadline)."
    def __init__(self, minutes): self.minutes, self.t0 = minutes, time.perf_counter()
    def left(self) -> float:
        return float('inf') if self.minutes is None else self.minutes - (time.perf_counter() - self.t0) / 60

    def train_minutes(self, stage_min: float, name: str, least: float = 0.5) -> float:
        """min(stage_min, what is left minus a minute); ends the call (exit 75) when that leaves under `least` minutes
        (stage 2: its compile and input cache take a minute or more of a call before the first step)."""
        if self.left() - 1.0 < least: self.stop(name)
        return round(min(stage_min, self.left() - 1.0), 3)

    def require(self, minutes: float, name: str):
        if self.left() < minutes: self.stop(name)

    def stop(self, name):
        print(f'[{name}] not started: {self.left():.1f} min left in this call; run the same command again', flush=True)
        sys.exit(75)


SINGLE_THREADED = {k: '1' for k in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')}  # per worker process


def sh(cmd, log=None, env=None, wait=True, nice=0):
    print('$', ' '.join(map(str, cmd)), flush=True)
    f = open(log, 'a') if log else None                  # appended: a resumed phase keeps the earlier call's log
    p = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, stdout=f or None, stderr=subprocess.STDOUT if f else None,
                         env={**os.environ, **(env or {})}, start_new_session=True,
                         preexec_fn=(lambda: os.nice(nice)) if nice else None)
    CHILDREN.append(p)
    if f: f.close()                                      # the child holds its own copy
    if not wait: return p
    if p.wait(): raise SystemExit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}" + (f"; see {log}" if log else ''))
    return p


def alive(pid: int) -> bool:
    "Whether process `pid` runs (and is not a zombie of ours)."
    try: done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError: done = 0
    if done: return False
    try: os.kill(pid, 0); return True
    except ProcessLookupError: return False


def last_step(run: Path) -> int:
    "Step of the newest checkpoint of a run folder (0 if none)."
    from cyclonediff.checkpoint import list_checkpoints
    ck = list_checkpoints(run / 'checkpoints')
    return int(ck[-1].name[5:]) if ck else 0


def unfinished(runs: list, steps: int) -> list:
    "The runs whose newest checkpoint is before `steps` (stopped by the time limit)."
    return [f'{r.name} at step {last_step(r)} of {steps}' for r in runs if last_step(r) < steps]


def vae_psnr(ldm_run, store, split='test', max_samples=None) -> dict:
    "Reconstruction PSNR (dB over the 150 K range) of the stage-2 run's VAE on every lead frame of `split`."
    import numpy as np, torch
    from cyclonediff import eval as ceval
    from cyclonediff.checkpoint import load_ldm
    from cyclonediff.evaluation import vae_reconstruction
    from cyclonediff.datasets import CycloneDataset
    vae = load_ldm(ldm_run, device='cuda' if torch.cuda.is_available() else 'cpu')['vae']
    ds = CycloneDataset(store, split, max_samples=max_samples)
    verify_cfg = ceval.EvalConfig(tb_min=ds.cfg.tb_min, tb_max=ds.cfg.tb_max)
    vals = np.concatenate([np.atleast_1d(ceval.psnr(vae_reconstruction(vae, it['target'], verify_cfg)[0],
                                                    ceval.frames_from_item(it, verify_cfg)[1], verify_cfg.data_range))
                           for it in (ds[j] for j in range(len(ds)))])
    return dict(psnr_db=float(np.nanmean(vals)), frames=int(np.isfinite(vals).sum()), samples=len(ds))


def score(s, meth, lead, kind, metric) -> float:
    "One value of eval's summary.csv (nan when absent)."
    v = s[(s.method == meth) & (s.lead == lead) & (s.member == kind) & (s.metric == metric)]['mean']
    return float(v.iloc[0]) if len(v) else float('nan')


def paired_ci(sc, a: str, b: str, lead: int, kind: str, metric: str) -> str:
    "95% interval of mean(a - b) over the samples scored for both (scipy's bootstrap, percentile, 10^4 resamples)."
    import numpy as np
    from scipy.stats import bootstrap
    sel = sc[(sc.lead == lead) & (sc.member == kind) & (sc.metric == metric) & sc.method.isin([a, b])]
    pv = sel.pivot(index='sample', columns='method', values='value').dropna()
    if a not in pv or b not in pv or len(pv) < 3: return '-'
    d = (pv[a] - pv[b]).to_numpy()
    if np.ptp(d) == 0: return f'[{d[0]:.3g}, {d[0]:.3g}] ({len(d)} samples)'
    ci = bootstrap((d,), np.mean, confidence_level=0.95, n_resamples=10_000, method='percentile', rng=0).confidence_interval
    return f'[{ci.low:.3g}, {ci.high:.3g}] ({len(d)} samples)'


from cyclonediff.demo import pick_guidance   # noqa: E402  (the rule lives in the package: nbs/05g_demo.ipynb)


def table(out: Path) -> str:
    "SKILL.md's table and the target checks from eval/summary.csv and eval/spectra.csv."
    import numpy as np, pandas as pd
    s = pd.read_csv(out / 'eval' / 'summary.csv')
    val = lambda *k: score(s, *k)
    methods = [m for m in ('ldm', 'ldm_no_era5', 'persistence', 'extrapolation', 'steps', 'vae_recon') if m in set(s.method)]
    cols = [('RMSE K', 'mean', 'rmse'), ('MAE K', 'mean', 'mae'), ('CSI 220K', 'mean', 'csi_220K'),
            ('FSS 220K', 'mean', None), ('SSIM', 'mean', 'ssim'), ('CRPS K', 'ens', 'crps'), ('SSR', 'ens', 'ssr')]
    fss = sorted((m for m in set(s.metric) if m.startswith('fss_220K_')), key=lambda m: int(m.split('_')[-1][:-2]))
    fss_m = fss[len(fss) // 2] if fss else None
    md = ['| lead | method | ' + ' | '.join(c[0] if c[2] else f'{fss_m}' for c in cols) + ' |', '|' + '---|' * (len(cols) + 2)]
    for lead in LEADS:
        for m in methods:                                   # every method has its 'ens' rows (one member too)
            cells = [val(m, lead, kind, metric or fss_m) for _, kind, metric in cols]
            cells = ['-' if not np.isfinite(v) else f'{v:.3g}' for v in cells]
            md.append(f'| +{lead} h | {m} | ' + ' | '.join(cells) + ' |')
    found = [f for f in (out / 'eval' / 'scores.csv', out / 'eval' / 'scores.csv.gz') if f.is_file()]
    sc = pd.read_csv(found[0]) if found else None            # every score per sample (gzipped when brought back)
    ci = lambda *k: paired_ci(sc, *k) if sc is not None else '-'
    checks = []                                             # (target, met on the means, value, 95% CI of the difference)
    vp = json.loads((out / 'vae_psnr.json').read_text()) if (out / 'vae_psnr.json').is_file() else None
    if vp: checks.append(('VAE reconstruction PSNR >= 30 dB on held-out storms', vp['psnr_db'] >= 30, f"{vp['psnr_db']:.1f} dB over {vp['frames']} frames", '-'))
    for lead in (6, 12, 24):
        for base in ('persistence', 'extrapolation'):
            r, rb = val('ldm', lead, 'mean', 'rmse'), val(base, lead, 'mean', 'rmse')
            c, cb = val('ldm', lead, 'mean', 'csi_220K'), val(base, lead, 'mean', 'csi_220K')
            checks.append((f'+{lead} h: ensemble mean beats {base} on RMSE', r < rb, f'{r:.2f} vs {rb:.2f} K',
                           ci('ldm', base, lead, 'mean', 'rmse')))
            checks.append((f'+{lead} h: ensemble mean beats {base} on CSI 220 K', c > cb, f'{c:.3f} vs {cb:.3f}',
                           ci('ldm', base, lead, 'mean', 'csi_220K')))
    for lead in LEADS:
        c, cs = val('ldm', lead, 'ens', 'crps'), val('steps', lead, 'ens', 'crps')
        checks.append((f'+{lead} h: CRPS beats STEPS', c < cs, f'{c:.2f} vs {cs:.2f} K', ci('ldm', 'steps', lead, 'ens', 'crps')))
    ssr = val('ldm', 12, 'ens', 'ssr')
    checks.append(('+12 h: spread-skill ratio in [0.8, 1.2]', 0.8 <= ssr <= 1.2, f'{ssr:.2f}', '-'))
    sp = out / 'eval' / 'spectra.csv'
    if sp.is_file():
        d = pd.read_csv(sp)
        hi = d[d.freq_per_px >= 0.75 * d.freq_per_px.max()]                      # the shortest quarter of wavenumbers
        ratio = float(np.exp(np.mean(np.log(hi['ldm (member)'] / hi['truth']))))
        checks.append(('member spectrum within 2x of the truth at the smallest scales', 0.5 <= ratio <= 2,
                       f'member/truth power {ratio:.2f} (geometric mean over wavenumbers >= 0.75 x max)', '-'))
    if 'ldm_no_era5' in methods:
        for metric, kind, better in (('rmse', 'mean', -1), ('crps', 'ens', -1), ('csi_220K', 'mean', 1)):
            a, b = val('ldm', 24, kind, metric), val('ldm_no_era5', 24, kind, metric)
            checks.append((f'+24 h: ERA5 improves {metric}', (a - b) * better > 0, f'{a:.3f} with vs {b:.3f} without',
                           ci('ldm', 'ldm_no_era5', 24, kind, metric)))
    for r in ('ldm', 'ldm_no_era5'):                       # does the model use its condition yet? (issue 8's diagnosis)
        vf = out / 'runs' / r / 'logs' / 'val.csv'
        if vf.is_file() and 'mse_null' in (v := pd.read_csv(vf)).columns and len(v):
            last = v.iloc[-1]
            md += ['', f"{r}: validation eps-MSE at step {int(last['step'])} {last['mse']:.4f} with the condition, "
                       f"{last['mse_null']:.4f} with it dropped ({1 - last['mse'] / last['mse_null']:.1%} lower)"]
    gj = out / 'guidance.json'
    if gj.is_file():
        g = json.loads(gj.read_text())
        md += ['', f"Guidance {g['chosen']:g}, chosen on the validation split at +{g['lead_h']} h from: " +
               ', '.join(f"{k}: CRPS {v['crps']:.3g}, SSR {v['ssr']:.2f}" for k, v in g['tried'].items())]
    md += ['', 'Met: on the means over the samples. Interval: 95% paired bootstrap interval of the mean difference '
                '(model minus the other, per sample); it excludes 0 when the difference is more than sampling noise.',
           '', '| target | met | value | interval of the difference |', '|---|---|---|---|']
    md += [f'| {n} | {"n/a" if "nan" in v else "yes" if ok else "**no**"} | {v} | {c} |' for n, ok, v, c in checks]
    return '\n'.join(md) + '\n'


class SkillRun:
    "The phases of one invocation, each the user's command; `phase` skips what times.json records as done."
    def __init__(self, a):
        self.a, self.clock = a, Deadline(a.deadline_min)
        self.out = out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
        self.world, self.store, self.runs, self.ev = out / 'world', out / 'store', out / 'runs', out / 'eval'
        self.times = json.loads((out / 'times.json').read_text()) if (out / 'times.json').is_file() else {}
        self.resume = ['--resume'] if a.resume_training else []
        self.common = [f'train.store={self.store}', 'train.progress=false', 'train.tensorboard=false', 'train.log_every=25']
        if not a.compile_train: self.common.append('train.compile=false')   # run 4 (SKILL.md) trained eager

    def phase(self, name, fn, runs=(), steps=0):
        "Run `fn` unless done; a training phase whose runs stopped before `steps` is not done (exit 75)."
        if name in self.times: return
        t0 = time.perf_counter(); fn(); dt = round(time.perf_counter() - t0, 1)
        boxed = name == 'ldm' and self.a.ldm_time_boxed  # stage 2 done at whatever step its time limit let it reach
        left = unfinished(list(runs), steps) if self.a.resume_training and not boxed else []
        self.times[f'{name}_partial' if left else name] = round(self.times.pop(f'{name}_partial', 0) + dt, 1)  # all calls
        (self.out / 'times.json').write_text(json.dumps(self.times, indent=1))
        print(f'[{name}] {dt} s', flush=True)
        if left:
            print(f"[{name}] stopped by the time limit: {', '.join(left)}; run the same command again to continue", flush=True)
            sys.exit(75)

    def all(self):
        a, runs = self.a, self.runs
        self.phase('world', self.make_world)
        self.phase('store', self.build_store)
        if a.phase == 'baselines':                       # the cache filled on this machine, ahead of the GPU's calls
            self.start_baselines(); return self.phase('baselines', self.wait_baselines)
        if a.baseline_cache and 'baselines' not in self.times: self.start_baselines()   # on the CPUs while the GPU trains
        self.phase('vae', self.train_vae, [runs / 'vae'], a.vae_steps)
        self.phase('ldm', self.train_ldms, [runs / 'ldm'] + ([] if a.no_ablation else [runs / 'ldm_no_era5']), a.ldm_steps)
        if a.baseline_cache: self.phase('baselines', self.wait_baselines)
        if a.choose_guidance: self.phase('guidance', self.choose_guidance)
        self.phase('eval', self.evaluate)
        if a.oracle_samples: self.phase('oracle', self.evaluate_oracle)
        for r in (a.val_rollouts.split(',') if a.val_rollouts else []): self.phase(f'val_{r}', lambda: self.evaluate_val(r))
        self.phase('vae_psnr', lambda: (self.out / 'vae_psnr.json').write_text(
            json.dumps(vae_psnr(runs / 'ldm', self.store, max_samples=a.max_samples))))

    def make_world(self):
        a = self.a
        # the storm count of this benchmark's world (the train preset itself follows the basins' genesis rates, issue 24)
        sh(cli() + ['data', 'synth', '--out', self.world, '--preset', 'train', '--workers', a.workers,
                    f'n_storms={a.storms}', f'days={a.days}', 'genesis=count', "start='2020-08-01'", 'neighbourhood_deg=0']
           + ([f'spinup_days={a.spinup_days}'] if a.spinup_days else []),
           log=self.out / 'world.log')

    def build_store(self):
        from cyclonediff.configs import load_config
        dc = load_config(self.a.cfg).data                          # the store is cut for the config's data section
        data_kv = [f'image_size={dc.image_size}', f'history={dc.history}', f"leads_h=[{','.join(map(str, dc.leads_h))}]",
                   f"era5_channels=[{','.join(dc.era5_channels)}]"]
        split = (['--split-method', self.a.split_method] if self.a.split_method else []) + \
                (['--split-fractions', self.a.split_fractions] if self.a.split_fractions else [])
        sh(cli() + ['data', 'build', '--world', self.world, '--out', self.store, '--workers', self.a.workers,
                    '--every-h', self.a.every_h, *split, *data_kv], log=self.out / 'store.log')

    def train_vae(self):
        a = self.a
        sh(cli(a.gpus) + ['train', 'vae', *self.resume, '--cfg', a.cfg, *self.common, f'train.out_dir={self.runs}/{{stage}}',
                          f'train.max_steps={a.vae_steps}', f'train.time_limit_min={self.clock.train_minutes(a.vae_min, "vae")}',
                          f'train.ckpt_every={a.ckpt_every or a.vae_steps}', *a.vae_set], log=self.out / 'vae.log')

    def train_ldms(self):
        "The model and its no-ERA5 ablation: side by side on one GPU each, or one after the other."
        a, runs = self.a, self.runs
        ld = lambda: [*self.common, f'train.vae_ckpt={runs}/vae', f'train.max_steps={a.ldm_steps}', *a.ldm_set,
                      f'train.time_limit_min={self.clock.train_minutes(a.ldm_min, "ldm", least=a.ldm_least)}',
                      f'train.ckpt_every={a.ckpt_every or a.ldm_steps}']
        jobs = [(['train', 'ldm', *self.resume, '--cfg', a.cfg], 'ldm', '0')]
        if not a.no_ablation: jobs.append((['train', 'ldm', *self.resume, '--no-era5', '--cfg', a.cfg], 'ldm_no_era5',
                                          '1' if a.gpus > 1 else '0'))
        if a.gpus > 1:
            ps = [sh(cli() + j + ld() + [f'train.out_dir={runs}/{r}'], log=self.out / f'{r}.log', env={'CUDA_VISIBLE_DEVICES': g},
                     wait=False) for j, r, g in jobs]
            if any(p.wait() for p in ps): raise SystemExit(f'stage-2 training failed; see {self.out}/ldm*.log')
        else:                                            # one after the other, each with what the deadline leaves
            for j, r, _ in jobs:
                if last_step(runs / r) < a.ldm_steps: sh(cli() + j + ld() + [f'train.out_dir={runs}/{r}'], log=self.out / f'{r}.log')

    def eval_common(self) -> list:
        "Options that decide which test samples, leads, members and seeds: the baselines' cache keys depend on them."
        a = self.a
        return ['--store', self.store, '--members', a.members, '--leads', ','.join(map(str, LEADS)), '--max-samples', a.max_samples]

    def start_baselines(self):
        "`cyclonediff eval --baselines-only` into the cache, in its own session: it outlives this call on a warm machine."
        pid = self.out / 'baselines.pid'
        if pid.is_file() and alive(int(pid.read_text())): return        # still running from an earlier call
        if (self.out / 'eval_baselines' / 'timings.json').is_file(): return   # finished (its timings are the cold run's)
        p = sh(cli() + ['eval', '--baselines-only', '--baseline-cache', self.a.baseline_cache, '--out', self.out / 'eval_baselines',
                        *self.eval_common(), '--workers', self.baseline_workers(), '--no-save-forecasts', '--no-progress',
                        '--score-on', 'device'],    # the workers score the baselines on the GPU (numpy: ~6 CPU-s a sample)
               log=self.out / 'eval_baselines.log', wait=False, env=SINGLE_THREADED, nice=19)   # the training's start-up first
        CHILDREN.remove(p)                                                  # not stopped with this call
        pid.write_text(str(p.pid))

    def baseline_workers(self) -> int:
        "All the cores with --phase baselines; else three fewer (the trainings' own processes run beside)."
        return self.a.workers if self.a.phase == 'baselines' else max(1, self.a.workers - 3)

    def wait_baselines(self):
        "Until the baselines run ends; while it runs on and the call's deadline comes (a minute left), exit 75."
        pid = int((self.out / 'baselines.pid').read_text())
        while alive(pid):
            if self.clock.left() < 1.0: self.clock.stop('baselines (still running: the next call waits on)')
            time.sleep(2)
        if not (self.out / 'eval_baselines' / 'timings.json').is_file():
            (self.out / 'baselines.pid').unlink()
            raise SystemExit(f'the baselines run failed; see {self.out}/eval_baselines.log (the same command starts it again)')

    def choose_guidance(self):
        "Each --choose-guidance scale on 4 validation samples at +12 h; the pick goes to guidance.json."
        import pandas as pd
        a = self.a
        scales = [float(x) for x in a.choose_guidance.split(',')]
        self.clock.require(0.6 * len(scales), 'guidance')          # ~30 s each (run 5: 32 s on an H100)
        lead, tried = (12 if 12 in LEADS else LEADS[-1]), {}
        for g in scales:
            d = self.out / 'guidance' / f'g{g:g}'
            sh(cli() + ['eval', '--ckpt', self.runs / 'ldm', '--store', self.store, '--out', d, '--split', 'val',
                        '--members', a.members, '--steps', 20, '--guidance', g, '--leads', lead, '--baselines', 'none',
                        '--max-samples', 4, '--forecast-batch', 4, '--no-progress'], log=self.out / 'guidance.log')
            summ = pd.read_csv(d / 'summary.csv')
            tried[g] = dict(crps=score(summ, 'ldm', lead, 'ens', 'crps'), ssr=score(summ, 'ldm', lead, 'ens', 'ssr'))
            print(f'  guidance {g:g}: +{lead} h CRPS {tried[g]["crps"]:.3f}, spread-skill {tried[g]["ssr"]:.2f}', flush=True)
        (self.out / 'guidance.json').write_text(json.dumps(dict(lead_h=lead, tried=tried, chosen=pick_guidance(tried)), indent=1))

    def model_eval(self, out: Path, log: str, *options):
        "`cyclonediff eval` of the stage-2 model into `out`: the guidance picked on validation (or --guidance), --eval-args."
        a = self.a
        guidance = json.loads((self.out / 'guidance.json').read_text())['chosen'] if a.choose_guidance else a.guidance
        sh(cli() + ['eval', '--ckpt', self.runs / 'ldm', '--out', out, '--steps', 20, '--guidance', guidance, *options,
                    '--workers', max(1, min(24, a.workers - a.eval_spare_cores)), *a.eval_args.split(), '--no-progress'],
           log=self.out / log, env=SINGLE_THREADED)

    def evaluate(self):
        a = self.a
        self.clock.require(a.eval_min, 'eval')
        ablation = [] if a.no_ablation else ['--ablation-ckpt', self.runs / 'ldm_no_era5']
        cache = ['--baseline-cache', a.baseline_cache or a.eval_cache] if (a.baseline_cache or a.eval_cache) else []
        self.model_eval(self.ev, 'eval.log', *self.eval_common(), *cache, *ablation)

    def evaluate_oracle(self):
        "The same model fed the future reanalysis (information 'oracle': an upper bound, never the headline), no baselines."
        a = self.a
        self.clock.require(a.eval_min / 3, 'oracle')
        self.model_eval(self.out / 'eval_oracle', 'eval_oracle.log', '--store', self.store, '--members', a.members,
                        '--leads', ','.join(map(str, LEADS)), '--information', 'oracle', '--baselines', 'none',
                        '--max-samples', a.oracle_samples)

    def evaluate_val(self, rollout: str):
        "The model on the validation split with --rollout-latent `rollout` (a lever measured off the test), one baseline."
        a = self.a
        self.clock.require(a.eval_min / 3, f'val_{rollout}')
        self.model_eval(self.out / f'eval_val_{rollout}', f'eval_val_{rollout}.log', '--store', self.store, '--split', 'val',
                        '--members', a.members, '--leads', ','.join(map(str, LEADS)), '--rollout-latent', rollout,
                        '--baselines', 'persistence,storm_persistence', '--max-samples', a.val_samples)

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='runs/skill'); ap.add_argument('--cfg', default=str(ROOT / 'configs' / 'gpu.yaml'))
    ap.add_argument('--gpus', type=int, default=1); ap.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--storms', type=int, default=200); ap.add_argument('--days', type=float, default=40)
    ap.add_argument('--spinup-days', type=float, default=0, help='the world\'s storms live this many days before its '
                    'start too (WorldConfig.spinup_days: no newborn-only first days; 10 makes them like the rest)')
    ap.add_argument('--every-h', type=int, default=12)
    ap.add_argument('--vae-steps', type=int, default=1500); ap.add_argument('--vae-min', type=float, default=2.0)
    ap.add_argument('--ldm-steps', type=int, default=2500); ap.add_argument('--ldm-min', type=float, default=3.0)
    ap.add_argument('--ldm-least', type=float, default=2.0, help='minutes a call must have left to start (or resume) stage 2 '
                    'in it; else it ends (exit 75) and the next call trains: a stage-2 start costs its compile again')
    ap.add_argument('--members', type=int, default=16); ap.add_argument('--max-samples', type=int, default=24)
    ap.add_argument('--guidance', type=float, default=7.5, help='CFG scale (7.5 as in seed 000; 2-4 was better calibrated on the CPU demo)')
    ap.add_argument('--resume-training', action='store_true',
                    help='train with --resume; a stage stopped by its time limit before max_steps ends this call (exit 75)')
    ap.add_argument('--choose-guidance', default=None, help='comma-separated CFG scales tried on the validation split '
                    '(4 samples, +12 h); the pick (pick_guidance) replaces --guidance in the test evaluation')
    ap.add_argument('--deadline-min', type=float, default=None, help='wall minutes this call may take (see above)')
    ap.add_argument('--eval-min', type=float, default=2.5, help='minutes the evaluation needs (with --deadline-min)')
    ap.add_argument('--ckpt-every', type=int, default=None, help='checkpoint interval of the trainings (default: their steps)')
    ap.add_argument('--ldm-time-boxed', action='store_true', help='stage 2 stopped by its time limit (--ldm-min or the '
                    'deadline) counts as done at the step it reached: the same call goes on to the evaluation')
    ap.add_argument('--phase', default='all', help="all | table | baselines (world, store and --baseline-cache only: fill "
                    "the cache on a CPU machine; a GPU run of the same world and samples then finds every entry by its key)")
    ap.add_argument('--leads', default='3,6,12,24', help='verified leads (hours)')
    ap.add_argument('--split-method', default=None, help="the store's split (data build --split-method): e.g. 'time'")
    ap.add_argument('--split-fractions', default=None, help='train,val,test shares (data build --split-fractions)')
    ap.add_argument('--no-ablation', action='store_true', help='train and evaluate no no-ERA5 ablation')
    ap.add_argument('--compile-train', action='store_true', help="train as the config says (configs/gpu.yaml compiles stage 2); "
                    'default: eager, as run 4')
    ap.add_argument('--vae-set', nargs='*', default=[], help='extra overrides of the VAE training, e.g. train.lr=6e-4')
    ap.add_argument('--ldm-set', nargs='*', default=[], help='extra overrides of the stage-2 trainings, e.g. unet.target=change')
    ap.add_argument('--eval-args', default='', help="extra options of the test evaluation, e.g. '--score-on device "
                    "--compile reduce-overhead --autocast bfloat16 --no-save-forecasts'")
    ap.add_argument('--eval-spare-cores', type=int, default=4, help='cores left to the sampling process (workers = cores - this)')
    ap.add_argument('--baseline-cache', default=None, help='verify the baselines into this cache (eval --baselines-only) on '
                    'the CPUs while stage 2 trains; the test evaluation reuses it')
    ap.add_argument('--eval-cache', default=None, help='the test evaluation keeps its baselines\' verifications in this '
                    'cache as it goes (nothing verified ahead): a call that ends mid-evaluation loses none of them, and '
                    'the same command reuses them')
    ap.add_argument('--oracle-samples', type=int, default=0, help="also evaluate the model under 'oracle' on this many test samples")
    ap.add_argument('--val-rollouts', default=None, help="comma-separated --rollout-latent values (encode,carry) each evaluated "
                    "on the validation split (--val-samples, storm-following persistence beside) after the test: a lever "
                    "measured where nothing is chosen on the test")
    ap.add_argument('--val-samples', type=int, default=64, help='validation samples of --val-rollouts')
    return ap.parse_args()


def main():
    a = parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT): signal.signal(sig, stop_children)
    LEADS[:] = [int(h) for h in a.leads.split(',')]
    run = SkillRun(a)
    if a.phase in ('all', 'baselines'): run.all()
    if a.phase == 'baselines': return print(json.dumps(run.times))
    md = table(run.out)
    (run.out / 'skill_table.md').write_text(md)
    print(md)
    print(json.dumps(run.times))


if __name__ == '__main__':
    main()
