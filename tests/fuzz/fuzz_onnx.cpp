// Fuzzes the ONNX import (nas/onnx/onnx_import.h): protobuf parsing, the ONNX checker and the
// node mapping. An accepted model must load as a piconas model and survive export_onnx and a
// second import with the same layers and tensors.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "nas/onnx/onnx_export.h"
#include "nas/onnx/onnx_import.h"
#include "nas/train/model_io.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::train;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  onnx_io::ImportedModel model;
  try {
    model = onnx_io::import_onnx(bytes, "fuzz input");
  } catch (const Error&) {
    return 0;
  }
  LoadedModel loaded = load_model(model.checkpoint, "imported");
  const onnx_io::ImportedModel back = onnx_io::import_onnx(
      onnx_io::export_onnx(loaded.arch, *loaded.module, &loaded.normalization), "re-exported");
  FUZZ_CHECK(back.arch.graph.size() == model.arch.graph.size());
  FUZZ_CHECK(back.checkpoint.tensors.size() == model.checkpoint.tensors.size());
  FUZZ_CHECK(back.checkpoint.meta["normalization"] == model.checkpoint.meta["normalization"]);
  return 0;
}
