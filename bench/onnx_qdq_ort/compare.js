// Runs a QDQ ONNX file written by `piconas export --onnx-int8` in onnxruntime and compares its
// logits with the piconas int8 host executor's (bench/onnx_qdq_ort/run.sh; never in CI).
// usage: node compare.js MODEL.onnx EXPORT_DIR/model.h INPUT.bin HOST_OUTPUT.bin
// INPUT.bin: the int8 NHWC images `piconas verify` fed the host executor; HOST_OUTPUT.bin: its
// int8 logits. Each image is dequantized with the model's input scale and zero point (the QDQ
// model's first QuantizeLinear gives the same int8 values back), run, and the float logits are
// quantized with the output scale and zero point; prints how many logits agree exactly and the
// largest difference in int8 steps (LSB).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function define(header, suffix) {
  const m = header.match(new RegExp('#define \\w+_' + suffix + ' \\(?(-?[0-9.eE+-]+)f?\\)?'));
  if (!m) throw new Error('model.h: no _' + suffix);
  return Number(m[1]);
}

async function main() {
  const [onnxPath, headerPath, inputPath, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: node compare.js MODEL.onnx model.h INPUT.bin OUTPUT.bin');
  const header = fs.readFileSync(headerPath, 'utf8');
  const inScale = define(header, 'INPUT_SCALE'), inZero = define(header, 'INPUT_ZERO_POINT');
  const outScale = define(header, 'OUTPUT_SCALE'), outZero = define(header, 'OUTPUT_ZERO_POINT');
  const session = await ort.InferenceSession.create(onnxPath);
  const bytes = (path) => {
    const b = fs.readFileSync(path);
    return new Int8Array(b.buffer, b.byteOffset, b.length);
  };
  const x = bytes(inputPath), want = bytes(outputPath);
  const c = define(header, 'INPUT_CHANNELS'), h = define(header, 'INPUT_HEIGHT');
  const w = define(header, 'INPUT_WIDTH');
  const classes = define(header, 'NUM_CLASSES');
  const n = x.length / (c * h * w);
  if (!Number.isInteger(n) || want.length !== n * classes)
    throw new Error('input/output sizes do not match ' + c + 'x' + h + 'x' + w + ', ' + classes);
  const images = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; ++b)
    for (let y = 0; y < h; ++y)
      for (let xx = 0; xx < w; ++xx)
        for (let ch = 0; ch < c; ++ch)
          images[((b * c + ch) * h + y) * w + xx] =
              Math.fround((x[((b * h + y) * w + xx) * c + ch] - inZero) * inScale);
  const out = await session.run({[session.inputNames[0]]: new ort.Tensor('float32', images, [n, c, h, w])});
  const logits = out[session.outputNames[0]].data;
  const histogram = new Map();
  let exact = 0, worst = 0, sameClass = 0;
  const argmax = (v, b) => {
    let best = 0;
    for (let k = 1; k < classes; ++k) if (v[b * classes + k] > v[b * classes + best]) best = k;
    return best;
  };
  const got = new Int8Array(n * classes);
  for (let i = 0; i < n * classes; ++i) {
    got[i] = Math.max(-128, Math.min(127, Math.round(logits[i] / outScale) + outZero));
    const d = Math.abs(got[i] - want[i]);
    histogram.set(d, (histogram.get(d) || 0) + 1);
    exact += d === 0;
    worst = Math.max(worst, d);
  }
  for (let b = 0; b < n; ++b) sameClass += argmax(got, b) === argmax(want, b);
  const hist = [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([d, k]) => d + ' LSB: ' + k);
  console.log('onnxruntime ' + require('onnxruntime-node/package.json').version + ', ' + n +
              ' images x ' + classes + ' logits: ' + exact + '/' + n * classes +
              ' exactly equal, largest difference ' + worst + ' LSB (' + hist.join(', ') +
              '), same class on ' + sameClass + '/' + n + ' images');
}

main().catch((e) => { console.error('compare.js: ' + e.message); process.exit(1); });
