"""Does torch.compile keep the training correct? The latent diffusion stage trained twice from the same seed, on the
same toy storms, eager and with `train.compile=true`: the two loss curves side by side, their largest relative
difference, and the samples/s of each (issue 10: "the same loss curve to tolerance for a few hundred steps").

    python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/gpu.yaml --steps 300      # on a GPU
    python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/tiny.yaml --steps 40      # a CPU check

A short VAE run comes first (stage 2 needs one); both stage-2 runs use it. Bit-equality is not expected (compiled
kernels round differently); the curves should stay within the run-to-run noise of the loss.
"""
import argparse, json, time
from pathlib import Path

from cyclonediff.trainer import MetricLogger, load_config, train


def run(cfg_path, out, stage, steps, extra=()):
    ov = [f'train.stage={stage}', 'train.dataset=random', f'train.max_steps={steps}', f'train.ckpt_every={steps}',
          f'train.log_every={max(1, steps // 20)}', f'train.out_dir={out}', 'train.progress=false',
          'train.tensorboard=false', 'train.eval_at_start=true', *extra]
    t0 = time.perf_counter()
    ck = train(load_config(cfg_path, ov))
    return ck, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True); ap.add_argument('--cfg', default='configs/gpu.yaml')
    ap.add_argument('--steps', type=int, default=300); ap.add_argument('--vae-steps', type=int, default=50)
    ap.add_argument('--samples', type=int, default=2048, help='toy storms in the training set')
    a = ap.parse_args()
    out = Path(a.out)
    data = [f'train.random_samples={a.samples}']
    vae, _ = run(a.cfg, out / 'vae', 'vae', a.vae_steps, data)
    res = {}
    for name, flag in (('eager', 'false'), ('compiled', 'true')):
        _, secs = run(a.cfg, out / name, 'ldm', a.steps, [*data, f'train.vae_ckpt={vae}', f'train.compile={flag}'])
        log = MetricLogger(out / name)
        res[name] = dict(seconds=secs, train={int(r['step']): float(r['loss']) for r in log.read('train')},
                         val={int(r['step']): float(r['loss']) for r in log.read('val')},
                         samples_per_s=[float(r['samples_per_s']) for r in log.read('train')])
    e, c = res['eager'], res['compiled']
    print('| step | train loss eager | compiled | val loss eager | compiled |\n|---|---|---|---|---|')
    for s in sorted(set(e['train']) | set(e['val'])):
        f = lambda d, k: f"{d[k].get(s):.4f}" if s in d[k] else ''
        print(f"| {s} | {f(e, 'train')} | {f(c, 'train')} | {f(e, 'val')} | {f(c, 'val')} |")
    rel = lambda k: max(abs(c[k][s] - e[k][s]) / abs(e[k][s]) for s in e[k] if s in c[k])
    late = lambda d: sorted(d['samples_per_s'])[len(d['samples_per_s']) // 2]
    summary = dict(max_rel_diff_train=rel('train'), max_rel_diff_val=rel('val'), final_val_eager=e['val'][max(e['val'])],
                   final_val_compiled=c['val'][max(c['val'])], samples_per_s_eager=late(e), samples_per_s_compiled=late(c),
                   seconds_eager=e['seconds'], seconds_compiled=c['seconds'])
    print(f"largest relative difference: train loss {summary['max_rel_diff_train']:.2%}, val loss "
          f"{summary['max_rel_diff_val']:.2%}; final val {summary['final_val_eager']:.4f} eager vs "
          f"{summary['final_val_compiled']:.4f} compiled; median samples/s {late(e):.1f} vs {late(c):.1f} "
          f"({late(c) / late(e):.2f}x; wall {e['seconds']:.0f} s vs {c['seconds']:.0f} s with compilation)")
    (out / 'compile_curve.json').write_text(json.dumps(dict(summary=summary, runs=res), indent=1))


if __name__ == '__main__':
    main()
