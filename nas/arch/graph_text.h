// The JSON form of a graph network (ArchSpec::graph, nas/arch/arch_spec.h), its
// text form wherever an architecture text goes (checkpoints, --arch, info).
// docs/onnx.md has the grammar:
//   {"graph": 1, "input": [3, 32, 32], "classes": 10, "layers": [
//     {"name": "conv1", "op": "conv", "out": 16, "kernel": [3, 3], "stride":
//     [1, 1],
//      "pad": [1, 1], "dilation": [1, 1], "groups": 1, "bias": false},
//     {"name": "bn1", "op": "batchnorm", "eps": 1e-05},
//     {"name": "relu1", "op": "relu"},  (relu, relu6, hswish, hsigmoid, sigmoid, gelu)
//     {"name": "add1", "op": "add", "inputs": ["relu1", "input"]},
//     {"name": "se", "op": "mul", "inputs": ["features", "gate"]},  (gate: Cx1x1, 1xHxW or CxHxW)
//     {"name": "pool1", "op": "maxpool", "kernel": [2, 2], "stride": [2, 2],
//     "pad": [0, 0]},
//     {"name": "gap", "op": "global_avgpool"},
//     {"name": "fc", "op": "linear", "out": 10, "bias": true}]}
// "inputs" names earlier layers ("input": the network input) and defaults to
// the layer before. avgpool adds "count_include_pad". Printing is canonical
// (one line, every field of the op, "inputs" only where it is not the default),
// so to_graph_json(parse_graph(s)) is stable. Parsing refuses unknown keys,
// wrong types, unknown names and out-of-range numbers with one Error naming the
// layer and the field; then check_arch and the lowering check the network.
#pragma once
#include <string>
#include <string_view>

#include "nas/arch/arch_spec.h"

namespace piconas::nas {

inline constexpr int kGraphFormatVersion = 1;

// True when `text` is (meant to be) the JSON form: its first non-space
// character is '{'.
bool is_graph_text(std::string_view text);
std::string to_graph_json(const ArchSpec &spec);  // spec.graph must not be empty
// Parses and checks (check_arch, graph_layers); throws Error naming the
// offending field.
ArchSpec parse_graph(std::string_view text);

}  // namespace piconas::nas
