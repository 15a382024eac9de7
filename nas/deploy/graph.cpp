#include "nas/deploy/graph.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/layers.h"
#include "nas/arch/lowering.h"
#include "ops/channel_mul.h"
#include "ops/conv2d.h"
#include "ops/avg_pool2d.h"
#include "ops/global_avg_pool.h"
#include "ops/hardswish.h"
#include "ops/linear.h"
#include "ops/max_pool2d.h"
#include "ops/sigmoid.h"

namespace piconas::nas::deploy {

void unexpected_layer_kind(LayerKind kind, const char* where) {
  throw Error(std::string(where) + ": a " + layer_kind_name(kind) + " layer, which no int8 graph holds");
}

using autograd::Module;

namespace {

Module& find_module(Module& root, const std::string& path) {
  Module* m = &root;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    Module* next = nullptr;
    for (auto& [name, child] : m->children())
      if (name == part) next = child.get();
    PICONAS_CHECK(next != nullptr, "deploy: the network has no module '" << path << "' (missing '"
                                                                          << part << "')");
    m = next;
  }
  return *m;
}

template <class M>
M& module_as(Module& root, const std::string& path, const char* expected) {
  auto* m = dynamic_cast<M*>(&find_module(root, path));
  PICONAS_CHECK(m != nullptr, "deploy: module '" << path << "' is not a " << expected);
  return *m;
}

FusedActivation fused(Activation act, const std::string& layer) {
  switch (act) {
    case Activation::ReLU: return FusedActivation::ReLU;
    case Activation::ReLU6: return FusedActivation::ReLU6;
    case Activation::Hardsigmoid: return FusedActivation::HardSigmoid;
    case Activation::GELU:
    case Activation::Hardswish:
    case Activation::Sigmoid: break;
  }
  throw Error(std::string("deploy: layer '") + layer + "' uses activation " + activation_name(act) +
              ", which has no int8 kernel (export supports relu, relu6, hswish, sigmoid and the "
              "hsigmoid after a conv)");
}

// Hard-swish and sigmoid are no clamps: their Activation rows become layers of their own.
bool own_layer(Activation act) { return act == Activation::Hardswish || act == Activation::Sigmoid; }
LayerKind own_layer_kind(Activation act) {
  return act == Activation::Sigmoid ? LayerKind::Logistic : LayerKind::Hardswish;
}

// Walks the rows of arch_layers: a Conv/Depthwise row with the BatchNorm and Activation rows
// after it becomes one Layer; Add, MaxPool and AvgPool (with the Activation row after them),
// GlobalAvgPool and FullyConnected rows map one to one.
class Lowering {
 public:
  Lowering(const ArchSpec& spec, Module* net) : net_(net) {
    graph_.tensors.push_back(spec.input);
  }

