#include "nas/deploy/executor.h"

#include <algorithm>
#include <cstring>

#include "ops/int8/int8_kernels.h"

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
    case OpKind::Conv:
      a.filter = {a.output.c, l.kernel.h, l.kernel.w, a.input.c};
      a.conv = {-in.zero_point, out.zero_point, stride, pad, dil, l.activation};
      break;
    case OpKind::Depthwise:
      a.filter = {1, l.kernel.h, l.kernel.w, a.output.c};
      a.dw = {-in.zero_point, out.zero_point, a.output.c / a.input.c, stride, pad, dil, l.activation};
      break;
    case OpKind::FullyConnected:
      a.filter = {a.output.c, a.input.h, a.input.w, a.input.c};
      a.fc = {-in.zero_point, out.zero_point, l.activation};
      break;
    case OpKind::Add:
      a.input2 = dims_of(model.tensors[static_cast<size_t>(l.input2)]);
      a.add = l.add;
      a.size = a.output.h * a.output.w * a.output.c;
      break;
    case OpKind::GlobalAvgPool: break;
  }
  return a;
}

std::vector<int8_t> run_int8(const QuantizedModel& model, const MemoryPlan& plan,
                             const int8_t* input_nhwc, int64_t batch) {
  PICONAS_CHECK(plan.tensor_offset.size() == model.tensors.size() &&
                    plan.scratch_offset.size() == model.layers.size() && plan.in_place.size() == model.layers.size(),
                "run_int8: the memory plan does not belong to this model");
  const TensorQuant& in_t = model.tensors[0];
  const int64_t in_bytes = in_t.shape.c * in_t.shape.h * in_t.shape.w;
  const int64_t classes = model.tensors[static_cast<size_t>(model.output())].shape.c;
  std::vector<int32_t> arena_words(static_cast<size_t>((plan.arena_bytes + 3) / 4));
  auto* arena = reinterpret_cast<int8_t*>(arena_words.data());
  std::vector<int8_t> logits(static_cast<size_t>(batch * classes));
  for (int64_t n = 0; n < batch; ++n) {
    std::memcpy(arena + plan.tensor_offset[0], input_nhwc + n * in_bytes, static_cast<size_t>(in_bytes));
    for (size_t i = 0; i < model.layers.size(); ++i) {
      const QLayer& l = model.layers[i];
      const KernelArgs a = kernel_args(model, l);
      const int8_t* x = arena + plan.tensor_offset[static_cast<size_t>(l.input)];
      int8_t* y = arena + plan.tensor_offset[static_cast<size_t>(l.output)];
      const piconas_per_channel_quant_params q{l.multiplier.data(), l.shift.data()};
      int status = PICONAS_S8_OK;
      switch (l.kind) {
        case OpKind::Conv: {
          const piconas_s8_context ctx{plan.scratch_offset[i] >= 0 ? arena + plan.scratch_offset[i] : nullptr,
                                       static_cast<int32_t>(plan.scratch_size[i])};
          status = piconas_conv2d_s8(&ctx, &a.conv, &q, &a.input, x, &a.filter, l.weight.data(),
                                     l.bias.data(), &a.output, y);
          break;
        }
        case OpKind::Depthwise:
          if (plan.in_place[i]) {  // y == x: the output overwrites the input (planner.h)
            const piconas_s8_context ctx{arena + plan.scratch_offset[i], static_cast<int32_t>(plan.scratch_size[i])};
            status = piconas_depthwise_conv2d_inplace_s8(&ctx, &a.dw, &q, &a.input, &a.filter, l.weight.data(),
                                                         l.bias.data(), &a.output, y);
            break;
          }
          status = piconas_depthwise_conv2d_s8(&a.dw, &q, &a.input, x, &a.filter, l.weight.data(),
                                               l.bias.data(), &a.output, y);
          break;
        case OpKind::FullyConnected:
          status = piconas_fully_connected_s8(&a.fc, &q, &a.input, x, &a.filter, l.weight.data(),
                                              l.bias.data(), &a.output, y);
          break;
        case OpKind::Add:
          status = piconas_add_s8(&a.add, x, arena + plan.tensor_offset[static_cast<size_t>(l.input2)], y, a.size);
          break;
        case OpKind::GlobalAvgPool:
          status = piconas_global_avg_pool2d_s8(l.activation, &a.input, x, &a.output, y);
          break;
      }
      PICONAS_CHECK(status == PICONAS_S8_OK,
                    "run_int8: kernel of layer '" << l.name << "' (" << op_kind_name(l.kind)
                                                  << ") returned status " << status);
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
