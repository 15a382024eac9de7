#include "nas/deploy/emit_c.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <utility>

#include "core/atomic_file.h"
#include "nas/deploy/executor.h"
#include "nas/deploy/runtime_files.h"
#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/int8_kernels.h"

#ifndef PICONAS_VERSION
#define PICONAS_VERSION "unknown"
#endif

namespace piconas::nas::deploy {

const char* piconas_version() { return PICONAS_VERSION; }

std::string fnv1a64_hex(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string float_literal(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9gf", static_cast<double>(v));
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s.insert(s.size() - 1, ".0");
  return s;
}

// Comment-safe text: printable ASCII only (other bytes become '?'), and no "/*" (a -Wcomment
// error), "*/" (would end the comment) or "??" (trigraphs under -std=c99).
std::string comment_safe(std::string s) {
  for (char& ch : s)
    if (ch < 0x20 || ch > 0x7e) ch = '?';
  for (const auto& [from, to] : {std::pair{"/*", "/ *"}, std::pair{"*/", "* /"}, std::pair{"??", "? ?"}})
    for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, 2, to);
  return s;
}

template <class T>
void emit_array(std::ostringstream& o, const char* type, const std::string& name, const std::vector<T>& v,
                bool is_static = true) {
  o << (is_static ? "static " : "") << "const " << type << " " << name << "[" << v.size()
    << "] PICONAS_ALIGNED(16) = {";
  for (size_t i = 0; i < v.size(); ++i) {
    o << (i % 16 == 0 ? "\n    " : " ");
    // INT32_MIN cannot be written as a plain literal.
    if constexpr (sizeof(T) == 4) {
      if (static_cast<int64_t>(v[i]) == INT32_MIN) { o << "(-2147483647 - 1),"; continue; }
    }
    o << static_cast<int64_t>(v[i]) << ",";
  }
  o << "\n};\n";
}

std::string dims(const piconas_dims& d) {
  std::ostringstream o;
  o << "{" << d.n << ", " << d.h << ", " << d.w << ", " << d.c << "}";
  return o.str();
}
std::string pair_text(int32_t a, int32_t b) {
  std::ostringstream o;
  o << "{" << a << ", " << b << "}";
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

std::string prechecked(const std::string& simd) {  // piconas_x_s8 -> piconas_x_prechecked_s8
  return simd.substr(0, simd.size() - 3) + "_prechecked_s8";
}

// The kernel call of a layer. The exporter knows every shape and constant, so it names the
// SIMD variant the ops/int8 wrapper would pick at run time (same bytes) and the firmware links
// no unused fallback (flash); when the exporter has run the kernel's argument check itself
// (`checked`), the _prechecked variant, so that the firmware links no argument checks either.
// On cores where the portable kernels are faster (PICONAS_S8_SIMD_PREFERRED == 0: Cortex-M0/M3)
// the preprocessor keeps the wrapper call.
void emit_call(std::ostringstream& o, const char* wrapper, const std::string& simd, bool simd_applies,
               bool checked, const std::string& args, const std::string& indent = "    ") {
  if (simd_applies)
    o << "#if PICONAS_S8_SIMD_PREFERRED\n"
      << indent << "status = " << (checked ? prechecked(simd) : simd) << "(" << args << ");\n#else\n";
  o << indent << "status = " << wrapper << "(" << args << ");\n";
  if (simd_applies) o << "#endif\n";
}

piconas_per_channel_quant_params quant_of(const QLayer& l) { return {l.multiplier.data(), l.shift.data()}; }
const int32_t* bias_of(const QLayer& l) { return l.bias.empty() ? nullptr : l.bias.data(); }

// The export-time argument checks of the _prechecked variants (ops/int8), for every call of a
// layer (one, or one per patch).
bool conv_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_conv2d_s8_check(&a.conv, &q, &a.input, &a.filter, bias_of(l), &a.output) != PICONAS_S8_OK)
      return false;
  return true;
}

bool packed_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_conv2d_packed_s8_check(&a.conv, &q, &a.input, &a.filter, bias_of(l), &a.output) != PICONAS_S8_OK)
      return false;
  return true;
}

// Depthwise: also the Cortex-M55 kernel takes every call (no portable fallback linked there).
bool depthwise_checked(const QLayer& l, const std::vector<KernelArgs>& calls) {
  const piconas_per_channel_quant_params q = quant_of(l);
  for (const KernelArgs& a : calls)
    if (piconas_depthwise_conv2d_s8_check(&a.dw, &q, &a.input, &a.filter, bias_of(l), &a.output) != PICONAS_S8_OK ||
        piconas_depthwise_conv2d_mve_fits(&a.dw, &a.input, &a.filter, &a.output) == 0)
      return false;
  return true;
}