  Graph lower(const std::vector<LayerInfo>& rows) {
    tensor_of_row_.assign(rows.size(), 0);
    folded_.assign(rows.size(), false);
    // The rows that read row r other than by following it (a branch's source, an add's or a
    // scale's skip): a value int8 fuses away must have none (require_unread).
    branch_readers_.assign(rows.size(), {});
    for (size_t j = 1; j < rows.size(); ++j) {
      if (rows[j].source >= 0 && static_cast<size_t>(rows[j].source) + 1 != j)
        branch_readers_[static_cast<size_t>(rows[j].source)].push_back(j);
      if (rows[j].skip >= 0) branch_readers_[static_cast<size_t>(rows[j].skip)].push_back(j);
    }
    for (size_t i = 1; i < rows.size(); ++i) {
      const LayerInfo& row = rows[i];
      const int input = tensor_of_row_[row.source >= 0 ? static_cast<size_t>(row.source) : i - 1];
      // A BatchNorm or Activation row folds into the row before only when it reads that row
      // (graph networks may branch; lowering.h, source).
      auto next_is = [&](size_t k, LayerKind kind) {
        return k < rows.size() && rows[k].kind == kind && rows[k].source < 0;
      };
      const bool next_is_act =
          next_is(i + 1, LayerKind::Activation) && !own_layer(rows[i + 1].activation);
      // Add and the pools fuse the activation after them (a clamp); convs below.
      if (next_is_act && (row.kind == LayerKind::Add || row.kind == LayerKind::MaxPool ||
                          row.kind == LayerKind::AvgPool)) {
        // The hard-sigmoid's x / 6 + 1/2 needs a conv's weights; after these it is no clamp.
        PICONAS_CHECK(rows[i + 1].activation != Activation::Hardsigmoid,
                      "deploy: layer '" << rows[i + 1].name << "' (hsigmoid) follows an "
                                        << row.type
                                        << "; int8 folds a hard-sigmoid only into the conv "
                                           "before it");
        require_unread(rows, i, "the activation after it is fused into it");
        folded_[i + 1] = true;
      }
      switch (row.kind) {
        case LayerKind::Conv:
        case LayerKind::Depthwise: {
          if (row.bias && !next_is(i + 1, LayerKind::BatchNorm)) {
            // A conv with its own bias and no BatchNorm (a basic block's projection shortcut).
            if (next_is_act) require_unread(rows, i, "the activation after it is fused into it");
            tensor_of_row_[i] =
                conv(row, "", input,
                     next_is_act ? fused(rows[i + 1].activation, row.path) : FusedActivation::None);
            folded_[i + 1] = next_is_act;
            break;
          }
          PICONAS_CHECK(next_is(i + 1, LayerKind::BatchNorm),
                        "deploy: layer '" << row.name << "' has no BatchNorm to fold");
          const bool has_act =
              next_is(i + 2, LayerKind::Activation) && !own_layer(rows[i + 2].activation);
          const FusedActivation act =
              has_act ? fused(rows[i + 2].activation, row.path) : FusedActivation::None;
          require_unread(rows, i, "the BatchNorm after it is folded into its weights");
          if (has_act) require_unread(rows, i + 1, "the activation after it is fused into the conv");
          tensor_of_row_[i] = conv(row, rows[i + 1].path, input, act);
          folded_[i + 1] = true;
          if (has_act) folded_[i + 2] = true;
          break;
        }
        case LayerKind::BatchNorm:  // folded into the conv before it
          PICONAS_CHECK(folded_[i], "deploy: layer '" << row.name << "' (" << row.type
                                                     << ") does not follow a conv, into which int8 "
                                                        "folds it");
          tensor_of_row_[i] = input;
          break;
        case LayerKind::Activation:  // fused, or a layer of its own
          PICONAS_CHECK(folded_[i] || own_layer(row.activation),
                        "deploy: layer '" << row.name << "' (" << row.type
                                          << ") does not follow a conv, add or pool, whose clamp "
                                             "int8 makes of it");
          tensor_of_row_[i] = own_layer(row.activation)
                                  ? unary(own_layer_kind(row.activation), row.path, input)
                                  : input;
          break;
        case LayerKind::ChannelMul:
          tensor_of_row_[i] =
              channel_mul(row.path, tensor_of_row_[static_cast<size_t>(row.skip)], input);
          break;
        case LayerKind::Add:
          // A basic block's activation after the add is fused into it.
          tensor_of_row_[i] =
              add(row.path, tensor_of_row_[static_cast<size_t>(row.skip)], input,
                  next_is_act ? fused(rows[i + 1].activation, row.path) : FusedActivation::None);
          break;
        case LayerKind::MaxPool:
        case LayerKind::AvgPool: {
          const FusedActivation act =
              next_is_act ? fused(rows[i + 1].activation, row.path) : FusedActivation::None;
          tensor_of_row_[i] = window_pool(row, input, act);
          break;
        }
        case LayerKind::GlobalAvgPool: tensor_of_row_[i] = pool(row.path, input); break;
        case LayerKind::FullyConnected: tensor_of_row_[i] = classifier(row, input); break;
        case LayerKind::Input:
        case LayerKind::Hardswish:  // int8 graph kinds, never a lowering row
        case LayerKind::Mul:
        case LayerKind::Logistic:
        case LayerKind::LayerNorm:
          throw Error("deploy: layer '" + row.name + "' (" + row.type + ") has no int8 kernel");
      }
    }
    return std::move(graph_);
  }

 private:
  // A conv, depthwise or pool layer reading `input` through the row's window.
  static Layer window_layer(const LayerInfo& row, LayerKind kind, int input, FusedActivation act) {
    Layer l;
    l.kind = kind;
    l.name = row.path;
    l.input = input;
    l.kernel = row.kernel;
    l.stride = row.stride;
    l.padding = row.pad;  // zeros before the image; the output size implies those after
    l.activation = act;
    return l;
  }

