"`cyclonediff demo --quick`: the whole system end to end, resumed, and interrupted (real subprocesses)."
import json, math, os, re, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest

def demo(out, timeout=900):
    return subprocess.run([sys.executable, '-m', 'cyclonediff.cli', 'demo', '--quick', '--out', str(out)],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, 'PYTHONUNBUFFERED': '1'})

def check_outputs(out: Path, r):
    assert r.returncode == 0, r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last == f'report: {out / "eval" / "report.html"}', last
    ev = out / 'eval'
    for f in ('report.html', 'report.md', 'scores.csv', 'summary.csv'): assert (ev / f).stat().st_size > 0, f
    figs = {p.name for p in (ev / 'figures').glob('*.png')}
    assert {'scores_vs_lead.png', 'rank_histogram.png', 'spectra.png'} <= figs and any(f.startswith('comparison') for f in figs)
    df = pd.read_csv(ev / 'scores.csv')
    assert {'ldm', 'persistence', 'extrapolation'} <= set(df.method)
    core = df[df.metric.isin(['mae', 'rmse', 'crps'])]
    assert len(core) and all(math.isfinite(v) for v in core.value), 'MAE / RMSE / CRPS must be finite'
    return df

@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo') / 'out'
    t0 = time.time(); r = demo(out)
    return out, r, time.time() - t0

def test_demo_writes_report_csv_and_figures(first_run):
    out, r, _ = first_run
    check_outputs(out, r)

def test_report_opens_with_skill_sentences_that_match_summary(first_run):
    "The report's first paragraph: one sentence per baseline, each difference equal to summary.csv's model - baseline."
    out, r, _ = first_run
    assert r.returncode == 0, r.stderr[-3000:]
    ev = out / 'eval'
    first = (ev / 'report.md').read_text().split('\n\n')[1]
    summ = pd.read_csv(ev / 'summary.csv')
    mean = lambda m, member, metric, lead: summ[(summ.method == m) & (summ.member.astype(str) == member)
                                                & (summ.metric == metric) & (summ.lead == lead)]['mean'].item()
    sentences = re.findall(r'Against (\w+), `ldm` is (.*?)\.(?: |$)', first)
    assert {b for b, _ in sentences} == {'persistence', 'extrapolation'}, first
    checked = 0
    for base, text in sentences:
        for score, lead, diff in re.findall(r'(CRPS|mean RMSE) at \+(\d+) h \(([+-]\d+\.\d+) K', text):
            member, metric = ('ens', 'crps') if score == 'CRPS' else ('mean', 'rmse')
            want = mean('ldm', member, metric, int(lead)) - mean(base, member, metric, int(lead))
            assert abs(float(diff) - want) < 0.006, (base, score, lead, diff, want)
            checked += 1
    assert checked == 2 * 2 * len(set(summ[summ.method == 'ldm'].lead)), first     # both scores at every lead
    head = re.search(r'Against the strongest baseline of each lead and score, `ldm` is (.*?)\.(?: Against|$)', first)
    assert head, first
    named = re.findall(r'(CRPS|mean RMSE) at \+(\d+) h \((\w+), ([+-]\d+\.\d+) K', head.group(1))
    for score, lead, base, diff in named:                 # the strongest: the baseline of the lowest mean, named
        member, metric = ('ens', 'crps') if score == 'CRPS' else ('mean', 'rmse')
        means = {b: mean(b, member, metric, int(lead)) for b, _ in sentences}
        assert base == min(means, key=means.get), (score, lead, base, means)
        assert abs(float(diff) - (mean('ldm', member, metric, int(lead)) - means[base])) < 0.006, (score, lead, diff)
    assert len(named) == 2 * len(set(summ[summ.method == 'ldm'].lead)), head.group(1)
    assert (out / 'guidance' / 'guidance.json').is_file()                              # chosen on the validation storms
    cfg = json.loads((ev / 'eval_config.json').read_text())['config']
    assert cfg['guidance'] == json.loads((out / 'guidance' / 'guidance.json').read_text())['chosen']

def test_demo_run_twice_resumes(first_run):
    out, _, _ = first_run
    ckpts = sorted(p.name for p in (out / 'runs' / 'ldm' / 'checkpoints').iterdir())
    r = demo(out)
    check_outputs(out, r)
    assert 'starting from scratch' not in r.stdout + r.stderr        # both stages resumed from their checkpoints
    assert sorted(p.name for p in (out / 'runs' / 'ldm' / 'checkpoints').iterdir()) == ckpts

def test_demo_interrupted_then_rerun_completes(tmp_path):
    out = tmp_path / 'out'
    p = subprocess.Popen([sys.executable, '-m', 'cyclonediff.cli', 'demo', '--quick', '--out', str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:   # kill it hard once it is inside the store build or the training
        for line in p.stdout:
            if line.startswith('[3/'): break
        time.sleep(1.0)
    finally:
        p.send_signal(signal.SIGKILL); p.wait()
    assert not (out / 'eval' / 'report.html').exists()
    check_outputs(out, demo(out))

def test_eval_command_with_leads_and_baselines(first_run, tmp_path):
    out, r, _ = first_run
    assert r.returncode == 0, r.stderr[-3000:]
    ev = tmp_path / 'ev'
    e = subprocess.run([sys.executable, '-m', 'cyclonediff.cli', 'eval', '--ckpt', str(out / 'runs' / 'ldm'),
                        '--store', str(out / 'store'), '--out', str(ev), '--members', '2', '--steps', '3',
                        '--leads', '3', '--baselines', 'persistence,storm_persistence,storm_persistence_ens',
                        '--max-samples', '2', '--workers', '1'],
                       capture_output=True, text=True, timeout=600)
    assert e.returncode == 0, e.stderr[-3000:]
    df = pd.read_csv(ev / 'scores.csv')
    assert set(df.method) == {'ldm', 'persistence', 'storm_persistence', 'storm_persistence_ens', 'vae_recon'} and set(df.lead) == {3}
    info = json.loads((ev / 'eval_config.json').read_text())       # the storm baselines' spread, fitted on the train storms
    assert sorted(info['track_spread_km']) == ['3.0'] and info['track_spread_km']['3.0'] > 0

def test_eval_command_without_baselines(first_run, tmp_path):
    "`--baselines none` scores the model alone (what benchmarks/skill.py --choose-guidance uses on the validation split)."
    out, r, _ = first_run
    assert r.returncode == 0, r.stderr[-3000:]
    ev = tmp_path / 'ev0'
    e = subprocess.run([sys.executable, '-m', 'cyclonediff.cli', 'eval', '--ckpt', str(out / 'runs' / 'ldm'),
                        '--store', str(out / 'store'), '--out', str(ev), '--members', '2', '--steps', '3', '--split', 'val',
                        '--leads', '3', '--baselines', 'none', '--max-samples', '1', '--guidance', '2'],
                       capture_output=True, text=True, timeout=600)
    assert e.returncode == 0, e.stderr[-3000:]
    assert set(pd.read_csv(ev / 'scores.csv').method) == {'ldm', 'vae_recon'}
