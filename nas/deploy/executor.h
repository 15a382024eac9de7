// Host int8 executor: runs a QuantizedModel image by image through one arena laid out by the
// memory planner, calling the ops/int8 kernels exactly as the emitted C does (the emitter
// prints the same KernelArgs), so its bytes are the reference the firmware must reproduce.
//
// Input: int8 NHWC images (to_nhwc_int8), batch * H*W*C bytes. Output: int8 logits,
// batch * classes bytes, with the output tensor's (s, z). With patching (plan.patch) the
// leading layers run patch by patch through patch_call, the rest whole. A kernel error throws Error naming
// the layer and the status.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"
#include "ops/int8/int8_types.h"

namespace piconas::nas::deploy {

// The kernel argument structs of one layer (only the fields of its kind are meaningful).
struct KernelArgs {
  piconas_dims input{}, input2{}, filter{}, output{};
  piconas_conv_params conv{};
  piconas_dw_conv_params dw{};
  piconas_fc_params fc{};
  piconas_add_params add{};
  piconas_pool_params pool{};  // MaxPool, AvgPool (window: the layer's kernel)
  int32_t pad_value = 0;       // AvgPool with count_include_pad: the input zero point
  int32_t groups = 1;          // Conv: > 1 runs piconas_conv2d_grouped_s8 (filter C_in / groups)
  // Add, Hardswish, Logistic: elements; ChannelMul: pixels; Mul: elements when input2 has the
  // output's channels (piconas_mul_s8), else pixels (a 1xHxW gate: piconas_pixel_mul_s8)
  int32_t size = 0;
};
KernelArgs kernel_args(const QuantizedModel& model, const QLayer& layer);

// One layer of one patch of a patched stage (nas/deploy/patch.h), as the executor runs it and
// the emitter prints it: kernel_args with the patch's dims and padding and arena byte offsets.
struct PatchCall {
  KernelArgs args;
  int64_t input = 0, input2 = 0, output = 0;  // arena offsets of the first byte read / written
  // Conv / depthwise with a copied input: copy_dims {1, h, w, C} of the input's storage at
  // copy_source, window origin (copy_y0, copy_x0) in it, copied to `input` first.
  bool copy = false;
  piconas_dims copy_dims{};
  int64_t copy_source = 0;
  int32_t copy_y0 = 0, copy_x0 = 0;
  // Add: `rows` calls of args.size elements, the offsets advancing by these strides (bytes).
  int32_t rows = 1;
  int64_t input_stride = 0, input2_stride = 0, output_stride = 0;
  // The stage's last layer: its output patch (args.output) is copied into the whole stage output
  // (paste_dims) at (paste_y0, paste_x0), at arena offset paste_target.
  bool paste = false;
  piconas_dims paste_dims{};
  int64_t paste_target = 0;
  int32_t paste_y0 = 0, paste_x0 = 0;
};
PatchCall patch_call(const QuantizedModel& model, const MemoryPlan& plan, size_t patch, size_t layer);

// Called with an image's int8 NHWC tensor (its index in model.tensors) after the layer that
// writes it has run (a patched stage: its output, after the last patch). For diagnosis: the
// per-layer error of the quantization against run_float's TensorObserver.
using Int8Observer = std::function<void(int64_t image, int tensor, const int8_t* nhwc)>;

std::vector<int8_t> run_int8(const QuantizedModel& model, const MemoryPlan& plan,
                             const int8_t* input_nhwc, int64_t batch, const Int8Observer& observe = {});

// Index of the largest logit of each image (first on ties).
std::vector<int32_t> argmax_rows(const std::vector<int8_t>& logits, int64_t classes);
std::vector<int32_t> argmax_rows(const Tensor& logits);  // float [N, classes]

}  // namespace piconas::nas::deploy
