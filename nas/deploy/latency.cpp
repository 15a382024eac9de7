#include "nas/deploy/latency.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/int8/conv2d_s8.h"
#include "ops/int8/depthwise_conv2d_s8.h"

namespace piconas::nas::deploy {

namespace {

enum Term {
  kConstant,
  kMacs,
  kOutput,
  kInput,
  kPixels,
  kWindow,
  kOutputK,
  kOutputK2,
  kChannels,
  kChannelRows,
  kIdleMacs,
  kWeights,
  kTaps,
  kIdlePairMacs
};

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
    case LatencyKernel::ConvPointwiseInPlace:
      return "conv_1x1_in_place";
    case LatencyKernel::Hardswish:
      return "hardswish";
    case LatencyKernel::ChannelMul:
      return "channel_mul";
    case LatencyKernel::WindowCopy:
      return "window_copy";
    case LatencyKernel::Invoke:
      return "invoke";
    case LatencyKernel::MaxPool:
      return "max_pool";
    case LatencyKernel::AvgPool:
      return "avg_pool";
    case LatencyKernel::ConvWindow:
      return "conv_window";
    case LatencyKernel::DepthwisePlane:
      return "depthwise_plane";
    case LatencyKernel::Mul:
      return "mul";
    case LatencyKernel::Logistic:
      return "logistic";
    case LatencyKernel::PixelMul:
      return "pixel_mul";
  }
  PICONAS_CHECK(false, "latency_kernel_name: unknown kernel " << static_cast<int>(kernel));
  return "";
}

