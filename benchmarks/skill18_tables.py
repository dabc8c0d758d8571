"""Issue 18's acceptance, checked from one `cyclonediff eval` folder (summary.csv, comparisons.csv, overlap.csv,
eval_config.json, timings.json; scores.csv[.gz] where present, for the centre errors' percentiles) and an optional
oracle evaluation: the markdown tables of benchmarks/SKILL.md.

    python benchmarks/skill18_tables.py EVAL_DIR [--oracle ORACLE_EVAL_DIR] [--leads 3,6,12,24]

Every number comes from the evaluation's files: comparisons.csv holds model - baseline per lead and score with the
storm-block 95 % BCa interval and the Holm-adjusted p over the evaluation's family (cyclonediff.stats).
"""
import argparse, json
from pathlib import Path

import numpy as np
import pandas as pd

from cyclonediff.evaluation import EvalRunConfig

BASELINES = EvalRunConfig().baselines     # cyclonediff eval's default baselines


def getter(summary: pd.DataFrame):
    s = summary.set_index(['method', 'lead', 'member', 'metric'])['mean']
    return lambda m, lead, member, metric: float(s.get((m, lead, member, metric), np.nan))


def score_table(summary: pd.DataFrame, methods, leads) -> str:
    "Per lead and method: CRPS, ens-mean RMSE, SSR, bias, frequency bias < 220 K, centre, intensity proxy, profile."
    g = getter(summary)
    cols = [('CRPS K', 'ens', 'crps'), ('RMSE K (mean)', 'mean', 'rmse'), ('SSR', 'ens', 'ssr'), ('bias K', 'mean', 'bias'),
            ('freq. bias <220 K', None, 'fbias'), ('members with centre', 'ens', 'found_share'),
            ('ens-mean centre err km', 'ens', 'mean_centre_error_km'), ('mean Tb <100 km MAE K', 'ens', 'mean_tb_abs_error'),
            ('radial profile RMSE K', 'ens', 'profile_rmse')]
    md = ['| lead | method | ' + ' | '.join(c[0] for c in cols) + ' |', '|' + '---|' * (len(cols) + 2)]
    for lead in leads:
        for m in methods:
            if not np.isfinite(g(m, lead, 'ens', 'crps')): continue
            vals = []
            for _, member, metric in cols:
                v = g(m, lead, 'ens', 'fc_frac_220K') / g(m, lead, 'ens', 'obs_frac_220K') if metric == 'fbias' else g(m, lead, member, metric)
                vals.append('-' if not np.isfinite(v) else f'{v:.3g}')
            md.append(f'| +{lead} h | {m} | ' + ' | '.join(vals) + ' |')
    return '\n'.join(md)


def comparison_table(cmp: pd.DataFrame, model: str) -> str:
    "model - baseline per lead for CRPS and ens-mean RMSE, with the storm-block interval and the Holm decision."
    c = cmp[(cmp.model == model) & (cmp.metric.isin(['crps', 'rmse'])) & (cmp.baseline.isin(BASELINES))]
    md = ['| lead | score | baseline | model | baseline | model - baseline [95 % storm-block BCa] | p Holm | decision |',
          '|---|---|---|---|---|---|---|---|']
    for r in c.sort_values(['lead', 'metric', 'baseline']).itertuples():
        md.append(f'| +{r.lead} h | {"CRPS" if r.metric == "crps" else "RMSE (mean)"} | {r.baseline} | {r.model_mean:.2f} | '
                  f'{r.baseline_mean:.2f} | {r.diff:+.2f} [{r.low:+.2f}, {r.high:+.2f}] | {r.p_holm:.2g} | {r.decision} |')
    return '\n'.join(md)


