#!/usr/bin/env bash
# Issue 10's remaining measurements, one device call per part (each under ~9 minutes on one H200; results to $OUT).
# Run from the repository root after installing the carried wheels:
#   bash benchmarks/gpu_session_issue10.sh step      # compiled peer vs ours+c vs ours+cg (CUDA graphs), latent 64
#   bash benchmarks/gpu_session_issue10.sh profile   # kernel-time breakdown of ours+c at batch 256 and 32
#   bash benchmarks/gpu_session_issue10.sh curve     # eager (skip on the device) vs host-side skip vs compiled: same loss curve? samples/s (300 steps)
#   bash benchmarks/gpu_session_issue10.sh loader    # store loader at 8/16 workers vs stage 2's input cache on the GPU
#   bash benchmarks/gpu_session_issue10.sh vae       # the VAE stage's step (LPIPS + PatchGAN on): seed / ours / ours+c
# Measured already (2026-11-29, benchmarks/RESULTS.md): seed/ours/ours+c/peer at 32/128/256, sampling eager vs
# CUDA graphs, the store loader; 2026-11-30: ours+c with cond_patch 4 at batch 256, the input cache on the GPU.
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O"
t() { echo "== $*" | tee -a "$O/issue10.txt"; timeout "$1" "${@:2}" 2>&1 | tail -60 | tee -a "$O/issue10.txt"; }
case "${1:-step}" in
  step)
    t 250 python benchmarks/step_speed.py --device cuda --batches 32 128 --latent 64 --paths ours+c peer+c ours+cg --json "$O/step_c_a.json"
    t 250 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --paths ours+c peer+c ours+cg --steps 6 --json "$O/step_c_b.json"
    t 200 python benchmarks/step_speed.py --device cuda --batches 32 128 --latent 64 16 --paths ours ours+c --cond-patch 4 --steps 6 --json "$O/step_p4.json" ;;
  vae)
    t 400 python benchmarks/vae_step_speed.py --device cuda --batches 8 32 --paths seed ours ours+c --json "$O/vae_step.json" ;;
  profile)
    t 200 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --paths ours+c --profile ours+c:256
    t 200 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --paths ours --profile ours:32 ;;
  loader)   # needs a store: the skill run's (/tmp/skill/store) when the machine is still warm, else a demo-size one
    S=$([ -d /tmp/skill/store ] && echo "--store /tmp/skill/store --split train" || echo "--build-workers 16")
    t 200 python benchmarks/loader_throughput.py $S --batch-size 32 --workers 8 16 --samples 1024 --cache cuda ;;
  curve)
    t 540 python benchmarks/compile_curve.py --out /tmp/cc --cfg configs/gpu.yaml --steps 300 --vae-steps 30 \
      --variants eager=train.compile=false host_check=train.compile=false,train.nonfinite_check=host compiled=train.compile=true \
      graphs=train.compile=true,train.compile_mode=reduce-overhead
    cp /tmp/cc/compile_curve.json "$O/" ;;
esac
