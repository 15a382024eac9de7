// Kernel-call emission of the C emitter (see emit_calls.h).
#include "nas/deploy/emit_calls.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/int8_kernels.h"

namespace piconas::nas::deploy::emit {

namespace {

std::string pair_text(int32_t a, int32_t b) {
  std::ostringstream o;
  o << "{" << a << ", " << b << "}";
  return o.str();
}

std::string prechecked(const std::string& simd) {  // piconas_x_s8 -> piconas_x_prechecked_s8
  return simd.substr(0, simd.size() - 3) + "_prechecked_s8";
}

}  // namespace

std::string comment_safe(std::string s) {
  for (char& ch : s)
    if (ch < 0x20 || ch > 0x7e) ch = '?';
  for (const auto& [from, to] :
       {std::pair{"/*", "/ *"}, std::pair{"*/", "* /"}, std::pair{"??", "? ?"}})
    for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, 2, to);
  return s;
}

std::string dims(const piconas_dims& d) {
  std::ostringstream o;
  o << "{" << d.n << ", " << d.h << ", " << d.w << ", " << d.c << "}";
  return o.str();
}
std::string tile(const piconas_tile& t) { return pair_text(t.h, t.w); }
std::string act(const piconas_activation& a) { return pair_text(a.min, a.max); }

// "l<i>_": names of a layer's constant arrays (snprintf: GCC 12 warns falsely on "l" + to_string).
std::string layer_prefix(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "l%zu_", i);
  return buf;
}

// The kernel call of a layer. The exporter knows every shape and constant, so it names the
// SIMD variant the ops/int8 wrapper would pick at run time (same bytes) and the firmware links
// no unused fallback (flash); when the exporter has run the kernel's argument check itself
// (`checked`), the _prechecked variant, so that the firmware links no argument checks either.
// On cores where the portable kernels are faster (PICONAS_S8_SIMD_PREFERRED == 0: Cortex-M0/M3)
// the preprocessor keeps the wrapper call.
void emit_call(std::ostringstream& o, const char* wrapper, const std::string& simd,
               bool simd_applies, bool checked, const std::string& args,
               const std::string& indent) {
  if (simd_applies)
    o << "#if PICONAS_S8_SIMD_PREFERRED\n"
      << indent << "status = " << (checked ? prechecked(simd) : simd) << "(" << args
      << ");\n#else\n";
  o << indent << "status = " << wrapper << "(" << args << ");\n";
  if (simd_applies) o << "#endif\n";
}

piconas_per_channel_quant_params quant_of(const QLayer& l) {
  return {l.multiplier.data(), l.shift.data()};
}
const int32_t* bias_of(const QLayer& l) { return l.bias.empty() ? nullptr : l.bias.data(); }

// The export-time argument checks of the _prechecked variants (ops/int8), for every call of a
// layer (one, or one per patch).
bool conv_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_conv2d_s8_check(&a.conv, &q, &a.input, &a.filter, bias_of(l), &a.output) !=
        PICONAS_S8_OK)
      return false;
  return true;
}

namespace {
bool packed_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_conv2d_packed_s8_check(&a.conv, &q, &a.input, &a.filter, bias_of(l), &a.output) !=
        PICONAS_S8_OK)
      return false;
  return true;
}
}  // namespace

// Depthwise: also the Cortex-M55 kernel takes every call (no portable fallback linked there).
bool depthwise_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_depthwise_conv2d_s8_check(&a.dw, &q, &a.input, &a.filter, bias_of(l), &a.output) !=
            PICONAS_S8_OK ||
        piconas_depthwise_conv2d_mve_fits(&a.dw, &a.input, &a.filter, &a.output) == 0)
      return false;
  return true;
}

