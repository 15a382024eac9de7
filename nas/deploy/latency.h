// Latency model of the emitted C on each Cortex-M target (docs/latency.md): predicted
// instructions per layer of a lowered, planned graph, from a table of per-target linear models
// fitted to QEMU -icount measurements (bench/latency_calibrate.sh regenerates the table,
// nas/deploy/latency_table.cpp; rerun it whenever the kernels or the emitter change).
//
// A layer's kernel variant is the one the emitter calls (emit_c.cpp): a 1x1 unpadded conv is
// the pointwise kernel, any other conv the im2col kernel, a depthwise layer or 1x1 conv the plan
// runs in place (planner.h) the in-place kernel. Its instructions are
//   c . [1, MACs, output elements, input elements, output pixels, window elements,
//        output elements x k, output elements x k x k, output channels,
//        output channels x output rows, idle MACs, weights, taps, idle pair MACs]
// with the coefficients c of (target, variant). MACs count only the taps inside the image
// (the kernels skip padding taps; a 7x7 window on a 4x4 map has fewer than half its taps in);
// window elements = output pixels x k x k x input channels (the im2col copy of a conv); the
// `x k` terms give each depthwise kernel size its own per-output cost (the kernels loop per
// row and per tap), and the last two its per-channel and per-channel-row overheads (the in-place
// kernel copies and walks one plane per channel: on small planes with hundreds of channels these
// dominate); idle MACs = (4 - output pixels mod 4) mod 4 x k x k x input x output channels of
// a conv (the conv kernels compute 4 pixels at a time, a last partial group at the cost of a
// full one: a conv on a 1x1 map, e.g. a squeeze-and-excitation conv, costs about 4x per MAC on
// cortex-m4); weights = k x k x input x output channels of a conv (k x k x channels of a
// depthwise layer), read once per call to fold the input offset into the bias (on a 2x2 map
// or patch about a quarter of the MACs' cost); taps = output pixels x k x k of a conv (the im2col
// copy's per-tap loop, beside its per-element cost, the window elements); idle pair MACs =
// (output pixels mod 2) x k x k x input x output channels: the unpacked SIMD conv computes pixel
// pairs (its idle work; the 4-pixel idle MACs are the packed kernel's). Unused terms have
// coefficient 0. The Invoke row models
// the model function around the layers (input copy, output copy): its terms are read with
// "input elements" = the network input and "output elements" = the logits.
// A layer of a patched stage (patch.h) is predicted once per patch on the patch's window,
// region and padding, so recomputed halos count, plus the WindowCopy row on its copies
// (window_copy_features). An in-place 1x1 conv (planner.h) has a variant of its own, predicted
// once per strip. Hard-swish and the SE channel multiply have rows of their own (the SE's
// pool and 1x1 convs are ordinary pooling and conv layers). Max and average pools (graph
// networks) have rows of their own too; their "MACs" are the in-image taps x channels (the
// kernels skip padding taps).
// Milliseconds assume one instruction per cycle at mcu_mhz (latency_ms): a Cortex-M4/M7/M55
// without wait states and cache misses runs close to that; flash wait states make it slower.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/mcu_target.h"
#include "nas/deploy/planner.h"

