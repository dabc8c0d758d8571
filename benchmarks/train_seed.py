"""Train the seed configuration (configs/seed.yaml: ConvVAE latent 64, UNet base 128 mults 1,2,4,8) at 256x256
for a few hundred steps and print throughput, peak GPU memory and the loss curve (a PNG).

    python benchmarks/train_seed.py --out runs/bench_seed [--vae-steps 60] [--ldm-steps 300] [--batch 16]

Uses the trainer's toy storms (train.dataset=random) so that the numbers measure the model and the loop, not a
store on disk. LPIPS is off unless its AlexNet weights are in $TORCH_HOME (they are not downloaded).
"""
import argparse, json, time
from pathlib import Path
import torch
from cyclonediff.configs import load_config
from cyclonediff.trainer import train

def run(stage, args, extra=()):
    ov = [f'train.stage={stage}', 'train.dataset=random', f'train.random_samples={args.samples}',
          f'train.batch_size={args.batch}', f'train.max_steps={args.vae_steps if stage == "vae" else args.ldm_steps}',
          f'train.mixed_precision={args.precision}', 'train.log_every=10', 'train.ckpt_every=100000',
          f'train.num_workers={args.workers}', f'train.out_dir={args.out}/{stage}', 'loss.lpips_fallback=off',
          'train.tensorboard=false', 'train.progress=false', *extra]
    cfg = load_config(Path(__file__).resolve().parent.parent / 'configs' / 'seed.yaml', ov)
    if torch.cuda.is_available(): torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter(); ckpt = train(cfg); wall = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float('nan')
    return dict(stage=stage, wall_s=wall, peak_gib=peak, ckpt=str(ckpt))

def curve(out, stages, png):
    import csv, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.5))
    rates = {}
    for ax, st in zip(axs, stages):
        rows = [r for f in sorted((Path(out) / st).rglob('train*.csv')) for r in csv.DictReader(open(f))]
        key = 'loss'
        xs = [float(r['step']) for r in rows if r.get(key)]; ys = [float(r[key]) for r in rows if r.get(key)]
        ax.plot(xs, ys); ax.set_title(f'{st}: {key}'); ax.set_xlabel('step'); ax.set_yscale('log')
        sps = sorted(float(r['samples_per_s']) for r in rows[1:] or rows if r.get('samples_per_s'))  # the first row holds start-up
        rates[st] = sps[len(sps) // 2] if sps else float('nan')
    fig.tight_layout(); fig.savefig(png, dpi=100)
    return rates

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='runs/bench_seed'); ap.add_argument('--vae-steps', type=int, default=60)
    ap.add_argument('--ldm-steps', type=int, default=300); ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--samples', type=int, default=512); ap.add_argument('--workers', type=int, default=8)
    ap.add_argument('--precision', default='bf16'); ap.add_argument('--png', default='seed_loss_curve.png')
    a = ap.parse_args()
    res = [run('vae', a), run('ldm', a, [f'train.vae_ckpt={a.out}/vae'])]
    rates = curve(a.out, ['vae', 'ldm'], a.png)
    for r in res: r['median_samples_per_s'] = rates[r['stage']]
    print(json.dumps(res, indent=1))
    print(f"LDM stage: {rates['ldm']:.1f} samples/s at batch {a.batch} ({a.precision}), peak {res[1]['peak_gib']:.2f} GiB; "
          f"VAE stage: {rates['vae']:.1f} samples/s, peak {res[0]['peak_gib']:.2f} GiB; curve in {a.png}")