namespace {
// 1 when the zero-point padded plane of every out-of-place depthwise layer of the model fits
// (piconas_depthwise_conv2d_simd_plane_fits; a patch is smaller than its layer).
bool model_depthwise_fits_plane(const QuantizedModel& m, const MemoryPlan& plan) {
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const QLayer& l = m.layers[i];
    if (l.kind != LayerKind::Depthwise || (i < plan.in_place.size() && plan.in_place[i])) continue;
    const KernelArgs a = kernel_args(m, l);
    if (piconas_depthwise_conv2d_simd_plane_fits(&a.dw, &a.filter, &a.output) == 0) return false;
  }
  return true;
}
}  // namespace

// The SIMD depthwise entry point: when checked and the plane of every out-of-place depthwise layer
// fits, the plane variant (depthwise_conv2d_s8.h), so that the firmware links that one kernel
// (on Cortex-M55 the window-gather kernel is 2.7 KB, the plane kernel 2 KB: a model that needs
// the gather kernel for one layer runs all its layers there); else the general SIMD variant.
std::string depthwise_simd(const QuantizedModel& m, const MemoryPlan& plan, bool checked) {
  return checked && model_depthwise_fits_plane(m, plan) ? "piconas_depthwise_conv2d_simd_plane_s8"
                                                        : "piconas_depthwise_conv2d_simd_s8";
}

// A conv layer whose filter is also emitted packed for piconas_conv2d_packed_s8: the kernel
// applies and the plan gave its scratch room for it (planner.h, with_packed_conv).
bool conv_packed(const QuantizedModel& m, const MemoryPlan& plan, size_t i) {
  const QLayer& l = m.layers[i];
  if (l.kind != LayerKind::Conv || l.groups > 1 || i >= plan.packed_conv.size() ||
      plan.packed_conv[i] == 0)
    return false;
  const KernelArgs a = kernel_args(m, l);
  const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
  return piconas_conv2d_packed_applies(&q, l.bias.empty() ? nullptr : l.bias.data(), &a.filter) !=
         0;
}

std::vector<int8_t> packed_filter(const QuantizedModel& m, const QLayer& l) {
  const KernelArgs a = kernel_args(m, l);
  const int32_t bytes = piconas_conv2d_packed_weights_size(&a.filter);
  PICONAS_CHECK(bytes >= 0,
                "emit_c: layer '" << l.name << "' has a filter the packed conv refuses");
  std::vector<int8_t> packed(static_cast<size_t>(bytes));
  PICONAS_CHECK(piconas_conv2d_pack_s8(&a.filter, l.weight.data(), packed.data()) == PICONAS_S8_OK,
                "emit_c: layer '" << l.name << "': packing its filter failed");
  return packed;
}

bool conv_is_pointwise(const KernelArgs& a) {
  const auto& c = a.conv;
  return a.filter.h == 1 && a.filter.w == 1 && c.padding.h == 0 && c.padding.w == 0 &&
         int64_t{a.output.h - 1} * c.stride.h < a.input.h &&
         int64_t{a.output.w - 1} * c.stride.w < a.input.w;
}

