#include "nas/deploy/executor.h"

#include <algorithm>
#include <cstring>

#include "ops/int8/channel_mul_s8.h"
#include "ops/int8/conv2d_1x1_inplace_s8.h"
#include "ops/int8/hardswish_s8.h"
#include "ops/int8/int8_kernels.h"
#include "ops/int8/logistic_s8.h"
#include "ops/int8/mul_s8.h"

namespace piconas::nas::deploy {

namespace {
piconas_dims dims_of(const TensorQuant& t) {
  return {1, static_cast<int32_t>(t.shape.h), static_cast<int32_t>(t.shape.w), static_cast<int32_t>(t.shape.c)};
}
}  // namespace

KernelArgs kernel_args(const QuantizedModel& model, const QLayer& l) {
  const TensorQuant& in = model.tensors[static_cast<size_t>(l.input)];
  const TensorQuant& out = model.tensors[static_cast<size_t>(l.output)];
  KernelArgs a;
  a.input = dims_of(in);
  a.output = dims_of(out);
  const piconas_tile stride{l.stride.h, l.stride.w}, pad{l.padding.h, l.padding.w}, dil{1, 1};
  switch (l.kind) {
    case LayerKind::Conv:
      a.groups = l.groups;
      a.filter = {a.output.c, l.kernel.h, l.kernel.w, a.input.c / l.groups};
      a.conv = {-in.zero_point, out.zero_point, stride, pad, dil, l.activation};
      break;
    case LayerKind::Depthwise:
      a.filter = {1, l.kernel.h, l.kernel.w, a.output.c};
      a.dw = {-in.zero_point, out.zero_point, a.output.c / a.input.c, stride, pad, dil, l.activation};
      break;
    case LayerKind::FullyConnected:
      a.filter = {a.output.c, a.input.h, a.input.w, a.input.c};
      a.fc = {-in.zero_point, out.zero_point, l.activation};
      break;
    case LayerKind::Add:
      a.input2 = dims_of(model.tensors[static_cast<size_t>(l.input2)]);
      a.add = l.add;
      a.size = a.output.h * a.output.w * a.output.c;
      break;
    case LayerKind::Hardswish:
    case LayerKind::Logistic: a.size = a.output.h * a.output.w * a.output.c; break;
    case LayerKind::ChannelMul:
      a.input2 = dims_of(model.tensors[static_cast<size_t>(l.input2)]);
      a.size = a.output.h * a.output.w;  // pixels
      break;
    case LayerKind::Mul:
      a.input2 = dims_of(model.tensors[static_cast<size_t>(l.input2)]);
      a.size = a.output.h * a.output.w * (a.input2.c == a.output.c ? a.output.c : 1);
      break;
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
      a.pool = {stride, pad, l.activation};
      a.pad_value = in.zero_point;
      break;
    case LayerKind::GlobalAvgPool: break;
    case LayerKind::Input:
    case LayerKind::BatchNorm:
    case LayerKind::LayerNorm:
    case LayerKind::Activation:
      unexpected_layer_kind(l.kind, "executor");
  }
  return a;
}

namespace {

// Where a tensor is stored while patch `p` runs: arena offset and the region it holds.
struct Storage {
  int64_t offset = 0;
  Window stored;
};

Storage storage(const QuantizedModel& m, const MemoryPlan& plan, size_t p, int t) {
  const PatchPlan& patch = plan.patch;
  if (t == patch.output_tensor) return {plan.output_patch_offset, patch.region[p][static_cast<size_t>(t)]};
  if (patch.patch_stored(t)) return {plan.tensor_offset[static_cast<size_t>(t)], patch.region[p][static_cast<size_t>(t)]};
  const Shape3& s = m.tensors[static_cast<size_t>(t)].shape;
  return {plan.tensor_offset[static_cast<size_t>(t)], Window{0, 0, static_cast<int32_t>(s.h), static_cast<int32_t>(s.w)}};
}

// Arena offset of pixel (y, x) (tensor coordinates) of a tensor of `channels` stored as s.
int64_t pixel_offset(const Storage& s, int32_t y, int32_t x, int64_t channels) {
  return s.offset + (int64_t{y - s.stored.y0} * s.stored.w + (x - s.stored.x0)) * channels;
}

}  // namespace

PatchCall patch_call(const QuantizedModel& m, const MemoryPlan& plan, size_t p, size_t i) {
  const PatchPlan& patch = plan.patch;
  PICONAS_CHECK(patch.on() && i < static_cast<size_t>(patch.layers) && p < patch.region.size(),
                "patch_call: layer " << i << " / patch " << p << " is not in the patched stage");
  const QLayer& l = m.layers[i];
  const int64_t in_c = m.tensors[static_cast<size_t>(l.input)].shape.c;
  const int64_t out_c = m.tensors[static_cast<size_t>(l.output)].shape.c;
  const Window out = patch.region[p][static_cast<size_t>(l.output)];
  const Window in = patch.input_window[p][i];
  PatchCall c;
  c.args = kernel_args(m, l);
  c.args.output.h = out.h;
  c.args.output.w = out.w;
  const Storage y = storage(m, plan, p, l.output);
  c.output = pixel_offset(y, out.y0, out.x0, out_c);
  if (l.kind == LayerKind::Add) {
    const Storage a = storage(m, plan, p, l.input), b = storage(m, plan, p, l.input2);
    c.args.input.h = c.args.input2.h = out.h;
    c.args.input.w = c.args.input2.w = out.w;
    c.input = pixel_offset(a, out.y0, out.x0, in_c);
    c.input2 = pixel_offset(b, out.y0, out.x0, in_c);
    const bool contiguous = a.stored.w == out.w && b.stored.w == out.w && y.stored.w == out.w;
    c.rows = contiguous ? 1 : out.h;
    c.args.size = static_cast<int32_t>((contiguous ? int64_t{out.h} : 1) * out.w * out_c);
    c.input_stride = int64_t{a.stored.w} * in_c;
    c.input2_stride = int64_t{b.stored.w} * in_c;
    c.output_stride = int64_t{y.stored.w} * out_c;
  } else {
    c.args.input.h = in.h;
    c.args.input.w = in.w;
    const piconas_tile pad{in.y0 - (out.y0 * l.stride.h - l.padding.h), in.x0 - (out.x0 * l.stride.w - l.padding.w)};
    c.args.conv.padding = pad;
    c.args.dw.padding = pad;
    const Storage x = storage(m, plan, p, l.input);
    if (patch.copy_input[i]) {
      c.copy = true;
      c.copy_dims = {1, x.stored.h, x.stored.w, static_cast<int32_t>(in_c)};
      c.copy_source = x.offset;
      c.copy_y0 = in.y0 - x.stored.y0;
      c.copy_x0 = in.x0 - x.stored.x0;
      c.input = plan.window_offset[i];
    } else {
      c.input = pixel_offset(x, in.y0, in.x0, in_c);
    }
  }
  if (l.output == patch.output_tensor) {
    const Shape3& s = m.tensors[static_cast<size_t>(l.output)].shape;
    c.paste = true;
    c.paste_dims = {1, static_cast<int32_t>(s.h), static_cast<int32_t>(s.w), static_cast<int32_t>(s.c)};
    c.paste_target = plan.tensor_offset[static_cast<size_t>(l.output)];
    c.paste_y0 = out.y0;
    c.paste_x0 = out.x0;
  }
  return c;
}

namespace {

// Runs one layer with the given arguments and buffers; returns the kernel status.
int run_layer(const QLayer& l, const KernelArgs& a, const MemoryPlan& plan, size_t i, int8_t* arena, const int8_t* x,
              const int8_t* x2, int8_t* y) {
  const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
  switch (l.kind) {
    case LayerKind::Conv: {
      const piconas_s8_context ctx{plan.scratch_offset[i] >= 0 ? arena + plan.scratch_offset[i] : nullptr,
                                   static_cast<int32_t>(plan.scratch_size[i])};
      if (plan.in_place[i])  // x and y overlap in one buffer (planner.h)
        return piconas_conv2d_1x1_inplace_s8(&ctx, &a.conv, &q, &a.input, x, &a.filter, l.weight.data(),
                                             l.bias.data(), &a.output, y, kInPlaceConvStrip);
      if (a.groups > 1)
        return piconas_conv2d_grouped_s8(&ctx, &a.conv, &q, &a.input, x, &a.filter, l.weight.data(),
                                         l.bias.data(), &a.output, y, a.groups);
      return piconas_conv2d_s8(&ctx, &a.conv, &q, &a.input, x, &a.filter, l.weight.data(), l.bias.data(), &a.output,
                               y);
    }
    case LayerKind::Depthwise:
      if (plan.in_place[i]) {  // y == x: the output overwrites the input (planner.h)
        const piconas_s8_context ctx{arena + plan.scratch_offset[i], static_cast<int32_t>(plan.scratch_size[i])};
        return piconas_depthwise_conv2d_inplace_s8(&ctx, &a.dw, &q, &a.input, &a.filter, l.weight.data(),
                                                   l.bias.data(), &a.output, y);
      }
      return piconas_depthwise_conv2d_s8(&a.dw, &q, &a.input, x, &a.filter, l.weight.data(), l.bias.data(),
                                         &a.output, y);
    case LayerKind::FullyConnected:
      return piconas_fully_connected_s8(&a.fc, &q, &a.input, x, &a.filter, l.weight.data(), l.bias.data(),
                                        &a.output, y);
    case LayerKind::Add: return piconas_add_s8(&a.add, x, x2, y, a.size);
    case LayerKind::GlobalAvgPool: return piconas_global_avg_pool2d_s8(l.activation, &a.input, x, &a.output, y);
    case LayerKind::Hardswish: return piconas_hardswish_s8(&l.hardswish, x, y, a.size);
    case LayerKind::Logistic: return piconas_logistic_s8(l.table.data(), x, y, a.size);
    case LayerKind::ChannelMul: return piconas_channel_mul_s8(&l.channel_mul, x, x2, y, a.size, a.output.c);
    case LayerKind::Mul:
      if (a.input2.c == a.output.c) return piconas_mul_s8(&l.mul, x, x2, y, a.size);
      return piconas_pixel_mul_s8(&l.mul, x, x2, y, a.size, a.output.c);
    case LayerKind::MaxPool:
      return piconas_max_pool2d_s8(&a.pool, &a.input, x, {l.kernel.h, l.kernel.w}, &a.output, y);
    case LayerKind::AvgPool:
      if (l.count_include_pad)
        return piconas_avg_pool2d_include_pad_s8(&a.pool, &a.input, x, {l.kernel.h, l.kernel.w}, a.pad_value,
                                                 &a.output, y);
      return piconas_avg_pool2d_s8(&a.pool, &a.input, x, {l.kernel.h, l.kernel.w}, &a.output, y);
    case LayerKind::Input:
    case LayerKind::BatchNorm:
    case LayerKind::LayerNorm:
    case LayerKind::Activation:
      unexpected_layer_kind(l.kind, "executor");
  }
  return PICONAS_S8_ERR_ARGUMENT;
}

int run_patch_call(const QLayer& l, const PatchCall& c, const MemoryPlan& plan, size_t i, int8_t* arena) {
  int status = PICONAS_S8_OK;
  if (c.copy)
    status = piconas_window_copy_in_s8(&c.copy_dims, arena + c.copy_source, c.copy_y0, c.copy_x0, &c.args.input,
                                       arena + c.input);
  for (int32_t r = 0; r < c.rows && status == PICONAS_S8_OK; ++r)
    status = run_layer(l, c.args, plan, i, arena, arena + c.input + r * c.input_stride,
                       arena + c.input2 + r * c.input2_stride, arena + c.output + r * c.output_stride);
  if (c.paste && status == PICONAS_S8_OK)
    status = piconas_window_copy_out_s8(&c.args.output, arena + c.output, &c.paste_dims, c.paste_y0, c.paste_x0,
                                        arena + c.paste_target);
  return status;
}

void check_status(const QLayer& l, int status) {
  PICONAS_CHECK(status == PICONAS_S8_OK, "run_int8: kernel of layer '" << l.name << "' (" << layer_kind_name(l.kind)
                                                                       << ") returned status " << status);
}

}  // namespace

std::vector<int8_t> run_int8(const QuantizedModel& model, const MemoryPlan& plan,
                             const int8_t* input_nhwc, int64_t batch, const Int8Observer& observe) {
  PICONAS_CHECK(plan.tensor_offset.size() == model.tensors.size() &&
                    plan.scratch_offset.size() == model.layers.size() && plan.in_place.size() == model.layers.size(),
                "run_int8: the memory plan does not belong to this model");
  PICONAS_CHECK(!plan.patch.on() || (plan.patch.layers < static_cast<int>(model.layers.size()) &&
                                     plan.patch.region.size() == static_cast<size_t>(plan.patch.patches()) &&
                                     plan.patch.region[0].size() == model.tensors.size()),
                "run_int8: the patching of the memory plan does not belong to this model");
  const TensorQuant& in_t = model.tensors[0];
  const int64_t in_bytes = in_t.shape.c * in_t.shape.h * in_t.shape.w;
  const int64_t classes = model.tensors[static_cast<size_t>(model.output())].shape.c;
  std::vector<int32_t> arena_words(static_cast<size_t>((plan.arena_bytes + 3) / 4));
  auto* arena = reinterpret_cast<int8_t*>(arena_words.data());
  std::vector<int8_t> logits(static_cast<size_t>(batch * classes));
  const size_t stage = static_cast<size_t>(plan.patch.layers);
  for (int64_t n = 0; n < batch; ++n) {
    std::memcpy(arena + plan.tensor_offset[0], input_nhwc + n * in_bytes, static_cast<size_t>(in_bytes));
    for (size_t p = 0; p < plan.patch.region.size(); ++p)
      for (size_t i = 0; i < stage; ++i)
        check_status(model.layers[i], run_patch_call(model.layers[i], patch_call(model, plan, p, i), plan, i, arena));
    if (observe && stage > 0) {
      const int t = model.layers[stage - 1].output;
      observe(n, t, arena + plan.tensor_offset[static_cast<size_t>(t)]);
    }
    for (size_t i = stage; i < model.layers.size(); ++i) {
      const QLayer& l = model.layers[i];
      const int8_t* x2 = l.input2 >= 0 ? arena + plan.tensor_offset[static_cast<size_t>(l.input2)] : nullptr;
      check_status(l, run_layer(l, kernel_args(model, l), plan, i, arena,
                                arena + plan.tensor_offset[static_cast<size_t>(l.input)], x2,
                                arena + plan.tensor_offset[static_cast<size_t>(l.output)]));
      if (observe) observe(n, l.output, arena + plan.tensor_offset[static_cast<size_t>(l.output)]);
    }
    std::memcpy(logits.data() + n * classes, arena + plan.tensor_offset[static_cast<size_t>(model.output())],
                static_cast<size_t>(classes));
  }
  return logits;
}

std::vector<int32_t> argmax_rows(const std::vector<int8_t>& logits, int64_t classes) {
  std::vector<int32_t> out(logits.size() / static_cast<size_t>(classes));
  for (size_t n = 0; n < out.size(); ++n) {
    const auto* row = logits.data() + n * static_cast<size_t>(classes);
    out[n] = static_cast<int32_t>(std::max_element(row, row + classes) - row);
  }
  return out;
}

std::vector<int32_t> argmax_rows(const Tensor& logits) {
  const int64_t n = logits.dim(0), k = logits.dim(1);
  std::vector<int32_t> out(static_cast<size_t>(n));
  const float* p = logits.data<float>();
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i)] = static_cast<int32_t>(std::max_element(p + i * k, p + (i + 1) * k) - (p + i * k));
  return out;
}

}  // namespace piconas::nas::deploy
