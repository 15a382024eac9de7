#!/usr/bin/env bash
# Hostile command lines (ctest "hostile_cli", issue 13): each must end within seconds with exit
# code 1 and one "piconas: error:" line (never a crash, a hang, exit 0 or an "unexpected
# error"), and must leave nothing behind. Usage: hostile_cli.sh PICONAS_BINARY WORK_DIR [with-data]
# ("with-data": Fashion-MNIST is installed, so the search cases reach their checks).
set -uo pipefail
export LC_ALL=C  # error lines may quote bytes that are not UTF-8
piconas=$1
work=$2
with_data=${3:-}
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0

# expect_error PATTERN ARGS...: exit 1 within 20 s, stderr one line matching PATTERN.
expect_error() {
  local pattern=$1
  shift
  timeout 20 "$piconas" "$@" >stdout.txt 2>stderr.txt
  local code=$?
  if [ "$code" -ne 1 ] || ! grep -q "^piconas: error: .*$pattern" stderr.txt || [ "$(wc -l <stderr.txt)" -ne 1 ]; then
    echo "FAIL (exit $code): piconas $*"
    echo "  expected one 'piconas: error: ...$pattern' line, got:"
    head -c 600 stderr.txt | sed 's/^/  /'
    failures=$((failures + 1))
  fi
}

mkfifo fifo.ckpt
printf 'x' > a_file
long_arch="blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2$(for _ in $(seq 30); do printf '|ir:k3e2s1c16'; done)|head=0"
[ ${#long_arch} -gt 255 ] || { echo "FAIL: test text too short"; exit 1; }

# Crashes and hangs.
expect_error "--batch must be in" train --arch tiny-bench --epochs 1 --batch 9223372036854775807 --no-test --out t1
expect_error "epochs" train --arch tiny-bench --epochs 99999999999999999999 --out t2
expect_error "--warmup must be in" train --arch tiny-bench --warmup 1e308 --out t3
expect_error "not a regular file" eval fifo.ckpt
expect_error "not a regular file" export fifo.ckpt --out e6
# Silently wrong results.
expect_error "--lr must be in" train --arch tiny-bench --lr inf --out t4
expect_error "--lr must be in" train --arch tiny-bench --lr 1e30 --out t5
expect_error "--weight-decay must be in" train --arch tiny-bench --weight-decay inf --out t6
printf '{"population": 4294967298}' > wrap.json
expect_error "population" run --config wrap.json --out r1
printf '{"threads": 4294967297}' > wrap2.json
expect_error "threads" run --config wrap2.json --out r2
# Unbounded memory.
expect_error "not a regular file" eval /dev/zero
expect_error "not a regular file" run --config /dev/zero --out r3
# Unclear errors or work lost before the error.
printf '{"min_blocks": 0}' > min_blocks.json
expect_error "min_blocks" run --config min_blocks.json --out r4
printf '{"data": "../etc"}' > data.json
expect_error "dataset kind" run --config data.json --out r5
expect_error "cannot create directory" train --arch tiny-bench --out a_file/sub
expect_error "UTF-8" train --arch tiny-bench --out "$(printf 'caf\xe9')"
timeout 20 "$piconas" info "$long_arch" >info.txt 2>&1 || { echo "FAIL: info of a 400-character text"; head -3 info.txt; failures=$((failures + 1)); }
# Emitted C: the prefix is checked before the output folder is created.
expect_error "prefix" export a_file --out e1 --prefix "$(printf 'm%.0s' $(seq 300))"
expect_error "prefix" export a_file --out e2 --prefix stdint
expect_error "prefix" export a_file --out e3 --prefix piconas_int8_conv2d_s8
expect_error "percentile" export a_file --out e4 --percentile nan
expect_error "max-sram" export a_file --out e5 --max-sram -1
expect_error "not a directory" export a_file --out /dev/full
expect_error "not a directory" export a_file --out a_file
printf '{"graph":1,"input":[3,8,8]' > bad_network.json
expect_error "not an ONNX model" import a_file --out i1
expect_error "not a regular file" import fifo.ckpt --out i2
expect_error "not valid JSON" info bad_network.json
expect_error "not valid JSON" train --arch bad_network.json --out t7
expect_error "a_file" export a_file --onnx o1.onnx
if [ "$with_data" = with-data ]; then
  expect_error "--max-macs must be >= 0" search --max-macs -1 --steps 1 --output s1
  expect_error "max-sram" search --max-sram -1 --steps 1 --output s2
  expect_error "head channels" search --head -1 --steps 1 --output s3
  expect_error "bad stem" search --stem 99999k3s1 --steps 1 --output s4
fi

for d in i1 i2 t7 o1.onnx s1 s2 s3 s4 t1 t2 t3 t4 t5 t6 r1 r2 r3 r4 r5 e1 e2 e3 e4 e5 e6 "$(printf 'caf\xe9')"; do
  [ -e "$d" ] && { echo "FAIL: '$d' was created by a refused command"; failures=$((failures + 1)); }
done
if [ "$failures" -ne 0 ]; then
  echo "hostile_cli: $failures failures"
  exit 1
fi
echo "hostile_cli: every hostile command ended with one clear error and wrote nothing"
