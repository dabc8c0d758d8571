"""Resume after a hard kill gives the weights of an uninterrupted run; a truncated checkpoint is named and skipped.

Two tiny VAE-stage trainings (configs/tiny.yaml, 16 optimiser steps, gradient accumulation 2, the PatchGAN
from step 6, checkpoints every 4 steps) run as subprocesses: one straight through, one SIGKILLed between
checkpoints and then resumed. Both use one CPU thread, so they must agree to float rounding.
"""
import os, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / 'configs' / 'tiny.yaml'
OVERRIDES = ['train.max_steps=16', 'train.ckpt_every=4', 'train.keep_last=10', 'train.grad_accum=2',
             'train.random_samples=48', 'loss.disc_start=6', 'train.eval_at_start=false',
             'train.tensorboard=false', 'train.progress=false']
# the driver: train_main with an optional pause after every optimiser step (so that the kill lands mid-run)
DRIVER = """
import sys, time, torch
torch.set_num_threads(1)
from cyclonediff.trainer import train_main
out, resume, pause = sys.argv[1], sys.argv[2] == '1', float(sys.argv[3])
cbs = [lambda trainer, step: time.sleep(pause)] if pause > 0 else []
print('FINAL', train_main('vae', sys.argv[4], [f'train.out_dir={out}'] + sys.argv[5:], resume=resume, callbacks=cbs))
"""


def launch(out, resume=False, pause=0.0):
    env = {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1',
           'PYTHONWARNINGS': 'default'}
    return subprocess.Popen([sys.executable, '-c', DRIVER, str(out), '1' if resume else '0', str(pause), str(CFG), *OVERRIDES],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=120):
    "Wait for a training subprocess (again, if need be) and return its (stdout, stderr)."
    if not hasattr(proc, 'result'): proc.result = proc.communicate(timeout=timeout)
    out, err = proc.result
    assert proc.returncode == 0, f"training failed ({proc.returncode}):\n{out}\n{err[-4000:]}"
    return out, err


def tensors(ckpt):
    from safetensors.torch import load_file
    return {f'{f}:{k}': v for f in ('model', 'ema') for k, v in load_file(str(ckpt / f'{f}.safetensors')).items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    bad = [k for k in a if not torch.allclose(a[k].float(), b[k].float(), rtol=1e-5, atol=1e-6)]
    assert not bad, f"{len(bad)} tensors differ, e.g. {bad[:3]}"


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "An uninterrupted run (still running when this returns) and a run killed with SIGKILL between checkpoints."
    tmp = tmp_path_factory.mktemp('resume')
    full = launch(tmp / 'full')
    victim = launch(tmp / 'killed', pause=0.25)
    ckpts, deadline = tmp / 'killed' / 'checkpoints', time.time() + 90
    while not (ckpts / 'step_0000008' / 'manifest.json').is_file():     # at least one complete checkpoint (two, here)
        assert victim.poll() is None, f"the run to be killed ended early:\n{victim.communicate()[1][-3000:]}"
        assert time.time() < deadline, 'no checkpoint appeared in time'
        time.sleep(0.05)
    time.sleep(0.4)                                                      # somewhere after step 8, before step 12
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    yield tmp, full
    if full.poll() is None: full.kill()


def test_sigkill_then_resume_matches_uninterrupted(runs):
    tmp, full = runs
    killed = tmp / 'killed' / 'checkpoints'
    steps = sorted(p.name for p in killed.glob('step_*'))
    assert 'step_0000016' not in steps and 'step_0000008' in steps, steps     # killed mid-way
    out, err = finish(launch(tmp / 'killed', resume=True))
    assert 'step_0000016' in out
    finish(full)
    assert_same(tensors(tmp / 'full' / 'checkpoints' / 'step_0000016'), tensors(killed / 'step_0000016'))
    # the resumed log reads as one run: one row per logged step, as in the uninterrupted run
    read = lambda p: [l.split(',')[0] for l in (p / 'logs' / 'train.csv').read_text().splitlines()[1:]]
    assert read(tmp / 'killed') == read(tmp / 'full')


def test_truncated_checkpoint_is_named_and_skipped(runs):
    from cyclonediff.checkpoint import CheckpointError, load_checkpoint
    tmp, full = runs
    finish(full)
    src, run = tmp / 'full', tmp / 'truncated'
    shutil.copytree(src, run)
    for p in (run / 'checkpoints').glob('step_*'):                     # the copy's newest checkpoints: 12 and 16
        if int(p.name[5:]) < 12: shutil.rmtree(p)
    shutil.rmtree(run / 'checkpoints' / 'best', ignore_errors=True)
    f = run / 'checkpoints' / 'step_0000016' / 'model.safetensors'
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(CheckpointError, match='model.safetensors'):
        load_checkpoint(f.parent)
    out, err = finish(launch(run, resume=True))                        # falls back to step 12, trains 13..16 again
    assert 'skipping unusable checkpoint' in err and 'step_0000016' in err and 'truncated' in err
    load_checkpoint(f.parent)                                          # rewritten whole
    assert_same(tensors(src / 'checkpoints' / 'step_0000016'), tensors(run / 'checkpoints' / 'step_0000016'))