def checks(summary: pd.DataFrame, cmp: pd.DataFrame, model: str, leads, info: dict, timings: dict) -> list:
    "(target, met, value) of each acceptance item that the evaluation's files decide."
    g, out = getter(summary), []
    c = cmp[(cmp.model == model) & (cmp.metric.isin(['crps', 'rmse'])) & (cmp.baseline.isin(BASELINES))]
    wins = (c.decision == 'model better')
    out.append(('CRPS and ens-mean RMSE better than every baseline at every lead (Holm, storm-block 95 %)', bool(wins.all()) and len(c) > 0,
                f'{int(wins.sum())} of {len(c)} comparisons model better; not: ' +
                ('; '.join(f'+{r.lead} h {r.metric} vs {r.baseline}: {r.diff:+.2f} [{r.low:+.2f}, {r.high:+.2f}] ({r.decision})'
                           for r in c[~wins].itertuples()) or 'none')))
    ssr = {lead: g(model, lead, 'ens', 'ssr') for lead in leads}
    out.append(('spread-skill 0.9-1.1 at every lead', all(0.9 <= v <= 1.1 for v in ssr.values()),
                ', '.join(f'+{k} h {v:.2f}' for k, v in ssr.items())))
    fb = {lead: g(model, lead, 'ens', 'fc_frac_220K') / g(model, lead, 'ens', 'obs_frac_220K') for lead in leads}
    out.append(('frequency bias Tb < 220 K in 0.8-1.25 at every lead', all(0.8 <= v <= 1.25 for v in fb.values()),
                ', '.join(f'+{k} h {v:.2f}' for k, v in fb.items())))
    last = max(leads)
    fs = g(model, last, 'ens', 'found_share')
    out.append((f'centre found in >= 95 % of members at +{last} h (samples whose truth has one)', fs >= 0.95, f'{fs:.1%}'))
    ce, cs = g(model, last, 'ens', 'mean_centre_error_km'), g('storm_persistence', last, 'ens', 'mean_centre_error_km')
    out.append((f'ens-mean centre error at +{last} h below storm-following persistence', ce < cs, f'{ce:.0f} vs {cs:.0f} km'))
    ie, ip = g(model, last, 'ens', 'mean_tb_abs_error'), g('persistence', last, 'ens', 'mean_tb_abs_error')
    out.append((f'intensity proxy (mean Tb within 100 km) MAE at +{last} h below persistence', ie < ip, f'{ie:.2f} vs {ip:.2f} K'))
    ov = info.get('overlap') or {}
    out.append(('test held out in time: no test target inside the training period, no area / centre overlap',
                ov.get('time_overlap', 1) == 0 and ov.get('area_overlap', 1) == 0 and ov.get('centre_overlap', 1) == 0,
                f"time {ov.get('time_overlap')}, area {ov.get('area_overlap')}, centre {ov.get('centre_overlap')}"))
    out.append(('>= 240 test samples of >= 24 storms', info['n_samples'] >= 240 and info['n_storms'] >= 24,
                f"{info['n_samples']} samples of {info['n_storms']} storms"))
    pre = timings.get('baselines_beforehand_s', 0.0)      # eval --baselines-only into the cache (counted, strictly)
    name = 'the whole evaluation under 8 minutes (baselines computed beforehand counted in)'
    if timings.get('resumed_hits'):                       # skill.py --eval-cache after a call that ended mid-evaluation
        out.append((name, False, f"not measured: {timings['resumed_hits']} samples' baselines came from an interrupted "
                                 f"earlier evaluation, whose time is lost; {timings['total_s']:.0f} s is this one's part"))
    else:
        out.append((name, timings['total_s'] + pre < 480,
                    f"{timings['total_s']:.0f} s" + (f" + {pre:.0f} s of baselines beforehand (on the CPUs while the GPU trained)" if pre else '')))
    return out


