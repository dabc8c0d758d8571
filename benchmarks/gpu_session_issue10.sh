#!/usr/bin/env bash
# Issue 10's remaining measurements (results to $OUT). Parts run in the order given; a device call holds what fits in
# ~9.5 minutes, e.g. `step` alone, then `profile vae cudatest`, then `curve`. Run from the repository root after
# installing the carried wheels:
#   bash benchmarks/gpu_session_issue10.sh step      # cond_patch 4: seeds' way, ours, ours+c, ours+cg (CUDA graphs), compiled peer
#   bash benchmarks/gpu_session_issue10.sh cudatest  # nbdev_test --flags cuda of 04_trainer (the sync-free step, graphs)
#   bash benchmarks/gpu_session_issue10.sh profile   # kernel-time breakdown of ours+c at batch 256 and 32
#   bash benchmarks/gpu_session_issue10.sh curve     # eager (skip on the device) vs host-side skip vs compiled: same loss curve? samples/s (300 steps)
#   bash benchmarks/gpu_session_issue10.sh loader    # store loader at 8/16 workers vs stage 2's input cache on the GPU
#   bash benchmarks/gpu_session_issue10.sh vae       # the VAE stage's step (LPIPS + PatchGAN on): seed / ours / ours+c
#   bash benchmarks/gpu_session_issue10.sh nhwc      # GroupNormNHWC (unet.norm_nhwc) vs nn.GroupNorm at 256 and 32, profiled
#   bash benchmarks/gpu_session_issue10.sh rows      # batch 8: seeds' way, ours+c, CUDA graphs, compiled peer (~5 min)
#   bash benchmarks/gpu_session_issue10.sh l16       # the latent-16 variant compiled at batch 8 .. 256 (~6 min)
# Measured (benchmarks/RESULTS.md): 2026-11-29 seed/ours/ours+c/peer at 32/128/256 (cond_patch 1), sampling, the
# store loader; 2026-11-30 step (cond_patch 4, compiled peer, CUDA graphs), profile, vae (batch 8), cudatest, loader,
# curve (200 steps); later that day nhwc (slower: unet.norm_nhwc stays off), vae at batch 32, rows (batch 8), l16.
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O"
t() { echo "== $*" | tee -a "$O/issue10.txt"; timeout "$1" "${@:2}" 2>&1 | tail -60 | tee -a "$O/issue10.txt"; }
for part in "${@:-step}"; do case "$part" in
  step)
    t 280 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --cond-patch 4 \
      --paths seed@p1 seed ours ours+c ours+cg peer+c --json "$O/step_p4_32.json"
    t 290 python benchmarks/step_speed.py --device cuda --batches 128 256 --latent 64 --cond-patch 4 \
      --paths ours+c peer+c --steps 6 --json "$O/step_p4_big.json" ;;
  vae)
    t 240 python benchmarks/vae_step_speed.py --device cuda --batches 8 32 --paths seed ours ours+c --json "$O/vae_step.json" ;;
  profile)
    t 150 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --cond-patch 4 --paths ours+c --steps 6 --profile ours+c:256
    t 150 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --cond-patch 4 --paths ours+c --profile ours+c:32 ;;
  nhwc)
    t 300 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --cond-patch 4 --steps 6 \
      --paths ours+c ours+c@nhwc --profile ours+c@nhwc:256 --json "$O/step_nhwc_256.json"
    t 200 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --cond-patch 4 \
      --paths ours ours@nhwc ours+cg@nhwc --json "$O/step_nhwc_32.json" ;;
  rows)
    t 330 python benchmarks/step_speed.py --device cuda --batches 8 --latent 64 --cond-patch 4 \
      --paths seed@p1 ours+c ours+cg peer+c --json "$O/step_b8.json" ;;
  l16)
    t 420 python benchmarks/step_speed.py --device cuda --batches 8 32 128 256 --latent 16 --cond-patch 4 \
      --paths ours+c --steps 6 --json "$O/step_l16.json" ;;
  cudatest)
    t 200 nbdev_test --path nbs/04_trainer.ipynb --flags cuda --do_print ;;
  loader)   # needs a store: the skill run's (/tmp/skill/store) when the machine is still warm, else a demo-size one
    S=$([ -d /tmp/skill/store ] && echo "--store /tmp/skill/store --split train" || echo "--build-workers 16")
    t 200 python benchmarks/loader_throughput.py $S --batch-size 32 --workers 8 16 --samples 1024 --cache cuda ;;
  curve)
    t 560 python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/gpu.yaml --steps ${CURVE_STEPS:-300} --vae-steps 30 \
      --variants eager=train.compile=false host_check=train.compile=false,train.nonfinite_check=host compiled=train.compile=true \
      graphs=train.compile=true,train.compile_mode=reduce-overhead
    cp /tmp/cc/compile_curve.json "$O/" ;;
  *) echo "unknown part: $part" ;;
esac; done
