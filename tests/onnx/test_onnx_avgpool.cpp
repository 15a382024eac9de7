// Average pools over padding on import (tests/onnx/avgpool_pad.*, made by
// tests/onnx/make_models.py with PyTorch; see the "generated_by" line of its .expected.json):
// PyTorch's AvgPool2d(padding 1) with count_include_pad=True (exported as Pad + AveragePool) and
// =False (AveragePool with pads). Logits and int8 export: test_onnx.cpp, test_onnx_int8.cpp.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include "core/atomic_file.h"
#include "nas/arch/graph_text.h"
#include "nas/onnx/onnx_import.h"
#include "onnx_fixture.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::onnx_test;

namespace {

onnx::ModelProto avgpool_pad() {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(model_path("avgpool_pad.onnx"))));
  return m;
}

onnx::NodeProto& node_named(onnx::ModelProto& m, const std::string& name) {
  for (onnx::NodeProto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == name) return n;
  FAIL("no node " << name);
  throw Error("unreachable");
}

onnx::AttributeProto& attribute(onnx::NodeProto& n, const std::string& name,
                               onnx::AttributeProto::AttributeType type) {
  for (onnx::AttributeProto& a : *n.mutable_attribute())
    if (a.name() == name) return a;
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(type);
  return a;
}
void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto& a = attribute(n, name, onnx::AttributeProto::INTS);
  a.clear_ints();
  for (int64_t x : v) a.add_ints(x);
}
void set_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
  attribute(n, name, onnx::AttributeProto::INT).set_i(v);
}

std::string import_error(const onnx::ModelProto& m) {
  try {
    onnx_io::import_onnx(m.SerializeAsString(), "pool.onnx");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a Pad before an AveragePool is its padding, counted in the average") {
  const onnx_io::ImportedModel m = onnx_io::import_onnx_file(model_path("avgpool_pad.onnx"));
  std::vector<const GraphLayer*> pools;
  for (const GraphLayer& l : m.arch.graph)
    if (l.op == GraphOp::AvgPool) pools.push_back(&l);
  REQUIRE(pools.size() == 2);
  CHECK(pools[0]->pad == Size2{1, 1});  // the Pad's zeros
  CHECK(pools[0]->count_include_pad);
  CHECK(pools[0]->stride == Size2{2, 2});
  CHECK(pools[1]->pad == Size2{1, 1});  // its own pads
  CHECK(!pools[1]->count_include_pad);
  const Expected e = expected("avgpool_pad");
  CHECK(max_rel_diff(logits_of(m.checkpoint, e.input), e.logits) < 2e-5);

  // Counting only the image taps in the first pool moves the logits: the test can fail.
  ArchSpec wrong = m.arch;
  for (GraphLayer& l : wrong.graph)
    if (l.op == GraphOp::AvgPool) l.count_include_pad = false;
  Checkpoint c = m.checkpoint;
  c.meta["arch"] = to_graph_json(wrong);
  CHECK(max_rel_diff(logits_of(c, e.input), e.logits) > 1e-3);
}

TEST_CASE("a Pad before a MaxPool, or before a pool padding uncounted zeros, is a named error") {
  {
    onnx::ModelProto m = avgpool_pad();
    onnx::NodeProto& pool = node_named(m, "/pool1/AveragePool");
    set_ints(pool, "pads", {1, 1, 1, 1});
    CHECK_MESSAGE(import_error(m).find("pool.onnx: node '/pool1/AveragePool' (AveragePool): reads "
                                       "the zeros of Pad '/pool1/Pad' (counted in the average) "
                                       "and pads the image itself with count_include_pad 0") !=
                      std::string::npos,
                  import_error(m));
    // With count_include_pad 1 both kinds of zeros count: the pool is accepted (2 zeros per
    // side), the classifier then no longer fits its 5x5 input.
    set_int(pool, "count_include_pad", 1);
    CHECK_MESSAGE(import_error(m).find("(Gemm): its weights hold 387 values, but on its 8x5x5") !=
                      std::string::npos,
                  import_error(m));
  }
  {
    onnx::ModelProto m = avgpool_pad();
    onnx::NodeProto& pool = node_named(m, "/pool1/AveragePool");
    pool.set_op_type("MaxPool");
    CHECK_MESSAGE(import_error(m).find("(MaxPool): reads the output of Pad '/pool1/Pad'") !=
                      std::string::npos,
                  import_error(m));
  }
}