def centre_quantiles(scores: pd.DataFrame, methods, leads) -> str:
    "Per lead and method: the ensemble-mean centre error's median, 75th and 90th percentiles over the samples (km)."
    c = scores[(scores.metric == 'mean_centre_error_km') & (scores.member == 'ens')].dropna(subset=['value'])
    md = ['| lead | method | samples | median km | 75 % km | 90 % km | mean km |', '|---|---|---|---|---|---|---|']
    for lead in leads:
        for m in methods:
            v = c[(c.method == m) & (c.lead == lead)]['value']
            if len(v): md.append(f'| +{lead} h | {m} | {len(v)} | ' + ' | '.join(f'{x:.0f}' for x in (*v.quantile([.5, .75, .9]), v.mean())) + ' |')
    return '\n'.join(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('eval_dir'); ap.add_argument('--oracle', default=None); ap.add_argument('--leads', default='3,6,12,24')
    a = ap.parse_args()
    d, leads = Path(a.eval_dir), [int(x) for x in a.leads.split(',')]
    summary, cmp = pd.read_csv(d / 'summary.csv'), pd.read_csv(d / 'comparisons.csv')
    info, timings = json.loads((d / 'eval_config.json').read_text()), json.loads((d / 'timings.json').read_text())
    pre = d.parent / 'eval_baselines' / 'timings.json'      # skill.py --baseline-cache: the baselines verified beforehand
    cpu = d.parent / 'eval_baselines_cpu' / 'timings.json'   # the cache filled on a CPU machine (skill.py --phase baselines)
    if pre.is_file():
        pt = json.loads(pre.read_text())
        timings['baselines_beforehand_s'] = pt['total_s']
        if pt.get('baseline_cache_hits') and not cpu.is_file():   # an interrupted earlier run computed these
            print(f"note: the baselines run found {pt['baseline_cache_hits']} of its samples in the cache already (an interrupted "
                  'earlier run computed them; that time is not counted below)\n')
    if cpu.is_file():
        ct = json.loads(cpu.read_text())
        timings['baselines_beforehand_s'] = timings.get('baselines_beforehand_s', 0.0) + ct['total_s']
        print(f"note: {ct.get('baseline_cache_misses', 0)} samples' baselines were verified beforehand on another machine "
              f"({ct['total_s']:.0f} s there, counted below; skill.py --phase baselines)\n")
    if timings.get('baseline_cache_hits') and not pre.is_file() and not cpu.is_file():
        timings['resumed_hits'] = timings['baseline_cache_hits']   # nothing verified ahead: an interrupted evaluation's
    model = info['model_method']
    methods = [m for m in (model, *BASELINES, 'vae_recon') if m in set(summary.method)]
    print(f"## {info['information_note']}\n\n{info['n_samples']} test samples of {info['n_storms']} storms; "
          f"checkpoint step {info.get('checkpoint_step')}; guidance {info['config'].get('guidance')}; members {info['config'].get('members')}\n")
    print(score_table(summary, methods, leads), '\n')
    print(comparison_table(cmp, model), '\n')
    print('| target | met | value |\n|---|---|---|')
    for name, ok, v in checks(summary, cmp, model, leads, info, timings): print(f'| {name} | {"yes" if ok else "**no**"} | {v} |')
    print('\nTimings (s): ' + ', '.join(f'{k} {v:.1f}' for k, v in timings.items() if k.endswith('_s')))
    per_sample = next((f for f in (d / 'scores.csv', d / 'scores.csv.gz') if f.is_file()), None)
    if per_sample is not None:     # the centre errors' tails: the means above are pulled by a few far-off finds
        print(f'\nCentre error of the ensemble mean over the samples ({per_sample.name}):\n')
        print(centre_quantiles(pd.read_csv(per_sample), methods, leads))
    if a.oracle:
        o = Path(a.oracle)
        oi = json.loads((o / 'eval_config.json').read_text())
        osum = pd.read_csv(o / 'summary.csv')
        print(f"\n## UPPER BOUND, not a forecast: {oi['information_note']}\n\n{oi['n_samples']} test samples of {oi['n_storms']} storms\n")
        print(score_table(osum, [m for m in (oi['model_method'], 'vae_recon') if m in set(osum.method)], leads))


if __name__ == '__main__':
    main()
