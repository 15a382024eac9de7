# Shared by tests/int8/mcu/run.sh and bench/mcu_kernels/run.sh: the QEMU boards of each core
# (the boards qemu-system-arm emulates). Sets CORE_FLAGS, CORE_LD, CORE_QEMU, CORE_RAM for the core named in $CORE.
case "$CORE" in
  cortex-m0) CORE_FLAGS="-mcpu=cortex-m0 -mthumb"; CORE_LD=microbit.ld
             CORE_QEMU="-M microbit"; CORE_RAM=16384 ;;
  cortex-m4) CORE_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
             CORE_LD=mps2_an386.ld; CORE_QEMU="-M mps2-an386 -cpu cortex-m4"; CORE_RAM=4194304 ;;
  cortex-m7) CORE_FLAGS="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
             CORE_LD=mps2_an386.ld; CORE_QEMU="-M mps2-an500 -cpu cortex-m7"; CORE_RAM=4194304 ;;
  cortex-m55) CORE_FLAGS="-mcpu=cortex-m55 -mthumb -mfloat-abi=hard"
             CORE_LD=mps3_an547.ld; CORE_QEMU="-M mps3-an547"; CORE_RAM=524288 ;;
  *) echo "unknown core '$CORE' (cortex-m0|cortex-m4|cortex-m7|cortex-m55)" >&2; exit 2 ;;
esac
