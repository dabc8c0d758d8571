"""Data-parallel training of the latent diffusion stage: 1 GPU against N GPUs under `accelerate launch`, in one run.

    python benchmarks/ddp_scaling.py --out runs/ddp [--gpus 2] [--steps 150] [--batch 32] [--cfg configs/gpu.yaml]

Every run is the user's command, `[accelerate launch --multi_gpu --num_processes N] -m cyclonediff.cli train ldm
--cfg CFG ...`, on the trainer's toy storms (train.dataset=random: the loop is measured, not a disk):

1. a VAE for stage 2 (one GPU, a few steps: stage 2 only needs a frozen encoder);
2. `one`:  1 GPU,  batch B          -> samples/s, validation curve;
3. `same`: N GPUs, batch B/N each  -> the same global batch: its validation curve must match `one`'s;
4. `weak`: N GPUs, batch B each    -> samples/s at the same per-GPU batch: the scaling efficiency;
5. resume across layouts: `same` (N GPUs) resumed on 1 GPU, `one` (1 GPU) resumed on N GPUs, a few steps each.

Prints the table and writes it (Markdown) with the curves (PNG) and a JSON summary into --out.
"""
import argparse, csv, json, os, subprocess, time
from pathlib import Path

from launch import cyclonediff_cmd

ROOT = Path(__file__).resolve().parents[1]