// The call of conv layer i: a grouped conv (groups > 1) through piconas_conv2d_grouped_s8; else
// on DSP cores without MVE the filter packed at export (conv2d_packed_s8.h) when conv_packed,
// else the original filter through the SIMD variant or the wrapper (emit_call). `data` is "&in_dims, input, " and `out` "&out_dims, output";
// `calls` the kernel arguments of every call (one, or one per patch).
void emit_conv_call(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan,
                    size_t i, const std::string& p, const std::string& data, const std::string& out,
                    bool pointwise, const std::vector<KernelArgs>& calls,
                    const std::string& indent) {
  const QLayer& l = m.layers[i];
  const piconas_per_channel_quant_params q = quant_of(l);
  auto args = [&](const char* weights) {
    return "&ctx, &params, &quant, " + data + "&filter_dims, " + p + weights + ", " + p + "bias, " +
           out;
  };
  if (l.groups > 1) {  // each group's slice through piconas_conv2d_s8 (conv2d_grouped_s8.h)
    o << indent << "status = piconas_conv2d_grouped_s8(" << args("weight") << ", " << l.groups
      << ");\n";
    return;
  }
  const bool packed = conv_packed(m, plan, i);
  if (packed)
    o << "#if PICONAS_S8_PACKED_PREFERRED\n"
      << indent << "status = "
      << (packed_checked(l, calls) ? "piconas_conv2d_packed_prechecked_s8("
                                   : "piconas_conv2d_packed_s8(")
      << args("packed") << ");\n#else\n";
  // A checked layer the Cortex-M55 window kernel takes names it, so that no im2col kernel is linked
  // there.
  const bool checked = conv_checked(l, calls);
  bool window = checked && !pointwise;
  for (const KernelArgs& a : calls)
    window = window && piconas_conv2d_mve_window_fits(&a.conv, &a.input, &a.filter);
  emit_call(o, "piconas_conv2d_s8",
            pointwise
                ? "piconas_conv2d_1x1_simd_s8"
                : (window ? "piconas_conv2d_window_simd_s8" : "piconas_conv2d_im2col_simd_s8"),
            piconas_conv2d_simd_applies(&q, bias_of(l), &calls[0].filter) != 0, checked,
            args("weight"), indent);
  if (packed) o << "#endif\n";
}

namespace {
// In-place depthwise (planner.h): input and output share one buffer, an H*W scratch.
void emit_depthwise_in_place(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan,
                             size_t i, const std::string& p, const std::string& data) {
  const QLayer& l = m.layers[i];
  const KernelArgs a = kernel_args(m, l);
  const piconas_per_channel_quant_params q = quant_of(l);
  static int8_t scratch;  // stands for the arena: the check reads only ctx.size
  const piconas_s8_context ctx{&scratch, static_cast<int32_t>(plan.scratch_size[i])};
  const bool checked =
      piconas_depthwise_conv2d_inplace_s8_check(&ctx, &a.dw, &q, &a.input, &a.filter, bias_of(l),
                                                &a.output) == PICONAS_S8_OK &&
      piconas_depthwise_conv2d_mve_fits(&a.dw, &a.input, &a.filter, &a.output) != 0;
  o << "    piconas_s8_context ctx;\n    ctx.buf = arena + " << plan.scratch_offset[i] << ";\n"
    << "    ctx.size = " << plan.scratch_size[i] << ";\n";
  emit_call(o, "piconas_depthwise_conv2d_inplace_s8", "piconas_depthwise_conv2d_inplace_simd_s8",
            piconas_depthwise_conv2d_inplace_simd_applies(&a.dw, &q, bias_of(l), &a.filter) != 0,
            checked,
            "&ctx, &params, &quant, &in_dims, &filter_dims, " + p + "weight, " + p +
                "bias, &out_dims, " + data);
}
}  // namespace

