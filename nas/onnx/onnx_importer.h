// The importer behind import_onnx (nas/onnx/onnx_import.h), internal to nas/onnx. Its work is
// split by responsibility:
//   onnx_import.cpp         reading the graph: its input, the walk over the nodes, the output
//                           check, the weights loaded into the network, the checkpoint;
//   onnx_import_values.cpp  what ONNX value names stand for (layers, flattened values, Pad
//                           zeros), the layers and tensors added, constant inputs;
//   onnx_import_nodes.cpp   one function per ONNX op type (or node pattern) mapping a node to
//                           layers.
#pragma once
#include <onnx/onnx_pb.h>

#include <array>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nas/onnx/onnx_import.h"
#include "nas/onnx/onnx_node.h"

namespace piconas::nas::onnx_io {

// What an ONNX value name stands for while the nodes are walked.
struct Value {
  int layer = -1;     // the producing layer; -1: the network input
  bool flat = false;  // a Flatten/Reshape output: only Gemm/MatMul may read it
  // A zero Pad of the layer's output (folded into the Conv that reads it): the Pad node and its
  // zeros [top, left, bottom, right].
  const onnx::NodeProto* pad_node = nullptr;
  std::array<int, 4> pad{0, 0, 0, 0};
};

class Importer : private NodeReading {
 public:
  Importer(const onnx::ModelProto& model, std::string source);
  ImportedModel run(const ImportOptions& options);

 private:
  // onnx_import.cpp
  void read_input();
  ImportedModel finish(const ImportOptions& options);

  // onnx_import_values.cpp
  // The layer a data input reads; refuses constants, flattened values and Pad outputs where not
  // allowed.
  int data_input(const onnx::NodeProto& node, int input, bool flat_ok = false,
                 bool pad_ok = false) const;
  // The zeros a Pad adds to data input `input` (none unless it is a Pad output).
  std::array<int, 4> input_pad(const onnx::NodeProto& node, int input) const;
  // Output shape of a layer (-1: the network input), from the lowering of the layers so far.
  Shape3 shape_of(const onnx::NodeProto& node, int layer) const;
  // Zeros per side of a Conv or pool window reading `layer`, with a Pad before it (`extra`).
  std::array<int, 4> pads_of(const onnx::NodeProto& node, int layer, std::array<int, 4> extra,
                             Size2 kernel, Size2 stride, Size2 dilation) const;
  // The node's name reduced to letters, digits and '_', unique among the layers.
  std::string layer_name(const onnx::NodeProto& node);
  // Appends a layer reading `inputs`; the node's first output refers to it.
  GraphLayer& add_layer(const onnx::NodeProto& node, GraphOp op, std::vector<int> inputs);
  // The node's first output stands for `layer` (flattened: only Gemm/MatMul may read it).
  void alias(const onnx::NodeProto& node, int layer, bool flat = false);
  void add_tensor(const GraphLayer& l, const char* suffix, Tensor t);
  const onnx::TensorProto* constant_or_fail(const onnx::NodeProto& node, int input) const;
  // int64 values of a constant input (Pad's pads).
  std::vector<int64_t> int64_constant(const onnx::NodeProto& node, int input) const;
  // Clip bounds: inputs 1 and 2 (opset >= 11) or attributes min and max.
  float clip_bound(const onnx::NodeProto& node, int input, const char* attr, float fallback) const;

  // onnx_import_nodes.cpp
  void import_node(const onnx::NodeProto& node);
  void import_conv(const onnx::NodeProto& node);
  void import_pad(const onnx::NodeProto& node);
  void import_batchnorm(const onnx::NodeProto& node);
  void import_clip(const onnx::NodeProto& node);
  void import_pool(const onnx::NodeProto& node, GraphOp op);
  void import_linear(const onnx::NodeProto& node, bool gemm);
  void import_add(const onnx::NodeProto& node);
  void import_hardsigmoid(const onnx::NodeProto& node);
  void import_mul(const onnx::NodeProto& node);
  void import_flatten(const onnx::NodeProto& node);
  void import_reduce_mean(const onnx::NodeProto& node);

  const onnx::ModelProto& model_;
  int64_t opset_ = 0;  // of the default domain
  const onnx::GraphProto& graph_;
  ArchSpec spec_;
  std::deque<onnx::TensorProto> constant_storage_;
  std::map<std::string, Value> values_;
  std::set<std::string> used_names_;
  std::vector<const onnx::NodeProto*> node_of_layer_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

}  // namespace piconas::nas::onnx_io
