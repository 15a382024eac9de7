#include "nas/deploy/layer_error.h"

#include <cmath>
#include <limits>

#include "nas/deploy/executor.h"

namespace piconas::nas::deploy {

std::vector<LayerError> layer_errors(const Graph &graph, const QuantizedModel &model,
                                     const MemoryPlan &plan, const Tensor &images) {
  PICONAS_CHECK(
      graph.tensors.size() == model.tensors.size() && graph.layers.size() == model.layers.size(),
      "layer_errors: the quantized model does not belong to this graph");
  std::vector<Tensor> floats(graph.tensors.size());
  run_float(graph, images,
            [&](int t, const Tensor &v) { floats[static_cast<size_t>(t)] = v.clone(); });
  std::vector<double> signal(model.tensors.size(), 0.0), noise(model.tensors.size(), 0.0),
      bias(model.tensors.size(), 0.0);
  std::vector<int64_t> clipped(model.tensors.size(), 0), seen(model.tensors.size(), 0);
  const std::vector<int8_t> input = to_nhwc_int8(model.tensors[0], images);
  run_int8(model, plan, input.data(), images.dim(0), [&](int64_t n, int t, const int8_t *q) {
    const TensorQuant &tq = model.tensors[static_cast<size_t>(t)];
    const Shape3 s = tq.shape;
    const float lo = tq.scale * static_cast<float>(-128 - tq.zero_point);
    const float hi = tq.scale * static_cast<float>(127 - tq.zero_point);
    const float *f = floats[static_cast<size_t>(t)].data<float>() + n * s.c * s.h * s.w;
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t p = 0; p < s.h * s.w; ++p) {
        const double x = f[c * s.h * s.w + p];
        const double dq = static_cast<double>(tq.scale) * (q[p * s.c + c] - tq.zero_point);
        signal[static_cast<size_t>(t)] += x * x;
        noise[static_cast<size_t>(t)] += (x - dq) * (x - dq);
        bias[static_cast<size_t>(t)] += (dq - x) / static_cast<double>(tq.scale);
        clipped[static_cast<size_t>(t)] += x < lo || x > hi;
      }
    seen[static_cast<size_t>(t)] += s.c * s.h * s.w;
  });
  std::vector<LayerError> rows;
  for (const QLayer &l : model.layers) {
    const auto t = static_cast<size_t>(l.output);
    if (seen[t] == 0) continue;
    LayerError e;
    e.name = l.name;
    e.kind = l.kind;
    e.tensor = l.output;
    e.sqnr_db = noise[t] > 0 ? 10.0 * std::log10(signal[t] / noise[t])
                             : std::numeric_limits<double>::infinity();
    e.clipped = static_cast<double>(clipped[t]) / static_cast<double>(seen[t]);
    e.mean_error_lsb = bias[t] / static_cast<double>(seen[t]);
    const TensorQuant &tq = model.tensors[t];
    e.range_min = tq.scale * static_cast<float>(-128 - tq.zero_point);
    e.range_max = tq.scale * static_cast<float>(127 - tq.zero_point);
    rows.push_back(e);
  }
  return rows;
}

}  // namespace piconas::nas::deploy