// 1 when the zero-point padded plane of every out-of-place depthwise layer of the model fits
// (piconas_depthwise_conv2d_simd_plane_fits; a patch is smaller than its layer).
bool model_depthwise_fits_plane(const QuantizedModel& m, const MemoryPlan& plan) {
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const QLayer& l = m.layers[i];
    if (l.kind != OpKind::Depthwise || (i < plan.in_place.size() && plan.in_place[i])) continue;
    const KernelArgs a = kernel_args(m, l);
    if (piconas_depthwise_conv2d_simd_plane_fits(&a.dw, &a.filter, &a.output) == 0) return false;
  }
  return true;
}

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
  if (l.kind != OpKind::Conv || i >= plan.packed_conv.size() || plan.packed_conv[i] == 0) return false;
  const KernelArgs a = kernel_args(m, l);
  const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
  return piconas_conv2d_packed_applies(&q, l.bias.empty() ? nullptr : l.bias.data(), &a.filter) != 0;
}

std::vector<int8_t> packed_filter(const QuantizedModel& m, const QLayer& l) {
  const KernelArgs a = kernel_args(m, l);
  const int32_t bytes = piconas_conv2d_packed_weights_size(&a.filter);
  PICONAS_CHECK(bytes >= 0, "emit_c: layer '" << l.name << "' has a filter the packed conv refuses");
  std::vector<int8_t> packed(static_cast<size_t>(bytes));
  PICONAS_CHECK(piconas_conv2d_pack_s8(&a.filter, l.weight.data(), packed.data()) == PICONAS_S8_OK,
                "emit_c: layer '" << l.name << "': packing its filter failed");
  return packed;
}

bool conv_is_pointwise(const KernelArgs& a) {
  const auto& c = a.conv;
  return a.filter.h == 1 && a.filter.w == 1 && c.padding.h == 0 && c.padding.w == 0 &&
         int64_t{a.output.h - 1} * c.stride.h < a.input.h && int64_t{a.output.w - 1} * c.stride.w < a.input.w;
}

// The call of conv layer i: on DSP cores without MVE the filter packed at export
// (conv2d_packed_s8.h) when conv_packed, else the original filter through the SIMD
// variant or the wrapper (emit_call). `data` is "&in_dims, input, " and `out` "&out_dims, output";
// `calls` the kernel arguments of every call (one, or one per patch).
void emit_conv_call(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i,
                    const std::string& p, const std::string& data, const std::string& out, bool pointwise,
                    const std::vector<KernelArgs>& calls, const std::string& indent = "    ") {
  const QLayer& l = m.layers[i];
  const piconas_per_channel_quant_params q = quant_of(l);
  auto args = [&](const char* weights) {
    return "&ctx, &params, &quant, " + data + "&filter_dims, " + p + weights + ", " + p + "bias, " + out;
  };
  const bool packed = conv_packed(m, plan, i);
  if (packed)
    o << "#if PICONAS_S8_PACKED_PREFERRED\n"
      << indent << "status = "
      << (packed_checked(l, calls) ? "piconas_conv2d_packed_prechecked_s8(" : "piconas_conv2d_packed_s8(")
      << args("packed") << ");\n#else\n";
  // A checked layer the Cortex-M55 window kernel takes names it, so that no im2col kernel is linked there.
  const bool checked = conv_checked(l, calls);
  bool window = checked && !pointwise;
  for (const KernelArgs& a : calls) window = window && piconas_conv2d_mve_window_fits(&a.conv, &a.input, &a.filter);
  emit_call(o, "piconas_conv2d_s8",
            pointwise ? "piconas_conv2d_1x1_simd_s8"
                      : (window ? "piconas_conv2d_window_simd_s8" : "piconas_conv2d_im2col_simd_s8"),
            piconas_conv2d_simd_applies(&q, bias_of(l), &calls[0].filter) != 0, checked, args("weight"), indent);
  if (packed) o << "#endif\n";
}

