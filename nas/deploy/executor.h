// Host int8 executor: runs a QuantizedModel image by image through one arena laid out by the
// memory planner, calling the ops/int8 kernels exactly as the emitted C does (the emitter
// prints the same KernelArgs), so its bytes are the reference the firmware must reproduce.
//
// Input: int8 NHWC images (to_nhwc_int8), batch * H*W*C bytes. Output: int8 logits,
// batch * classes bytes, with the output tensor's (s, z). A kernel error throws Error naming
// the layer and the status.
#pragma once
#include <cstdint>
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
  int32_t size = 0;  // Add: elements
};
KernelArgs kernel_args(const QuantizedModel& model, const QLayer& layer);

std::vector<int8_t> run_int8(const QuantizedModel& model, const MemoryPlan& plan,
                             const int8_t* input_nhwc, int64_t batch);

// Index of the largest logit of each image (first on ties).
std::vector<int32_t> argmax_rows(const std::vector<int8_t>& logits, int64_t classes);
std::vector<int32_t> argmax_rows(const Tensor& logits);  // float [N, classes]

}  // namespace piconas::nas::deploy
