# tests/deploy: the int8 export pipeline. The suite compiles emitted C with the host C compiler;
# the "mcu" test suite (Cortex-M4 / M0 under QEMU) runs only when the cross toolchain is found.
piconas_test_suite(deploy piconas_nas)
set_tests_properties(deploy PROPERTIES COST 50)
target_compile_definitions(test_deploy PRIVATE
  PICONAS_TEST_CC="${CMAKE_C_COMPILER}"
  PICONAS_MCU_DIR="${PROJECT_SOURCE_DIR}/nas/deploy/mcu"
  PICONAS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
find_program(PICONAS_ARM_GCC arm-none-eabi-gcc)
find_program(PICONAS_ARM_SIZE arm-none-eabi-size)
find_program(PICONAS_QEMU_ARM qemu-system-arm)
if(PICONAS_ARM_GCC AND PICONAS_ARM_SIZE AND PICONAS_QEMU_ARM)
  target_compile_definitions(test_deploy PRIVATE
    PICONAS_ARM_GCC="${PICONAS_ARM_GCC}" PICONAS_ARM_SIZE="${PICONAS_ARM_SIZE}"
    PICONAS_QEMU_ARM="${PICONAS_QEMU_ARM}")
  # The mcu cases are decorated doctest::skip() so that the plain `deploy` run stays host-only.
  add_test(NAME deploy_mcu COMMAND test_deploy --no-skip --test-suite=mcu)
  set_tests_properties(deploy_mcu PROPERTIES COST 120)
else()
  message(STATUS "deploy: arm-none-eabi-gcc / qemu-system-arm not found, MCU tests disabled")
endif()
# The Fashion-MNIST accuracy check trains tiny-bench for an epoch (minutes): opt in.
option(PICONAS_SLOW_TESTS "Register slow tests (int8 accuracy on Fashion-MNIST)" OFF)
if(PICONAS_SLOW_TESTS)
  add_test(NAME deploy_accuracy COMMAND test_deploy --no-skip --test-suite=accuracy)
endif()
