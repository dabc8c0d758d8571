"""Do the trainer's speed switches keep the training correct? The latent diffusion stage trained from the same seed, on
the same toy storms, once per variant (by default eager and `train.compile=true`; `--stage vae`: the VAE stage): the loss curves side by side,
the largest relative difference from the first variant, and the samples/s of each (issue 10: "the same loss curve
to tolerance for a few hundred steps").

    python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/gpu.yaml --steps 300      # on a GPU
    python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/tiny.yaml --steps 40      # a CPU check
    python benchmarks/compile_curve.py --out /tmp/cc --variants eager=train.compile=false \
        host_check=train.compile=false,train.nonfinite_check=host compiled=train.compile=true
    python benchmarks/compile_curve.py --out /tmp/cv --stage vae --steps 300 --variants old=train.seed=0 \
        old_seed1=train.seed=1 fused=vae.fused_norm=true               # the VAE stage itself (issue 20)

A variant is NAME=OVERRIDE[,OVERRIDE...]; the first is the reference. A short VAE run comes first (stage 2 needs
one); every stage-2 run uses it. Bit-equality is not expected where kernels differ (compiled kernels round
differently); the curves should stay within the run-to-run noise of the loss.
"""
import argparse, json, time
from pathlib import Path

from cyclonediff.configs import load_config
from cyclonediff.monitors import MetricLogger
from cyclonediff.trainer import train


def run(cfg_path, out, stage, steps, extra=()):
    ov = [f'train.stage={stage}', 'train.dataset=random', f'train.max_steps={steps}', f'train.ckpt_every={steps}',
          f'train.log_every={max(1, steps // 20)}', f'train.out_dir={out}', 'train.progress=false',
          'train.tensorboard=false', 'train.eval_at_start=true', *extra]
    t0 = time.perf_counter()
    ck = train(load_config(cfg_path, ov))
    return ck, time.perf_counter() - t0


def variants(specs) -> list:
    "[(name, [override, ...])] from NAME=OVERRIDE[,OVERRIDE...] strings."
    out = []
    for spec in specs:
        name, _, ovs = spec.partition('=')
        if not name or not ovs: raise SystemExit(f'--variants: {spec!r} is not NAME=OVERRIDE[,OVERRIDE...]')
        out.append((name, ovs.split(',')))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True); ap.add_argument('--cfg', default='configs/gpu.yaml')
    ap.add_argument('--steps', type=int, default=300); ap.add_argument('--vae-steps', type=int, default=50)
    ap.add_argument('--samples', type=int, default=2048, help='toy storms in the training set')
    ap.add_argument('--stage', choices=['ldm', 'vae'], default='ldm',
                    help='ldm: stage 2 after a short VAE run (default); vae: the VAE stage itself, --steps long')
    ap.add_argument('--variants', nargs='+', default=['eager=train.compile=false', 'compiled=train.compile=true'],
                    help='NAME=OVERRIDE[,OVERRIDE...]; the first is the reference')
    a = ap.parse_args()
    out = Path(a.out)
    data = [f'train.random_samples={a.samples}']
    if a.stage == 'ldm':
        vae, _ = run(a.cfg, out / 'vae', 'vae', a.vae_steps, data)
        data.append(f'train.vae_ckpt={vae}')
    res = {}
    for name, ovs in variants(a.variants):
        _, secs = run(a.cfg, out / name, a.stage, a.steps, [*data, *ovs])
        log = MetricLogger(out / name)
        res[name] = dict(overrides=ovs, seconds=secs, train={int(r['step']): float(r['loss']) for r in log.read('train')},
                         val={int(r['step']): float(r['loss']) for r in log.read('val')},
                         samples_per_s=[float(r['samples_per_s']) for r in log.read('train')])
    names = list(res); ref = res[names[0]]
    print('| step | ' + ' | '.join(f'train {n}' for n in names) + ' | ' + ' | '.join(f'val {n}' for n in names) + ' |')
    print('|' + '---|' * (1 + 2 * len(names)))
    for s in sorted(set(ref['train']) | set(ref['val'])):
        cell = lambda n, k: f"{res[n][k][s]:.4f}" if s in res[n][k] else ''
        print(f'| {s} | ' + ' | '.join(cell(n, 'train') for n in names) + ' | ' + ' | '.join(cell(n, 'val') for n in names) + ' |')
    late = lambda d: sorted(d['samples_per_s'])[len(d['samples_per_s']) // 2]
    summary = {}
    for n in names[1:]:
        v = res[n]
        rel = lambda k: max(abs(v[k][s] - ref[k][s]) / abs(ref[k][s]) for s in ref[k] if s in v[k])
        summary[n] = dict(max_rel_diff_train=rel('train'), max_rel_diff_val=rel('val'), final_val=v['val'][max(v['val'])],
                          final_val_ref=ref['val'][max(ref['val'])], samples_per_s=late(v), samples_per_s_ref=late(ref),
                          seconds=v['seconds'], seconds_ref=ref['seconds'])
        print(f"{n} vs {names[0]}: largest relative difference: train loss {summary[n]['max_rel_diff_train']:.2%}, val loss "
              f"{summary[n]['max_rel_diff_val']:.2%}; final val {summary[n]['final_val']:.4f} vs {summary[n]['final_val_ref']:.4f}; "
              f"median samples/s {late(v):.1f} vs {late(ref):.1f} ({late(v) / late(ref):.2f}x; wall {v['seconds']:.0f} s vs "
              f"{ref['seconds']:.0f} s, compilation included)")
    (out / 'compile_curve.json').write_text(json.dumps(dict(summary=summary, runs=res), indent=1))


if __name__ == '__main__':
    main()