const std::array<bool, kLatencyTerms>& latency_terms_used(LatencyKernel kernel) {
  using Used = std::array<bool, kLatencyTerms>;
  // Terms: 1, MACs, out, in, pixels, window, out*k; out*k*k, channels, channels*rows, idle MACs
  // (4-pixel groups), weights, taps, idle pair MACs (latency.h).
  static const Used conv1{true, true, true, true, true, false, false,
                          false, false, false, false, true, false, true};
  static const Used im2col{true, true, true, false, true, true, false,
                           true, false, false, false, true, true, true};
  static const Used packed{true, true, true, true, true, true, false,
                           false, false, false, true, true, false, false};
  static const Used dw{true, true, true, true, true, false, true,
                       true, true, true, false, true, false, false};
  static const Used add{true, false, true, false, false, false, false,
                        false, false, false, false, false, false, false};
  static const Used pool{true, false, true, true, false, false, false,
                         false, false, false, false, false, false, false};
  // max / average pool: per call, per in-image tap, per output element, per output pixel
  // and per window row of an output element (the kernels loop rows, then taps).
  static const Used window_pool{true, true, true, false, true, false, true,
                                false, false, false, false, false, false, false};
  static const Used fc{true, true, true, false, false, false, false,
                       false, false, false, false, false, false, false};
  static const Used invoke{true, false, true, true, false, false, false,
                           false, false, false, false, false, false, false};
  static const Used channel_mul{true, false, true, false, true, false, false,
                                false, false, false, false, false, false, false};
  // In-place 1x1 conv: per strip, MACs, output and input elements (pixels are about 16 x the
  // strips: a pixel term would be collinear with the constant, and so would the weights per
  // strip with the MACs).
  static const Used conv1_in_place{true, true, true, true, false, false, false,
                                   false, false, false, false, false, false, true};
  // window_copy: copy calls, copied elements, patches and copied rows (window_copy_features),
  // fitted jointly with the kernel rows (latency_fit.h) on the patched layers.
  static const Used copy{true, false, true, true, true, false, false,
                         false, false, false, false, false, false, false};
  switch (kernel) {
    case LatencyKernel::ConvPointwise:
      return conv1;
    case LatencyKernel::ConvPointwiseInPlace:
      return conv1_in_place;
    case LatencyKernel::ConvIm2col:
    case LatencyKernel::ConvWindow:
      return im2col;
    case LatencyKernel::ConvPacked:
      return packed;
    case LatencyKernel::Depthwise:
    case LatencyKernel::DepthwiseInPlace:
    case LatencyKernel::DepthwisePlane:
      return dw;
    case LatencyKernel::Add:
    case LatencyKernel::Hardswish:
    case LatencyKernel::Mul:
    case LatencyKernel::Logistic:
      return add;
    case LatencyKernel::ChannelMul:
    case LatencyKernel::PixelMul:
      return channel_mul;
    case LatencyKernel::WindowCopy:
      return copy;
    case LatencyKernel::GlobalAvgPool:
      return pool;
    case LatencyKernel::MaxPool:
    case LatencyKernel::AvgPool:
      return window_pool;
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

double LatencyTable::margin(McuTarget target) const {
  for (const LatencyMargin& m : margins)
    if (m.target == target) return m.under_prediction;
  return 0;
}

double budget_instructions(double predicted, McuTarget target, const LatencyTable& table) {
  return predicted * (1 + table.margin(target));
}

LatencyKernel latency_kernel(const Layer& layer, bool in_place, bool packed) {
  switch (layer.kind) {
    case LayerKind::Conv:
      if (in_place) return LatencyKernel::ConvPointwiseInPlace;  // runs the unpacked kernel
      if (packed) return LatencyKernel::ConvPacked;
      return layer.kernel == Size2(1) && layer.padding == Size2(0) ? LatencyKernel::ConvPointwise
                                                                   : LatencyKernel::ConvIm2col;
    case LayerKind::Depthwise:
      return in_place ? LatencyKernel::DepthwiseInPlace : LatencyKernel::Depthwise;
    case LayerKind::Add:
      return LatencyKernel::Add;
    case LayerKind::Hardswish:
      return LatencyKernel::Hardswish;
    case LayerKind::ChannelMul:
      return LatencyKernel::ChannelMul;
    case LayerKind::Mul:
      return LatencyKernel::Mul;
    case LayerKind::Logistic:
      return LatencyKernel::Logistic;
    case LayerKind::MaxPool:
      return LatencyKernel::MaxPool;
    case LayerKind::AvgPool:
      return LatencyKernel::AvgPool;
    case LayerKind::GlobalAvgPool:
      return LatencyKernel::GlobalAvgPool;
    case LayerKind::FullyConnected:
      return LatencyKernel::FullyConnected;
    case LayerKind::Input:
    case LayerKind::BatchNorm:
    case LayerKind::LayerNorm:
    case LayerKind::Activation:
      unexpected_layer_kind(layer.kind, "latency");
  }
  PICONAS_CHECK(false, "latency_kernel: unknown layer kind of '" << layer.name << "'");
  return LatencyKernel::ConvPointwise;
}

namespace {

piconas_dims dims_of(const Shape3& s) {
  return {1, static_cast<int32_t>(s.h), static_cast<int32_t>(s.w), static_cast<int32_t>(s.c)};
}

piconas_tile tile_of(Size2 s) { return {s.h, s.w}; }

piconas_dw_conv_params dw_params(const Layer& l, const KernelCall& c) {
  piconas_dw_conv_params p{};
  p.ch_mult = static_cast<int32_t>(c.out.c / c.in.c);
  p.stride = tile_of(l.stride);
  p.padding = {c.pad_h, c.pad_w};
  p.dilation = {1, 1};
  return p;
}

// The window conv of cortex-m55 takes every call (emit_calls.cpp, emit_conv_call).
bool window_conv_fits(const Layer& l, const std::vector<KernelCall>& calls) {
  for (const KernelCall& c : calls) {
    piconas_conv_params p{};
    p.stride = tile_of(l.stride);
    p.padding = {c.pad_h, c.pad_w};
    p.dilation = {1, 1};
    // A grouped conv runs the conv on each group's slice (conv2d_grouped_s8.h).
    const Shape3 in_slice{c.in.c / l.groups, c.in.h, c.in.w};
    const piconas_dims in = dims_of(in_slice);
    const piconas_dims f{static_cast<int32_t>(c.out.c / l.groups), l.kernel.h, l.kernel.w,
                         static_cast<int32_t>(in_slice.c)};
    if (piconas_conv2d_mve_window_fits(&p, &in, &f) == 0) return false;
  }
  return !calls.empty();
}

// The zero-point padded plane kernel takes every call (depthwise_conv2d_s8.h).
bool plane_depthwise_fits(const Layer& l, const std::vector<KernelCall>& calls) {
  for (const KernelCall& c : calls) {
    const piconas_dw_conv_params p = dw_params(l, c);
    const piconas_dims f{1, l.kernel.h, l.kernel.w, static_cast<int32_t>(c.out.c)};
    const piconas_dims out = dims_of(c.out);
    if (piconas_depthwise_conv2d_simd_plane_fits(&p, &f, &out) == 0) return false;
  }
  return !calls.empty();
}

// The cortex-m55 depthwise kernels take every call (emit_calls.cpp, depthwise_checked).
bool mve_depthwise_fits(const Layer& l, const std::vector<KernelCall>& calls) {
  for (const KernelCall& c : calls) {
    const piconas_dw_conv_params p = dw_params(l, c);
    const piconas_dims in = dims_of(c.in), out = dims_of(c.out);
    const piconas_dims f{1, l.kernel.h, l.kernel.w, static_cast<int32_t>(c.out.c)};
    if (piconas_depthwise_conv2d_mve_fits(&p, &in, &f, &out) == 0) return false;
  }
  return true;
}

}  // namespace

std::vector<KernelCall> kernel_calls(const Graph& graph, const MemoryPlan& plan, size_t i) {
  const Layer& layer = graph.layers.at(i);
  const Shape3& in = graph.tensors[static_cast<size_t>(layer.input)];
  const Shape3& out = graph.tensors[static_cast<size_t>(layer.output)];
  const PatchPlan& patch = plan.patch;
  if (static_cast<int>(i) >= patch.layers)
    return {KernelCall{in, out, layer.padding.h, layer.padding.w}};
  std::vector<KernelCall> calls;
  for (size_t p = 0; p < patch.region.size(); ++p) {
    const Window& r = patch.region[p][static_cast<size_t>(layer.output)];
    const Window& w = patch.input_window[p][i];
    calls.push_back(KernelCall{Shape3{in.c, w.h, w.w}, Shape3{out.c, r.h, r.w},
                               w.y0 - (r.y0 * layer.stride.h - layer.padding.h),
                               w.x0 - (r.x0 * layer.stride.w - layer.padding.w)});
  }
  return calls;
}

std::vector<LatencyKernel> latency_kernels(const Graph& graph, const MemoryPlan& plan,
                                           McuTarget target, int64_t max_sram) {
  PICONAS_CHECK(plan.in_place.size() == graph.layers.size(),
                "latency_kernels: the plan has " << plan.in_place.size() << " layers, the graph "
                                                 << graph.layers.size());
  const bool packed_target = target == McuTarget::CortexM4 || target == McuTarget::CortexM7;
  const bool mve = target == McuTarget::CortexM55;
  std::vector<char> packed;
  if (packed_target) {
    const bool planned = std::any_of(plan.packed_conv.begin(), plan.packed_conv.end(),
                                     [](char c) { return c != 0; });
    packed = planned ? plan.packed_conv
                     : with_packed_conv(graph, plan, PlanOptions{}.strategy, max_sram).packed_conv;
  }
  // Cortex-M55 links one out-of-place depthwise kernel: the plane one when every such layer's
  // plane fits (on its whole tensors; a patch is smaller), else the window-gather one.
  bool model_fits_plane = true;
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& l = graph.layers[i];
    if (l.kind != LayerKind::Depthwise || plan.in_place[i]) continue;
    const Shape3& in = graph.tensors[static_cast<size_t>(l.input)];
    const Shape3& out = graph.tensors[static_cast<size_t>(l.output)];
    model_fits_plane = model_fits_plane &&
                       plane_depthwise_fits(l, {KernelCall{in, out, l.padding.h, l.padding.w}});
  }
  std::vector<LatencyKernel> kernels;
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& l = graph.layers[i];
    LatencyKernel k =
        latency_kernel(l, plan.in_place[i] != 0, i < packed.size() && packed[i] != 0);
    if (k == LatencyKernel::ConvIm2col && mve && window_conv_fits(l, kernel_calls(graph, plan, i)))
      k = LatencyKernel::ConvWindow;
    if (k == LatencyKernel::Depthwise && (packed_target || mve)) {
      const std::vector<KernelCall> calls = kernel_calls(graph, plan, i);
      const bool plane = mve ? model_fits_plane && mve_depthwise_fits(l, calls)
                             : plane_depthwise_fits(l, calls);
      if (plane) k = LatencyKernel::DepthwisePlane;
    }
    if (k == LatencyKernel::Mul && graph.tensors[static_cast<size_t>(l.input2)].c !=
                                       graph.tensors[static_cast<size_t>(l.output)].c)
      k = LatencyKernel::PixelMul;  // emit_calls.cpp: piconas_pixel_mul_s8
    kernels.push_back(k);
  }
  return kernels;
}

