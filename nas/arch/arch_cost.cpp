#include "nas/arch/arch_cost.h"

#include <algorithm>
#include <array>

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

// Appends layers while tracking the current activation shape.
class LayerList {
 public:
  explicit LayerList(const Shape3& input) : shape_(input) {
    layers_.push_back({"input", LayerKind::Input, "input", input, 0, 0});
  }

  const Shape3& shape() const { return shape_; }

  // Dense (groups == 1) or depthwise (groups == in channels) conv, "same" padding.
  void conv(const std::string& name, int64_t out_c, int kernel, int stride, bool depthwise,
            bool bias) {
    const int64_t in_c = shape_.c;
    const int64_t in_per_group = depthwise ? 1 : in_c;
    const Shape3 out{out_c, (shape_.h - 1) / stride + 1, (shape_.w - 1) / stride + 1};
    const int64_t weights =
        checked_mul(checked_mul(out_c, in_per_group, name), kernel * kernel, name);
    std::string type = std::string(depthwise ? "dwconv" : "conv") + std::to_string(kernel) + "x" +
                       std::to_string(kernel);
    if (stride > 1) type += "/s" + std::to_string(stride);
    push(name, depthwise ? LayerKind::DepthwiseConv2d : LayerKind::Conv2d, type, out,
         checked_add(weights, bias ? out_c : 0, name),
         checked_mul(checked_mul(weights, out.h, name), out.w, name));
  }
  void batchnorm(const std::string& name) {
    push(name, LayerKind::BatchNorm, "bn", shape_, checked_mul(2, shape_.c, name), 0);
  }
  void layernorm(const std::string& name) {
    push(name, LayerKind::LayerNorm, "ln", shape_, checked_mul(2, shape_.c, name), 0);
  }
  void activation(const std::string& name, Activation act) {
    push(name, LayerKind::Activation, activation_name(act), shape_, 0, 0);
  }
  void add(const std::string& name) { push(name, LayerKind::Add, "add", shape_, 0, 0); }
  void pool(const std::string& name) {
    push(name, LayerKind::GlobalAvgPool, "avgpool", {shape_.c, 1, 1}, 0, 0);
  }
  void linear(const std::string& name, int64_t out_features) {
    const int64_t in_features = checked_mul(checked_mul(shape_.c, shape_.h, name), shape_.w, name);
    const int64_t macs = checked_mul(in_features, out_features, name);
    push(name, LayerKind::Linear, "linear", {out_features, 1, 1},
         checked_add(macs, out_features, name), macs);
  }

  std::vector<LayerInfo> take() { return std::move(layers_); }

 private:
  void push(const std::string& name, LayerKind kind, const std::string& type, const Shape3& out,
            int64_t params, int64_t macs) {
    total_params_ = checked_add(total_params_, params, name);
    total_macs_ = checked_add(total_macs_, macs, name);
    layers_.push_back({name, kind, type, out, params, macs});
    shape_ = out;
  }

  Shape3 shape_;
  int64_t total_params_ = 0, total_macs_ = 0;
  std::vector<LayerInfo> layers_;
};

void add_block(LayerList& l, const std::string& p, const BlockSpec& b, Activation act) {
  const int64_t in_c = l.shape().c;
  const bool residual = has_residual(b, static_cast<int>(in_c));
  switch (b.kind) {
    case BlockKind::InvertedResidual:
      if (b.expansion != 1) {
        l.conv(p + ".expand", in_c * b.expansion, 1, 1, false, false);
        l.batchnorm(p + ".expand.bn");
        l.activation(p + ".expand.act", act);
      }
      l.conv(p + ".dw", l.shape().c, b.kernel, b.stride, true, false);
      l.batchnorm(p + ".dw.bn");
      l.activation(p + ".dw.act", act);
      l.conv(p + ".project", b.out_channels, 1, 1, false, false);
      l.batchnorm(p + ".project.bn");
      break;
    case BlockKind::DepthwiseSeparable:
      l.conv(p + ".dw", in_c, b.kernel, b.stride, true, false);
      l.batchnorm(p + ".dw.bn");
      l.activation(p + ".dw.act", act);
      l.conv(p + ".pw", b.out_channels, 1, 1, false, false);
      l.batchnorm(p + ".pw.bn");
      l.activation(p + ".pw.act", act);
      break;
    case BlockKind::ConvNeXt:
      l.conv(p + ".dw", in_c, b.kernel, b.stride, true, true);
      l.layernorm(p + ".ln");
      l.conv(p + ".expand", in_c * b.expansion, 1, 1, false, true);
      l.activation(p + ".gelu", Activation::GELU);
      l.conv(p + ".project", b.out_channels, 1, 1, false, true);
      break;
  }
  if (residual) l.add(p + ".add");
}

std::string pad_left(const std::string& s, size_t width) {
  return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
}
std::string pad_right(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

std::vector<LayerInfo> arch_layers(const ArchSpec& spec) {
  check_arch(spec);
  LayerList l(spec.input);
  l.conv("stem.conv", spec.stem.out_channels, spec.stem.kernel, spec.stem.stride, false, false);
  l.batchnorm("stem.bn");
  l.activation("stem.act", spec.activation);
  for (size_t i = 0; i < spec.blocks.size(); ++i)
    add_block(l, std::string("b").append(std::to_string(i)), spec.blocks[i], spec.activation);
  if (spec.head_channels > 0) {
    l.conv("head.conv", spec.head_channels, 1, 1, false, false);
    l.batchnorm("head.bn");
    l.activation("head.act", spec.activation);
  }
  l.pool("pool");
  l.linear("classifier", spec.num_classes);
  return l.take();
}

ArchCost arch_cost(const ArchSpec& spec) {
  ArchCost total;
  for (const LayerInfo& layer : arch_layers(spec)) {
    total.params += layer.params;
    total.macs += layer.macs;
  }
  return total;
}

std::string format_layer_table(const ArchSpec& spec) {
  const std::vector<LayerInfo> layers = arch_layers(spec);
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"layer", "type", "output", "params", "MACs"});
  ArchCost total;
  for (const LayerInfo& layer : layers) {
    rows.push_back({layer.name, layer.type, shape3_str(layer.output), std::to_string(layer.params),
                    std::to_string(layer.macs)});
    total.params += layer.params;
    total.macs += layer.macs;
  }
  rows.push_back({"total", "", "", std::to_string(total.params), std::to_string(total.macs)});
  std::array<size_t, 5> width{};
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  size_t line_width = 0;
  for (size_t w : width) line_width += w;
  line_width += 2 * (width.size() - 1);
  const std::string rule(line_width, '-');
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r == 1 || r + 1 == rows.size()) out += rule + "\n";
    std::string line = pad_right(rows[r][0], width[0]) + "  " + pad_right(rows[r][1], width[1]) +
                       "  " + pad_right(rows[r][2], width[2]) + "  " +
                       pad_left(rows[r][3], width[3]) + "  " + pad_left(rows[r][4], width[4]);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace piconas::nas
