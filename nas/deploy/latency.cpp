#include "nas/deploy/latency.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace piconas::nas::deploy {

namespace {

enum Term { kConstant, kMacs, kOutput, kInput, kPixels, kWindow, kOutputK, kOutputK2, kChannels, kChannelRows };

// Taps of a k-wide window inside an axis of `in` positions, summed over `out` output positions.
int64_t taps_inside(int64_t in, int64_t out, int kernel, int stride, int padding) {
  int64_t taps = 0;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t first = o * stride - padding;
    taps +=
        std::max<int64_t>(0, std::min<int64_t>(first + kernel, in) - std::max<int64_t>(first, 0));
  }
  return taps;
}

int64_t elements(const Shape3& s) { return s.c * s.h * s.w; }

}  // namespace

const char* latency_kernel_name(LatencyKernel kernel) {
  switch (kernel) {
    case LatencyKernel::ConvPointwise:
      return "conv_1x1";
    case LatencyKernel::ConvIm2col:
      return "conv_im2col";
    case LatencyKernel::ConvPacked:
      return "conv_packed";
    case LatencyKernel::Depthwise:
      return "depthwise";
    case LatencyKernel::DepthwiseInPlace:
      return "depthwise_in_place";
    case LatencyKernel::Add:
      return "add";
    case LatencyKernel::GlobalAvgPool:
      return "global_avg_pool";
    case LatencyKernel::FullyConnected:
      return "fully_connected";
    case LatencyKernel::Invoke:
      return "invoke";
  }
  PICONAS_CHECK(false, "latency_kernel_name: unknown kernel " << static_cast<int>(kernel));
  return "";
}

const std::array<bool, kLatencyTerms>& latency_terms_used(LatencyKernel kernel) {
  using Used = std::array<bool, kLatencyTerms>;
  //                       1     MACs   out    in     pixels window out*k  out*k*k chans  chans*rows
  static const Used conv1{true, true, true, true, true, false, false, false, false, false};
  static const Used im2col{true, true, true, false, true, true, false, true, false, false};
  static const Used packed{true, true, true, true, true, true, false, false, false, false};
  static const Used dw{true, true, true, true, true, false, true, true, true, true};
  static const Used add{true, false, true, false, false, false, false, false, false, false};
  static const Used pool{true, false, true, true, false, false, false, false, false, false};
  static const Used fc{true, true, true, false, false, false, false, false, false, false};
  static const Used invoke{true, false, true, true, false, false, false, false, false, false};
  switch (kernel) {
    case LatencyKernel::ConvPointwise:
      return conv1;
    case LatencyKernel::ConvIm2col:
      return im2col;
    case LatencyKernel::ConvPacked:
      return packed;
    case LatencyKernel::Depthwise:
    case LatencyKernel::DepthwiseInPlace:
      return dw;
    case LatencyKernel::Add:
      return add;
    case LatencyKernel::GlobalAvgPool:
      return pool;
    case LatencyKernel::FullyConnected:
      return fc;
    case LatencyKernel::Invoke:
      return invoke;
  }
  PICONAS_CHECK(false, "latency_terms_used: unknown kernel " << static_cast<int>(kernel));
  return conv1;
}

const LatencyRow* LatencyTable::find(McuTarget target, LatencyKernel kernel) const {
  for (const LatencyRow& row : rows)
    if (row.target == target && row.kernel == kernel) return &row;
  return nullptr;
}

bool LatencyTable::calibrated(McuTarget target) const {
  return find(target, LatencyKernel::Invoke) != nullptr;
}

LatencyKernel latency_kernel(const Layer& layer, bool in_place, bool packed) {
  switch (layer.kind) {
    case OpKind::Conv:
      if (packed) return LatencyKernel::ConvPacked;
      return layer.kernel == Size2(1) && layer.padding == Size2(0) ? LatencyKernel::ConvPointwise
                                                     : LatencyKernel::ConvIm2col;
    case OpKind::Depthwise:
      return in_place ? LatencyKernel::DepthwiseInPlace : LatencyKernel::Depthwise;
    case OpKind::Add:
    // Not in the fitted table: hard-swish and the SE channel multiply take the residual add's
    // kernel with twice its element terms (latency_features), an estimate from above.
    case OpKind::Hardswish:
    case OpKind::ChannelMul:
      return LatencyKernel::Add;
    // Not in the fitted table: a max / average pool window takes the global pool's kernel, each
    // output reading its window (latency_features), an estimate.
    case OpKind::MaxPool:
    case OpKind::AvgPool:
    case OpKind::GlobalAvgPool:
      return LatencyKernel::GlobalAvgPool;
    case OpKind::FullyConnected:
      return LatencyKernel::FullyConnected;
  }
  PICONAS_CHECK(false, "latency_kernel: unknown layer kind of '" << layer.name << "'");
  return LatencyKernel::ConvPointwise;
}

