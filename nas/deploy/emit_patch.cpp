// Emission of the patched stage (see emit_calls.h, emit_patch_layer).
#include <utility>

#include "nas/deploy/emit_calls.h"
#include "ops/int8/int8_kernels.h"

namespace piconas::nas::deploy::emit {

// One layer of the patched stage (patch.h), inside the loop over patches p: a table of the
// values that change from patch to patch (dims, padding, offsets; one row per patch) and the
// kernel call reading its row g. Values the table does not hold are checked to be constant.
void emit_patch_layer(std::ostringstream& o, const QuantizedModel& m, const MemoryPlan& plan,
                      size_t i) {
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
      PICONAS_CHECK(get(c) == get(c0),
                    "emit_c: patched layer '" << l.name << "' has a varying " << what);
    return std::to_string(get(c0));
  };
  const std::string in_c = std::to_string(c0.args.input.c),
                    out_c = std::to_string(c0.args.output.c);
  const std::string I = "      ";  // statement indent inside the layer's block
  std::ostringstream b;
  const std::string out_h = col("out_h", [](const PatchCall& c) { return c.args.output.h; });
  const std::string out_w = col("out_w", [](const PatchCall& c) { return c.args.output.w; });
  b << I << "const piconas_dims out_dims = {1, " << out_h << ", " << out_w << ", " << out_c
    << "};\n";
  const std::string output =
      "arena + " + same([](const PatchCall& c) { return c.output; }, "output offset");
  if (l.kind == LayerKind::Add) {
    const std::string rows = col("rows", [](const PatchCall& c) { return c.rows; });
    const std::string size = col("size", [](const PatchCall& c) { return c.args.size; });
    const std::string x1 = col("input", [](const PatchCall& c) { return c.input; });
    const std::string x2 = col("input2", [](const PatchCall& c) { return c.input2; });
    const std::string s1 = col("input_stride", [](const PatchCall& c) { return c.input_stride; });
    const std::string s2 = col("input2_stride", [](const PatchCall& c) { return c.input2_stride; });
    const std::string sy = col("output_stride", [](const PatchCall& c) { return c.output_stride; });
    const auto& d = c0.args.add;
    b << I << "static const piconas_add_params params = {" << d.input1_offset << ", "
      << d.input1_multiplier << ", " << d.input1_shift << ", " << d.input2_offset << ", "
      << d.input2_multiplier << ", " << d.input2_shift << ", " << d.left_shift << ", "
      << d.output_offset << ", " << d.output_multiplier << ", " << d.output_shift << ", "
      << act(d.activation) << "};\n"
      << I << "(void)out_dims;\n"
      << I << "status = PICONAS_S8_OK;\n"
      << I << "for (r = 0; r < " << rows << " && status == PICONAS_S8_OK; ++r) {\n";
    bool checked = true;
    for (const PatchCall& c : calls)
      checked = checked && piconas_add_s8_check(&d, c.args.size) == PICONAS_S8_OK;
    emit_call(b, "piconas_add_s8", "piconas_add_simd_s8", piconas_add_simd_applies(&d) != 0,
              checked,
              "&params, arena + " + x1 + " + r * " + s1 + ", arena + " + x2 + " + r * " + s2 +
                  ", " + output + " + r * " + sy + ", " + size,
              I + "  ");
    b << I << "}\n";
  } else {
    const std::string in_h = col("in_h", [](const PatchCall& c) { return c.args.input.h; });
    const std::string in_w = col("in_w", [](const PatchCall& c) { return c.args.input.w; });
    const std::string pad_h =
        col("pad_h", [](const PatchCall& c) { return c.args.conv.padding.h; });
    const std::string pad_w =
        col("pad_w", [](const PatchCall& c) { return c.args.conv.padding.w; });
    const std::string input = "arena + " + col("input", [](const PatchCall& c) { return c.input; });
    b << I << "const piconas_dims in_dims = {1, " << in_h << ", " << in_w << ", " << in_c << "};\n"
      << I << "static const piconas_dims filter_dims = " << dims(c0.args.filter) << ";\n"
      << I << "static const piconas_per_channel_quant_params quant = {" << p << "multiplier, " << p
      << "shift};\n";
    if (c0.copy) {
      const std::string ch = col("copy_h", [](const PatchCall& c) { return c.copy_dims.h; });
      const std::string cw = col("copy_w", [](const PatchCall& c) { return c.copy_dims.w; });
      const std::string cy = col("copy_y0", [](const PatchCall& c) { return c.copy_y0; });
      const std::string cx = col("copy_x0", [](const PatchCall& c) { return c.copy_x0; });
      b << I << "const piconas_dims copy_dims = {1, " << ch << ", " << cw << ", " << in_c << "};\n"
        << I << "status = piconas_window_copy_in_s8(&copy_dims, arena + "
        << same([](const PatchCall& c) { return c.copy_source; }, "copy source") << ", " << cy
        << ", " << cx << ", &in_dims, " << input << ");\n"
        << I << "if (status != PICONAS_S8_OK) {\n"
        << I << "  return status;\n"
        << I << "}\n";
    }
    const piconas_per_channel_quant_params q = quant_of(l);
    std::vector<KernelArgs> call_args;
    for (const PatchCall& c : calls) call_args.push_back(c.args);
    const std::string args = "&in_dims, " + input + ", &filter_dims, " + p + "weight, " + p +
                             "bias, &out_dims, " + output;
    const std::string padding = "{" + pad_h + ", " + pad_w + "}, {1, 1}, ";
    if (l.kind == LayerKind::Conv) {
      const auto& cp = c0.args.conv;
      bool pointwise = true;
      for (const PatchCall& c : calls) pointwise = pointwise && conv_is_pointwise(c.args);
      b << I << "const piconas_conv_params params = {" << cp.input_offset << ", "
        << cp.output_offset << ", " << tile(cp.stride) << ", " << padding << act(cp.activation)
        << "};\n"
        << I << "piconas_s8_context ctx;\n"
        << I << "ctx.buf = "
        << (plan.scratch_offset[i] >= 0 ? "arena + " + std::to_string(plan.scratch_offset[i])
                                        : std::string("0"))
        << ";\n"
        << I << "ctx.size = " << plan.scratch_size[i] << ";\n";
      emit_conv_call(b, m, plan, i, p, "&in_dims, " + input + ", ", "&out_dims, " + output,
                     pointwise, call_args, I);
    } else {
      const auto& d = c0.args.dw;
      b << I << "const piconas_dw_conv_params params = {" << d.input_offset << ", "
        << d.output_offset << ", " << d.ch_mult << ", " << tile(d.stride) << ", " << padding
        << act(d.activation) << "};\n";
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
      << I << "  status = piconas_window_copy_out_s8(&out_dims, " << output << ", &stage_dims, "
      << py << ", " << px << ", arena + "
      << same([](const PatchCall& c) { return c.paste_target; }, "stage output offset") << ");\n"
      << I << "}\n";
  }
  o << "    { /* layer " << i << ": " << comment_safe(l.name) << " (" << layer_kind_name(l.kind)
    << "), patch p */\n"
    << I << "/* per patch:";
  for (const auto& col_values : cols) o << " " << col_values.first;
  o << " */\n"
    << I << "static const int32_t " << p << "patch[" << patches << "][" << cols.size() << "] = {";
  for (size_t k = 0; k < patches; ++k) {
    o << (k % 4 == 0 ? "\n" + I + "    " : std::string(" ")) << "{";
    for (size_t j = 0; j < cols.size(); ++j) o << (j ? ", " : "") << cols[j].second[k];
    o << "},";
  }
  o << "\n"
    << I << "};\n"
    << I << "const int32_t *g = " << p << "patch[p];\n"
    << b.str() << I << "if (status != PICONAS_S8_OK) {\n"
    << I << "  return status;\n"
    << I << "}\n    }\n";
}

}  // namespace piconas::nas::deploy::emit
