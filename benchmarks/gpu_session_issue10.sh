#!/usr/bin/env bash
# Issue 10's measurements in one device call (about 9 minutes on one H200; nothing here was run yet).
# Run from the repository root after installing the carried wheels; results go to $OUT (or /tmp/out).
#   bash benchmarks/gpu_session_issue10.sh
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O"
t() { echo "== $*" | tee -a "$O/issue10.txt"; timeout "$1" "${@:2}" 2>&1 | tail -40 | tee -a "$O/issue10.txt"; }
# 1. the LDM training step: seeds' way, ours, compiled, diffusers' peer (latent 64), then ours at latent 16
t 260 python benchmarks/step_speed.py --device cuda --batches 32 128 256 --latent 64 --paths seed ours peer ours+c --json "$O/step64.json"
t 80 python benchmarks/step_speed.py --device cuda --batches 32 128 --latent 16 --paths ours --json "$O/step16.json"
# 2. sampling: 16 members, 20 DPM-Solver++ steps with CFG, condition encoding and decode included
t 60 python benchmarks/sampling_speed.py --config seed --device cuda
# 3. the evaluation's CPU side per 256-px sample, serial and in worker processes
t 90 python benchmarks/verify_throughput.py --samples 8 --workers 8 16
# 4. the store loader at 8 and 16 workers against the step's consumption
t 60 python benchmarks/loader_throughput.py --workers 8 16 --build-workers 16 --samples 512
