#!/bin/sh
# Runs the QDQ ONNX file of `piconas export --onnx-int8` in onnxruntime (npm package
# onnxruntime-node, installed into WORK, never into the repository) and compares its logits with
# the piconas int8 host executor's on the same int8 images. Optional, never in CI; needs node and
# npm with network access, and the Fashion-MNIST files where `piconas train` finds them.
# usage: bench/onnx_qdq_ort/run.sh PICONAS WORK [CHECKPOINT]
# Without CHECKPOINT a small Fashion-MNIST network is trained first (1 epoch on 2048 images).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PICONAS=$1
WORK=$2
mkdir -p "$WORK"
CKPT=${3:-}
if [ -z "$CKPT" ]; then
  "$PICONAS" train --arch 'blocks:in=1x28x28,classes=10,act=relu6,stem=8k3s2|ir:k3e2s1c8|ds:k5s2c16|ir:k5e4s1c16|ir:k3e2s2c24|head=32' \
    --limit 2048 --epochs 1 --batch 64 --seed 3 --threads 2 --no-test --out "$WORK/train"
  CKPT=$WORK/train/last.ckpt
fi
"$PICONAS" export "$CKPT" --calib 64 --eval 0 --out "$WORK/c" --onnx-int8 "$WORK/int8.onnx"
# verify feeds the host executor and the emitted C the same int8 images and checks they agree;
# host/input.bin holds the images, host/output.bin the (identical) int8 logits.
"$PICONAS" verify "$CKPT" --export "$WORK/c" --out "$WORK/verify" --calib 64 --images 200 --mcu-images 0
if [ ! -d "$WORK/node_modules/onnxruntime-node" ]; then
  # --ignore-scripts: the CPU runtime ships in the package; its install script only fetches the
  # optional CUDA provider (from api.nuget.org).
  npm install --prefix "$WORK" --ignore-scripts --no-save onnxruntime-node@1.31.1 >"$WORK/npm.log" 2>&1
fi
NODE_PATH="$WORK/node_modules" node "$here/compare.js" "$WORK/int8.onnx" "$WORK/c/model.h" \
  "$WORK/verify/host/input.bin" "$WORK/verify/host/output.bin"
