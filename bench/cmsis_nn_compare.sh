#!/usr/bin/env bash
# Instructions per inference of an exported model on CMSIS-NN's s8 kernels vs piconas's own,
# per Cortex-M target under QEMU (-icount shift=0), logits checked byte for byte.
#
#   bench/cmsis_nn_compare.sh CMSIS_NN_DIR CHECKPOINT EXPORT_DIR WORK_DIR [TARGET...]
#
# EXPORT_DIR must come from `piconas export CHECKPOINT --out EXPORT_DIR --no-in-place` (CMSIS-NN
# has no in-place depthwise kernel), with CHECKPOINT spelled the same (model.h records it).
# CMSIS_NN_DIR is the user's own CMSIS-NN checkout (Include/, Source/); nothing of it is part of
# piconas. TARGETs default to cortex-m0 cortex-m4 cortex-m7 cortex-m55 (those whose RAM the
# model does not fit are reported and skipped). Per target the script
#   1. runs `piconas verify CHECKPOINT --export EXPORT_DIR --target T` (piconas's count, the
#      inputs, and logits proven identical to the host executor) into WORK_DIR/T;
#   2. builds CMSIS-NN with the board's gcc flags and -O2 (the flags piconas verify uses) in up to
#      three variants: plain C (__ARM_FEATURE_DSP and __ARM_FEATURE_MVE undefined), DSP (M4, M7,
#      M55: MVE undefined) and MVE (M55);
#   3. links the same model.c and harness with bench/cmsis_nn/piconas_on_cmsis_nn.c (each
#      piconas kernel call forwarded to arm_convolve_wrapper_s8, arm_depthwise_conv_wrapper_s8,
#      arm_fully_connected_per_channel_s8, arm_elementwise_add_s8, arm_avgpool_s8), runs it on
#      the same images and compares its logits with piconas's byte for byte;
#   4. prints instructions per inference and per layer kind, and writes WORK_DIR/summary.md.
# Environment: PICONAS (default build/bin/piconas), IMAGES (default 2).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,23p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
cmsis=$(cd "$1" && pwd)
checkpoint=$2
export_dir=$(cd "$3" && pwd)
work=$4
shift 4
targets=${*:-cortex-m0 cortex-m4 cortex-m7 cortex-m55}
piconas=${PICONAS:-$here/../build/bin/piconas}
images=${IMAGES:-2}
for tool in arm-none-eabi-gcc arm-none-eabi-ar qemu-system-arm jq; do
  command -v $tool >/dev/null || { echo "cmsis_nn_compare: $tool not found on PATH" >&2; exit 1; }