namespace piconas::nas::deploy {

enum class LatencyKernel {
  ConvPointwise,
  ConvIm2col,
  ConvPacked,  // piconas_conv2d_packed_s8 (any kernel size), where the target prefers it
  Depthwise,
  DepthwiseInPlace,
  Add,
  GlobalAvgPool,
  FullyConnected,
  ConvPointwiseInPlace,  // conv2d_1x1_inplace_s8: the unpacked conv once per strip + its copy
  Hardswish,
  ChannelMul,  // the squeeze-and-excitation scale
  WindowCopy,  // a patched layer's window copies and per-patch overhead
  Invoke,
  MaxPool,  // max_pool2d_s8 and avg_pool2d_s8 (graph networks)
  AvgPool,
  // Kernels the SIMD entry points choose by shape (latency_kernels): on cortex-m55 a conv whose
  // window fits three 16-lane gathers runs the window kernel (piconas_conv2d_mve_window_fits:
  // 3x3 stems; a 5x5 stem runs the im2col one); a 3x3 depthwise layer whose zero-point padded
  // plane fits PICONAS_DW_PLANE_BYTES runs the plane kernel (cortex-m4/m7 per call; cortex-m55
  // only when every out-of-place depthwise layer of the model fits it, emit_calls.cpp).
  ConvWindow,
  DepthwisePlane,
  Mul,       // piconas_mul_s8: the elementwise multiply of two tensors (graph networks)
  Logistic,  // logistic_s8: the sigmoid's table lookup (graph networks)
  // A Mul layer whose gate has one channel and the output more (latency_kernels):
  // piconas_pixel_mul_s8, a loop over pixels, then channels.
  PixelMul,
};
inline constexpr int kLatencyKernels = 20;
inline constexpr int kLatencyTerms = 14;
using LatencyTerms = std::array<double, kLatencyTerms>;
const char* latency_kernel_name(LatencyKernel kernel);
// The terms a variant's model uses (the fit sets the others to 0).
const std::array<bool, kLatencyTerms>& latency_terms_used(LatencyKernel kernel);

struct LatencyRow {
  McuTarget target = McuTarget::CortexM4;
  LatencyKernel kernel = LatencyKernel::ConvPointwise;
  LatencyTerms coefficients{};
  int samples = 0;  // layers (Invoke: models) it was fitted on
};

// The safety margin of a target's latency budget: the largest under-prediction on the
// calibration's held-out models, measured / predicted - 1 (0 when none is under-predicted). A
// latency budget admits a network only when its prediction x (1 + under_prediction) fits
// (nas/search/search_settings.cpp), so no held-out model admitted under a budget measured over
// it (docs/latency.md).
struct LatencyMargin {
  McuTarget target = McuTarget::CortexM4;
  double under_prediction = 0;
  int models = 0;  // held-out models it was measured on
};

struct LatencyTable {
  std::string origin;  // how and from what it was generated
  std::vector<LatencyRow> rows;
  std::vector<LatencyMargin> margins;
  const LatencyRow* find(McuTarget target, LatencyKernel kernel) const;
  bool calibrated(McuTarget target) const;  // fitted for the target (its Invoke row exists)
  double margin(McuTarget target) const;    // under_prediction, 0 for a target without one
};

// The table compiled in (nas/deploy/latency_table.cpp, generated).
const LatencyTable& builtin_latency_table();

// The variant of a layer from its kind and plan alone (no shape-chosen kernel: ConvWindow and
// DepthwisePlane come from latency_kernels).
LatencyKernel latency_kernel(const Layer& layer, bool in_place, bool packed = false);
// The variant every layer of `graph` runs on `target` under `plan`: the exporter's choice.
// On the DSP cores without MVE (cortex-m4, cortex-m7: PICONAS_S8_PACKED_PREFERRED) a conv runs
// packed where the plan leaves its scratch room (planner.h with_packed_conv; computed here the
// way the export does when the plan has no packed conv yet). On the SIMD cores the window conv
// and the plane depthwise kernels where the emitted calls take them (every call of the layer:
// one per patch in a patched stage).
// max_sram: the SRAM budget the plan was made under (0: none), which bounds the packed scratch
// as in the export (planner.h with_packed_conv).
std::vector<LatencyKernel> latency_kernels(const Graph& graph, const MemoryPlan& plan,
                                           McuTarget target, int64_t max_sram = 0);
LatencyTerms latency_features(const Graph& graph, const Layer& layer);
// One kernel call of a conv or depthwise layer: its input (a patch's window), output (region)
// and top / left padding.
struct KernelCall {
  Shape3 in, out;
  int pad_h = 0, pad_w = 0;
};
// The calls of conv or depthwise layer i under `plan`: one per patch in a patched stage, else
// one on the whole tensors.
std::vector<KernelCall> kernel_calls(const Graph& graph, const MemoryPlan& plan, size_t i);
// The same for the layer computing `out` from `in` with this top / left padding (one patch).
LatencyTerms latency_features(const Layer& layer, const Shape3& in, const Shape3& out, int pad_h,
                              int pad_w);
// The terms of layer i as `plan` runs it: the sum over its kernel calls (the model is linear,
// so the constant term counts calls): one per patch of a patched stage (on the patch's window,
// region and padding; a patched add once per row), one per strip of an in-place 1x1 conv,
// else one call on the whole tensors.
LatencyTerms layer_features(const Graph& graph, const MemoryPlan& plan, size_t i);
// The WindowCopy terms of layer i (all 0 outside a patched stage): [copy calls, 0, copied
// elements, patches, copied rows, 0...]: the copy of its input window into a compact buffer
// (patch.copy_input) and, for the stage output, of each patch's region into the whole tensor
// (ops/int8/window_copy_s8.h: one memcpy per row), plus the per-patch overhead of the layer.
LatencyTerms window_copy_features(const Graph& graph, const MemoryPlan& plan, size_t i);
LatencyTerms invoke_features(const Graph& graph);

struct LayerLatency {
  std::string name;
  LatencyKernel kernel = LatencyKernel::ConvPointwise;
  double instructions = 0;
};

struct LatencyEstimate {
  McuTarget target = McuTarget::CortexM4;
  std::vector<LayerLatency> layers;  // one per graph layer
  double invoke_instructions = 0;    // around the layers
  double instructions = 0;           // total per inference
};

// Error naming the target when the table has no calibration for it.
// max_sram: the budget `plan` was made under (plan_for_budget; 0: none).
LatencyEstimate estimate_latency(const Graph& graph, const MemoryPlan& plan, McuTarget target,
                                 const LatencyTable& table = builtin_latency_table(),
                                 int64_t max_sram = 0);
// lower_arch + plan_memory (the export's default plan); Error for non-deployable specs.
LatencyEstimate estimate_latency(const ArchSpec& spec, McuTarget target);

// The instructions a latency budget is checked against: predicted x (1 + table.margin(target)).
double budget_instructions(double predicted, McuTarget target,
                           const LatencyTable& table = builtin_latency_table());

// instructions / (mcu_mhz x 1000): one instruction per cycle.
double latency_ms(double instructions, double mcu_mhz);
// Error unless positive and finite (and mcu_mhz <= 10000); `what` names the option.
void check_mcu_mhz(double mcu_mhz, const std::string& what = "--mcu-mhz");
void check_latency_ms(double ms, const std::string& what = "--max-latency-ms");

}  // namespace piconas::nas::deploy