  // conv (+ BN folded, unless bn_path is empty) [+ activation]; groups == in channels means
  // depthwise. A grouped conv (a Conv row with groups > 1) keeps its groups and its weights
  // [O, I/groups, KH, KW] (piconas_conv2d_grouped_s8).
  int conv(const LayerInfo& row, const std::string& bn_path, int input, FusedActivation act) {
    const Shape3 in = graph_.tensors[static_cast<size_t>(input)];
    PICONAS_CHECK(row.dilation == Size2{},
                  "deploy: layer '" << row.path << "' has a dilation, which the int8 kernels do not support");
    Layer l = window_layer(row, row.kind == LayerKind::Depthwise ? LayerKind::Depthwise : LayerKind::Conv,
                           input, act);
    if (row.kind == LayerKind::Conv) l.groups = static_cast<int>(row.groups);
    if (net_) fold(l, row.path, bn_path, in.c, row.output.c, row.groups, row.pad_end);
    if (net_ && act == FusedActivation::HardSigmoid) {  // relu6(x + 3) / 6 = clamp(x/6 + 1/2)
      for (float& w : l.weight) w = static_cast<float>(w / 6.0);
      for (float& b : l.bias) b = static_cast<float>(b / 6.0 + 0.5);
    }
    PICONAS_CHECK(in == row.input, "deploy: layer '" << row.path << "' reads a " << shape3_str(in)
                                                     << " tensor, expected "
                                                     << shape3_str(row.input));
    return push(std::move(l), row.output);
  }

  int add(const std::string& name, int a, int b, FusedActivation act) {
    Layer l;
    l.kind = LayerKind::Add;
    l.name = name;
    l.activation = act;
    l.input = a;
    l.input2 = b;
    return push(std::move(l), graph_.tensors[static_cast<size_t>(a)]);
  }

  int unary(LayerKind kind, const std::string& name, int input) {
    Layer l;
    l.kind = kind;
    l.name = name;
    l.input = input;
    return push(std::move(l), graph_.tensors[static_cast<size_t>(input)]);
  }

  // features (CxHxW) times gate: a Cx1x1 gate channel by channel (ChannelMul, the SE scale); a
  // gate of the features' shape elementwise, or a 1xHxW gate pixel by pixel (Mul).
  int channel_mul(const std::string& name, int features, int gate) {
    const Shape3 f = graph_.tensors[static_cast<size_t>(features)];
    const Shape3 g = graph_.tensors[static_cast<size_t>(gate)];
    const bool channel_gate = g == (Shape3{f.c, 1, 1});
    PICONAS_CHECK(channel_gate || g == f || g == (Shape3{1, f.h, f.w}),
                  "deploy: layer '" << name << "' multiplies a " << shape3_str(f)
                                    << " tensor by a " << shape3_str(g)
                                    << " one; int8 multiplies by a " << f.c << "x1x1, 1x" << f.h
                                    << "x" << f.w << " or " << shape3_str(f) << " tensor");
    Layer l;
    l.kind = channel_gate ? LayerKind::ChannelMul : LayerKind::Mul;
    l.name = name;
    l.input = features;
    l.input2 = gate;
    return push(std::move(l), f);
  }

  // A max or average pool window. The max and TFLite's average skip the padding taps; an average
  // with count_include_pad and padding divides by KH*KW instead (its own kernel,
  // piconas_avg_pool2d_include_pad_s8). A window without an image tap (padding >= kernel) and a
  // dilation are refused.
  int window_pool(const LayerInfo& row, int input, FusedActivation act) {
    const Shape3 in = graph_.tensors[static_cast<size_t>(input)];
    PICONAS_CHECK(row.dilation == Size2{},
                  "deploy: layer '" << row.path
                                    << "' is a dilated pool, which the int8 kernels do not support");
    PICONAS_CHECK(row.pad_end == row.pad && row.pad.h < row.kernel.h && row.pad.w < row.kernel.w,
                  "deploy: layer '" << row.path << "': pool padding " << row.pad.h << "x"
                                    << row.pad.w
                                    << " (after the image " << row.pad_end.h << "x" << row.pad_end.w
                                    << ") leaves windows without an image tap for the "
                                    << row.kernel.h << "x" << row.kernel.w << " window");
    PICONAS_CHECK(in == row.input, "deploy: layer '" << row.path << "' reads a " << shape3_str(in)
                                                     << " tensor, expected "
                                                     << shape3_str(row.input));
    Layer l = window_layer(row, row.kind == LayerKind::MaxPool ? LayerKind::MaxPool : LayerKind::AvgPool,
                           input, act);
    // Without padding both divisors are KH*KW: the TFLite kernel then.
    l.count_include_pad = row.kind == LayerKind::AvgPool && row.count_include_pad && row.pad != Size2(0);
    return push(std::move(l), row.output);
  }

