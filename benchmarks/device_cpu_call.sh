#!/usr/bin/env bash
# One device call measuring the CPU side of issue 18's evaluation on the device (16 vCPUs), nothing else running:
# how many cores' worth of work the machine does at once (cpu_scaling.py), and the baselines' verification per
# 256-px sample with 16 members (verify_throughput.py), its scores on the GPU (--baselines-on cuda) and in numpy;
# then the GPU side: one rollout step of 8 storms x 16 members (the evaluation's --forecast-batch 8, guidance 1)
# eager and compiled with CUDA graphs, with the compile's cost (sampling_speed.py, random weights).
#   bash benchmarks/device_cpu_call.sh        # carry .whl
#   LIGHT=1 bash benchmarks/device_cpu_call.sh   # ~6 minutes: fewer process counts, 16 workers only, no numpy-scored run
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl &&
PYTHONPATH=/tmp/site python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target /tmp/site .whl/*.tar.gz ||
  { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
echo "== installed at $SECONDS s"; nvidia-smi --query-gpu=name --format=csv,noheader
L=${LIGHT:-0}
echo "== cpu_scaling"; if [ "$L" = 1 ]; then python benchmarks/cpu_scaling.py --procs 1 4 8 16 --seconds 5; else python benchmarks/cpu_scaling.py --procs 1 2 4 8 12 16 --seconds 6; fi
echo "== verify_throughput, baselines scored on the GPU ($SECONDS s)"
timeout $([ "$L" = 1 ] && echo 170 || echo 200) python benchmarks/verify_throughput.py --samples 16 --workers $([ "$L" = 1 ] && echo 16 || echo 8 16) --serial-samples $([ "$L" = 1 ] && echo 1 || echo 2) --score-on device --baselines-on cuda --no-save
echo "== sampling_speed ($SECONDS s)"
timeout 130 python benchmarks/sampling_speed.py --config gpu --device cuda --storms 8 --guidance 1 --compile reduce-overhead \
  --baseline ddim --baseline-steps 2 --repeats 3
[ "$L" = 1 ] && { echo "== done at $SECONDS s"; exit 0; }
echo "== verify_throughput, baselines scored in numpy ($SECONDS s)"
timeout 120 python benchmarks/verify_throughput.py --samples 16 --workers 16 --serial-samples 1 --score-on device --no-save
echo "== done at $SECONDS s"
