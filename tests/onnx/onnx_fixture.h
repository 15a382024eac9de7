// Shared by the tests/onnx suites: where the committed models are, their PyTorch-made expected
// outputs (tests/onnx/make_models.py writes NAME.expected.json next to NAME.onnx) and the logits
// of an imported checkpoint.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/atomic_file.h"
#include "core/tensor.h"
#include "nas/checkpoint.h"
#include "nas/train/model_io.h"

namespace piconas::onnx_test {

inline std::string model_path(const std::string& name) {
  return std::string(PICONAS_SOURCE_DIR) + "/tests/onnx/" + name;
}

struct Expected {
  Tensor input, logits;
};

// NAME.expected.json: the input batch and PyTorch's logits for it.
inline Expected expected(const std::string& name) {
  const nlohmann::json j = nlohmann::json::parse(read_file(model_path(name + ".expected.json")));
  Expected e{Tensor(j.at("input_shape").get<Shape>()), Tensor(j.at("logits_shape").get<Shape>())};
  const auto in = j.at("input").get<std::vector<float>>();
  const auto out = j.at("logits").get<std::vector<float>>();
  REQUIRE(static_cast<int64_t>(in.size()) == e.input.numel());
  REQUIRE(static_cast<int64_t>(out.size()) == e.logits.numel());
  std::copy(in.begin(), in.end(), e.input.data<float>());
  std::copy(out.begin(), out.end(), e.logits.data<float>());
  return e;
}

inline Tensor logits_of(const nas::Checkpoint& checkpoint, const Tensor& input) {
  nas::train::LoadedModel model = nas::train::load_model(checkpoint, "imported");
  return (*model.module)(autograd::Variable(input)).value();
}

// Largest |a - b| relative to max(1, |b|).
inline double max_rel_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::abs(a.get(i) - b.get(i)) / std::max(1.0, std::abs(b.get(i))));
  return worst;
}

}  // namespace piconas::onnx_test