  int pool(const std::string& name, int input) {
    Layer l;
    l.kind = LayerKind::GlobalAvgPool;
    l.name = name;
    l.input = input;
    return push(std::move(l), Shape3{graph_.tensors[static_cast<size_t>(input)].c, 1, 1});
  }

  int classifier(const LayerInfo& row, int input) {
    Layer l;
    l.kind = LayerKind::FullyConnected;
    l.name = row.path;
    l.input = input;
    const Shape3 in = graph_.tensors[static_cast<size_t>(input)];
    const int64_t in_f = in.c * in.h * in.w;  // NCHW flattening (quantize makes it NHWC)
    const int64_t out_f = row.output.c;         // the classes, or a hidden fc layer's width
    if (net_) {
      auto& fc = module_as<autograd::Linear>(*net_, row.path, "Linear");
      const Tensor& w = fc.weight.value();
      PICONAS_CHECK(w.ndim() == 2 && w.dim(0) == out_f && w.dim(1) == in_f,
                    "deploy: layer '" << row.path << "' weight shape does not match " << out_f << "x"
                                                                      << in_f);
      l.weight.resize(static_cast<size_t>(w.numel()));
      for (int64_t i = 0; i < w.numel(); ++i) l.weight[static_cast<size_t>(i)] = static_cast<float>(w.get(i));
      l.bias.assign(static_cast<size_t>(out_f), 0.0f);
      if (fc.bias.defined())
        for (int64_t o = 0; o < out_f; ++o)
          l.bias[static_cast<size_t>(o)] = static_cast<float>(fc.bias.value().get(o));
    }
    return push(std::move(l), Shape3{out_f, 1, 1});
  }

  int push(Layer l, Shape3 out) {
    l.output = static_cast<int>(graph_.tensors.size());
    graph_.tensors.push_back(out);
    graph_.layers.push_back(std::move(l));
    return graph_.layers.back().output;
  }

  void fold(Layer& l, const std::string& conv_path, const std::string& bn_path, int64_t in_c,
            int64_t out_c, int64_t groups, Size2 pad_end) {
    auto& conv = module_as<autograd::Conv2d>(*net_, conv_path, "Conv2d");
    auto* bn = bn_path.empty() ? nullptr
                               : &module_as<autograd::BatchNorm2d>(*net_, bn_path, "BatchNorm2d");
    const auto& o = conv.options();
    const ops::Conv2dParams p = conv.params();
    PICONAS_CHECK(o.in_channels == in_c && o.out_channels == out_c && o.kernel == l.kernel.h &&
                      o.kernel_w == l.kernel.w && p.stride_h == l.stride.h &&
                      p.stride_w == l.stride.w && o.groups == groups && o.dilation == 1 &&
                      p.pad_h == l.padding.h && p.pad_w == l.padding.w &&
                      p.pad_h_end == pad_end.h && p.pad_w_end == pad_end.w,
                  "deploy: module '" << conv_path << "' (in " << o.in_channels << ", out "
                                     << o.out_channels << ", k" << o.kernel << "x" << o.kernel_w
                                     << ", s" << p.stride_h << "x" << p.stride_w << ", groups "
                                     << o.groups << ") does not match the architecture");
    const Tensor& w = conv.weight.value();
    const int64_t per_out = w.numel() / out_c;
    l.weight.resize(static_cast<size_t>(w.numel()));
    l.bias.resize(static_cast<size_t>(out_c));
    for (int64_t c = 0; c < out_c; ++c) {
      const double b = conv.bias.defined() ? conv.bias.value().get(c) : 0.0;
      double scale = 1.0;
      if (bn) {
        scale = bn->gamma.value().get(c) / std::sqrt(bn->state.running_var.get(c) + bn->state.eps);
        l.bias[static_cast<size_t>(c)] =
            static_cast<float>(bn->beta.value().get(c) + (b - bn->state.running_mean.get(c)) * scale);
      } else {
        l.bias[static_cast<size_t>(c)] = static_cast<float>(b);
      }
      for (int64_t i = 0; i < per_out; ++i)
        l.weight[static_cast<size_t>(c * per_out + i)] = static_cast<float>(w.get(c * per_out + i) * scale);
    }
  }