// In-place depthwise (planner.h): input and output share one buffer, an H*W scratch.
void emit_depthwise_in_place(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i,
                             const std::string& p, const std::string& data) {
  const QLayer& l = m.layers[i];
  const KernelArgs a = kernel_args(m, l);
  const piconas_per_channel_quant_params q = quant_of(l);
  static int8_t scratch;  // stands for the arena: the check reads only ctx.size
  const piconas_s8_context ctx{&scratch, static_cast<int32_t>(plan.scratch_size[i])};
  const bool checked =
      piconas_depthwise_conv2d_inplace_s8_check(&ctx, &a.dw, &q, &a.input, &a.filter, bias_of(l), &a.output) ==
          PICONAS_S8_OK &&
      piconas_depthwise_conv2d_mve_fits(&a.dw, &a.input, &a.filter, &a.output) != 0;
  o << "    piconas_s8_context ctx;\n    ctx.buf = arena + " << plan.scratch_offset[i] << ";\n"
    << "    ctx.size = " << plan.scratch_size[i] << ";\n";
  emit_call(o, "piconas_depthwise_conv2d_inplace_s8", "piconas_depthwise_conv2d_inplace_simd_s8",
            piconas_depthwise_conv2d_inplace_simd_applies(&a.dw, &q, bias_of(l), &a.filter) != 0, checked,
            "&ctx, &params, &quant, &in_dims, &filter_dims, " + p + "weight, " + p + "bias, &out_dims, " + data);
}

