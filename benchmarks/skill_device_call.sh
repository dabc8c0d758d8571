#!/usr/bin/env bash
# One device call of issue 8's multi-call skill run (2 x H200, the machine kept warm between calls: /tmp survives).
# Run the same line in consecutive calls until it prints "skill rc=0"; each call copies the logs, tables and figures
# (files under 3 MB: no store, world, checkpoints or forecasts) to $OUT/skill.tgz. LDM_MIN caps this call's stage-2 minutes (leave room for the
# evaluation in the last call). MAX_SAMPLES (test samples, 12) and GUIDANCE (the scales tried on the validation split,
# 1.5,3,5) default to run 4's values (SKILL.md); its evaluation took 8.9 s a sample.
#   LDM_MIN=8 bash benchmarks/skill_device_call.sh
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O"
timeout 570 python benchmarks/skill.py --out /tmp/skill --gpus 2 --workers 30 --storms 160 --days 30 --every-h 6 \
  --vae-steps 250 --vae-min 2.5 --ldm-steps "${LDM_STEPS:-9000}" --ldm-min "${LDM_MIN:-8}" --ckpt-every 1000 \
  --members 16 --max-samples "${MAX_SAMPLES:-12}" --choose-guidance "${GUIDANCE:-1.5,3,5}" --resume-training \
  --deadline-min 9.3 --eval-min "${EVAL_MIN:-3}"
echo "skill rc=$?"
tail -4 /tmp/skill/runs/ldm/logs/train.csv /tmp/skill/runs/ldm/logs/val.csv 2>/dev/null
nvidia-smi --query-gpu=name,memory.used --format=csv; df -h /tmp | tail -1
[ -f /tmp/skill/eval/scores.csv ] && gzip -kf /tmp/skill/eval/scores.csv   # the per-sample scores, for the intervals
cd /tmp/skill && find . \( -path ./store -o -path ./world -o -path '*/checkpoints' -o -path '*/latents' -o -path '*/forecasts' \) \
  -prune -o -type f -size -3M -print | tar czf "$O/skill.tgz" -T -     # under 16 MiB: what a device call brings back
ls -la "$O"