  Module* net_;
  Graph graph_;
  std::vector<int> tensor_of_row_;  // the tensor each row's output lives in
  // Refuses a branch reading row r, whose own value the int8 graph does not keep.
  void require_unread(const std::vector<LayerInfo>& rows, size_t r, const char* why) const {
    PICONAS_CHECK(branch_readers_[r].empty(),
                  "deploy: layer '" << rows[branch_readers_[r].front()].name << "' reads '"
                                    << rows[r].name << "' (" << rows[r].type
                                    << "), a value int8 does not keep: " << why);
  }

  std::vector<std::vector<size_t>> branch_readers_;  // per row: the rows reading it by branch
  std::vector<bool> folded_;        // BatchNorm / Activation rows folded into the layer before
};

Graph lower(const ArchSpec& spec, const std::vector<LayerInfo>& rows, Module* net) {
  if (!own_layer(spec.activation)) fused(spec.activation, "stem");
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    const std::string block = "blocks." + std::to_string(i);
    PICONAS_CHECK(spec.blocks[i].kind != BlockKind::ConvNeXt,
                  "deploy: block '" << block << "' is a ConvNeXt block: its LayerNorm ('" << block
                                    << ".1') and GELU have no int8 kernel (export supports ir and "
                                       "ds blocks)");
  }
  return Lowering(spec, net).lower(rows);
}

void apply_activation(FusedActivation act, Tensor& t) {
  if (act == FusedActivation::None) return;
  const float hi = act == FusedActivation::ReLU6         ? 6.0f
                   : act == FusedActivation::HardSigmoid ? 1.0f
                                                         : INFINITY;
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::min(std::max(p[i], 0.0f), hi);
}

}  // namespace

Graph lower_arch(const ArchSpec& spec) { return lower(spec, arch_layers(spec), nullptr); }

Graph lower_arch(const ArchSpec& spec, const std::vector<LayerInfo>& layers) {
  PICONAS_CHECK(!layers.empty() && layers.front().kind == LayerKind::Input &&
                    layers.front().output == spec.input,
                "lower_arch: the layer rows are not arch_layers of this architecture");
  return lower(spec, layers, nullptr);
}

