#!/usr/bin/env bash
# Recalibrates the MCU latency model (nas/deploy/latency.h) from QEMU -icount measurements of
# the emitted C; rerun it whenever the int8 kernels or the emitter change:
#
#   bench/latency_calibrate.sh WORK_DIR
#
# 1. samples random int8-deployable architectures of the blocks space (bench_latency sample:
#    half 1x28x28, half 3x32x32 inputs): FIT of them (seed 1) to fit, HELDOUT (seed 2) to
#    validate; for cortex-m0 a second set of 1x28x28 models that fit its board (16 KB of RAM,
#    256 KB of flash; M0_FIT of them, seed 3, and M0_HELDOUT, seed 4), measured on cortex-m0
#    only (the first set hardly ever fits it);
# 2. trains each for one epoch on 64 Fashion-MNIST images (instruction counts depend on the
#    shapes, not on the weights), exports it and runs `piconas verify --target T` for every
#    target of TARGETS (per-layer instructions under QEMU -icount; logits byte-identical to the
#    host executor or the run is dropped); a model that does not fit the board is skipped;
# 3. bench_latency fit: least squares per target and kernel variant on the FIT runs, written
#    to nas/deploy/latency_table.cpp, then predicted vs measured per held-out model, written
#    to WORK_DIR/validation.md (docs/latency.md quotes it), and two held-out models per target
#    to tests/deploy/latency_heldout.json (the deploy test checks the compiled table on them).
# Rebuild piconas afterwards to compile the new table in. Environment: BUILD (default build),
# FIT (default 40), HELDOUT (default 24), TARGETS (default "cortex-m4 cortex-m7 cortex-m55"),
# M0_FIT (default 40), M0_HELDOUT (default 24; both 0: no cortex-m0 rows), TABLE (default
# nas/deploy/latency_table.cpp), HELDOUT_JSON (default tests/deploy/latency_heldout.json),
# JOBS (default 2).
set -euo pipefail
if [ $# -ne 1 ]; then
  sed -n '2,25p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
work=$(cd "$1" && pwd)
build=${BUILD:-$here/../build}
export PICONAS=$build/bin/piconas
bench=$build/bin/bench_latency
fit=${FIT:-40}
heldout=${HELDOUT:-24}
m0_fit=${M0_FIT:-40}
m0_heldout=${M0_HELDOUT:-24}
table=${TABLE:-$here/../nas/deploy/latency_table.cpp}
heldout_json=${HELDOUT_JSON:-$here/../tests/deploy/latency_heldout.json}
export TARGETS=${TARGETS:-cortex-m4 cortex-m7 cortex-m55}

# One run directory: arch (text), train/, export/, verify-T/ per target.
measure() {
  local dir=$1
  local arch
  arch=$(cat "$dir/arch")
  local shape="--channels 1 --resolution 28"
  case $arch in *in=3x32x32*) shape="--channels 3 --resolution 32" ;; esac
  if [ ! -f "$dir/train/best.ckpt" ]; then
    "$PICONAS" train --arch "$arch" --epochs 1 --limit 64 --batch 32 --bn-batches 1 --no-test \
      --threads 1 $shape --out "$dir/train" >"$dir/train.log" 2>&1 || return 0
  fi
  [ -d "$dir/export" ] || "$PICONAS" export "$dir/train/best.ckpt" --out "$dir/export" --eval 0 \
    >"$dir/export.log" 2>&1 || return 0
  for target in $TARGETS; do
    [ -f "$dir/verify-$target/instructions.json" ] && continue
    if ! "$PICONAS" verify "$dir/train/best.ckpt" --export "$dir/export" --out "$dir/verify-$target" \
        --images 1 --mcu-images 1 --target "$target" >"$dir/verify-$target.log" 2>&1; then
      rm -f "$dir/verify-$target/instructions.json"
      echo "  $dir $target: not measured ($(tail -1 "$dir/verify-$target.log"))" >&2
    fi
  done
  echo "  measured $dir" >&2
}
export -f measure

for set in fit:$fit:1 heldout:$heldout:2; do
  IFS=: read -r name count seed <<<"$set"
  : >"$work/$name.list"
  half=$((count / 2))
  { "$bench" sample "$half" "$seed" 1x28x28; "$bench" sample "$((count - half))" "$seed" 3x32x32; } |
    nl -v0 -nrz -w3 | while read -r index arch; do
      mkdir -p "$work/$name-$index"
      echo "$arch" >"$work/$name-$index/arch"
      echo "$work/$name-$index" >>"$work/$name.list"
    done
done
cat "$work/fit.list" "$work/heldout.list" | xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

# The cortex-m0 set: small models, measured on cortex-m0 only.
for set in m0fit:$m0_fit:3 m0heldout:$m0_heldout:4; do
  IFS=: read -r name count seed <<<"$set"
  : >"$work/$name.list"
  "$bench" sample "$count" "$seed" 1x28x28 cortex-m0 | nl -v0 -nrz -w3 | while read -r index arch; do
    mkdir -p "$work/$name-$index"
    echo "$arch" >"$work/$name-$index/arch"
    echo "$work/$name-$index" >>"$work/$name.list"
  done
done
cat "$work/m0fit.list" "$work/m0heldout.list" |
  TARGETS=cortex-m0 xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

cat "$work/fit.list" "$work/m0fit.list" >"$work/all-fit.list"
cat "$work/heldout.list" "$work/m0heldout.list" >"$work/all-heldout.list"
"$bench" fit "$table" "$work/all-fit.list" "$work/all-heldout.list" "$heldout_json" |
  tee "$work/validation.md"