done
[ -f "$cmsis/Include/arm_nnfunctions.h" ] || { echo "cmsis_nn_compare: $cmsis has no Include/arm_nnfunctions.h" >&2; exit 1; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
summary=$work/summary.md
echo "| target | kernels | instructions per inference | vs piconas | logits | per kind (instructions) |" >"$summary"
echo "|---|---|---|---|---|---|" >>"$summary"

# mean_by_kind TICKS_BIN LAYERS FACTOR JSON: "total kind=instructions ..." from ticks.bin.
mean_by_kind() {
  local words=$(( $2 + 1 ))
  od -An -v -tu4 -w$((4 * words)) "$1" |
    awk -v f="$3" -v kinds="$(jq -r '[.layers[].kind] | join(" ")' "$4")" '
      { n++; for (i = 1; i <= NF; i++) s[i] += $i }
      END {
        split(kinds, k, " ");
        printf "%.0f", s[1] * f / n;
        for (i = 2; i <= NF; i++) { t[k[i - 1]] += s[i] * f / n; if (!(k[i - 1] in seen)) { seen[k[i - 1]] = 1; order[++m] = k[i - 1] } }
        for (j = 1; j <= m; j++) printf " %s=%.0f", order[j], t[order[j]];
        printf "\n";
      }'
}

for target in $targets; do
  out=$work/$target
  echo "== $target" >&2
  if ! "$piconas" verify "$checkpoint" --export "$export_dir" --out "$out" --images "$images" \
      --mcu-images "$images" --target "$target" --no-in-place >"$out.log" 2>&1; then
    echo "$target: piconas verify failed (see $out.log): $(tail -1 "$out.log")" >&2
    echo "| $target | - | - | - | - | $(tail -1 "$out.log") |" >>"$summary"
    continue
  fi
  json=$out/instructions.json
  flags=$(jq -r .gcc_flags "$json")
  qemu_args=$(jq -r .qemu_args "$json")
  script=$(jq -r .linker_script "$json")
  factor=$(jq -r .instructions_per_tick "$json")
  layers=$(jq -r '.layers | length' "$json")
  mcu=$out/mcu/mcu
  ours=$(mean_by_kind "$out/mcu/ticks.bin" "$layers" "$factor" "$json")
  echo "$target piconas: $ours" >&2
  echo "| $target | piconas | ${ours%% *} | 1.00x | reference | ${ours#* } |" >>"$summary"
  case $target in
    cortex-m0) variants="plain" ;;
    cortex-m55) variants="plain dsp mve" ;;
    *) variants="plain dsp" ;;
  esac
  for variant in $variants; do
    case $variant in
      plain) undef="-U__ARM_FEATURE_DSP -U__ARM_FEATURE_MVE" ;;
      dsp) undef="-U__ARM_FEATURE_MVE" ;;
      mve) undef="" ;;
    esac
    lib=$work/lib/$target-$variant
    if [ ! -f "$lib/libcmsisnn.a" ]; then
      mkdir -p "$lib"
      ls "$cmsis"/Source/{ConvolutionFunctions,FullyConnectedFunctions,BasicMathFunctions,PoolingFunctions,NNSupportFunctions,TransposeFunctions}/*.c |
        grep -v -E '_f(16|32)\.c$' |
        xargs -P2 -I{} sh -c 'arm-none-eabi-gcc '"$flags $undef"' -O2 -ffunction-sections -fdata-sections -w -I'"$cmsis"'/Include -c {} -o '"$lib"'/$(basename {} .c).o'
      arm-none-eabi-ar rcs "$lib/libcmsisnn.a" "$lib"/*.o
    fi
    dir=$out/cmsis-$variant
    mkdir -p "$dir"
    cp "$out/mcu/input.bin" "$dir/"
    scratch=65536
    [ "$target" = cortex-m0 ] && scratch=1024
    (cd "$dir" && arm-none-eabi-gcc $flags $undef -std=c99 -O2 -ffunction-sections -fdata-sections -nostdlib \
      -include "$mcu/layer_hooks.h" -DPICONAS_CMSIS_SCRATCH=$scratch -DPICONAS_S8_PACKED_PREFERRED=0 -I "$export_dir" -I "$cmsis/Include" -I "$mcu" \
      -L "$mcu" -T "$script" "$mcu/startup.c" "$mcu/harness.c" "$export_dir/model.c" \
      "$here/cmsis_nn/piconas_on_cmsis_nn.c" "$lib/libcmsisnn.a" -lgcc -Wl,--gc-sections -o prog.elf &&
      timeout 1200 qemu-system-arm $qemu_args -nographic -monitor none \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel prog.elf) >"$dir/log" 2>&1 || {
      echo "$target $variant: build or run failed (see $dir/log)" >&2
      echo "| $target | CMSIS-NN $variant | failed | - | - | $dir/log |" >>"$summary"
      continue
    }
    if cmp -s "$dir/output.bin" "$out/mcu/output.bin"; then same=identical; else same=DIFFERENT; fi
    theirs=$(mean_by_kind "$dir/ticks.bin" "$layers" "$factor" "$json")
    ratio=$(awk -v a="${ours%% *}" -v b="${theirs%% *}" 'BEGIN { printf "%.2fx", b / a }')
    echo "$target CMSIS-NN $variant: $theirs ($ratio of piconas; logits $same)" >&2
    echo "| $target | CMSIS-NN $variant | ${theirs%% *} | $ratio | $same | ${theirs#* } |" >>"$summary"
  done
done
cat "$summary"
