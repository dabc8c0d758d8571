#!/usr/bin/env bash
# Issue 20 (the fused GroupNorm + SiLU, unet.fused_norm / vae.fused_norm) and issue 21's GPU checks, results to $OUT.
# Parts run in the order given; one device call holds what fits in ~9.5 minutes. Run from the repository root after
# installing the carried wheels:
#   bash benchmarks/gpu_session_issue20.sh kernel     # the fused kernel against nn.GroupNorm + SiLU on the GPU (00_layers' cuda cell)
#   bash benchmarks/gpu_session_issue20.sh cudatest   # nbdev_test --flags cuda of every notebook with cuda cells (the kernel's included)
#   bash benchmarks/gpu_session_issue20.sh step       # batch 256, cond_patch 4: ours+c, ours+c@fused, compiled peer in one run
#   bash benchmarks/gpu_session_issue20.sh profile    # kernel time by kind of ours+c@fused at 256 (ours+c's: RESULTS.md, issue 10)
#   bash benchmarks/gpu_session_issue20.sh graphs     # batch 32 with CUDA graphs: ours+cg, ours+cg@fused
#   bash benchmarks/gpu_session_issue20.sh vae        # the VAE stage at batch 32 (LPIPS + PatchGAN on): ours, @fused, @fused@dcl, +c@fused; profile
#   bash benchmarks/gpu_session_issue20.sh curve      # 300 steps of configs/gpu.yaml (graphs): old norms seed 0 and 1, fused seed 0
#   bash benchmarks/gpu_session_issue20.sh vaecurve   # 300 steps of the VAE stage of configs/gpu.yaml: old norms seed 0 and 1, vae.fused_norm seed 0
#   bash benchmarks/gpu_session_issue20.sh vaeprof    # kernel time by kind of the VAE stage with the fused norm (ours@fused@dcl) at 32
#   bash benchmarks/gpu_session_issue20.sh vae2       # the VAE stage at 32: LPIPS input channels_last, discriminator / LPIPS compiled
#   bash benchmarks/gpu_session_issue20.sh views     # batch 256: ours+c, ours+c@views (unet.nhwc_views), the compiled peer, ours+c@fused@views; profile of @views
#   bash benchmarks/gpu_session_issue20.sh viewsg    # batch 32 with CUDA graphs: ours+cg, ours+cg@views, ours+cg@fused@views
#   bash benchmarks/gpu_session_issue20.sh vaecurve2  # 300 trainer steps of the VAE stage, LPIPS + PatchGAN on: before issue 20 (seeds 0, 1) and now
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O"
t() { echo "== $*" | tee -a "$O/issue20.txt"; timeout "$1" "${@:2}" 2>&1 | tail -70 | tee -a "$O/issue20.txt"; }
for part in "${@:-step}"; do case "$part" in
  kernel)
    t 200 nbdev_test --path nbs/00_layers.ipynb --flags cuda --do_print ;;
  cudatest)
    for nb in 00_layers 01_vae 02_unet 03e_stages 04_trainer 05_eval_torch 05a_sampling; do
      t 240 nbdev_test --path nbs/$nb.ipynb --flags cuda --do_print; done ;;
  step)
    t 420 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --cond-patch 4 --steps 6 \
      --paths ours+c ours+c@fused peer+c --json "$O/step_fused_256.json" ;;
  views)
    t 330 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --cond-patch 4 --steps 6 \
      --paths ours+c ours+c@views peer+c ours+c@fused@views --profile ours+c@views:256 --json "$O/step_views_256.json" ;;
  viewsg)
    t 330 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --cond-patch 4 \
      --paths ours+cg ours+cg@views ours+cg@fused@views --json "$O/step_views_32.json" ;;
  profile)
    t 200 python benchmarks/step_speed.py --device cuda --batches 256 --latent 64 --cond-patch 4 --steps 6 \
      --paths ours+c@fused --profile ours+c@fused:256 ;;
  graphs)
    t 380 python benchmarks/step_speed.py --device cuda --batches 32 --latent 64 --cond-patch 4 \
      --paths ours+cg ours+cg@fused --json "$O/step_fused_32.json" ;;
  vae)
    t 300 python benchmarks/vae_step_speed.py --device cuda --batches 32 --paths ours ours@fused ours@fused@dcl ours+c@fused \
      --profile ours:32 --json "$O/vae_fused_32.json" ;;
  curve)
    G=train.compile=true,train.compile_mode=reduce-overhead
    t 560 python benchmarks/compile_curve.py --out /tmp/cc20 --cfg configs/gpu.yaml --steps ${CURVE_STEPS:-300} --vae-steps 30 \
      --variants old=$G old_seed1=$G,train.seed=1 fused=$G,unet.fused_norm=true
    cp /tmp/cc20/compile_curve.json "$O/compile_curve_fused.json" ;;
  vaecurve)
    t 420 python benchmarks/compile_curve.py --out /tmp/cv20 --cfg configs/gpu.yaml --stage vae --steps ${CURVE_STEPS:-300} \
      --samples 1024 --variants old=vae.fused_norm=false old_seed1=vae.fused_norm=false,train.seed=1 fused=vae.fused_norm=true
    cp /tmp/cv20/compile_curve.json "$O/vae_curve_fused.json" ;;
  vaeprof)
    t 200 python benchmarks/vae_step_speed.py --device cuda --batches 32 --paths ours ours@fused@dcl \
      --profile ours@fused@dcl:32 --json "$O/vae_fused_dcl_32.json" ;;
  vae2)
    t 390 python benchmarks/vae_step_speed.py --device cuda --batches 32 --paths ours ours@fused@dcl ours@fused@dcl@cd \
      ours@fused@dcl@cd@cp --profile ours@fused@dcl@cd:32 --json "$O/vae2_32.json" ;;
  vaecurve2)
    G=loss.perceptual_weight=0.1,loss.lpips_fallback=random,loss.disc_start=0,loss.disc_factor=1.0
    OLD=$G,vae.fused_norm=false,train.compile=false
    t 530 python benchmarks/compile_curve.py --out /tmp/cv21 --cfg configs/gpu.yaml --stage vae --steps ${CURVE_STEPS:-300} \
      --samples 1024 --variants old=$OLD old_seed1=$OLD,train.seed=1 now=$G,vae.fused_norm=true,train.compile=true
    cp /tmp/cv21/compile_curve.json "$O/vae_curve_gan.json" ;;
  *) echo "unknown part: $part" ;;
esac; done
