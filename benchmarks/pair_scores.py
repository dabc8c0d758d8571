"""Pair a model's per-sample scores with baselines scored in another evaluation of the same samples (e.g. the
baselines verified on a CPU machine, `skill.py --phase baselines`) and compare them as `cyclonediff eval` does:
storm-block BCa intervals and Holm over the family (`evaluation.write_comparisons`).

    python benchmarks/pair_scores.py MODEL_SCORES BASELINE_EVAL_DIR OUT_DIR [--model ldm]

MODEL_SCORES: a scores.csv[.gz] holding the model's rows (skill18_device_call.sh brings back model_scores.csv.gz).
BASELINE_EVAL_DIR: an evaluation folder with scores.csv (or scores.csv.gz: e.g. results/skill18_cpu_baselines2, the
CRPS, RMSE and storm rows of run 7's test samples) and samples.csv, of the same store, split, --max-samples and
seed as the model's (sample i is drawn with seed + i in both); the model's samples must all be there (checked by id).
"""
import argparse
from pathlib import Path

import pandas as pd

from cyclonediff.evaluation import write_comparisons


def paired_scores(model_scores: pd.DataFrame, base_dir: Path, model: str) -> tuple:
    "(scores of the model and the baselines on the samples both hold, samples.csv): refused if the model has samples the baselines lack."
    f = next((f for f in (base_dir / 'scores.csv', base_dir / 'scores.csv.gz') if f.is_file()), base_dir / 'scores.csv')
    base, samples = pd.read_csv(f, dtype={'member': str}), pd.read_csv(base_dir / 'samples.csv')
    mine = model_scores[model_scores.method == model]
    if mine.empty: raise SystemExit(f'no rows of method {model!r} in the model scores')
    missing = set(mine['sample']) - set(base['sample'])
    if missing: raise SystemExit(f'{len(missing)} model samples are not in {base_dir} (first {sorted(missing)[0]})')
    base = base[base['sample'].isin(set(mine['sample'])) & (base.method != model)]
    return pd.concat([mine, base], ignore_index=True), samples[samples['sample'].isin(set(mine['sample']))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model_scores'); ap.add_argument('baseline_dir'); ap.add_argument('out'); ap.add_argument('--model', default='ldm')
    a = ap.parse_args()
    scores, samples = paired_scores(pd.read_csv(a.model_scores, dtype={'member': str}), Path(a.baseline_dir), a.model)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    cmp = write_comparisons(a.out, scores, samples, a.model)
    pix = cmp[cmp.family == 'pixel'].sort_values(['lead', 'metric', 'baseline'])
    print(pix[['lead', 'metric', 'baseline', 'model_mean', 'baseline_mean', 'diff', 'low', 'high', 'p_holm', 'decision']]
          .to_string(index=False, float_format=lambda x: f'{x:.3g}'))


if __name__ == '__main__':
    main()