void emit_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i) {
  const QLayer& l = m.layers[i];
  const KernelArgs a = kernel_args(m, l);
  const std::string p = layer_prefix(i);
  auto at = [&](int t) { return "arena + " + std::to_string(plan.tensor_offset[static_cast<size_t>(t)]); };
  o << "  { /* layer " << i << ": " << comment_safe(l.name) << " (" << op_kind_name(l.kind) << ") */\n";
  o << "    static const piconas_dims in_dims = " << dims(a.input) << ";\n";
  o << "    static const piconas_dims out_dims = " << dims(a.output) << ";\n";
  const bool weighted = l.kind == OpKind::Conv || l.kind == OpKind::Depthwise || l.kind == OpKind::FullyConnected;
  if (weighted) {
    o << "    static const piconas_dims filter_dims = " << dims(a.filter) << ";\n";
    o << "    static const piconas_per_channel_quant_params quant = {" << p << "multiplier, " << p << "shift};\n";
  }
  const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
  const int32_t* bias = l.bias.empty() ? nullptr : l.bias.data();
  const std::string wargs = "&in_dims, " + at(l.input) + ", &filter_dims, " + p + "weight, " + p +
                            "bias, &out_dims, " + at(l.output);
  switch (l.kind) {
    case OpKind::Conv: {
      const auto& c = a.conv;
      o << "    static const piconas_conv_params params = {" << c.input_offset << ", " << c.output_offset
        << ", " << tile(c.stride) << ", " << tile(c.padding) << ", " << tile(c.dilation) << ", "
        << act(c.activation) << "};\n";
      o << "    piconas_s8_context ctx;\n";
      if (plan.scratch_offset[i] >= 0)
        o << "    ctx.buf = arena + " << plan.scratch_offset[i] << ";\n";
      else
        o << "    ctx.buf = 0;\n";
      o << "    ctx.size = " << plan.scratch_size[i] << ";\n";
      if (plan.in_place[i]) {  // the output overlaps the input in one buffer (planner.h)
        o << "    status = piconas_conv2d_1x1_inplace_s8(&ctx, &params, &quant, &in_dims, " << at(l.input)
          << ", &filter_dims, " << p << "weight, " << p << "bias, &out_dims, " << at(l.output) << ", "
          << kInPlaceConvStrip << ");\n";
        break;
      }
      emit_conv_call(o, m, plan, i, p, "&in_dims, " + at(l.input) + ", ", "&out_dims, " + at(l.output),
                     conv_is_pointwise(a), {a});
      break;
    }
    case OpKind::Depthwise: {
      const auto& d = a.dw;
      o << "    static const piconas_dw_conv_params params = {" << d.input_offset << ", " << d.output_offset
        << ", " << d.ch_mult << ", " << tile(d.stride) << ", " << tile(d.padding) << ", "
        << tile(d.dilation) << ", " << act(d.activation) << "};\n";
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
    case OpKind::FullyConnected: {
      const auto& f = a.fc;
      o << "    static const piconas_fc_params params = {" << f.input_offset << ", " << f.output_offset
        << ", " << act(f.activation) << "};\n";
      o << "    status = piconas_fully_connected_s8(&params, &quant, " << wargs << ");\n";
      break;
    }
    case OpKind::Add: {
      const auto& d = a.add;
      o << "    static const piconas_add_params params = {" << d.input1_offset << ", " << d.input1_multiplier
        << ", " << d.input1_shift << ", " << d.input2_offset << ", " << d.input2_multiplier << ", "
        << d.input2_shift << ", " << d.left_shift << ", " << d.output_offset << ", "
        << d.output_multiplier << ", " << d.output_shift << ", " << act(d.activation) << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      emit_call(o, "piconas_add_s8", "piconas_add_simd_s8", piconas_add_simd_applies(&a.add) != 0,
                piconas_add_s8_check(&a.add, a.size) == PICONAS_S8_OK,
                "&params, " + at(l.input) + ", " + at(l.input2) + ", " + at(l.output) + ", " +
                    std::to_string(a.size));
      break;
    }
    case OpKind::Hardswish: {
      const auto& h = l.hardswish;
      o << "    static const piconas_hardswish_params params = {" << h.input_offset << ", "
        << h.output_offset << ", " << h.reluish_multiplier << ", " << h.reluish_shift << ", "
        << h.output_multiplier << ", " << h.output_shift << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      o << "    status = piconas_hardswish_s8(&params, " << at(l.input) << ", " << at(l.output) << ", "
        << a.size << ");\n";
      break;
    }
    case OpKind::ChannelMul: {
      const auto& c = l.channel_mul;
      o << "    static const piconas_channel_mul_params params = {" << c.input1_offset << ", "
        << c.input2_offset << ", " << c.output_offset << ", " << c.multiplier << ", " << c.shift << ", "
        << act(c.activation) << "};\n";
      o << "    (void)in_dims;\n    (void)out_dims;\n";
      o << "    status = piconas_channel_mul_s8(&params, " << at(l.input) << ", " << at(l.input2) << ", "
        << at(l.output) << ", " << a.size << ", " << a.output.c << ");\n";
      break;
    }
    case OpKind::GlobalAvgPool:
      o << "    static const piconas_activation clamp = " << act(l.activation) << ";\n";
      o << "    status = piconas_global_avg_pool2d_s8(clamp, &in_dims, " << at(l.input) << ", &out_dims, "
        << at(l.output) << ");\n";
      break;
  }
  o << "    if (status != PICONAS_S8_OK) {\n      return status;\n    }\n  }\n";
}

// The kernel headers int8_kernels.h does not include, for the layer kinds the model has.
std::string extra_includes(const QuantizedModel& m) {
  std::string out;
  auto has = [&](OpKind kind) {
    return std::any_of(m.layers.begin(), m.layers.end(), [&](const QLayer& l) { return l.kind == kind; });
  };
  if (has(OpKind::ChannelMul)) out += "#include \"piconas_runtime/channel_mul_s8.h\"\n";
  if (has(OpKind::Hardswish)) out += "#include \"piconas_runtime/hardswish_s8.h\"\n";
  return out;
}

// One layer of the patched stage (patch.h), inside the loop over patches p: a table of the
// values that change from patch to patch (dims, padding, offsets; one row per patch) and the
// kernel call reading its row g. Values the table does not hold are checked to be constant.
void emit_patch_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan, size_t i) {
  const QLayer& l = m.layers[i];
  const size_t patches = plan.patch.region.size();
  std::vector<PatchCall> calls;
  for (size_t k = 0; k < patches; ++k) calls.push_back(patch_call(m, plan, k, i));
  const PatchCall& c0 = calls[0];
  const std::string p = layer_prefix(i);
  std::vector<std::pair<std::string, std::vector<int64_t>>> cols;
  auto col = [&](const std::string& name, auto get) {
    std::vector<int64_t> v;
    for (const PatchCall& c : calls) v.push_back(static_cast<int64_t>(get(c)));
    cols.emplace_back(name, v);
    return "g[" + std::to_string(cols.size() - 1) + "]";
  };
  auto same = [&](auto get, const char* what) {
    for (const PatchCall& c : calls)
      PICONAS_CHECK(get(c) == get(c0), "emit_c: patched layer '" << l.name << "' has a varying " << what);
    return std::to_string(get(c0));
  };
  const std::string in_c = std::to_string(c0.args.input.c), out_c = std::to_string(c0.args.output.c);
  const std::string I = "      ";  // statement indent inside the layer's block
  std::ostringstream b;
  const std::string out_h = col("out_h", [](const PatchCall& c) { return c.args.output.h; });
  const std::string out_w = col("out_w", [](const PatchCall& c) { return c.args.output.w; });
  b << I << "const piconas_dims out_dims = {1, " << out_h << ", " << out_w << ", " << out_c << "};\n";
  const std::string output = "arena + " + same([](const PatchCall& c) { return c.output; }, "output offset");
  if (l.kind == OpKind::Add) {
    const std::string rows = col("rows", [](const PatchCall& c) { return c.rows; });
    const std::string size = col("size", [](const PatchCall& c) { return c.args.size; });
    const std::string x1 = col("input", [](const PatchCall& c) { return c.input; });
    const std::string x2 = col("input2", [](const PatchCall& c) { return c.input2; });
    const std::string s1 = col("input_stride", [](const PatchCall& c) { return c.input_stride; });
    const std::string s2 = col("input2_stride", [](const PatchCall& c) { return c.input2_stride; });
    const std::string sy = col("output_stride", [](const PatchCall& c) { return c.output_stride; });
    const auto& d = c0.args.add;
    b << I << "static const piconas_add_params params = {" << d.input1_offset << ", " << d.input1_multiplier << ", "
      << d.input1_shift << ", " << d.input2_offset << ", " << d.input2_multiplier << ", " << d.input2_shift << ", "
      << d.left_shift << ", " << d.output_offset << ", " << d.output_multiplier << ", " << d.output_shift << ", "
      << act(d.activation) << "};\n"
      << I << "(void)out_dims;\n" << I << "status = PICONAS_S8_OK;\n"
      << I << "for (r = 0; r < " << rows << " && status == PICONAS_S8_OK; ++r) {\n";
    bool checked = true;
    for (const PatchCall& c : calls) checked = checked && piconas_add_s8_check(&d, c.args.size) == PICONAS_S8_OK;
    emit_call(b, "piconas_add_s8", "piconas_add_simd_s8", piconas_add_simd_applies(&d) != 0, checked,
              "&params, arena + " + x1 + " + r * " + s1 + ", arena + " + x2 + " + r * " + s2 + ", " + output +
                  " + r * " + sy + ", " + size,
              I + "  ");
    b << I << "}\n";
  } else {
    const std::string in_h = col("in_h", [](const PatchCall& c) { return c.args.input.h; });
    const std::string in_w = col("in_w", [](const PatchCall& c) { return c.args.input.w; });
    const std::string pad_h = col("pad_h", [](const PatchCall& c) { return c.args.conv.padding.h; });
    const std::string pad_w = col("pad_w", [](const PatchCall& c) { return c.args.conv.padding.w; });
    const std::string input = "arena + " + col("input", [](const PatchCall& c) { return c.input; });
    b << I << "const piconas_dims in_dims = {1, " << in_h << ", " << in_w << ", " << in_c << "};\n"
      << I << "static const piconas_dims filter_dims = " << dims(c0.args.filter) << ";\n"
      << I << "static const piconas_per_channel_quant_params quant = {" << p << "multiplier, " << p << "shift};\n";
    if (c0.copy) {
      const std::string ch = col("copy_h", [](const PatchCall& c) { return c.copy_dims.h; });
      const std::string cw = col("copy_w", [](const PatchCall& c) { return c.copy_dims.w; });
      const std::string cy = col("copy_y0", [](const PatchCall& c) { return c.copy_y0; });
      const std::string cx = col("copy_x0", [](const PatchCall& c) { return c.copy_x0; });
      b << I << "const piconas_dims copy_dims = {1, " << ch << ", " << cw << ", " << in_c << "};\n"
        << I << "status = piconas_window_copy_in_s8(&copy_dims, arena + "
        << same([](const PatchCall& c) { return c.copy_source; }, "copy source") << ", " << cy << ", " << cx
        << ", &in_dims, " << input << ");\n"
        << I << "if (status != PICONAS_S8_OK) {\n" << I << "  return status;\n" << I << "}\n";
    }
    const piconas_per_channel_quant_params q = quant_of(l);
    std::vector<KernelArgs> call_args;
    for (const PatchCall& c : calls) call_args.push_back(c.args);
    const std::string args =
        "&in_dims, " + input + ", &filter_dims, " + p + "weight, " + p + "bias, &out_dims, " + output;
    const std::string padding = "{" + pad_h + ", " + pad_w + "}, {1, 1}, ";
    if (l.kind == OpKind::Conv) {
      const auto& cp = c0.args.conv;
      bool pointwise = true;
      for (const PatchCall& c : calls) pointwise = pointwise && conv_is_pointwise(c.args);
      b << I << "const piconas_conv_params params = {" << cp.input_offset << ", " << cp.output_offset << ", "
        << tile(cp.stride) << ", " << padding << act(cp.activation) << "};\n"
        << I << "piconas_s8_context ctx;\n" << I << "ctx.buf = "
        << (plan.scratch_offset[i] >= 0 ? "arena + " + std::to_string(plan.scratch_offset[i]) : std::string("0"))
        << ";\n" << I << "ctx.size = " << plan.scratch_size[i] << ";\n";
      emit_conv_call(b, m, plan, i, p, "&in_dims, " + input + ", ", "&out_dims, " + output, pointwise, call_args, I);
    } else {
      const auto& d = c0.args.dw;
      b << I << "const piconas_dw_conv_params params = {" << d.input_offset << ", " << d.output_offset << ", "
        << d.ch_mult << ", " << tile(d.stride) << ", " << padding << act(d.activation) << "};\n";
      const bool checked = depthwise_checked(l, call_args);
      emit_call(b, "piconas_depthwise_conv2d_s8", depthwise_simd(m, plan, checked),
                piconas_depthwise_conv2d_simd_applies(&d, &q, bias_of(l), &c0.args.filter) != 0,
                checked, "&params, &quant, " + args, I);
    }
  }
  if (c0.paste) {  // the stage output: the patch's region goes into the whole tensor
    const std::string py = col("paste_y0", [](const PatchCall& c) { return c.paste_y0; });
    const std::string px = col("paste_x0", [](const PatchCall& c) { return c.paste_x0; });
    b << I << "if (status == PICONAS_S8_OK) {\n"
      << I << "  static const piconas_dims stage_dims = " << dims(c0.paste_dims) << ";\n"
      << I << "  status = piconas_window_copy_out_s8(&out_dims, " << output << ", &stage_dims, " << py << ", " << px
      << ", arena + " << same([](const PatchCall& c) { return c.paste_target; }, "stage output offset") << ");\n"
      << I << "}\n";
  }
  o << "    { /* layer " << i << ": " << comment_safe(l.name) << " (" << op_kind_name(l.kind) << "), patch p */\n"
    << I << "/* per patch:";
  for (const auto& col_values : cols) o << " " << col_values.first;
  o << " */\n" << I << "static const int32_t " << p << "patch[" << patches << "][" << cols.size() << "] = {";
  for (size_t k = 0; k < patches; ++k) {
    o << (k % 4 == 0 ? "\n" + I + "    " : std::string(" ")) << "{";
    for (size_t j = 0; j < cols.size(); ++j) o << (j ? ", " : "") << cols[j].second[k];
    o << "},";
  }
  o << "\n" << I << "};\n" << I << "const int32_t *g = " << p << "patch[p];\n"
    << b.str() << I << "if (status != PICONAS_S8_OK) {\n" << I << "  return status;\n" << I << "}\n    }\n";
}

}  // namespace

