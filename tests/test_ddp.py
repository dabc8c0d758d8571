"""Multi-process training through `accelerate launch`, on 2 CPU processes (gloo): the command a GPU user runs
with `--multi_gpu --num_processes 2`, here on the tiny config. The replicas agree on the weights, one process
writes, the curve matches one process with the same global batch, and a checkpoint resumes across layouts."""
import os, socket, subprocess, sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / 'configs' / 'tiny.yaml'
COMMON = ['train.progress=false', 'train.tensorboard=false', 'train.random_samples=64', 'train.ckpt_every=4',
          'train.keep_last=10', 'train.log_every=1', 'train.num_workers=0']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def train(processes: int, out, vae, *overrides, resume=False, stage='ldm'):
    "`cyclonediff train` in 1 process, or under `accelerate launch --multi_gpu` in several (gloo on CPUs)."
    cli = ['-m', 'cyclonediff.cli', 'train', stage, '--cfg', str(CFG), *COMMON, f'train.out_dir={out}',
           *([f'train.vae_ckpt={vae}'] if vae else []), *overrides, *(['--resume'] if resume else [])]
    launch = [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', str(processes),
              '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
              '--main_process_port', str(free_port())] if processes > 1 else [sys.executable]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'default', 'CUDA_VISIBLE_DEVICES': '',
           'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    r = subprocess.run([*launch, *cli], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


def csv_rows(path):
    import csv
    with open(path) as f: return list(csv.DictReader(f))


@pytest.fixture(scope='module')
def vae(tmp_path_factory):
    out = tmp_path_factory.mktemp('vae') / 'vae'
    train(1, out, None, 'train.max_steps=8', stage='vae')
    return out


@pytest.fixture(scope='module')
def two(vae, tmp_path_factory):
    "8 steps on 2 processes at batch 8 each (global batch 16)."
    out = tmp_path_factory.mktemp('two') / 'run'
    return out, train(2, out, vae, 'train.max_steps=8', 'train.batch_size=8')


def test_replicas_agree_and_one_process_writes(two):
    out, r = two
    assert r.stdout.count('final checkpoint:') == 1                    # printed by the main process only
    assert '2 process(es) x batch 8 x grad_accum 1 = 16 samples a step' in r.stdout
    rows = csv_rows(out / 'logs' / 'replicas.csv')                      # gathered from both ranks at each checkpoint
    assert [int(x['step']) for x in rows] == [4, 8]
    for x in rows: assert x['rank0_sum'] == x['rank1_sum'] and x['rank0_sumsq'] == x['rank1_sumsq'] and float(x['max_abs_diff']) == 0
    assert rows[0]['rank0_sum'] != rows[1]['rank0_sum']                 # the weights did move between checkpoints
    steps = [int(x['step']) for x in csv_rows(out / 'logs' / 'train.csv')]
    assert steps == list(range(1, 9))                                   # one writer: no duplicated rows
    names = sorted(p.name for p in (out / 'checkpoints').iterdir())
    assert names == ['best', 'step_0000004', 'step_0000008'], names     # no half-written .tmp folders
    rng = torch.load(out / 'checkpoints' / 'step_0000008' / 'rng.pt', weights_only=True)
    assert len(rng['ranks']) == 2 and not torch.equal(rng['ranks'][0]['torch'], rng['ranks'][1]['torch'])


def test_same_curve_as_one_process_with_the_same_global_batch(two, vae, tmp_path):
    out2, _ = two
    train(1, tmp_path / 'one', vae, 'train.max_steps=8', 'train.batch_size=16')
    v1, v2 = (csv_rows(o / 'logs' / 'val.csv') for o in (tmp_path / 'one', out2))
    assert [x['step'] for x in v1] == [x['step'] for x in v2] == ['0', '4', '8']
    assert float(v1[0]["loss"]) == pytest.approx(float(v2[0]["loss"]), rel=1e-5)    # same weights, same keyed draws
    for a, b in zip(v1[1:], v2[1:]): assert float(a['loss']) == pytest.approx(float(b['loss']), rel=0.08)
    t1, t2 = (csv_rows(o / 'logs' / 'train.csv') for o in (tmp_path / 'one', out2))
    assert [x['epoch'] for x in t1] == [x['epoch'] for x in t2]          # the same samples per step (sampler test)


def test_resume_two_processes_on_one_and_back(vae, tmp_path):
    out = tmp_path / 'run'
    train(2, out, vae, 'train.max_steps=6', 'train.batch_size=8')       # 4 steps an epoch: stops mid-epoch 1
    r = train(1, out, vae, 'train.max_steps=10', 'train.batch_size=16', resume=True)
    assert 'random states of 2 process(es), this run has 1' in r.stderr
    assert 'continues at batch' not in r.stderr                          # same global batch: same position
    r = train(2, out, vae, 'train.max_steps=13', 'train.batch_size=4', resume=True)   # 1 -> 2, global batch 16 -> 8
    assert 'random states of 1 process(es), this run has 2' in r.stderr
    assert 'epoch 2 continues at batch 4 (0 samples of it are seen again)' in r.stderr
    rows = csv_rows(out / 'logs' / 'train.csv')
    assert [int(x['step']) for x in rows] == list(range(1, 14))
    epochs = [float(x['epoch']) for x in rows]
    assert epochs[5] == 1.5 and epochs[9] == 2.5 and epochs[10] == pytest.approx(2 + 5 / 8)   # the data position
    assert all(b > a for a, b in zip(epochs, epochs[1:]))
    assert float(csv_rows(out / 'logs' / 'replicas.csv')[-1]['max_abs_diff']) == 0
    assert (out / 'checkpoints' / 'step_0000013' / 'manifest.json').is_file()
