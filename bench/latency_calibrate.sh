#!/usr/bin/env bash
# Recalibrates the MCU latency model (nas/deploy/latency.h) from QEMU -icount measurements of
# the emitted C; rerun it whenever the int8 kernels or the emitter change:
#
#   bench/latency_calibrate.sh WORK_DIR
#
# 1. samples int8-deployable architectures of the blocks space (bench_latency sample: half
#    1x28x28, half 3x32x32 inputs), in sets: FIT random ones (seed 1) to fit, HELDOUT (seed 2)
#    to validate; MBV3_FIT (seed 5) and MBV3_HELDOUT (seed 6) MobileNetV3-style ones (hard-swish,
#    squeeze-and-excitation); BUDGET_FIT (seed 7) and BUDGET_HELDOUT (seed 8) with planner flags
#    (RUN/plan: an SRAM budget, maybe --patch-layers auto) under which the export runs in-place
#    1x1 convs or patches; PATCHED_FIT (seed 15) and PATCHED_HELDOUT (seed 16) with automatic
#    patching only, 1x28x28 models that fit the cortex-m55 board (its patched stages);
#    TIGHT_FIT (seed 17) patched at the least arena (no room for the packed conv scratch:
#    unpacked 1x1 convs on cortex-m4/m7); UNPACKED_FIT (seed 19) and UNPACKED_HELDOUT (seed 20)
#    3x32x32 patched models whose budget leaves a k > 1 conv (the stem) unpacked on
#    cortex-m4/m7 (the unpacked im2col kernel); POOL_FIT (seed 13) and POOL_HELDOUT (seed 14)
#    graph networks with max / average pools that fit the cortex-m0 board, measured on
#    cortex-m0 too; GATED_FIT (seed 21) and GATED_HELDOUT (seed 22) graph networks with sigmoid
#    and hard-sigmoid gates (elementwise, per-pixel and squeeze-and-excitation muls, logistic
#    layers) that fit the cortex-m0 board, measured on every target too;
#    MobileNetV3-Small on 1x28x28 (held out, with MBV3_HELDOUT > 0); for
#    cortex-m0 the same kinds again as 1x28x28 models that fit its board (16 KB of RAM, 256 KB
#    of flash): M0_FIT (seed 3) and M0_HELDOUT (seed 4) random ones, and mbv3 / budget sets
#    scaled by M0_FIT / FIT and M0_HELDOUT / HELDOUT (seeds 9-12), measured on cortex-m0 only;
#    a larger count keeps the first draws of a set (they are drawn in order);
# 2. trains each for one epoch on 64 Fashion-MNIST images (instruction counts depend on the
#    shapes, not on the weights), exports it (with its planner flags) and runs `piconas verify
#    --target T` for every target of TARGETS (per-layer instructions under QEMU -icount; logits
#    byte-identical to the host executor or the run is dropped); a model that does not fit the
#    board is skipped (RUN/verify-T.skipped: not retried); a run already measured is kept
#    (rerunning resumes; a run directory whose
#    architecture or plan the sampler now draws differently is measured anew);
# 3. bench_latency fit: least squares per target and kernel variant on the fit sets, written
#    to nas/deploy/latency_table.cpp, then predicted vs measured per held-out model, written
#    to WORK_DIR/validation.md (docs/latency.md quotes it), and two held-out models per target
#    and plan kind to tests/deploy/latency_heldout.json (the deploy test checks the compiled
#    table on them).
# Rebuild piconas afterwards to compile the new table in. Environment: BUILD (default build),
# FIT (default 40), HELDOUT (default 24), MBV3_FIT (8), MBV3_HELDOUT (4), BUDGET_FIT (10),
# BUDGET_HELDOUT (6), PATCHED_FIT (12), PATCHED_HELDOUT (4), TIGHT_FIT (4), UNPACKED_FIT (8),
# UNPACKED_HELDOUT (4), POOL_FIT (8), POOL_HELDOUT (4), GATED_FIT (12), GATED_HELDOUT (6),
# TARGETS (default "cortex-m4 cortex-m7 cortex-m55"), M0_FIT (default 40),
# M0_HELDOUT (default 24; both 0: no cortex-m0 rows), TABLE (default
# nas/deploy/latency_table.cpp), HELDOUT_JSON (default tests/deploy/latency_heldout.json),
# JOBS (default 2).
set -euo pipefail
if [ $# -ne 1 ]; then
  sed -n '2,46p' "$0" >&2
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
mbv3_fit=${MBV3_FIT:-8}
mbv3_heldout=${MBV3_HELDOUT:-4}
budget_fit=${BUDGET_FIT:-10}
budget_heldout=${BUDGET_HELDOUT:-6}
patched_fit=${PATCHED_FIT:-12}
patched_heldout=${PATCHED_HELDOUT:-4}
tight_fit=${TIGHT_FIT:-4}
unpacked_fit=${UNPACKED_FIT:-8}
unpacked_heldout=${UNPACKED_HELDOUT:-4}
pool_fit=${POOL_FIT:-8}
pool_heldout=${POOL_HELDOUT:-4}
gated_fit=${GATED_FIT:-12}
gated_heldout=${GATED_HELDOUT:-6}
table=${TABLE:-$here/../nas/deploy/latency_table.cpp}
heldout_json=${HELDOUT_JSON:-$here/../tests/deploy/latency_heldout.json}
export TARGETS=${TARGETS:-cortex-m4 cortex-m7 cortex-m55}

# One run directory: arch (text), train/, export/, verify-T/ per target.
measure() {
  local dir=$1
  local arch flags=""
  arch=$(cat "$dir/arch")
  [ -f "$dir/plan" ] && flags=$(cat "$dir/plan")
  local shape="--channels 1 --resolution 28"
  case $arch in *in=3x32x32*) shape="--channels 3 --resolution 32" ;; esac
  if [ ! -f "$dir/train/best.ckpt" ]; then
    "$PICONAS" train --arch "$arch" --epochs 1 --limit 64 --batch 32 --bn-batches 1 --no-test \
      --threads 1 $shape --out "$dir/train" >"$dir/train.log" 2>&1 || return 0
  fi
  # shellcheck disable=SC2086  # the planner flags are words
  [ -d "$dir/export" ] || "$PICONAS" export "$dir/train/best.ckpt" --out "$dir/export" --eval 0 $flags \
    >"$dir/export.log" 2>&1 || return 0
  for target in $TARGETS; do
    [ -f "$dir/verify-$target/instructions.json" ] && continue
    [ -f "$dir/verify-$target.skipped" ] && continue  # over the board's RAM or flash
    if ! "$PICONAS" verify "$dir/train/best.ckpt" --export "$dir/export" --out "$dir/verify-$target" \
        --images 1 --mcu-images 1 --target "$target" $flags >"$dir/verify-$target.log" 2>&1; then
      rm -f "$dir/verify-$target/instructions.json"
      echo "  $dir $target: not measured ($(tail -1 "$dir/verify-$target.log"))" >&2
      if grep -q "over the [0-9]* B of $target" "$dir/verify-$target.log"; then
        cp "$dir/verify-$target.log" "$dir/verify-$target.skipped"
      fi
    fi
  done
  echo "  measured $dir" >&2
}
export -f measure

