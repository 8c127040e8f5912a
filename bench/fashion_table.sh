#!/usr/bin/env bash
# The paper table of a Fashion-MNIST model: FID on our classifier's features (bench_fashion_fid,
# docs/image_quality.md) and the share of class-conditional samples classified as asked, for
# solvers x NFE x settings. Every cell is one `scoresde sample` run and one `bench_fashion_fid
# score`; the table is rewritten after each cell, so a long run can be read (and resumed: cells
# whose .npy exists are scored again, not sampled again).
#
#   bench/fashion_table.sh MODEL_DIR OUT_DIR [options]
#     --n N             samples per cell (10000 for the paper's numbers; FID is biased up at small N,
#                       compare cells at the same N)                                  [10000]
#     --guidance W      the guided settings' classifier-free guidance scale           [1.5]
#     --solvers "..."   fixed-grid solvers; adaptive ones (dpm-adaptive, sde-adaptive,
#                       ode-dopri5) take their default tolerances and ignore --nfe
#                       [ddim dpmpp-2m unipc deis heun dpmpp-2m-sde dpm-adaptive]
#     --nfe "..."       target NFE per sample; steps = NFE / (the solver's NFE per step) [5 10 20 50]
#     --settings "..."  uncond (null class), class (class-balanced, w = 0), guided (w = W),
#                       and each with -clip (--clip-x0; without it --no-clip-x0, whatever the
#                       model directory recommends)   [uncond class guided class-clip guided-clip]
#     --threads K       LibTorch threads per run                                         [2]
#     --batch B         samples per batch of a run: memory and float32 rounding only (the
#                       shipped U-Net holds ~2 MB of activations a sample, twice that guided;
#                       docs/image_quality.md's table was sampled at 1000)            [1000]
#     --build DIR       the build directory with cli/scoresde and bench/bench_fashion_fid [build]
#
# Writes OUT_DIR/table.csv (one row per cell) and OUT_DIR/table.md; the samples stay in OUT_DIR.
set -euo pipefail

usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 2; }  # the header above
[ $# -ge 2 ] || usage
model=$1 out=$2
shift 2
n=10000 guidance=1.5 threads=2 batch=1000 build=build
solvers="ddim dpmpp-2m unipc deis heun dpmpp-2m-sde dpm-adaptive"
nfes="5 10 20 50"
settings="uncond class guided class-clip guided-clip"
while [ $# -gt 0 ]; do
  case $1 in
    --n) n=$2 ;;
    --guidance) guidance=$2 ;;
    --solvers) solvers=$2 ;;
    --nfe) nfes=$2 ;;
    --settings) settings=$2 ;;
    --threads) threads=$2 ;;
    --batch) batch=$2 ;;
    --build) build=$2 ;;
    *) echo "fashion_table: unknown option $1" >&2; usage ;;
  esac
  shift 2 || { echo "fashion_table: $1 needs a value" >&2; exit 2; }
done
scoresde=$build/cli/scoresde fid=$build/bench/bench_fashion_fid
for program in "$scoresde" "$fid"; do
  [ -x "$program" ] || { echo "fashion_table: $program is missing; build it first (cmake --build $build)" >&2; exit 2; }
done
[ -f "$model/model.json" ] || { echo "fashion_table: $model is not a model directory (no model.json)" >&2; exit 2; }
mkdir -p "$out"

# Steps for a target NFE: two calls per step for the second-order singlestep solvers; one else.
# Adaptive solvers choose their own steps (one cell each, NFE as measured).
adaptive() { case $1 in dpm-adaptive | sde-adaptive | ode-dopri5 | ode-cash-karp) return 0 ;; esac; return 1; }
steps_for() {
  case $1 in
    heun | dpmpp-2s) echo $(( ($2 + 1) / 2 )) ;;
    *) echo "$2" ;;
  esac
}
# Each solver on its customary grid: EDM's Heun on Karras', the rest uniform in log-SNR.
schedule_for() { case $1 in heun) echo karras ;; *) echo logsnr ;; esac; }

csv=$out/table.csv
echo "solver,setting,steps,nfe,fid,classified_as_asked,worst_class,seconds" > "$csv.tmp"
mv "$csv.tmp" "$csv"
write_markdown() {
  {
    echo "| solver | setting | steps | NFE | FID ($n) | classified as asked | worst class | sampling s |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    tail -n +2 "$csv" | awk -F, '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
  } > "$out/table.md.tmp"
  mv "$out/table.md.tmp" "$out/table.md"
}

for solver in $solvers; do
  if adaptive "$solver"; then targets=adaptive; else targets=$nfes; fi
  for target in $targets; do
    for setting in $settings; do
      flags=()
      case $setting in
        uncond*) ;;
        class*) flags+=(--class all) ;;
        guided*) flags+=(--class all --guidance "$guidance") ;;
        *) echo "fashion_table: unknown setting $setting" >&2; exit 2 ;;
      esac
      # Explicit either way: a model directory may recommend clipping (the shipped one does).
      case $setting in *-clip) flags+=(--clip-x0) ;; *) flags+=(--no-clip-x0) ;; esac
      if [ "$target" = adaptive ]; then
        steps=- name=$solver-$setting
      else
        steps=$(steps_for "$solver" "$target")
        flags+=(--steps "$steps" --schedule "$(schedule_for "$solver")")
        name=$solver-$steps-$setting
      fi
      npy=$out/$name.npy
      if [ ! -f "$npy" ]; then
        "$scoresde" sample --model "$model" --solver "$solver" "${flags[@]}" --n "$n" --seed 0 \
          --batch "$batch" --threads "$threads" --out "$npy" > "$out/$name.log" 2>&1 ||
          { echo "fashion_table: sampling $name failed; see $out/$name.log" >&2; exit 1; }
      fi
      case $setting in uncond*) classes=() ;; *) classes=(--classes) ;; esac
      OMP_NUM_THREADS=$threads "$fid" score "$npy" "${classes[@]}" > "$out/$name.score"
      nfe=$(sed -n 's/.*"nfe_mean": \([0-9.e+-]*\).*/\1/p' "${npy%.npy}.json")
      seconds=$(sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p' "${npy%.npy}.json")
      score=$(sed -n 's/^FID \([0-9.]*\) .*/\1/p' "$out/$name.score")
      share=$(sed -n 's/^all\t\([0-9.]*\) (worst class \([0-9.]*\))/\1/p' "$out/$name.score")
      worst=$(sed -n 's/^all\t\([0-9.]*\) (worst class \([0-9.]*\))/\2/p' "$out/$name.score")
      printf '%s,%s,%s,%.1f,%s,%s,%s,%.0f\n' "$solver" "$setting" "$steps" "$nfe" "$score" "${share:--}" \
        "${worst:--}" "$seconds" >> "$csv"
      write_markdown
      echo "$name: NFE $nfe, FID $score${share:+, classified as asked $share (worst $worst)}"
    done
  done
done
echo "wrote $csv and $out/table.md"