def cyclonediff_train(stage, procs, overrides, a, resume=False, log=None):
    "Run `cyclonediff train` in `procs` processes; return (wall seconds, stderr)."
    cmd = cyclonediff_cmd(procs) + ['train', stage, '--cfg', str(a.cfg), *overrides] + (['--resume'] if resume else [])
    print('$', ' '.join(cmd[1:]), flush=True)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, 'PYTHONWARNINGS': 'default'})
    wall = time.perf_counter() - t0
    if log: Path(log).write_text(r.stdout + '\n--- stderr ---\n' + r.stderr)
    if r.returncode: raise SystemExit(f"failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
    return wall, r.stderr


def rows(run, kind):
    f = Path(run) / 'logs' / f'{kind}.csv'
    return list(csv.DictReader(open(f))) if f.is_file() else []


def median_rate(run):
    "Median samples/s over the logged windows after the first (which holds the start-up)."
    r = sorted(float(x['samples_per_s']) for x in rows(run, 'train')[1:])
    return r[len(r) // 2] if r else float('nan')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='runs/ddp'); ap.add_argument('--cfg', default=str(ROOT / 'configs' / 'gpu.yaml'))
    ap.add_argument('--gpus', type=int, default=2); ap.add_argument('--steps', type=int, default=150)
    ap.add_argument('--batch', type=int, default=32, help='global batch of `one` and `same`; per-GPU batch of `weak`')
    ap.add_argument('--vae-steps', type=int, default=60); ap.add_argument('--resume-steps', type=int, default=20)
    ap.add_argument('--samples', type=int, default=2048); ap.add_argument('--workers', type=int, default=8)
    ap.add_argument('--report-only', action='store_true', help='only rebuild the table from the logs in --out')
    ap.add_argument('--val-batches', type=int, default=8, help='validation batches per process (the same samples on 1 and N GPUs at one global batch)')
    a = ap.parse_args()
    out, n, B, S = Path(a.out), a.gpus, a.batch, a.steps
    out.mkdir(parents=True, exist_ok=True)
    common = ['train.dataset=random', f'train.random_samples={a.samples}', f'train.num_workers={a.workers}',
              'train.progress=false', 'train.tensorboard=false', 'train.log_every=10', 'train.keep_last=2',
              'train.compile=false']                 # measured eager (RESULTS.md); configs/gpu.yaml now compiles
    ldm = common + [f'train.vae_ckpt={out}/vae', f'train.ckpt_every={max(S // 2, 1)}', 'train.eval_at_start=true',
                    f'train.val_batches={a.val_batches}']
    runs = {'one': (1, B), 'same': (n, B // n), 'weak': (n, B)}
    if not a.report_only:
        cyclonediff_train('vae', 1, common + [f'train.out_dir={out}/vae', f'train.max_steps={a.vae_steps}',
                                              'train.ckpt_every=100000', 'train.eval_at_start=false'], a, log=out / 'vae.log')
        for name, (procs, bs) in runs.items():
            cyclonediff_train('ldm', procs, ldm + [f'train.out_dir={out}/{name}', f'train.batch_size={bs}',
                                                  f'train.max_steps={S}'], a, log=out / f'{name}.log')
        # resume across layouts (max_steps grows: the config-difference warning is expected)
        R = S + a.resume_steps
        cyclonediff_train('ldm', 1, ldm + [f'train.out_dir={out}/same', f'train.batch_size={B}', f'train.max_steps={R}'],
                          a, resume=True, log=out / 'resume_n_to_1.log')
        cyclonediff_train('ldm', n, ldm + [f'train.out_dir={out}/one', f'train.batch_size={B // n}', f'train.max_steps={R}'],
                          a, resume=True, log=out / 'resume_1_to_n.log')
    report(out, runs, n, B, S)


def report(out, runs, n, B, S):
    "The table, from the runs' logs (the first S steps of each run; the resumed steps separately)."
    res = {}
    for name, (procs, bs) in runs.items():
        first = [x for x in rows(out / name, 'train') if int(x['step']) <= S]
        rates = sorted(float(x['samples_per_s']) for x in first[1:])       # the first window holds the start-up
        log = out / f'{name}.log'
        res[name] = dict(gpus=procs, batch_per_gpu=bs, global_batch=procs * bs,
                         samples_per_s=round(rates[len(rates) // 2], 1) if rates else float('nan'),
                         val=[(int(x['step']), float(x['loss'])) for x in rows(out / name, 'val') if int(x['step']) <= S],
                         replicas_max_abs_diff=max([float(x['max_abs_diff']) for x in rows(out / name, 'replicas')
                                                    if int(x['step']) <= S] or [0.0]),
                         log=log.name if log.is_file() else None)
    def resumed_part(run, frm, to, log):
        err = (out / log).read_text() if (out / log).is_file() else ''
        return dict(steps=[int(x['step']) for x in rows(out / run, 'train') if int(x['step']) > S],
                    val=[(int(x['step']), float(x['loss'])) for x in rows(out / run, 'val') if int(x['step']) >= S],
                    replicas=[float(x['max_abs_diff']) for x in rows(out / run, 'replicas') if int(x['step']) > S],
                    reseeded_warning=f'random states of {frm} process(es), this run has {to}' in err if err else None)
    resumed = {'n_to_1': resumed_part('same', n, 1, 'resume_n_to_1.log'),
               '1_to_n': resumed_part('one', 1, n, 'resume_1_to_n.log')}
    one, same, weak = res['one'], res['same'], res['weak']
    gap = max(abs(a_[1] - b_[1]) / a_[1] for a_, b_ in zip(one['val'], same['val']))
    eff = weak['samples_per_s'] / (n * one['samples_per_s'])
    summary = dict(runs=res, resumed=resumed, val_max_rel_diff_one_vs_same=gap, weak_scaling_efficiency=eff,
                   speedup_same_global_batch=same['samples_per_s'] / one['samples_per_s'])
    (out / 'summary.json').write_text(json.dumps(summary, indent=1))
    md = ["| run | GPUs | batch/GPU | global batch | samples/s (median) | replicas max diff |", "|---|---|---|---|---|---|"]
    md += [f"| {k} | {r['gpus']} | {r['batch_per_gpu']} | {r['global_batch']} | {r['samples_per_s']} | "
           f"{r['replicas_max_abs_diff']:g} |" for k, r in res.items()]
    md += ['', f"weak scaling ({n} GPUs at batch {B} each vs 1): {weak['samples_per_s'] / one['samples_per_s']:.2f}x, "
               f"efficiency {eff:.0%}; same global batch {B}: {summary['speedup_same_global_batch']:.2f}x",
           f"validation loss, 1 GPU vs {n} GPUs at global batch {B}: " +
           ', '.join(f"step {s}: {x:.4f} / {y:.4f}" for (s, x), (_, y) in zip(one['val'], same['val'])) +
           f" (max relative difference {gap:.2%})",
           *(f"resumed {k.replace('n', str(n))}: steps {r['steps'][:1]}..{r['steps'][-1:]}, val {r['val']}, "
             f"replica diffs {r['replicas']}, reseeding warning seen: {r['reseeded_warning']}" for k, r in resumed.items())]
    (out / 'results.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    try:
        import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for k, r in (('1 GPU', one), (f'{n} GPUs', same)):
            ax.plot(*zip(*r['val']), marker='o', label=f'{k}, global batch {B}')
        for k, r in (('resumed on 1 GPU', resumed['n_to_1']), (f'resumed on {n} GPUs', resumed['1_to_n'])):
            ax.plot(*zip(*r['val'][-2:]), ls='--', marker='x', label=k)
        ax.set_xlabel('step'); ax.set_ylabel('validation loss (eps MSE)'); ax.legend(fontsize=7); fig.tight_layout()
        fig.savefig(out / 'ddp_val_curve.png', dpi=100)
    except ImportError:
        pass


if __name__ == '__main__':
    main()
