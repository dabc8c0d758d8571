#!/usr/bin/env bash
# Pack a baseline cache verified on this machine (`python benchmarks/skill.py --phase baselines ... --baseline-cache
# /tmp/skill/bcache`) into .bcache/ for skill18_device_call.sh to carry: the entries without forecasts (the figure
# samples' entries hold them, ~44 MB each, and are recomputed on the device) and the run's timings.json, which
# skill18_tables.py counts into the evaluation's time.   bash benchmarks/pack_bcache.sh [/tmp/skill]
set -eu
SRC=${1:-/tmp/skill}
[ -f "$SRC/eval_baselines/timings.json" ] || { echo "$SRC/eval_baselines/timings.json: missing (the baselines run has not finished)"; exit 1; }
rm -rf .bcache && mkdir -p .bcache/entries
find "$SRC/bcache" -name '*.npz' -size -5M -exec cp {} .bcache/entries/ \;
cp "$SRC/eval_baselines/timings.json" .bcache/
echo "$(ls .bcache/entries | wc -l) entries, $(du -sh .bcache | cut -f1)"