void emit_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i) {
  const QLayer& l = m.layers[i];
  const KernelArgs a = kernel_args(m, l);
  const std::string p = layer_prefix(i);
  auto at = [&](int t) {
    return "arena + " + std::to_string(plan.tensor_offset[static_cast<size_t>(t)]);
  };
  o << "  { /* layer " << i << ": " << comment_safe(l.name) << " (" << layer_kind_name(l.kind)
    << ") */\n";
  o << "    static const piconas_dims in_dims = " << dims(a.input) << ";\n";
  o << "    static const piconas_dims out_dims = " << dims(a.output) << ";\n";
  const bool weighted =
      l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise || l.kind == LayerKind::FullyConnected;
  if (weighted) {
    o << "    static const piconas_dims filter_dims = " << dims(a.filter) << ";\n";
    o << "    static const piconas_per_channel_quant_params quant = {" << p << "multiplier, " << p
      << "shift};\n";
  }
  const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
  const int32_t* bias = l.bias.empty() ? nullptr : l.bias.data();
  const std::string wargs = "&in_dims, " + at(l.input) + ", &filter_dims, " + p + "weight, " + p +
                            "bias, &out_dims, " + at(l.output);
  switch (l.kind) {
    case LayerKind::Conv: {
      const auto& c = a.conv;
      o << "    static const piconas_conv_params params = {" << c.input_offset << ", "
        << c.output_offset << ", " << tile(c.stride) << ", " << tile(c.padding) << ", "
        << tile(c.dilation) << ", " << act(c.activation) << "};\n";
      o << "    piconas_s8_context ctx;\n";
      if (plan.scratch_offset[i] >= 0)
        o << "    ctx.buf = arena + " << plan.scratch_offset[i] << ";\n";
      else
        o << "    ctx.buf = 0;\n";
      o << "    ctx.size = " << plan.scratch_size[i] << ";\n";
      if (plan.in_place[i]) {  // the output overlaps the input in one buffer (planner.h)
        o << "    status = piconas_conv2d_1x1_inplace_s8(&ctx, &params, &quant, &in_dims, "
          << at(l.input) << ", &filter_dims, " << p << "weight, " << p << "bias, &out_dims, "
          << at(l.output) << ", " << kInPlaceConvStrip << ");\n";
        break;
      }
      emit_conv_call(o, m, plan, i, p, "&in_dims, " + at(l.input) + ", ",
                     "&out_dims, " + at(l.output), conv_is_pointwise(a), {a});
      break;
    }
    case LayerKind::Depthwise: {
      const auto& d = a.dw;
      o << "    static const piconas_dw_conv_params params = {" << d.input_offset << ", "
        << d.output_offset << ", " << d.ch_mult << ", " << tile(d.stride) << ", " << tile(d.padding)
        << ", " << tile(d.dilation) << ", " << act(d.activation) << "};\n";
      if (plan.in_place[i]) {
        emit_depthwise_in_place(o, m, plan, i, p, at(l.output));
        break;
      }
      const bool checked = depthwise_checked(l, {a});
      emit_call(o, "piconas_depthwise_conv2d_s8", depthwise_simd(m, plan, checked),
                piconas_depthwise_conv2d_simd_applies(&a.dw, &q, bias, &a.filter) != 0, checked,
                "&params, &quant, " + wargs);
      break;
    }
    case LayerKind::FullyConnected: {
      const auto& f = a.fc;
      o << "    static const piconas_fc_params params = {" << f.input_offset << ", "
        << f.output_offset << ", " << act(f.activation) << "};\n";
      o << "    status = piconas_fully_connected_s8(&params, &quant, " << wargs << ");\n";
      break;
    }
    case LayerKind::Add: {
      const auto& d = a.add;
      o << "    static const piconas_add_params params = {" << d.input1_offset << ", "
        << d.input1_multiplier << ", " << d.input1_shift << ", " << d.input2_offset << ", "
        << d.input2_multiplier << ", " << d.input2_shift << ", " << d.left_shift << ", "
        << d.output_offset << ", " << d.output_multiplier << ", " << d.output_shift << ", "
        << act(d.activation) << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      emit_call(o, "piconas_add_s8", "piconas_add_simd_s8", piconas_add_simd_applies(&a.add) != 0,
                piconas_add_s8_check(&a.add, a.size) == PICONAS_S8_OK,
                "&params, " + at(l.input) + ", " + at(l.input2) + ", " + at(l.output) + ", " +
                    std::to_string(a.size));
      break;
    }
    case LayerKind::Hardswish: {
      const auto& h = l.hardswish;
      o << "    static const piconas_hardswish_params params = {" << h.input_offset << ", "
        << h.output_offset << ", " << h.reluish_multiplier << ", " << h.reluish_shift << ", "
        << h.output_multiplier << ", " << h.output_shift << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      o << "    status = piconas_hardswish_s8(&params, " << at(l.input) << ", " << at(l.output)
        << ", " << a.size << ");\n";
      break;
    }
    case LayerKind::Logistic:  // the table made at export (quantize.h), a lookup per element
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      o << "    status = piconas_logistic_s8(" << p << "table, " << at(l.input) << ", "
        << at(l.output) << ", " << a.size << ");\n";
      break;
    case LayerKind::ChannelMul: {
      const auto& c = l.channel_mul;
      o << "    static const piconas_channel_mul_params params = {" << c.input1_offset << ", "
        << c.input2_offset << ", " << c.output_offset << ", " << c.multiplier << ", " << c.shift
        << ", " << act(c.activation) << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      o << "    status = piconas_channel_mul_s8(&params, " << at(l.input) << ", " << at(l.input2)
        << ", " << at(l.output) << ", " << a.size << ", " << a.output.c << ");\n";
      break;
    }
    case LayerKind::Mul: {  // two tensors of one shape, or a 1xHxW gate per pixel (executor.cpp)
      const auto& m = l.mul;
      o << "    static const piconas_mul_params params = {" << m.input1_offset << ", "
        << m.input2_offset << ", " << m.output_offset << ", " << m.multiplier << ", " << m.shift
        << ", " << act(m.activation) << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      if (a.input2.c == a.output.c)
        o << "    status = piconas_mul_s8(&params, " << at(l.input) << ", " << at(l.input2) << ", "
          << at(l.output) << ", " << a.size << ");\n";
      else
        o << "    status = piconas_pixel_mul_s8(&params, " << at(l.input) << ", " << at(l.input2)
          << ", " << at(l.output) << ", " << a.size << ", " << a.output.c << ");\n";
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      const auto& pp = a.pool;
      o << "    static const piconas_pool_params params = {" << tile(pp.stride) << ", "
        << tile(pp.padding) << ", " << act(pp.activation) << "};\n";
      o << "    static const piconas_tile window = " << pair_text(l.kernel.h, l.kernel.w) << ";\n";
      if (l.kind == LayerKind::AvgPool && l.count_include_pad) {  // padding taps: the zero point
        o << "    status = piconas_avg_pool2d_include_pad_s8(&params, &in_dims, " << at(l.input)
          << ", window, " << a.pad_value << ", &out_dims, " << at(l.output) << ");\n";
        break;
      }
      o << "    status = "
        << (l.kind == LayerKind::MaxPool ? "piconas_max_pool2d_s8" : "piconas_avg_pool2d_s8")
        << "(&params, &in_dims, " << at(l.input) << ", window, &out_dims, " << at(l.output)
        << ");\n";
      break;
    }
    case LayerKind::GlobalAvgPool:
      o << "    static const piconas_activation clamp = " << act(l.activation) << ";\n";
      o << "    status = piconas_global_avg_pool2d_s8(clamp, &in_dims, " << at(l.input)
        << ", &out_dims, " << at(l.output) << ");\n";
      break;
    case LayerKind::Input:
    case LayerKind::BatchNorm:
    case LayerKind::LayerNorm:
    case LayerKind::Activation:
      unexpected_layer_kind(l.kind, "emit_calls");
  }
  o << "    if (status != PICONAS_S8_OK) {\n      return status;\n    }\n  }\n";
}

// The kernel headers int8_kernels.h does not include, for the layer kinds the model has.
std::string extra_includes(const QuantizedModel& m) {
  std::string out;
  auto has = [&](LayerKind kind) {
    return std::any_of(m.layers.begin(), m.layers.end(),
                       [&](const QLayer& l) { return l.kind == kind; });
  };
  if (has(LayerKind::ChannelMul)) out += "#include \"piconas_runtime/channel_mul_s8.h\"\n";
  if (has(LayerKind::Hardswish)) out += "#include \"piconas_runtime/hardswish_s8.h\"\n";
  if (has(LayerKind::Mul)) out += "#include \"piconas_runtime/mul_s8.h\"\n";
  if (has(LayerKind::Logistic)) out += "#include \"piconas_runtime/logistic_s8.h\"\n";
  return out;
}

}  // namespace piconas::nas::deploy::emit
