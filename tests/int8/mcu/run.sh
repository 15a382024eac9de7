#!/bin/sh
# Builds tests/int8/mcu/kernel_test.c with the int8 kernels for one core and runs it under
# QEMU (ctest int8_mcu_<core>); on Cortex-M0 with -DPICONAS_S8_SIMD_EMULATION, so that the C
# emulation of the DSP instructions runs there too; there the kernels are also compiled at -O0,
# -Os and with a frame pointer. usage: run.sh <core> <work dir>
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
CORE=$1
. "$root/tests/int8/mcu/cores.sh"
work=$2/$1
mcu=$root/nas/deploy/mcu
mkdir -p "$work"
# The Armv6-M inline assembly of the portable kernels must assemble at every optimization level
# a firmware may use (-O0, -Os and a frame pointer leave it fewer registers).
if [ "$CORE" = cortex-m0 ]; then
  for opt in -O0 -Os "-O2 -fno-omit-frame-pointer"; do
    for src in "$root"/ops/int8/[!q]*.c; do
      arm-none-eabi-gcc $CORE_FLAGS $opt -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
        -I"$root" -c "$src" -o "$work/opt_check.o"
    done
  done
fi
arm-none-eabi-gcc $CORE_FLAGS -O2 -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
  -ffunction-sections \
  -fdata-sections -nostdlib -I"$root" -I"$mcu" -L"$mcu" -L"$root/tests/int8/mcu" -T $CORE_LD \
  "$mcu/startup.c" "$root/tests/int8/mcu/kernel_test.c" "$root"/ops/int8/[!q]*.c -lgcc \
  -Wl,--gc-sections -o "$work/kernel_test.elf"
cd "$work"
timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel kernel_test.elf
