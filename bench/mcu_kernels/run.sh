#!/bin/sh
# Instructions per int8 kernel call under QEMU for the tiny-bench / mbv2-bench layer shapes:
# piconas old (portable) vs new (SIMD) and, with CMSIS_NN=<checkout>, CMSIS-NN's wrappers
# compiled with the same compiler and flags in three builds: plain C (DSP and MVE macros
# undefined), DSP (MVE undefined) and, on Cortex-M55, MVE.
#   usage: bench/mcu_kernels/run.sh [cortex-m0|cortex-m4|cortex-m7|cortex-m55 ...]
#   env:   CMSIS_NN=path to a CMSIS-NN checkout (optional), OPT=-O2 (default), WORK=dir
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORK:-$(mktemp -d)}
opt=${OPT:--O2}
cores=${*:-cortex-m0 cortex-m4 cortex-m7 cortex-m55}
mcu=$root/nas/deploy/mcu
for core in $cores; do
  CORE=$core
  . "$root/tests/int8/mcu/cores.sh"
  arena=$((CORE_RAM - CORE_RAM / 8 - 8192))
  builds="piconas"
  if [ -n "${CMSIS_NN:-}" ]; then
    builds="cmsis-c"
    case "$core" in cortex-m4|cortex-m7) builds="$builds cmsis-dsp" ;; esac
    case "$core" in cortex-m55) builds="$builds cmsis-dsp cmsis-mve" ;; esac
  fi
  for build in $builds; do
    defs=""; cmsis_src=""; cmsis_undef=""
    case "$build" in
      cmsis-c) cmsis_undef="-U__ARM_FEATURE_DSP -U__ARM_FEATURE_MVE" ;;
      cmsis-dsp) cmsis_undef="-U__ARM_FEATURE_MVE" ;;
    esac
    out=$work/$core-$build
    mkdir -p "$out"
    if [ "$build" != piconas ]; then
      defs="-DPICONAS_BENCH_CMSIS_NN -I$CMSIS_NN/Include"
      # CMSIS-NN is compiled from the user's checkout into the work directory only.
      for src in "$CMSIS_NN"/Source/*/*.c; do
        obj=$out/$(basename "$src" .c).o
        # Sources this toolchain cannot build (e.g. float16 kernels) are left out.
        if arm-none-eabi-gcc $CORE_FLAGS $opt $cmsis_undef -w -ffunction-sections -fdata-sections \
          -I"$CMSIS_NN/Include" -c "$src" -o "$obj" 2>/dev/null; then
          cmsis_src="$cmsis_src $obj"
        fi
      done
    fi
    arm-none-eabi-gcc $CORE_FLAGS $opt -std=c99 -Wall -Wextra -ffunction-sections -fdata-sections \
      -nostdlib -DBENCH_ARENA_BYTES=$arena $defs -I"$root" -I"$mcu" -L"$mcu" \
      -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" "$root/bench/mcu_kernels/bench_kernels.c" \
      "$root"/ops/int8/[!q]*.c $cmsis_src -lgcc -Wl,--gc-sections -o "$out/bench.elf"
    echo "== $core $build $opt"
    (cd "$out" && timeout 900 qemu-system-arm $CORE_QEMU -nographic -monitor none \
      -semihosting-config enable=on,target=native -icount shift=0 -kernel bench.elf) 2>&1 || true
  done
done
