#!/usr/bin/env bash
# Instructions per inference of the reference models on every Cortex-M target under QEMU
# (-icount shift=0), in total and per layer kind, with piconas's own kernels.
#
#   bench/mcu_models.sh WORK_DIR [MODEL...]
#
# Models (each trained briefly on Fashion-MNIST so calibration sees real activations; the
# instruction counts do not depend on the weights' values, only on the shapes):
#   tiny-bench   tiny-bench, 1x28x28                                  (1 epoch on 2,000 images)
#   mcu-tiny     a residual net whose arena fits a 16 KB Cortex-M0     (1 epoch on 2,000 images)
#   winner       the `piconas run` winner of README.md                 (1 epoch on 2,000 images)
#   mbv2-bench   mbv2-bench with 10 classes, Fashion-MNIST as 3x96x96  (1 epoch on 64 images)
# For every model and target, `piconas export` then `piconas verify --target T` (logits
# byte-identical to the host executor, or the script fails); a target whose RAM the model
# does not fit is reported as such. Prints a table and writes WORK_DIR/summary.md; each
# WORK_DIR/MODEL/verify-T/instructions.{md,json} holds the per-layer counts.
# Environment: PICONAS (default build/bin/piconas), IMAGES (default 2), TARGETS (default all four).
set -euo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
work=$(cd "$1" && pwd)
shift
models=${*:-tiny-bench mcu-tiny winner mbv2-bench}
piconas=${PICONAS:-$here/../build/bin/piconas}
images=${IMAGES:-2}
targets=${TARGETS:-cortex-m0 cortex-m4 cortex-m7 cortex-m55}
summary=$work/summary.md
echo "| model | target | instructions per inference | flash B | RAM B | per kind (instructions) |" >"$summary"
echo "|---|---|---|---|---|---|" >>"$summary"

for model in $models; do
  train="--epochs 1 --limit 2000"
  case $model in
    tiny-bench) arch=tiny-bench ;;
    mcu-tiny) arch='blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ds:k3s1c16|ir:k3e2s2c16|ir:k3e2s1c16|head=0' ;;
    winner) arch='blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2|ir:k3e2s1c16|ir:k5e6s2c32|ir:k7e6s1c32|head=0' ;;
    mbv2-bench)
      arch=$("$piconas" info mbv2-bench | sed -n 's/^arch //p' | sed 's/classes=2/classes=10/')
      train="--epochs 1 --limit 64 --batch 32 --channels 3 --resolution 96" ;;
    *) echo "mcu_models: unknown model '$model' (known: tiny-bench mcu-tiny winner mbv2-bench)" >&2; exit 2 ;;
  esac
  dir=$work/$model
  mkdir -p "$dir"
  echo "== $model: $arch" >&2
  if [ ! -f "$dir/train/best.ckpt" ]; then
    "$piconas" train --arch "$arch" $train --out "$dir/train" >"$dir/train.log" 2>&1
  fi
  "$piconas" export "$dir/train/best.ckpt" --out "$dir/export" --eval 0 >"$dir/export.log" 2>&1
  for target in $targets; do
    out=$dir/verify-$target
    if ! "$piconas" verify "$dir/train/best.ckpt" --export "$dir/export" --out "$out" --images "$images" \
        --mcu-images "$images" --target "$target" >"$out.log" 2>&1; then
      if grep -q "B of RAM\|B of flash" "$out.log"; then
        echo "| $model | $target | does not fit: $(sed -n 's/.*verify: //p' "$out.log" | head -1) | | | |" >>"$summary"
        continue
      fi
      echo "mcu_models: $model on $target failed, see $out.log" >&2
      tail -3 "$out.log" >&2
      exit 1
    fi
    json=$out/instructions.json
    line=$(jq -r '"| '"$model"' | \(.target) | \(.instructions_per_inference | round) | \(.flash_bytes) | \(.ram_bytes) | \([.kinds[] | "\(.kind)=\(.instructions | round)"] | join(" ")) |"' "$json")
    echo "$line" >&2
    echo "$line" >>"$summary"
  done
done
cat "$summary"