void check_c_prefix(const std::string& prefix) {
  constexpr size_t kMaxPrefixChars = 64;
  bool ok = !prefix.empty() && prefix.size() <= kMaxPrefixChars && std::isalpha(static_cast<unsigned char>(prefix[0]));
  for (char c : prefix) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  PICONAS_CHECK(ok, "export: prefix '" << excerpt(prefix, 80) << "' must be a letter followed by at most "
                                       << kMaxPrefixChars - 1 << " letters, digits or '_'");
  const std::string lower = [&] {
    std::string l = prefix;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  }();
  PICONAS_CHECK(lower.rfind("piconas", 0) != 0,
                "export: prefix '" << prefix << "' starts with 'piconas', reserved for the runtime's headers");
  // C11 and common POSIX / compiler headers a firmware includes with the export on its path.
  static const std::set<std::string> kHeaders{
      "assert", "complex", "ctype", "errno", "fenv", "float", "inttypes", "iso646", "limits", "locale",
      "math", "setjmp", "signal", "stdalign", "stdarg", "stdatomic", "stdbool", "stddef", "stdint",
      "stdio", "stdlib", "stdnoreturn", "string", "tgmath", "threads", "time", "uchar", "wchar",
      "wctype", "alloca", "malloc", "memory", "strings", "unistd", "fcntl", "pthread", "sched",
      "endian", "features", "arm_math", "arm_acle", "arm_neon", "cmsis_gcc", "cmsis_compiler"};
  PICONAS_CHECK(!kHeaders.count(lower), "export: prefix '" << prefix << "' would write " << prefix
                                                           << ".h, shadowing the system header <" << lower << ".h>");
}