LatencyTerms latency_features(const Graph& graph, const Layer& layer) {
  const Shape3& in = graph.tensors.at(static_cast<size_t>(layer.input));
  const Shape3& out = graph.tensors.at(static_cast<size_t>(layer.output));
  return latency_features(layer, in, out, layer.padding.h, layer.padding.w);
}

LatencyTerms latency_features(const Layer& layer, const Shape3& in, const Shape3& out, int pad_h,
                              int pad_w) {
  if (layer.kind == LayerKind::Conv && layer.groups > 1) {
    // A grouped conv runs the conv of C_in/G -> C_out/G channels once per group
    // (conv2d_grouped_s8.h): G times that conv's terms; the slice copies are not priced.
    Layer slice = layer;
    slice.groups = 1;
    LatencyTerms x = latency_features(slice, Shape3{in.c / layer.groups, in.h, in.w},
                                      Shape3{out.c / layer.groups, out.h, out.w}, pad_h, pad_w);
    for (double& term : x) term *= static_cast<double>(layer.groups);
    return x;
  }
  const double pixels = static_cast<double>(out.h * out.w);
  const Size2 k = layer.kernel, s = layer.stride;
  const double taps = static_cast<double>(k.h * k.w);
  const double taps_in = static_cast<double>(taps_inside(in.h, out.h, k.h, s.h, pad_h)) *
                         static_cast<double>(taps_inside(in.w, out.w, k.w, s.w, pad_w));
  double macs = 0, window = 0;
  switch (layer.kind) {
    case LayerKind::Conv:
      window = pixels * taps * static_cast<double>(in.c);
      macs = taps_in * static_cast<double>(in.c) * static_cast<double>(out.c);
      break;
    case LayerKind::Depthwise:
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:  // in-image taps per channel (pools: compares / adds)
      macs = taps_in * static_cast<double>(out.c);
      break;
    case LayerKind::FullyConnected:
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
  // The conv kernels compute 4 output pixels at a time (packed: 4 widened columns, the last
  // group filled up with the last pixel again): the idle lanes of the last group cost like MACs
  // (a conv on a 1x1 map, e.g. a squeeze-and-excitation conv, about 4x per MAC on cortex-m4).
  if (layer.kind == LayerKind::Conv)
    x[kIdleMacs] = static_cast<double>((4 - (out.h * out.w) % 4) % 4) * taps *
                   static_cast<double>(in.c) * static_cast<double>(out.c);
  // The filter elements a call reads once besides the MACs: the kernels fold the input offset
  // into the bias (bias + offset x sum of each filter row) on every call, which on a 2x2 map or
  // patch costs about a quarter of the MACs (cortex-m0: 4-5 instructions per weight).
  if (layer.kind == LayerKind::Conv)
    x[kWeights] = taps * static_cast<double>(in.c) * static_cast<double>(out.c);
  if (layer.kind == LayerKind::Depthwise) x[kWeights] = taps * static_cast<double>(out.c);
  // The im2col copy's per-tap loop (a tap copies input-channels bytes): with the window
  // elements it separates the cost per tap from the cost per copied element, which a stem's
  // 1 or 3 channels alone cannot.
  if (layer.kind == LayerKind::Conv) x[kTaps] = pixels * taps;
  // The unpacked SIMD conv (conv2d_simd_s8.c) computes pixel pairs, an odd last pixel paired
  // with itself: its idle MACs (the packed kernel's are the 4-pixel groups above).
  if (layer.kind == LayerKind::Conv)
    x[kIdlePairMacs] = static_cast<double>((out.h * out.w) % 2) * taps *
                       static_cast<double>(in.c) * static_cast<double>(out.c);
  return x;
}

namespace {

void accumulate(LatencyTerms& sum, const LatencyTerms& x, double times = 1) {
  for (size_t t = 0; t < sum.size(); ++t) sum[t] += times * x[t];
}

// Width of the rows a patch stores of tensor t: its region's for the stage output and the
// patch-stored tensors, else the whole tensor's (executor.cpp, storage).
int64_t stored_width(const Graph& graph, const PatchPlan& patch, size_t p, int t) {
  if (t == patch.output_tensor || patch.patch_stored(t))
    return patch.region[p][static_cast<size_t>(t)].w;
  return graph.tensors[static_cast<size_t>(t)].w;
}

}  // namespace

LatencyTerms layer_features(const Graph& graph, const MemoryPlan& plan, size_t i) {
  const Layer& layer = graph.layers.at(i);
  const Shape3& in = graph.tensors[static_cast<size_t>(layer.input)];
  const Shape3& out = graph.tensors[static_cast<size_t>(layer.output)];
  const PatchPlan& patch = plan.patch;
  LatencyTerms sum{};
  if (static_cast<int>(i) < patch.layers && layer.kind != LayerKind::Add) {
    for (const KernelCall& c : kernel_calls(graph, plan, i))  // once per patch, on its shapes
      accumulate(sum, latency_features(layer, c.in, c.out, c.pad_h, c.pad_w));
    return sum;
  }
  if (static_cast<int>(i) < patch.layers) {  // an add: one call per row unless all three rows
    for (size_t p = 0; p < patch.region.size(); ++p) {  // of the patch are contiguous
      const Window& r = patch.region[p][static_cast<size_t>(layer.output)];
      const bool contiguous = stored_width(graph, patch, p, layer.input) == r.w &&
                              stored_width(graph, patch, p, layer.input2) == r.w &&
                              stored_width(graph, patch, p, layer.output) == r.w;
      const int64_t rows = contiguous ? 1 : r.h, width = contiguous ? int64_t{r.h} * r.w : r.w;
      accumulate(sum,
                 latency_features(layer, Shape3{in.c, 1, width}, Shape3{out.c, 1, width}, 0, 0),
                 static_cast<double>(rows));
    }
    return sum;
  }
  if (layer.kind == LayerKind::Conv && plan.in_place.at(i)) {
    // In-place 1x1 conv (conv2d_1x1_inplace_s8.h): the conv once per strip of
    // kInPlaceConvStrip pixels (the last one shorter), each strip's output then copied.
    const int64_t pixels = in.h * in.w;
    const int64_t full = pixels / kInPlaceConvStrip, rest = pixels % kInPlaceConvStrip;
    accumulate(sum,
               latency_features(layer, Shape3{in.c, 1, kInPlaceConvStrip},
                                Shape3{out.c, 1, kInPlaceConvStrip}, 0, 0),
               static_cast<double>(full));
    if (rest > 0)
      accumulate(sum, latency_features(layer, Shape3{in.c, 1, rest}, Shape3{out.c, 1, rest}, 0, 0));
    return sum;
  }
  return latency_features(graph, layer);
}

LatencyTerms window_copy_features(const Graph& graph, const MemoryPlan& plan, size_t i) {
  const Layer& layer = graph.layers.at(i);
  const PatchPlan& patch = plan.patch;
  LatencyTerms x{};
  if (static_cast<int>(i) >= patch.layers) return x;
  const int64_t in_c = graph.tensors[static_cast<size_t>(layer.input)].c;
  const int64_t out_c = graph.tensors[static_cast<size_t>(layer.output)].c;
  const bool copy_in = layer.kind != LayerKind::Add && patch.copy_input.at(i) != 0;
  const bool paste = layer.output == patch.output_tensor;
  for (size_t p = 0; p < patch.region.size(); ++p) {
    x[kInput] += 1;  // patches
    if (copy_in) {
      const Window& w = patch.input_window[p][i];
      x[kConstant] += 1;
      x[kOutput] += static_cast<double>(int64_t{w.h} * w.w * in_c);
      x[kPixels] += w.h;
    }
    if (paste) {
      const Window& r = patch.region[p][static_cast<size_t>(layer.output)];
      x[kConstant] += 1;
      x[kOutput] += static_cast<double>(int64_t{r.h} * r.w * out_c);
      x[kPixels] += r.h;
    }
  }
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
  // A shape-chosen kernel without a row of its own (a table fitted before it was separated):
  // the row of the kernel it was counted with.
  if (row == nullptr && kernel == LatencyKernel::ConvWindow) kernel = LatencyKernel::ConvIm2col;
  if (row == nullptr && kernel == LatencyKernel::DepthwisePlane) kernel = LatencyKernel::Depthwise;
  if (row == nullptr && kernel == LatencyKernel::PixelMul) kernel = LatencyKernel::Mul;
  if (row == nullptr) row = table.find(target, kernel);
  // A conv the plan left unpacked on a packed target was (almost) never measured: the packed
  // row, the nearest measured variant, stands in (for an in-place 1x1 conv: the pointwise row
  // first, the kernel it runs per strip).
  if (row == nullptr && kernel == LatencyKernel::ConvPointwiseInPlace)
    row = table.find(target, LatencyKernel::ConvPointwise);
  if (row == nullptr &&
      (kernel == LatencyKernel::ConvPointwise || kernel == LatencyKernel::ConvIm2col ||
       kernel == LatencyKernel::ConvPointwiseInPlace))
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
                                 const LatencyTable& table, int64_t max_sram) {
  PICONAS_CHECK(table.calibrated(target),
                "no latency calibration for "
                    << mcu_board(target).name
                    << " in the latency table; run bench/latency_calibrate.sh with it in TARGETS");
  PICONAS_CHECK(plan.in_place.size() == graph.layers.size(),
                "estimate_latency: the plan has " << plan.in_place.size() << " layers, the graph "
                                                  << graph.layers.size());
  LatencyEstimate estimate;
  estimate.target = target;
  const std::vector<LatencyKernel> kernels = latency_kernels(graph, plan, target, max_sram);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    LayerLatency l;
    l.name = graph.layers[i].name;
    l.kernel = kernels[i];
    l.instructions = predict(table, target, l.kernel, layer_features(graph, plan, i));
    if (static_cast<int>(i) < plan.patch.layers)
      l.instructions +=
          predict(table, target, LatencyKernel::WindowCopy, window_copy_features(graph, plan, i));
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
