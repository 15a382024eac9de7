#include "nas/arch/lowering.h"

#include "core/error.h"

namespace piconas::nas {

namespace {

// The structural ranges of arch_spec.cpp still allow counts beyond int64 (a 65536-channel layer
// on a 16384x16384 map, or many large blocks): every product and running total is checked, so
// such a network is an Error instead of a wrapped number.
[[noreturn]] void overflow(const std::string& layer) {
  throw Error("architecture too large: the parameter or MAC count of layer '" + layer +
              "' (or the total up to it) overflows int64");
}
int64_t checked_mul(int64_t a, int64_t b, const std::string& layer) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) overflow(layer);
  return r;
}
int64_t checked_add(int64_t a, int64_t b, const std::string& layer) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) overflow(layer);
  return r;
}

std::string kernel_text(Size2 k) { return std::to_string(k.h) + "x" + std::to_string(k.w); }
std::string stride_text(Size2 s) {
  if (s.h == s.w) return s.h > 1 ? "/s" + std::to_string(s.h) : "";
  return "/s" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

// Appends rows while tracking the current activation shape. Module paths: the rows of one
// Sequential are numbered 0, 1, 2, ... under `prefix` ("stem.", "blocks.3.body.", "head.").
class LayerList {
 public:
  explicit LayerList(const Shape3& input) : shape_(input) {
    LayerInfo row;
    row.name = "input";
    row.type = "input";
    row.input = row.output = input;
    layers_.push_back(row);
  }

  const Shape3& shape() const { return shape_; }
  // The next row reads row `source`'s output (a Basic block's shortcut and first conv).
  void read_from(int source) {
    shape_ = layers_[static_cast<size_t>(source)].output;
    source_ = source;
  }
  // The next row gets this module path instead of the numbered one.
  void name_next(const std::string& path) { next_path_ = path; }
  int last() const { return static_cast<int>(layers_.size()) - 1; }

  // Starts a Sequential: rows of `block` (-1 outside blocks) get paths prefix + 0, 1, ...
  void begin(const std::string& prefix, int block) {
    prefix_ = prefix;
    next_ = 0;
    block_ = block;
  }

  // Dense (groups == 1) or depthwise (groups == in channels) conv, "same" padding.
  void conv(const std::string& name, int64_t out_c, Size2 kernel, Size2 stride, bool depthwise,
            bool bias, BlockWidth in_width = BlockWidth::None,
            BlockWidth out_width = BlockWidth::None) {
    const int64_t in_c = shape_.c;
    const int64_t in_per_group = depthwise ? 1 : in_c;
    LayerInfo row =
        make(name, depthwise ? LayerKind::Depthwise : LayerKind::Conv,
             std::string(depthwise ? "dwconv" : "conv") + kernel_text(kernel) + stride_text(stride),
             same_conv_out(shape_, out_c, stride));
    const int64_t weights =
        checked_mul(checked_mul(out_c, in_per_group, name), kernel.h * kernel.w, name);
    row.params = checked_add(weights, bias ? out_c : 0, name);
    row.macs = checked_mul(checked_mul(weights, row.output.h, name), row.output.w, name);
    row.kernel = kernel;
    row.stride = stride;
    row.pad = {same_pad_before(kernel.h), same_pad_before(kernel.w)};
    row.pad_end = {kernel.h / 2, kernel.w / 2};
    row.groups = depthwise ? in_c : 1;
    row.bias = bias;
    row.in_width = in_width;
    row.out_width = out_width;
    push(std::move(row));
  }
  void batchnorm(const std::string& name, BlockWidth width = BlockWidth::None) {
    LayerInfo row = make(name, LayerKind::BatchNorm, "bn", shape_);
    row.params = checked_mul(2, shape_.c, name);
    row.in_width = row.out_width = width;
    push(std::move(row));
  }
  void layernorm(const std::string& name, BlockWidth width = BlockWidth::None) {
    LayerInfo row = make(name, LayerKind::LayerNorm, "ln", shape_);
    row.params = checked_mul(2, shape_.c, name);
    row.in_width = row.out_width = width;
    push(std::move(row));
  }
  void activation(const std::string& name, Activation act, BlockWidth width = BlockWidth::None) {
    LayerInfo row = make(name, LayerKind::Activation, activation_name(act), shape_);
    row.activation = act;
    row.in_width = row.out_width = width;
    push(std::move(row));
  }
  // Residual add of row `skip`'s output; its path names the block ("blocks.3.add").
  void add(const std::string& name, const std::string& path, int skip) {
    LayerInfo row = make(name, LayerKind::Add, "add", shape_);
    row.path = path;
    row.skip = skip;
    row.in_width = row.out_width = BlockWidth::Out;
    push(std::move(row));
  }
  // Squeeze-and-excitation over the current features (nas/arch/arch_spec.h): five rows under the
  // module path P.K (the next numbered path), then the ChannelMul row at P.K itself.
  void squeeze_excite(const std::string& name, BlockWidth width) {
    const int features_row = last();
    const Shape3 features = shape_;
    const std::string outer = prefix_;
    const int index = next_;
    prefix_ = outer + std::to_string(index) + ".";
    next_ = 0;
    LayerInfo pool = make(name + ".pool", LayerKind::GlobalAvgPool, "avgpool", {features.c, 1, 1});
    pool.in_width = pool.out_width = width;
    push(std::move(pool));
    const Size2 one{1, 1};
    conv(name + ".reduce", se_channels(features.c), one, one, false, true, width);
    activation(name + ".relu", Activation::ReLU);
    conv(name + ".expand", features.c, one, one, false, true, BlockWidth::None, width);
    activation(name + ".gate", Activation::Hardsigmoid, width);
    prefix_ = outer;
    next_ = index;
    LayerInfo scale = make(name + ".scale", LayerKind::ChannelMul, "channel_mul", features);
    scale.skip = features_row;
    scale.in_width = scale.out_width = width;
    push(std::move(scale));
  }
  void pool(const std::string& name) {
    LayerInfo row = make(name, LayerKind::GlobalAvgPool, "avgpool", {shape_.c, 1, 1});
    row.path = "pool";
    push(std::move(row));
  }
  void linear(const std::string& name, const std::string& path, int64_t out_features) {
    const int64_t in_features = checked_mul(checked_mul(shape_.c, shape_.h, name), shape_.w, name);
    LayerInfo row = make(name, LayerKind::FullyConnected, "linear", {out_features, 1, 1});
    row.macs = checked_mul(in_features, out_features, name);
    row.params = checked_add(row.macs, out_features, name);
    row.bias = true;
    row.path = path;
    push(std::move(row));
  }

  std::vector<LayerInfo> take() { return std::move(layers_); }

 private:
  LayerInfo make(const std::string& name, LayerKind kind, const std::string& type,
                 const Shape3& out) {
    LayerInfo row;
    row.name = name;
    row.kind = kind;
    row.type = type;
    row.input = shape_;
    row.output = out;
    row.block = block_;
    row.source = source_;
    source_ = -1;
    if (next_path_.empty()) {
      row.path = prefix_ + std::to_string(next_++);
    } else {
      row.path = next_path_;
      next_path_.clear();
    }
    return row;
  }
  void push(LayerInfo row) {
    total_params_ = checked_add(total_params_, row.params, row.name);
    total_macs_ = checked_add(total_macs_, row.macs, row.name);
    shape_ = row.output;
    layers_.push_back(std::move(row));
  }

  Shape3 shape_;
  std::string prefix_;
  int next_ = 0;
  int block_ = -1;
  int source_ = -1;
  std::string next_path_;
  int64_t total_params_ = 0, total_macs_ = 0;
  std::vector<LayerInfo> layers_;
};

// The one place that knows the layers of each block kind (arch_spec.h documents them).
void add_block(LayerList& l, int index, const BlockSpec& b, Activation act) {
  // append(), not "b" + ...: GCC 12 reports a false -Wrestrict for the latter.
  const std::string p = std::string("b").append(std::to_string(index));
  const std::string module = "blocks." + std::to_string(index);
  const int64_t in_c = l.shape().c;
  const bool residual = has_residual(b, static_cast<int>(in_c));
  const int block_input = l.last();
  l.begin(residual ? module + ".body." : module + ".", index);
  const Size2 k{b.kernel, b.kernel}, s{b.stride, b.stride}, one{1, 1};
  using W = BlockWidth;
  switch (b.kind) {
    case BlockKind::InvertedResidual: {
      const bool expand = hidden_channels(b, in_c) != in_c;
      const W dw_width = expand ? W::Hidden : W::In;
      const Activation block_act = block_activation(b, act);
      if (expand) {
        l.conv(p + ".expand", hidden_channels(b, in_c), one, one, false, false, W::In, W::Hidden);
        l.batchnorm(p + ".expand.bn", W::Hidden);
        l.activation(p + ".expand.act", block_act, W::Hidden);
      }
      l.conv(p + ".dw", l.shape().c, k, s, true, false, dw_width, dw_width);
      l.batchnorm(p + ".dw.bn", dw_width);
      l.activation(p + ".dw.act", block_act, dw_width);
      if (b.se) l.squeeze_excite(p + ".se", dw_width);
      l.conv(p + ".project", b.out_channels, one, one, false, false, dw_width, W::Out);
      l.batchnorm(p + ".project.bn", W::Out);
      break;
    }
    case BlockKind::DepthwiseSeparable:
      l.conv(p + ".dw", in_c, k, s, true, false, W::In, W::In);
      l.batchnorm(p + ".dw.bn", W::In);
      l.activation(p + ".dw.act", act, W::In);
      l.conv(p + ".pw", b.out_channels, one, one, false, false, W::In, W::Out);
      l.batchnorm(p + ".pw.bn", W::Out);
      l.activation(p + ".pw.act", act, W::Out);
      break;
    case BlockKind::ConvNeXt:
      l.conv(p + ".dw", in_c, k, s, true, true, W::In, W::In);
      l.layernorm(p + ".ln", W::In);
      l.conv(p + ".expand", in_c * b.expansion, one, one, false, true, W::In, W::Hidden);
      l.activation(p + ".gelu", Activation::GELU, W::Hidden);
      l.conv(p + ".project", b.out_channels, one, one, false, true, W::Hidden, W::Out);
      break;
    case BlockKind::Conv:
      l.conv(p + ".conv", b.out_channels, k, s, false, false, W::In, W::Out);
      l.batchnorm(p + ".conv.bn", W::Out);
      l.activation(p + ".conv.act", act, W::Out);
      break;
    case BlockKind::Basic: {
      int skip = block_input;
      if (has_projection(b, static_cast<int>(in_c))) {
        l.name_next(module + ".shortcut");
        l.conv(p + ".shortcut", b.out_channels, one, s, false, true, W::In, W::Out);
        skip = l.last();
        l.read_from(block_input);
      }
      l.conv(p + ".conv1", b.out_channels, k, s, false, false, W::In, W::Out);
      l.batchnorm(p + ".conv1.bn", W::Out);
      l.activation(p + ".conv1.act", act, W::Out);
      l.conv(p + ".conv2", b.out_channels, k, one, false, false, W::Out, W::Out);
      l.batchnorm(p + ".conv2.bn", W::Out);
      l.add(p + ".add", module + ".add", skip);
      l.name_next(module + ".act");
      l.activation(p + ".act", act, W::Out);
      return;
    }
  }
  if (residual) l.add(p + ".add", module + ".add", block_input);
}

}  // namespace

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Input:
      return "input";
    case LayerKind::Conv:
      return "conv";
    case LayerKind::Depthwise:
      return "depthwise";
    case LayerKind::BatchNorm:
      return "batchnorm";
    case LayerKind::LayerNorm:
      return "layernorm";
    case LayerKind::Activation:
      return "activation";
    case LayerKind::Add:
      return "add";
    case LayerKind::GlobalAvgPool:
      return "global_avg_pool";
    case LayerKind::FullyConnected:
      return "fully_connected";
    case LayerKind::MaxPool:
      return "max_pool";
    case LayerKind::AvgPool:
      return "avg_pool";
    case LayerKind::ChannelMul:
      return "channel_mul";
    case LayerKind::Hardswish:
      return "hardswish";
    case LayerKind::Mul:
      return "mul";
    case LayerKind::Logistic:
      return "logistic";
  }
  return "unknown";
}