# A set NAME of COUNT architectures of KIND (bench_latency sample: default, mbv3, budget, ...)
# from SEED: NAME.list, one run directory per architecture (arch; plan: the planner flags of a
# budget draw). Without a target: half 1x28x28, half 3x32x32 inputs; with one (cortex-m0,
# cortex-m55): 1x28x28 models whose firmware fits its board; with INPUT (TARGET "-" for none):
# that input only. A run directory whose arch or plan differs from the new draw (the sampler
# changed) is emptied, so that no measurement is kept for another architecture.
make_set() {
  local name=$1 count=$2 seed=$3 kind=$4 target=${5:-} input=${6:-}
  local half=$((count / 2))
  : >"$work/$name.list"
  if [ -n "$input" ]; then
    "$bench" sample "$count" "$seed" "$input" "${target:--}" "$kind"
  elif [ -n "$target" ]; then
    "$bench" sample "$count" "$seed" 1x28x28 "$target" "$kind"
  else
    "$bench" sample "$half" "$seed" 1x28x28 - "$kind"
    "$bench" sample "$((count - half))" "$seed" 3x32x32 - "$kind"
  fi | nl -v0 -nrz -w3 | while IFS=$'\t' read -r index arch flags; do
    dir=$work/$name-$index
    if [ -f "$dir/arch" ] && { [ "$(cat "$dir/arch")" != "$arch" ] ||
      [ "$(cat "$dir/plan" 2>/dev/null)" != "$flags" ]; }; then
      echo "  $dir: a new draw, its old measurements removed" >&2
      rm -rf "$dir"
    fi
    mkdir -p "$dir"
    echo "$arch" >"$dir/arch"
    if [ -n "$flags" ]; then echo "$flags" >"$dir/plan"; else rm -f "$dir/plan"; fi
    echo "$dir" >>"$work/$name.list"
  done
}