std::vector<LatencyKernel> latency_kernels(const Graph& graph, const MemoryPlan& plan,
                                           McuTarget target) {
  PICONAS_CHECK(plan.in_place.size() == graph.layers.size(),
                "latency_kernels: the plan has " << plan.in_place.size() << " layers, the graph "
                                                 << graph.layers.size());
  const bool packed_target = target == McuTarget::CortexM4 || target == McuTarget::CortexM7;
  std::vector<char> packed;
  if (packed_target) {
    const bool planned = std::any_of(plan.packed_conv.begin(), plan.packed_conv.end(),
                                     [](char c) { return c != 0; });
    packed = planned ? plan.packed_conv
                     : with_packed_conv(graph, plan, PlanOptions{}.strategy, 0).packed_conv;
  }
  std::vector<LatencyKernel> kernels;
  for (size_t i = 0; i < graph.layers.size(); ++i)
    kernels.push_back(latency_kernel(graph.layers[i], plan.in_place[i] != 0,
                                     i < packed.size() && packed[i] != 0));
  return kernels;
}

LatencyTerms latency_features(const Graph& graph, const Layer& layer) {
  const Shape3& in = graph.tensors.at(static_cast<size_t>(layer.input));
  const Shape3& out = graph.tensors.at(static_cast<size_t>(layer.output));
  return latency_features(layer, in, out, layer.padding.h, layer.padding.w);
}

LatencyTerms latency_features(const Layer& layer, const Shape3& in, const Shape3& out, int pad_h, int pad_w) {
  const double pixels = static_cast<double>(out.h * out.w);
  const Size2 k = layer.kernel, s = layer.stride;
  const double taps = static_cast<double>(k.h * k.w);
  const double taps_in = static_cast<double>(taps_inside(in.h, out.h, k.h, s.h, pad_h)) *
                         static_cast<double>(taps_inside(in.w, out.w, k.w, s.w, pad_w));
  double macs = 0, window = 0;
  switch (layer.kind) {
    case OpKind::Conv:
      window = pixels * taps * static_cast<double>(in.c);
      macs = taps_in * static_cast<double>(in.c) * static_cast<double>(out.c);
      break;
    case OpKind::Depthwise:
      macs = taps_in * static_cast<double>(out.c);
      break;
    case OpKind::FullyConnected:
      macs = static_cast<double>(elements(in)) * static_cast<double>(out.c);
      break;
    default:
      break;
  }
  LatencyTerms x{};
  x[kConstant] = 1;
  x[kMacs] = macs;
  x[kOutput] = static_cast<double>(elements(out));
  x[kInput] = static_cast<double>(elements(in));
  x[kPixels] = pixels;
  x[kWindow] = window;
  x[kOutputK] = x[kOutput] * 0.5 * (k.h + k.w);  // the kernel side (its mean when non-square)
  x[kOutputK2] = x[kOutput] * taps;
  x[kChannels] = static_cast<double>(out.c);
  x[kChannelRows] = static_cast<double>(out.c * out.h);
  // Hard-swish and the channel multiply run as the add's kernel (latency_kernel) at twice its
  // elements: QEMU -icount on Cortex-M4 measured 73 (hard-swish) and 56 (channel multiply)
  // instructions per element where the add's terms predict about 48.
  if (layer.kind == OpKind::Hardswish || layer.kind == OpKind::ChannelMul) {
    x[kOutput] *= 2;
    x[kInput] *= 2;
  }
  if (layer.kind == OpKind::MaxPool || layer.kind == OpKind::AvgPool) x[kInput] = x[kOutputK2];
  return x;
}

LatencyTerms invoke_features(const Graph& graph) {
  LatencyTerms x{};
  x[kConstant] = 1;
  x[kOutput] = static_cast<double>(graph.tensor_bytes(graph.output()));
  x[kInput] = static_cast<double>(graph.tensor_bytes(0));
  return x;
}