MulGate mul_gate(const LayerInfo& row) {
  PICONAS_CHECK(row.kind == LayerKind::ChannelMul,
                "mul_gate: layer '" << row.name << "' is a " << layer_kind_name(row.kind));
  if (row.input == row.output) return MulGate::Elementwise;
  return row.input == (Shape3{row.output.c, 1, 1}) ? MulGate::Channel : MulGate::Pixel;
}

std::vector<LayerInfo> arch_layers(const ArchSpec& spec) {
  check_arch(spec);
  if (!spec.graph.empty()) return graph_layers(spec);
  LayerList l(spec.input);
  const Size2 one{1, 1};
  l.begin("stem.", -1);
  l.conv("stem.conv", spec.stem.out_channels, spec.stem.kernel, spec.stem.stride, false, false);
  l.batchnorm("stem.bn");
  l.activation("stem.act", spec.activation);
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    add_block(l, static_cast<int>(i), spec.blocks[i], spec.activation);
  if (spec.head_channels > 0) {
    l.begin("head.", -1);
    l.conv("head.conv", spec.head_channels, one, one, false, false);
    l.batchnorm("head.bn");
    l.activation("head.act", spec.activation);
  }
  l.begin("", -1);
  l.pool("pool");
  if (spec.classifier_hidden > 0) {
    l.linear("fc", "fc.0", spec.classifier_hidden);
    l.name_next("fc.1");
    l.activation("fc.act", spec.activation);
  }
  l.linear("classifier", "classifier", spec.num_classes);
  return l.take();
}

