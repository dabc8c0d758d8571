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
echo "nproc $(nproc --all); cgroup CPU quota: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null)"
grep -m1 'model name' /proc/cpuinfo; lscpu | grep -E 'Thread|Core|Socket' ; uptime
if [ "${LIGHT:-0}" = 1 ]; then PROCS="1 4 8 16" SECS=5 VT_LIMIT=170 VT_WORKERS="16" VT_SERIAL=1
else PROCS="1 2 4 8 12 16" SECS=6 VT_LIMIT=200 VT_WORKERS="8 16" VT_SERIAL=2; fi
echo "== cpu_scaling"; python benchmarks/cpu_scaling.py --procs $PROCS --seconds $SECS
echo "== verify_throughput, baselines scored on the GPU ($SECONDS s)"
timeout $VT_LIMIT python benchmarks/verify_throughput.py --samples 16 --workers $VT_WORKERS --serial-samples $VT_SERIAL --score-on device --baselines-on cuda --no-save
echo "== sampling_speed ($SECONDS s)"
timeout 130 python benchmarks/sampling_speed.py --config gpu --device cuda --storms 8 --guidance 1 --compile reduce-overhead \
  --baseline ddim --baseline-steps 2 --repeats 3
[ "${LIGHT:-0}" = 1 ] && { echo "== done at $SECONDS s"; exit 0; }
echo "== verify_throughput, baselines scored in numpy ($SECONDS s)"
timeout 120 python benchmarks/verify_throughput.py --samples 16 --workers 16 --serial-samples 1 --score-on device --no-save
echo "== done at $SECONDS s"
