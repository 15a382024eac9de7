#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan + libFuzzer, libraries
# instrumented) in build-fuzz/ and runs each for a fixed time from its committed seed corpus.
# Fails on any crash, leak, sanitizer report, timeout (>10 s per input) or RSS above 2 GB; the
# offending input is saved in build-fuzz/fuzz-artifacts/.
#   FUZZ_SECONDS  seconds per target (default 20)
#   FUZZ_JOBS     targets run at once and build jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
jobs="${FUZZ_JOBS:-2}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELEASE="-O1 -gline-tables-only" \
  -DPICONAS_FUZZ=ON -DPICONAS_OPENMP=OFF -DPICONAS_BENCH=OFF -DCMAKE_UNITY_BUILD=ON \
  -DPICONAS_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_all
ctest --test-dir build-fuzz -R '^fuzz_' --output-on-failure -j"$jobs"