std::vector<LayerInfo> block_layers(const BlockSpec& block, const Shape3& input,
                                    Activation activation, int index) {
  LayerList l(input);
  add_block(l, index, block, activation);
  return l.take();
}

std::vector<LayerInfo> graph_layers(const ArchSpec& spec) {
  std::vector<LayerInfo> rows;
  LayerInfo input;
  input.name = input.type = "input";
  input.input = input.output = spec.input;
  rows.push_back(input);
  int64_t total_params = 0, total_macs = 0;
  for (size_t i = 0; i < spec.graph.size(); ++i) {
    const GraphLayer& l = spec.graph[i];
    const std::string where = "graph layer '" + l.name + "'";
    // Row r + 1 holds layer r; row 0 is the input (layer index -1).
    auto row_of = [](int layer) { return layer + 1; };
    const int source = row_of(l.inputs[0]);
    const Shape3 in = rows[static_cast<size_t>(source)].output;
    LayerInfo row;
    row.name = row.path = l.name;
    row.input = in;
    row.output = in;
    row.source = source == static_cast<int>(rows.size()) - 1 ? -1 : source;
    auto window = [&](const char* what) {
      row.kernel = l.kernel;
      row.stride = l.stride;
      row.pad = l.pad;
      row.pad_end = pad_after(l);
      row.dilation = l.dilation;
      row.output.h =
          window_out(in.h, l.kernel.h, l.stride.h, l.pad.h, row.pad_end.h, l.dilation.h);
      row.output.w =
          window_out(in.w, l.kernel.w, l.stride.w, l.pad.w, row.pad_end.w, l.dilation.w);
      PICONAS_CHECK(row.output.h >= 1 && row.output.w >= 1,
                    where << ": the " << what << " window " << l.kernel.h << "x" << l.kernel.w
                          << " does not fit its " << shape3_str(in) << " input");
      row.type = std::string(what) + kernel_text(l.kernel) + stride_text(l.stride);
    };
    switch (l.op) {
      case GraphOp::Conv: {
        PICONAS_CHECK(in.c % l.groups == 0 && l.out_channels % l.groups == 0,
                      where << ": groups " << l.groups << " do not divide its " << in.c
                            << " input and " << l.out_channels << " output channels");
        const bool depthwise = l.groups == in.c && l.out_channels == in.c && in.c > 1;
        row.kind = depthwise ? LayerKind::Depthwise : LayerKind::Conv;
        window(depthwise ? "dwconv" : "conv");
        row.output.c = l.out_channels;
        row.groups = l.groups;
        row.bias = l.bias;
        const int64_t weights = checked_mul(checked_mul(l.out_channels, in.c / l.groups, where),
                                            int64_t{l.kernel.h} * l.kernel.w, where);
        row.params = checked_add(weights, l.bias ? l.out_channels : 0, where);
        row.macs = checked_mul(checked_mul(weights, row.output.h, where), row.output.w, where);
        break;
      }
      case GraphOp::BatchNorm:
        row.kind = LayerKind::BatchNorm;
        row.type = "bn";
        row.eps = l.eps;
        row.params = checked_mul(2, in.c, where);
        break;
      case GraphOp::Activation:
        row.kind = LayerKind::Activation;
        row.type = activation_name(l.activation);
        row.activation = l.activation;
        break;
      case GraphOp::Add: {
        row.kind = LayerKind::Add;
        row.type = "add";
        row.skip = row_of(l.inputs[1]);
        const Shape3 other = rows[static_cast<size_t>(row.skip)].output;
        PICONAS_CHECK(other == in, where << ": adds a " << shape3_str(in) << " and a "
                                         << shape3_str(other) << " tensor");
        break;
      }
      case GraphOp::MaxPool:
        row.kind = LayerKind::MaxPool;
        window("maxpool");
        break;
      case GraphOp::AvgPool:
        row.kind = LayerKind::AvgPool;
        row.count_include_pad = l.count_include_pad;
        window("avgpool");
        break;
      case GraphOp::GlobalAvgPool:
        row.kind = LayerKind::GlobalAvgPool;
        row.type = "avgpool";
        row.output = {in.c, 1, 1};
        break;
      case GraphOp::Mul: {  // features (input 0) times the Cx1x1 or same-shape gate (input 1)
        row.kind = LayerKind::ChannelMul;
        row.skip = source;
        const int gate = row_of(l.inputs[1]);
        row.source = gate == static_cast<int>(rows.size()) - 1 ? -1 : gate;
        const Shape3 g = rows[static_cast<size_t>(gate)].output;
        PICONAS_CHECK(g == (Shape3{in.c, 1, 1}) || g == in || g == (Shape3{1, in.h, in.w}),
                      where << ": multiplies a " << shape3_str(in) << " tensor by a "
                            << shape3_str(g) << " one; only a channel scale by a " << in.c
                            << "x1x1 gate (squeeze-and-excitation), a pixel scale by a 1x" << in.h
                            << "x" << in.w
                            << " gate (spatial attention) or an elementwise product of two "
                               "tensors of one shape is supported");
        row.type = g == (Shape3{in.c, 1, 1}) && g != in ? "channel_mul" : "mul";
        row.input = g;  // the row it reads, as for a block's SE scale
        break;
      }
      case GraphOp::FullyConnected: {
        row.kind = LayerKind::FullyConnected;
        row.type = "linear";
        row.bias = l.bias;
        row.output = {l.out_channels, 1, 1};
        const int64_t in_features = checked_mul(checked_mul(in.c, in.h, where), in.w, where);
        row.macs = checked_mul(in_features, l.out_channels, where);
        row.params = checked_add(row.macs, l.bias ? l.out_channels : 0, where);
        break;
      }
    }
    total_params = checked_add(total_params, row.params, l.name);
    total_macs = checked_add(total_macs, row.macs, l.name);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace piconas::nas
