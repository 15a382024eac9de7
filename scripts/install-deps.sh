#!/usr/bin/env bash
# Installs every Debian package piconas needs to build, test and run (idempotent).
set -euo pipefail
packages=(
  build-essential cmake
  libeigen3-dev doctest-dev libbenchmark-dev
  libstb-dev libturbojpeg0-dev pkg-config nlohmann-json3-dev libcli11-dev zlib1g-dev
  libonnx-dev libprotobuf-dev libgemmlowp-dev
  dataset-fashion-mnist
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm
  clang libclang-rt-14-dev llvm
  libopenmpi-dev openmpi-bin
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
