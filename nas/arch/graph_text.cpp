#include "nas/arch/graph_text.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "nas/arch/lowering.h"

namespace piconas::nas {

namespace {

using nlohmann::json;

const std::map<std::string, GraphOp> &op_names() {
  static const std::map<std::string, GraphOp> names{{"conv", GraphOp::Conv},
                                                    {"batchnorm", GraphOp::BatchNorm},
                                                    {"add", GraphOp::Add},
                                                    {"maxpool", GraphOp::MaxPool},
                                                    {"avgpool", GraphOp::AvgPool},
                                                    {"global_avgpool", GraphOp::GlobalAvgPool},
                                                    {"linear", GraphOp::FullyConnected},
                                                    {"mul", GraphOp::Mul}};
  return names;
}

const std::map<std::string, Activation> &activation_names() {
  static const std::map<std::string, Activation> names{{"relu", Activation::ReLU},
                                                       {"relu6", Activation::ReLU6},
                                                       {"gelu", Activation::GELU},
                                                       {"hswish", Activation::Hardswish},
                                                       {"hsigmoid", Activation::Hardsigmoid},
                                                       {"sigmoid", Activation::Sigmoid}};
  return names;
}

std::string value_text(const json &v) {
  return excerpt(v.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

// Reads the fields of one JSON object, each at most once; unknown keys are
// errors.
class Fields {
 public:
  Fields(const json &object, std::string where) : object_(object), where_(std::move(where)) {
    PICONAS_CHECK(object.is_object(),
                  where_ << " must be a JSON object, got " << value_text(object));
  }
  bool has(const char *key) const { return object_.contains(key); }
  const json &at(const char *key) {
    PICONAS_CHECK(object_.contains(key), where_ << ": field \"" << key << "\" is missing");
    used_.insert(key);
    return object_[key];
  }
  int64_t integer(const char *key, int64_t lo, int64_t hi) {
    const json &v = at(key);
    PICONAS_CHECK(v.is_number_integer() && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi,
                  where_ << ": field \"" << key << "\" must be an integer in " << lo << ".." << hi
                         << ", got " << value_text(v));
    return v.get<int64_t>();
  }
  int64_t integer_or(const char *key, int64_t lo, int64_t hi, int64_t fallback) {
    return has(key) ? integer(key, lo, hi) : fallback;
  }
  bool boolean_or(const char *key, bool fallback) {
    if (!has(key)) return fallback;
    const json &v = at(key);
    PICONAS_CHECK(v.is_boolean(), where_ << ": field \"" << key << "\" must be true or false, got "
                                         << value_text(v));
    return v.get<bool>();
  }
  std::string string(const char *key) {
    const json &v = at(key);
    PICONAS_CHECK(v.is_string(),
                  where_ << ": field \"" << key << "\" must be a string, got " << value_text(v));
    return v.get<std::string>();
  }
  Size2 size2_or(const char *key, int lo, int hi, Size2 fallback) {
    if (!has(key)) return fallback;
    const json &v = at(key);
    const bool ok = v.is_array() && v.size() == 2 && v[0].is_number_integer() &&
                    v[1].is_number_integer() && v[0].get<int64_t>() >= lo &&
                    v[0].get<int64_t>() <= hi && v[1].get<int64_t>() >= lo &&
                    v[1].get<int64_t>() <= hi;
    PICONAS_CHECK(ok, where_ << ": field \"" << key << "\" must be [h, w] with values in " << lo
                             << ".." << hi << ", got " << value_text(v));
    return {v[0].get<int>(), v[1].get<int>()};
  }
  void expect_all_used() const {
    for (const auto &[key, value] : object_.items())
      PICONAS_CHECK(used_.count(key), where_ << ": unknown field \"" << excerpt(key, 40) << "\"");
  }

 private:
  const json &object_;
  std::string where_;
  std::set<std::string> used_;
};

// Generous bounds for parsing; check_arch applies the real ranges afterwards.
constexpr int64_t kBig = int64_t{1} << 40;
constexpr int kBigWindow = 1 << 20;

GraphLayer read_layer(const json &object, size_t index, const std::map<std::string, int> &known) {
  Fields f(object, "graph layer " + std::to_string(index));
  GraphLayer l;
  l.name = f.string("name");
  Fields g(object, "graph layer " + std::to_string(index) + " '" + excerpt(l.name, 64) + "'");
  g.at("name");
  const std::string op = g.string("op");
  const auto act = activation_names().find(op);
  if (act != activation_names().end()) {
    l.op = GraphOp::Activation;
    l.activation = act->second;
  } else {
    const auto it = op_names().find(op);
    PICONAS_CHECK(it != op_names().end(),
                  "graph layer '" << excerpt(l.name, 64) << "': unknown op \"" << excerpt(op, 40)
                                  << "\" (known: conv, batchnorm, relu, relu6, hswish, hsigmoid, "
                                     "sigmoid, gelu, add, mul, maxpool, avgpool, global_avgpool, "
                                     "linear)");
    l.op = it->second;
  }
  const int previous = static_cast<int>(index) - 1;
  l.inputs = {previous};
  if (g.has("inputs")) {
    const json &v = g.at("inputs");
    PICONAS_CHECK(v.is_array() && v.size() >= 1 && v.size() <= 2,
                  "graph layer '" << l.name << "': field \"inputs\" must be a list of one or two "
                                  << "layer names, got " << value_text(v));
    l.inputs.clear();
    for (const json &name : v) {
      const auto it = name.is_string() ? known.find(name.get<std::string>()) : known.end();
      PICONAS_CHECK(it != known.end(), "graph layer '" << l.name << "': input " << value_text(name)
                                                       << " is not an earlier layer or \"input\"");
      l.inputs.push_back(it->second);
    }
  } else if (l.op == GraphOp::Add || l.op == GraphOp::Mul) {
    throw Error("graph layer '" + l.name + "': " + op +
                " needs field \"inputs\" with two layer names");
  }
  switch (l.op) {
    case GraphOp::Conv:
      l.out_channels = g.integer("out", 1, kBig);
      l.groups = g.integer_or("groups", 1, kBig, 1);
      l.dilation = g.size2_or("dilation", 1, kBigWindow, {1, 1});
      l.bias = g.boolean_or("bias", false);
      [[fallthrough]];
    case GraphOp::MaxPool:
    case GraphOp::AvgPool:
      l.kernel = g.size2_or("kernel", 1, kBigWindow, {1, 1});
      if (!g.has("kernel")) g.at("kernel");  // required: names the missing field
      l.stride = g.size2_or("stride", 1, kBigWindow, {1, 1});
      l.pad = g.size2_or("pad", 0, kBigWindow, {0, 0});
      if (l.op == GraphOp::Conv && g.has("pad_end")) {  // canonical: absent when symmetric
        l.pad_end = g.size2_or("pad_end", 0, kBigWindow, {0, 0});
        if (l.pad_end == l.pad) l.pad_end = {-1, -1};
      }
      if (l.op == GraphOp::AvgPool) l.count_include_pad = g.boolean_or("count_include_pad", false);
      break;
    case GraphOp::BatchNorm:
      if (g.has("eps")) {
        const json &v = g.at("eps");
        PICONAS_CHECK(v.is_number() && std::isfinite(v.get<double>()),
                      "graph layer '" << l.name << "': field \"eps\" must be a number, got "
                                      << value_text(v));
        l.eps = v.get<double>();
      }
      break;
    case GraphOp::FullyConnected:
      l.out_channels = g.integer("out", 1, kBig);
      l.bias = g.boolean_or("bias", true);
      break;
    case GraphOp::Activation:
    case GraphOp::Add:
    case GraphOp::GlobalAvgPool:
    case GraphOp::Mul:
      break;
  }
  g.expect_all_used();
  return l;
}

json size2_json(Size2 s) { return json::array({s.h, s.w}); }

}  // namespace

bool is_graph_text(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

std::string to_graph_json(const ArchSpec &spec) {
  PICONAS_CHECK(!spec.graph.empty(), "to_graph_json: not a graph network");
  json layers = json::array();
  for (size_t i = 0; i < spec.graph.size(); ++i) {
    const GraphLayer &l = spec.graph[i];
    json j = json::object();
    j["name"] = l.name;
    j["op"] = l.op == GraphOp::Activation ? activation_name(l.activation) : graph_op_name(l.op);
    if (l.op == GraphOp::Add || l.op == GraphOp::Mul ||
        l.inputs != std::vector<int>{static_cast<int>(i) - 1}) {
      json inputs = json::array();
      for (int input : l.inputs)
        inputs.push_back(input < 0 ? std::string("input")
                                   : spec.graph[static_cast<size_t>(input)].name);
      j["inputs"] = inputs;
    }
    switch (l.op) {
      case GraphOp::Conv:
        j["out"] = l.out_channels;
        j["groups"] = l.groups;
        j["dilation"] = size2_json(l.dilation);
        j["bias"] = l.bias;
        [[fallthrough]];
      case GraphOp::MaxPool:
      case GraphOp::AvgPool:
        j["kernel"] = size2_json(l.kernel);
        j["stride"] = size2_json(l.stride);
        j["pad"] = size2_json(l.pad);
        if (l.pad_end != Size2{-1, -1}) j["pad_end"] = size2_json(l.pad_end);
        if (l.op == GraphOp::AvgPool) j["count_include_pad"] = l.count_include_pad;
        break;
      case GraphOp::BatchNorm:
        j["eps"] = l.eps;
        break;
      case GraphOp::FullyConnected:
        j["out"] = l.out_channels;
        j["bias"] = l.bias;
        break;
      case GraphOp::Activation:
      case GraphOp::Add:
      case GraphOp::GlobalAvgPool:
      case GraphOp::Mul:
        break;
    }
    layers.push_back(j);
  }
  const json doc = {{"graph", kGraphFormatVersion},
                    {"input", {spec.input.c, spec.input.h, spec.input.w}},
                    {"classes", spec.num_classes},
                    {"layers", layers}};
  return doc.dump();
}

ArchSpec parse_graph(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception &e) {
    throw Error(std::string("graph network: not valid JSON: ") + e.what());
  }
  Fields f(doc, "graph network");
  PICONAS_CHECK(f.integer("graph", 0, kBig) == kGraphFormatVersion,
                "graph network: format version " << value_text(doc["graph"])
                                                 << " is not supported (expected "
                                                 << kGraphFormatVersion << ")");
  ArchSpec spec;
  const json &input = f.at("input");
  PICONAS_CHECK(input.is_array() && input.size() == 3 && input[0].is_number_integer() &&
                    input[1].is_number_integer() && input[2].is_number_integer(),
                "graph network: field \"input\" must be [channels, height, width], got "
                    << value_text(input));
  spec.input = {input[0].get<int64_t>(), input[1].get<int64_t>(), input[2].get<int64_t>()};
  spec.num_classes = static_cast<int>(f.integer("classes", 1, 1 << 30));
  const json &layers = f.at("layers");
  PICONAS_CHECK(
      layers.is_array() && !layers.empty() && layers.size() <= kMaxGraphLayers,
      "graph network: field \"layers\" must be a list of 1.." << kMaxGraphLayers << " layers");
  f.expect_all_used();
  std::map<std::string, int> known{{"input", -1}};
  for (size_t i = 0; i < layers.size(); ++i) {
    GraphLayer l = read_layer(layers[i], i, known);
    PICONAS_CHECK(known.emplace(l.name, static_cast<int>(i)).second,
                  "graph layer " << i << ": the name '" << excerpt(l.name, 64)
                                 << "' is used twice (or is the reserved \"input\")");
    spec.graph.push_back(std::move(l));
  }
  arch_layers(spec);  // check_arch, then the shapes
  return spec;
}

}  // namespace piconas::nas
