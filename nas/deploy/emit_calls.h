// The kernel calls of the C emitter (nas/deploy/emit_c.h), one concept per file:
// emit_calls.cpp prints a layer's call on its whole tensors (emit_layer) and the helpers every
// call shares; emit_patch.cpp prints a layer of the patched stage (emit_patch_layer). Internal to
// nas/deploy: emit_c.cpp assembles the files around these calls.
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "nas/deploy/executor.h"
#include "nas/deploy/planner.h"
#include "nas/deploy/quantize.h"

namespace piconas::nas::deploy::emit {

// Comment-safe text: printable ASCII only (other bytes become '?'), and no "/*" (a -Wcomment
// error), "*/" (would end the comment) or "??" (trigraphs under -std=c99).
std::string comment_safe(std::string s);
// C initialisers: "{n, h, w, c}", "{h, w}", "{min, max}".
std::string dims(const piconas_dims& d);
std::string tile(const piconas_tile& t);
std::string act(const piconas_activation& a);
// "l<i>_": names of a layer's constant arrays.
std::string layer_prefix(size_t i);

// `status = <call>(args);`: the SIMD (or _prechecked, when `checked`) variant the ops/int8
// wrapper would pick at run time, under #if PICONAS_S8_SIMD_PREFERRED, else the wrapper.
void emit_call(std::ostringstream& o, const char* wrapper, const std::string& simd,
               bool simd_applies, bool checked, const std::string& args,
               const std::string& indent = "    ");

piconas_per_channel_quant_params quant_of(const QLayer& l);
const int32_t* bias_of(const QLayer& l);
// The export-time argument checks of the _prechecked variants, for every call of a layer.
bool conv_checked(const QLayer& l, const std::vector<KernelArgs>& calls);
bool depthwise_checked(const QLayer& l, const std::vector<KernelArgs>& calls);
// The SIMD depthwise entry point of the model (plane or general variant).
std::string depthwise_simd(const QuantizedModel& m, const MemoryPlan& plan, bool checked);
// Conv layer i also has its filter emitted packed (piconas_conv2d_packed_s8), and that filter.
bool conv_packed(const QuantizedModel& m, const MemoryPlan& plan, size_t i);
std::vector<int8_t> packed_filter(const QuantizedModel& m, const QLayer& l);
bool conv_is_pointwise(const KernelArgs& a);
// The call of conv layer i (packed, SIMD or wrapper); `data` is "&in_dims, input, " and `out`
// "&out_dims, output"; `calls` the kernel arguments of every call (one, or one per patch).
void emit_conv_call(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan,
                    size_t i, const std::string& p, const std::string& data, const std::string& out,
                    bool pointwise, const std::vector<KernelArgs>& calls,
                    const std::string& indent = "    ");

// Layer i on its whole tensors: a block with its constants' structs and its kernel call.
void emit_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i);
// The kernel headers int8_kernels.h does not include, for the layer kinds the model has.
std::string extra_includes(const QuantizedModel& m);
// Layer i of the patched stage, inside the loop over patches p (emit_patch.cpp).
void emit_patch_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan,
                      size_t i);

}  // namespace piconas::nas::deploy::emit
