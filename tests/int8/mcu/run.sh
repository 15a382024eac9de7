#!/bin/sh
# Builds tests/int8/mcu/kernel_test.c with the int8 kernels for one core and runs it under
# QEMU (ctest int8_mcu_<core>); on Cortex-M0 with -DPICONAS_S8_SIMD_EMULATION, so that the C
# emulation of the DSP instructions runs there too. On every core it runs at -O2 and at -O2 with
# a frame pointer (the assembly blocks then keep a pointer in memory), and the kernels are
# compiled at -O0, -Og and -Os. usage: run.sh <core> <work dir>
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
CORE=$1
. "$root/tests/int8/mcu/cores.sh"
work=$2/$1
mcu=$root/nas/deploy/mcu
mkdir -p "$work"
# The inline assembly of the kernels (Armv6-M and DSP) must assemble at every optimization level
# a firmware may use (-O0, -Og, -Os and a frame pointer leave it fewer registers).
for opt in -O0 -Og -Os; do
  for src in "$root"/ops/int8/[!q]*.c; do
    arm-none-eabi-gcc $CORE_FLAGS $opt -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
      -I"$root" -c "$src" -o "$work/opt_check.o"
  done
done
cd "$work"
for opt in -O2 "-O2 -fno-omit-frame-pointer"; do
  arm-none-eabi-gcc $CORE_FLAGS $opt -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
    -ffunction-sections -fdata-sections -nostdlib -I"$root" -I"$mcu" -L"$mcu" \
    -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" "$root/tests/int8/mcu/kernel_test.c" \
    "$root"/ops/int8/[!q]*.c -lgcc -Wl,--gc-sections -o kernel_test.elf
  echo "kernel_test $opt:"
  timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel kernel_test.elf
done
# The hard-swish, multiply and logistic kernels against their int64 twins (activation_test.c).
arm-none-eabi-gcc $CORE_FLAGS -O2 -std=c99 -Wall -Wextra -Werror -ffunction-sections -fdata-sections \
  -nostdlib -I"$root" -I"$mcu" -L"$mcu" -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" \
  "$root/tests/int8/mcu/activation_test.c" "$root/ops/int8/hardswish_s8.c" \
  "$root/ops/int8/channel_mul_s8.c" "$root/ops/int8/mul_s8.c" "$root/ops/int8/logistic_s8.c" \
  "$root/ops/int8/requantize.c" -lgcc -Wl,--gc-sections \
  -o activation_test.elf
timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel activation_test.elf
# The in-place 1x1 convolution against the out-of-place reference (conv1x1_inplace_test.c).
arm-none-eabi-gcc $CORE_FLAGS -O2 -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
  -ffunction-sections -fdata-sections -nostdlib -I"$root" -I"$mcu" -L"$mcu" \
  -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" "$root/tests/int8/mcu/conv1x1_inplace_test.c" \
  "$root"/ops/int8/[!q]*.c -lgcc -Wl,--gc-sections -o conv1x1_inplace_test.elf
timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel conv1x1_inplace_test.elf
# The average pools (in-image count and include-pad) against their int64 twin (pool_test.c).
arm-none-eabi-gcc $CORE_FLAGS -O2 -std=c99 -Wall -Wextra -Werror -ffunction-sections -fdata-sections \
  -nostdlib -I"$root" -I"$mcu" -L"$mcu" -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" \
  "$root/tests/int8/mcu/pool_test.c" "$root/ops/int8/avg_pool2d_s8.c" -lgcc -Wl,--gc-sections \
  -o pool_test.elf
timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel pool_test.elf
# The grouped conv against the portable conv on its dense filter (grouped_conv_test.c).
arm-none-eabi-gcc $CORE_FLAGS -O2 -std=c99 -Wall -Wextra -Werror -DPICONAS_S8_SIMD_EMULATION \
  -ffunction-sections -fdata-sections -nostdlib -I"$root" -I"$mcu" -L"$mcu" \
  -L"$root/tests/int8/mcu" -T $CORE_LD "$mcu/startup.c" "$root/tests/int8/mcu/grouped_conv_test.c" \
  "$root"/ops/int8/[!q]*.c -lgcc -Wl,--gc-sections -o grouped_conv_test.elf
timeout 120 qemu-system-arm $CORE_QEMU -nographic -monitor none \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel grouped_conv_test.elf
