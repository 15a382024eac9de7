// ReduceMean over H and W on import (tests/onnx/mean_se.*, made by tests/onnx/make_models.py
// with PyTorch; see the "generated_by" line of its .expected.json): a squeeze-and-excitation
// squeeze written torch.mean(x, (2, 3), keepdim=True) and a head x.mean((2, 3)) straight into
// the classifier, against PyTorch's logits, and the named refusal of other axes.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include "core/atomic_file.h"
#include "nas/arch/arch_text.h"
#include "nas/deploy/graph.h"
#include "nas/onnx/onnx_import.h"
#include "onnx_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::onnx_test;

namespace {

onnx::ModelProto mean_se() {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(model_path("mean_se.onnx"))));
  return m;
}

// Sets the axes of every ReduceMean node (none: the attribute removed, all axes reduced).
void set_axes(onnx::ModelProto& m, const std::vector<int64_t>& axes) {
  int found = 0;
  for (onnx::NodeProto& n : *m.mutable_graph()->mutable_node()) {
    if (n.op_type() != "ReduceMean") continue;
    ++found;
    auto& attributes = *n.mutable_attribute();
    for (int i = 0; i < attributes.size(); ++i) {
      if (attributes[i].name() != "axes") continue;
      if (axes.empty()) {
        attributes.DeleteSubrange(i, 1);
        break;
      }
      attributes[i].clear_ints();
      for (int64_t x : axes) attributes[i].add_ints(x);
    }
  }
  REQUIRE(found == 2);
}

}  // namespace

TEST_CASE("ReduceMean over H and W imports as a global average pool with PyTorch's logits") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("mean_se.onnx"));
  const Expected e = expected("mean_se");
  CHECK(max_rel_diff(logits_of(m.checkpoint, e.input), e.logits) < 2e-5);
  // Both means are global_avgpool layers: the SE squeeze (keepdims 1, read by a 1x1 conv) and
  // the head (keepdims 0, read by the classifier).
  int pools = 0;
  for (const GraphLayer& l : m.arch.graph) pools += l.op == GraphOp::GlobalAvgPool;
  CHECK(pools == 2);
  CHECK(m.arch.graph.back().op == GraphOp::FullyConnected);
  CHECK(m.arch.graph[m.arch.graph.size() - 2].op == GraphOp::GlobalAvgPool);
  CHECK(parse_arch(to_text(m.arch)) == m.arch);

  // Axes given negative or in another order are the same reduction.
  onnx::ModelProto reordered = mean_se();
  set_axes(reordered, {-1, -2});
  const onnx_io::ImportedModel r = onnx_io::import_onnx(reordered.SerializeAsString(), "r.onnx");
  CHECK(r.arch == m.arch);

  // The imported network has int8 kernels for every layer (SE gate hsigmoid, channel mul).
  train::LoadedModel loaded = train::load_model(m.checkpoint, "mean_se");
  CHECK_NOTHROW(deploy::lower_network(loaded.arch, *loaded.module));
}

TEST_CASE("ReduceMean over other axes is one error naming the node") {
  for (const auto& [axes, shown] :
       std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{1, 2, 3}, "1, 2, 3"}, {{1}, "1"}, {{2}, "2"}, {{}, ""}, {{0, 2, 3}, "0, 2, 3"}}) {
    INFO(shown);
    onnx::ModelProto m = mean_se();
    set_axes(m, axes);
    try {
      onnx_io::import_onnx(m.SerializeAsString(), "mean.onnx");
      FAIL("accepted");
    } catch (const Error& err) {
      const std::string what = err.what();
      CHECK_MESSAGE(what.find("mean.onnx: node '/ReduceMean' (ReduceMean): reduces axes [" +
                              shown + "]; only the mean over the height and width") !=
                        std::string::npos,
                    what);
    }
  }
}