std::vector<std::string> int8_problems(const ArchSpec& spec) {
  std::vector<std::string> problems;
  if (!spec.graph.empty()) {
    try {
      lower_arch(spec);
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
    return problems;
  }
  if (spec.activation == Activation::GELU)
    problems.push_back(std::string("activation ") + activation_name(spec.activation) +
                       " has no int8 kernel (relu, relu6 and hswish do)");
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    if (spec.blocks[i].kind == BlockKind::ConvNeXt)
      problems.push_back("block " + std::to_string(i) +
                         " is ConvNeXt: LayerNorm and GELU have no int8 kernel");
  return problems;
}

Graph lower_network(const ArchSpec& spec, Module& net) {
  return lower(spec, arch_layers(spec), &net);
}

Tensor run_float(const Graph& graph, const Tensor& images, const TensorObserver& observe) {
  const Shape3 in = graph.tensors[0];
  PICONAS_CHECK(images.ndim() == 4 && images.dim(1) == in.c && images.dim(2) == in.h &&
                    images.dim(3) == in.w && images.dtype() == DType::F32,
                "run_float: images must be float32 [N, " << shape3_str(in) << "]");
  const int64_t n = images.dim(0);
  std::vector<Tensor> values(graph.tensors.size());
  values[0] = images;
  if (observe) observe(0, images);
  std::vector<int> last_use(graph.tensors.size(), -1);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    last_use[static_cast<size_t>(graph.layers[i].input)] = static_cast<int>(i);
    if (graph.layers[i].input2 >= 0) last_use[static_cast<size_t>(graph.layers[i].input2)] = static_cast<int>(i);
  }
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& l = graph.layers[i];
    PICONAS_CHECK(!l.weight.empty() || l.kind == LayerKind::Add || l.kind == LayerKind::GlobalAvgPool ||
                      l.kind == LayerKind::Hardswish || l.kind == LayerKind::ChannelMul ||
                      l.kind == LayerKind::Mul || l.kind == LayerKind::Logistic ||
                      l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool,
                  "run_float: layer '" << l.name << "' has no weights (graph from lower_arch?)");
    const Tensor& x = values[static_cast<size_t>(l.input)];
    const Shape3 os = graph.tensors[static_cast<size_t>(l.output)];
    Tensor y({n, os.c, os.h, os.w});
    switch (l.kind) {
      case LayerKind::Conv:
      case LayerKind::Depthwise: {
        const int64_t groups = l.kind == LayerKind::Depthwise ? x.dim(1) : l.groups;
        ops::Conv2dParams p;
        p.stride_h = l.stride.h;
        p.stride_w = l.stride.w;
        p.pad_h = l.padding.h;
        p.pad_w = l.padding.w;
        // Zeros after the image: kernel - 1 - before ("same", as before) where that gives the
        // output size, else the ones the output reads (a graph conv's own pad_end).
        const auto after = [](int64_t in, int64_t out, int k, int s, int before) {
          const int same = k - 1 - before;
          if (same >= 0 && window_out(in, k, s, before, same, 1) == out) return int64_t{same};
          return std::max<int64_t>(0, (out - 1) * s + k - in - before);
        };
        p.pad_h_end = after(x.dim(2), os.h, l.kernel.h, l.stride.h, l.padding.h);
        p.pad_w_end = after(x.dim(3), os.w, l.kernel.w, l.stride.w, l.padding.w);
        p.groups = groups;
        const ops::ConvShape s =
            ops::conv2d_shape(x.shape(), {os.c, x.dim(1) / groups, l.kernel.h, l.kernel.w}, p);
        ops::conv2d_forward<float>(s, x.data<float>(), l.weight.data(), l.bias.data(), y.data<float>());
        break;
      }
      case LayerKind::Add: {
        const float* a = x.data<float>();
        const float* b = values[static_cast<size_t>(l.input2)].data<float>();
        float* out = y.data<float>();
        for (int64_t k = 0; k < y.numel(); ++k) out[k] = a[k] + b[k];
        break;
      }
      case LayerKind::GlobalAvgPool:
        ops::global_avg_pool_forward<float>(n * x.dim(1), x.dim(2) * x.dim(3), x.data<float>(), y.data<float>());
        break;
      case LayerKind::FullyConnected:
        ops::linear_forward<float>({n, x.numel() / n, os.c}, x.data<float>(), l.weight.data(),
                                   l.bias.data(), y.data<float>());
        break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool: {
        const ops::PoolShape s =
            ops::pool2d_shape(x.shape(), {l.kernel.h, l.kernel.w, l.stride.h, l.stride.w,
                                          l.padding.h, l.padding.w, l.count_include_pad});
        if (l.kind == LayerKind::AvgPool) {
          ops::avg_pool2d_forward<float>(s, x.data<float>(), y.data<float>());
        } else {
          std::vector<int32_t> argmax(static_cast<size_t>(y.numel()));
          ops::max_pool2d_forward<float>(s, x.data<float>(), y.data<float>(), argmax.data());
        }
        break;
      }
      case LayerKind::Hardswish:
        ops::hardswish_forward<float>(x.numel(), x.data<float>(), y.data<float>());
        break;
      case LayerKind::Logistic:
        ops::sigmoid_forward<float>(x.numel(), x.data<float>(), y.data<float>());
        break;
      case LayerKind::ChannelMul:
        ops::channel_mul_forward<float>(n * os.c, os.h * os.w, x.data<float>(),
                                        values[static_cast<size_t>(l.input2)].data<float>(),
                                        y.data<float>());
        break;
      case LayerKind::Mul: {  // b of x's shape, or [N, 1, H, W] broadcast over the channels
        const Tensor& b = values[static_cast<size_t>(l.input2)];
        const int64_t plane = os.h * os.w, b_channels = b.dim(1);
        const float* xa = x.data<float>();
        const float* ba = b.data<float>();
        float* out = y.data<float>();
        for (int64_t k = 0; k < y.numel(); ++k) {
          const int64_t image = k / (os.c * plane), c = k / plane % os.c, p = k % plane;
          out[k] = xa[k] * ba[(image * b_channels + (b_channels == 1 ? 0 : c)) * plane + p];
        }
        break;
      }
      case LayerKind::Input:
      case LayerKind::BatchNorm:
      case LayerKind::LayerNorm:
      case LayerKind::Activation:
        unexpected_layer_kind(l.kind, "graph");
    }
    apply_activation(l.activation, y);
    if (observe) observe(l.output, y);
    values[static_cast<size_t>(l.output)] = y;
    // Free inputs nobody reads any more (keeps calibration of large nets in memory).
    for (int t : {l.input, l.input2})
      if (t > 0 && last_use[static_cast<size_t>(t)] == static_cast<int>(i)) values[static_cast<size_t>(t)] = Tensor();
  }
  return values[static_cast<size_t>(graph.output())].reshape({n, graph.tensors.back().c});
}

}  // namespace piconas::nas::deploy