namespace {

double predict(const LatencyTable& table, McuTarget target, LatencyKernel kernel,
               const LatencyTerms& x) {
  const LatencyRow* row = table.find(target, kernel);
  // A conv the plan left unpacked on a packed target was (almost) never measured: the packed
  // row, the nearest measured variant, stands in.
  if (row == nullptr &&
      (kernel == LatencyKernel::ConvPointwise || kernel == LatencyKernel::ConvIm2col))
    row = table.find(target, LatencyKernel::ConvPacked);
  PICONAS_CHECK(row != nullptr, "no latency calibration for "
                                    << mcu_board(target).name << " (" << latency_kernel_name(kernel)
                                    << "); run bench/latency_calibrate.sh");
  double sum = 0;
  for (int t = 0; t < kLatencyTerms; ++t)
    sum += row->coefficients[static_cast<size_t>(t)] * x[static_cast<size_t>(t)];
  return std::max(0.0, sum);  // a fitted model can dip below 0 on the smallest layers
}

}  // namespace

LatencyEstimate estimate_latency(const Graph& graph, const MemoryPlan& plan, McuTarget target,
                                 const LatencyTable& table) {
  PICONAS_CHECK(table.calibrated(target),
                "no latency calibration for "
                    << mcu_board(target).name
                    << " in the latency table; run bench/latency_calibrate.sh with it in TARGETS");
  PICONAS_CHECK(plan.in_place.size() == graph.layers.size(),
                "estimate_latency: the plan has " << plan.in_place.size() << " layers, the graph "
                                                  << graph.layers.size());
  LatencyEstimate estimate;
  estimate.target = target;
  const PatchPlan& patch = plan.patch;
  const std::vector<LatencyKernel> kernels = latency_kernels(graph, plan, target);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    LayerLatency l;
    l.name = layer.name;
    l.kernel = kernels[i];
    if (static_cast<int>(i) < patch.layers) {  // once per patch, on the patch's shapes
      const Shape3& in = graph.tensors[static_cast<size_t>(layer.input)];
      const Shape3& out = graph.tensors[static_cast<size_t>(layer.output)];
      for (size_t p = 0; p < patch.region.size(); ++p) {
        const Window& r = patch.region[p][static_cast<size_t>(layer.output)];
        const Window& w = patch.input_window[p][i];
        const int pad_h = w.y0 - (r.y0 * layer.stride.h - layer.padding.h);
        const int pad_w = w.x0 - (r.x0 * layer.stride.w - layer.padding.w);
        l.instructions += predict(table, target, l.kernel,
                                  latency_features(layer, Shape3{in.c, w.h, w.w}, Shape3{out.c, r.h, r.w}, pad_h, pad_w));
      }
    } else if (layer.kind == OpKind::Conv && plan.in_place[i]) {
      // In-place 1x1 conv (conv2d_1x1_inplace_s8.h): the pointwise kernel once per strip of
      // kInPlaceConvStrip pixels; the copy of each strip's output is not modelled.
      const Shape3& in = graph.tensors[static_cast<size_t>(layer.input)];
      const Shape3& out = graph.tensors[static_cast<size_t>(layer.output)];
      const int64_t pixels = in.h * in.w, full = pixels / kInPlaceConvStrip, rest = pixels % kInPlaceConvStrip;
      l.kernel = LatencyKernel::ConvPointwise;
      l.instructions = static_cast<double>(full) *
                       predict(table, target, l.kernel,
                               latency_features(layer, Shape3{in.c, 1, kInPlaceConvStrip},
                                                Shape3{out.c, 1, kInPlaceConvStrip}, 0, 0));
      if (rest > 0)
        l.instructions += predict(table, target, l.kernel,
                                  latency_features(layer, Shape3{in.c, 1, rest}, Shape3{out.c, 1, rest}, 0, 0));
    } else {
      l.instructions = predict(table, target, l.kernel, latency_features(graph, layer));
    }
    estimate.instructions += l.instructions;
    estimate.layers.push_back(std::move(l));
  }
  estimate.invoke_instructions =
      predict(table, target, LatencyKernel::Invoke, invoke_features(graph));
  estimate.instructions += estimate.invoke_instructions;
  return estimate;
}

LatencyEstimate estimate_latency(const ArchSpec& spec, McuTarget target) {
  const Graph graph = lower_arch(spec);
  return estimate_latency(graph, plan_memory(graph), target);
}

double latency_ms(double instructions, double mcu_mhz) {
  check_mcu_mhz(mcu_mhz);
  return instructions / (mcu_mhz * 1000.0);
}

void check_mcu_mhz(double mcu_mhz, const std::string& what) {
  PICONAS_CHECK(std::isfinite(mcu_mhz) && mcu_mhz > 0 && mcu_mhz <= 10000,
                what << " must be a clock in MHz in (0, 10000], got " << mcu_mhz);
}

void check_latency_ms(double ms, const std::string& what) {
  PICONAS_CHECK(std::isfinite(ms) && ms > 0,
                what << " must be a positive, finite number of milliseconds, got " << ms);
}

}  // namespace piconas::nas::deploy