make_set fit "$fit" 1 default
make_set heldout "$heldout" 2 default
make_set mbv3fit "$mbv3_fit" 5 mbv3
make_set mbv3heldout "$mbv3_heldout" 6 mbv3
make_set budgetfit "$budget_fit" 7 budget
make_set budgetheldout "$budget_heldout" 8 budget
make_set patchedfit "$patched_fit" 15 patched cortex-m55
make_set patchedheldout "$patched_heldout" 16 patched cortex-m55
make_set tightfit "$tight_fit" 17 tight cortex-m55
make_set unpackedfit "$unpacked_fit" 19 unpacked - 3x32x32
make_set unpackedheldout "$unpacked_heldout" 20 unpacked - 3x32x32
# MobileNetV3-Small itself (docs/reference_networks.md) on a 1x28x28, 10-class input: held out.
: >"$work/reference.list"
if [ "$mbv3_heldout" -gt 0 ]; then
  mkdir -p "$work/reference-mbv3small"
  echo "blocks:in=1x28x28,classes=10,act=hswish,stem=16k3s2|ir:k3e1s2c16:se:relu|ir:k3e4s2c24:relu|ir:k3e4s1c24:relu|ir:k5e4s2c40:se|ir:k5e6s1c40:se|ir:k5e6s1c40:se|ir:k5e3s1c48:se|ir:k5e3s1c48:se|ir:k5e6s2c96:se|ir:k5e6s1c96:se|ir:k5e6s1c96:se|head=576" \
    >"$work/reference-mbv3small/arch"
  echo "$work/reference-mbv3small" >"$work/reference.list"
fi
main_sets="fit heldout mbv3fit mbv3heldout budgetfit budgetheldout patchedfit patchedheldout tightfit"
main_sets="$main_sets unpackedfit unpackedheldout reference"
for set in $main_sets; do cat "$work/$set.list"; done | xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

# The pool networks: small enough for cortex-m0, measured on every target.
make_set poolfit "$pool_fit" 13 pool cortex-m0
make_set poolheldout "$pool_heldout" 14 pool cortex-m0
cat "$work/poolfit.list" "$work/poolheldout.list" |
  TARGETS="$TARGETS cortex-m0" xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

# The gated networks (mul, pixel mul and logistic layers): small enough for cortex-m0 too.
make_set gatedfit "$gated_fit" 21 gated cortex-m0
make_set gatedheldout "$gated_heldout" 22 gated cortex-m0
cat "$work/gatedfit.list" "$work/gatedheldout.list" |
  TARGETS="$TARGETS cortex-m0" xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

# The cortex-m0 sets: small models, measured on cortex-m0 only.
make_set m0fit "$m0_fit" 3 default cortex-m0
make_set m0heldout "$m0_heldout" 4 default cortex-m0
make_set m0mbv3fit "$((m0_fit * mbv3_fit / (fit > 0 ? fit : 1)))" 9 mbv3 cortex-m0
make_set m0mbv3heldout "$((m0_heldout * mbv3_heldout / (heldout > 0 ? heldout : 1)))" 10 mbv3 cortex-m0
make_set m0budgetfit "$((m0_fit * budget_fit / (fit > 0 ? fit : 1)))" 11 budget cortex-m0
make_set m0budgetheldout "$((m0_heldout * budget_heldout / (heldout > 0 ? heldout : 1)))" 12 budget cortex-m0
m0_sets="m0fit m0heldout m0mbv3fit m0mbv3heldout m0budgetfit m0budgetheldout"
for set in $m0_sets; do cat "$work/$set.list"; done |
  TARGETS=cortex-m0 xargs -P "${JOBS:-2}" -I{} bash -c 'measure {}'

cat "$work"/{fit,mbv3fit,budgetfit,patchedfit,tightfit,unpackedfit,poolfit,gatedfit}.list \
  "$work"/{m0fit,m0mbv3fit,m0budgetfit}.list \
  >"$work/all-fit.list"
cat "$work"/{heldout,mbv3heldout,budgetheldout,patchedheldout,unpackedheldout,poolheldout,gatedheldout}.list \
  "$work/reference.list" \
  "$work"/{m0heldout,m0mbv3heldout,m0budgetheldout}.list \
  >"$work/all-heldout.list"
"$bench" fit "$table" "$work/all-fit.list" "$work/all-heldout.list" "$heldout_json" |
  tee "$work/validation.md"