EmitResult emit_c(const QuantizedModel& m, const MemoryPlan& plan, const EmitOptions& opt,
                  const std::string& out_dir) {
  const std::string& prefix = opt.prefix;
  check_c_prefix(prefix);
  PICONAS_CHECK(plan.tensor_offset.size() == m.tensors.size(), "emit_c: plan does not match the model");
  const std::string P = upper(prefix);
  const TensorQuant& in = m.tensors[0];
  const TensorQuant& out = m.tensors[static_cast<size_t>(m.output())];
  const int64_t in_size = in.shape.c * in.shape.h * in.shape.w;
  EmitResult r;
  r.peak_sram = plan.arena_bytes;
  r.flash_bytes = m.constant_bytes() + static_cast<int64_t>(opt.input_lut.size());
  std::filesystem::create_directories(out_dir + "/piconas_runtime");

  std::ostringstream h;
  h << "/*\n * " << prefix << ".h: int8 model generated by piconas " << piconas_version() << " export.\n"
    << " * architecture: " << comment_safe(opt.arch_text) << "\n"
    << " * source:       " << comment_safe(opt.source) << "\n"
    << " * source hash:  fnv1a64 " << comment_safe(opt.source_hash) << "\n"
    << " * Input: NHWC int8, " << in_size << " bytes; real = scale * (q - zero_point). Output: int8 logits.\n"
    << " * PEAK_SRAM is the static activation arena (memory planner, " << plan_strategy_name(plan.strategy)
    << "; the no-reuse plan would need " << plan.naive_bytes << " bytes).\n"
    << " * FLASH_BYTES counts the constant arrays (weights, biases, multipliers, shifts, input table).\n"
    << " */\n#ifndef " << P << "_H\n#define " << P << "_H\n\n#include <stdint.h>\n\n"
    << "#define " << P << "_INPUT_CHANNELS " << in.shape.c << "\n"
    << "#define " << P << "_INPUT_HEIGHT " << in.shape.h << "\n"
    << "#define " << P << "_INPUT_WIDTH " << in.shape.w << "\n"
    << "#define " << P << "_INPUT_SIZE " << in_size << "\n"
    << "#define " << P << "_NUM_CLASSES " << out.shape.c << "\n"
    << "#define " << P << "_NUM_LAYERS " << m.layers.size() << "\n"
    << "#define " << P << "_PEAK_SRAM " << plan.arena_bytes << "\n"
    << "#define " << P << "_FLASH_BYTES " << r.flash_bytes << "\n"
    << "#define " << P << "_INPUT_SCALE " << float_literal(in.scale) << "\n"
    << "#define " << P << "_INPUT_ZERO_POINT (" << in.zero_point << ")\n"
    << "#define " << P << "_OUTPUT_SCALE " << float_literal(out.scale) << "\n"
    << "#define " << P << "_OUTPUT_ZERO_POINT (" << out.zero_point << ")\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  if (!opt.input_lut.empty())
    h << "/* Pixel (0..255) of channel c -> int8 input: " << prefix << "_input_lut[c * 256 + pixel]\n"
      << " * (applies the training normalisation and the input quantization). */\n"
      << "extern const int8_t " << prefix << "_input_lut[" << opt.input_lut.size() << "];\n\n";
  h << "/* Runs the model on one image; returns 0 or a negative kernel status. */\n"
    << "int " << prefix << "_invoke(const int8_t *input, int8_t *output);\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << P << "_H */\n";

  bool in_place_conv = false;
  for (size_t i = 0; i < m.layers.size(); ++i)
    in_place_conv = in_place_conv || (plan.in_place[i] && m.layers[i].kind == OpKind::Conv);
  std::ostringstream c;
  c << "/* " << prefix << ".c: generated by piconas " << piconas_version() << " export; see "
    << prefix << ".h. */\n#include \"" << prefix << ".h\"\n\n#include \"piconas_runtime/int8_kernels.h\"\n"
    << extra_includes(m)
    << (in_place_conv ? "#include \"piconas_runtime/conv2d_1x1_inplace_s8.h\"\n" : "") << "\n"
    << "#ifndef PICONAS_ALIGNED\n#if defined(__GNUC__) || defined(__clang__)\n"
    << "#define PICONAS_ALIGNED(n) __attribute__((aligned(n)))\n#else\n#define PICONAS_ALIGNED(n)\n#endif\n#endif\n\n"
    << "/* Per-layer hooks (e.g. timing): no-ops unless defined before this point. */\n"
    << "#ifndef PICONAS_LAYER_BEGIN\n#define PICONAS_LAYER_BEGIN(i) ((void)0)\n#endif\n"
    << "#ifndef PICONAS_LAYER_END\n#define PICONAS_LAYER_END(i) ((void)0)\n#endif\n\n";
  if (!opt.input_lut.empty()) emit_array(c, "int8_t", prefix + "_input_lut", opt.input_lut, false);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const QLayer& l = m.layers[i];
    if (l.weight.empty()) continue;
    const std::string p = layer_prefix(i);
    c << "\n/* layer " << i << ": " << comment_safe(l.name) << " */\n";
    if (conv_packed(m, plan, i)) {
      // Only one of the two filter layouts is referenced (and compiled) per target.
      c << "#if PICONAS_S8_PACKED_PREFERRED\n";
      emit_array(c, "int8_t", p + "packed", packed_filter(m, l));
      c << "#else\n";
      emit_array(c, "int8_t", p + "weight", l.weight);
      c << "#endif\n";
    } else {
      emit_array(c, "int8_t", p + "weight", l.weight);
    }
    emit_array(c, "int32_t", p + "bias", l.bias);
    emit_array(c, "int32_t", p + "multiplier", l.multiplier);
    emit_array(c, "int32_t", p + "shift", l.shift);
  }
  bool stage_has_add = false;  // the patched adds loop over rows with r
  for (int i = 0; i < plan.patch.layers; ++i) stage_has_add = stage_has_add || m.layers[static_cast<size_t>(i)].kind == OpKind::Add;
  c << "\n/* Activation arena: " << plan.arena_bytes << " bytes, int32 words for 4-byte alignment. */\n"
    << "static int32_t arena_words[" << (plan.arena_bytes + 3) / 4 << "] PICONAS_ALIGNED(16);\n\n"
    << "int " << prefix << "_invoke(const int8_t *input, int8_t *output) {\n"
    << "  int8_t *arena = (int8_t *)arena_words;\n  int status;\n  int32_t i;\n"
    << (plan.patch.on() ? "  int32_t p;\n" : "") << (stage_has_add ? "  int32_t r;\n" : "")
    << "  for (i = 0; i < " << in_size << "; ++i) {\n    arena[" << plan.tensor_offset[0] << " + i] = input[i];\n  }\n";
  const size_t stage = static_cast<size_t>(plan.patch.layers);
  if (plan.patch.on()) {
    c << "  /* Layers 0.." << stage - 1 << " run patch by patch: " << plan.patch.grid_h << "x" << plan.patch.grid_w
      << " patches of their output (docs/memory.md). */\n"
      << "  for (p = 0; p < " << plan.patch.patches() << "; ++p) {\n";
    for (size_t i = 0; i < stage; ++i) {
      c << "    PICONAS_LAYER_BEGIN(" << i << ");\n";
      emit_patch_layer(c, m, plan, i);
      c << "    PICONAS_LAYER_END(" << i << ");\n";
    }
    c << "  }\n";
  }
  for (size_t i = stage; i < m.layers.size(); ++i) {
    c << "  PICONAS_LAYER_BEGIN(" << i << ");\n";
    emit_layer(c, m, plan, i);
    c << "  PICONAS_LAYER_END(" << i << ");\n";
  }
  c << "  for (i = 0; i < " << out.shape.c << "; ++i) {\n    output[i] = arena["
    << plan.tensor_offset[static_cast<size_t>(m.output())] << " + i];\n  }\n  return PICONAS_S8_OK;\n}\n";

  std::ostringstream readme;
  readme << "# " << prefix << ": int8 model exported by piconas " << piconas_version() << "\n\n"
         << "Architecture: `" << opt.arch_text << "`\n\n"
         << "- Input " << in.shape.c << "x" << in.shape.h << "x" << in.shape.w
         << " (NHWC int8), " << out.shape.c << " classes (int8 logits; take the argmax).\n"
         << "- RAM: " << plan.arena_bytes << " bytes of static arena (" << P << "_PEAK_SRAM).\n"
         << "- Flash: " << r.flash_bytes << " bytes of constants (" << P << "_FLASH_BYTES) plus code.\n\n"
         << "Build: compile `" << prefix << ".c` and `piconas_runtime/*.c` (C99, no float, no malloc),\n"
         << "with this directory on the include path. Several models can share one runtime copy.\n\n"
         << "```c\n#include \"" << prefix << ".h\"\n\n"
         << "int classify(const uint8_t *pixels) { /* H*W*C pixels, NHWC (grey: one per pixel) */\n"
         << "  static int8_t in[" << P << "_INPUT_SIZE], out[" << P << "_NUM_CLASSES];\n"
         << "  int i, best = 0;\n"
         << "  for (i = 0; i < " << P << "_INPUT_SIZE; ++i)\n"
         << "    in[i] = " << prefix << "_input_lut[(i % " << P << "_INPUT_CHANNELS) * 256 + pixels[i]];\n"
         << "  if (" << prefix << "_invoke(in, out) != 0) return -1;\n"
         << "  for (i = 1; i < " << P << "_NUM_CLASSES; ++i) if (out[i] > out[best]) best = i;\n"
         << "  return best;\n}\n```\n";

  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = out_dir + "/" + name;
    write_file_atomic(path, text);
    r.files.push_back(path);
  };
  write(prefix + ".h", h.str());
  write(prefix + ".c", c.str());
  write("README.md", readme.str());
  for (const RuntimeFile& f : runtime_files()) write(std::string("piconas_runtime/") + f.name, f.text);
  return r;
}

}  // namespace piconas::nas::deploy
