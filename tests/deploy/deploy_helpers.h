// Test helpers for tests/deploy: models with non-trivial BatchNorm statistics, deterministic
// synthetic images, a self-deleting temporary directory and a shell runner.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "autograd/layers.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"

namespace piconas::nas::deploy::testing {

// A graph network with two max pools, an average pool, a grouped conv (piconas_conv2d_grouped_s8)
// and a classifier on a CxHxW map (test_mcu runs it on every target, test_latency predicts it).
inline constexpr const char* kPoolGraphArch = R"({"graph": 1, "input": [1, 16, 16], "classes": 4, "layers": [
  {"name": "c1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1]}, {"name": "b1", "op": "batchnorm"},
  {"name": "r1", "op": "relu"}, {"name": "mp", "op": "maxpool", "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "g1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1], "groups": 2},
  {"name": "b2", "op": "batchnorm"}, {"name": "r2", "op": "relu6"},
  {"name": "ap", "op": "avgpool", "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "c2", "op": "conv", "out": 6, "kernel": [1, 1], "bias": true},
  {"name": "mp2", "op": "maxpool", "kernel": [2, 2], "stride": [2, 2]}, {"name": "r3", "op": "relu"},
  {"name": "fc", "op": "linear", "out": 4}]})";

// A graph network with both int8 Mul forms: features times a hard-sigmoid gate of their shape
// (elementwise, piconas_mul_s8) and times a one-channel hard-sigmoid gate per pixel (spatial
// attention, piconas_pixel_mul_s8), then a residual add over the stem output.
inline constexpr const char* kGatedGraphArch = R"({"graph": 1, "input": [1, 12, 12], "classes": 4, "layers": [
  {"name": "c1", "op": "conv", "out": 8, "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "b1", "op": "batchnorm"}, {"name": "r1", "op": "relu"},
  {"name": "g1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1], "bias": true},
  {"name": "h1", "op": "hsigmoid"}, {"name": "m1", "op": "mul", "inputs": ["r1", "h1"]},
  {"name": "a1", "op": "conv", "out": 1, "kernel": [1, 1], "bias": true},
  {"name": "h2", "op": "hsigmoid"}, {"name": "m2", "op": "mul", "inputs": ["m1", "h2"]},
  {"name": "ad", "op": "add", "inputs": ["m2", "r1"]},
  {"name": "gap", "op": "global_avgpool"}, {"name": "fc", "op": "linear", "out": 4}]})";

// kGatedGraphArch with sigmoid gates (int8 Logistic layers, TFLite's LOGISTIC): features times
// a sigmoid gate of their shape, times a one-channel sigmoid gate per pixel, then a
// squeeze-and-excitation scale with a sigmoid gate (Cx1x1), and the residual add.
inline constexpr const char* kSigmoidGraphArch = R"({"graph": 1, "input": [1, 12, 12], "classes": 4, "layers": [
  {"name": "c1", "op": "conv", "out": 8, "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]},
  {"name": "b1", "op": "batchnorm"}, {"name": "r1", "op": "relu"},
  {"name": "g1", "op": "conv", "out": 8, "kernel": [3, 3], "pad": [1, 1], "bias": true},
  {"name": "s1", "op": "sigmoid"}, {"name": "m1", "op": "mul", "inputs": ["r1", "s1"]},
  {"name": "a1", "op": "conv", "out": 1, "kernel": [1, 1], "bias": true},
  {"name": "s2", "op": "sigmoid"}, {"name": "m2", "op": "mul", "inputs": ["m1", "s2"]},
  {"name": "sp", "op": "global_avgpool"},
  {"name": "e1", "op": "conv", "out": 4, "kernel": [1, 1], "bias": true}, {"name": "er", "op": "relu"},
  {"name": "e2", "op": "conv", "out": 8, "kernel": [1, 1], "bias": true},
  {"name": "s3", "op": "sigmoid"}, {"name": "m3", "op": "mul", "inputs": ["m2", "s3"]},
  {"name": "ad", "op": "add", "inputs": ["m3", "r1"]},
  {"name": "gap", "op": "global_avgpool"}, {"name": "fc", "op": "linear", "out": 4}]})";

// A labelled in-memory dataset of synthetic images (the label is the brightness bucket).
inline data::Dataset synthetic_dataset(const Shape3& s, int64_t n, uint64_t seed) {
  data::Dataset d;
  d.count = n;
  d.channels = static_cast<int>(s.c);
  d.height = static_cast<int>(s.h);
  d.width = static_cast<int>(s.w);
  d.num_classes = 10;
  for (int k = 0; k < 10; ++k) d.class_names.push_back(std::string(1, static_cast<char>('a' + k)));
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.uniform_int(0, 9));
    d.labels.push_back(label);
    for (int64_t p = 0; p < s.c * s.h * s.w; ++p)
      d.images.push_back(static_cast<uint8_t>(std::min<int64_t>(255, label * 25 + rng.uniform_int(0, 30))));
  }
  return d;
}

// Builds spec, draws weights, then gives every BatchNorm random gamma, beta, mean and variance
// (so folding is exercised), and switches to eval mode.
inline std::shared_ptr<autograd::Sequential> make_model(const ArchSpec& spec, uint64_t seed) {
  auto net = build_network(spec);
  Rng rng(seed);
  net->initialize(rng);
  Rng bn_rng = rng.derive(7);
  net->visit([&](autograd::Module& m) {
    if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) {
      fill_uniform(bn->gamma.value(), bn_rng, 0.5, 1.5);
      fill_uniform(bn->beta.value(), bn_rng, -0.3, 0.3);
      fill_uniform(bn->state.running_mean, bn_rng, -0.2, 0.2);
      fill_uniform(bn->state.running_var, bn_rng, 0.5, 2.0);
    }
  });
  for (auto& [name, p] : net->named_parameters())
    if (name == "classifier.bias") fill_uniform(p.value(), bn_rng, -0.1, 0.1);
  net->set_training(false);
  return net;
}

// Smooth random "garment-like" images: a few bright ellipses on a dark background, pixel
// values 0..255, normalised with `norm`. Returns [n, c, h, w] float32.
inline Tensor synthetic_images(const Shape3& s, int64_t n, uint64_t seed, const data::Normalization& norm) {
  Tensor t({n, s.c, s.h, s.w});
  Rng rng(seed);
  float* p = t.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double cy = rng.uniform(0.3, 0.7) * s.h, cx = rng.uniform(0.3, 0.7) * s.w;
    const double ry = rng.uniform(0.2, 0.45) * s.h, rx = rng.uniform(0.15, 0.45) * s.w;
    const double level = rng.uniform(80, 255);
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t y = 0; y < s.h; ++y)
        for (int64_t x = 0; x < s.w; ++x) {
          const double d = (y - cy) * (y - cy) / (ry * ry) + (x - cx) * (x - cx) / (rx * rx);
          double v = d < 1.0 ? level * (1.0 - 0.5 * d) : 0.0;
          v = std::min(255.0, std::max(0.0, v + rng.normal(0.0, 8.0)));
          const auto k = static_cast<size_t>(c);
          const float pixel = static_cast<float>(std::round(v));
          p[((i * s.c + c) * s.h + y) * s.w + x] = (pixel / 255.0f - norm.mean[k]) / norm.std[k];
        }
  }
  return t;
}

inline data::Normalization fashion_normalization(int channels = 1) {
  data::Normalization n;
  n.mean.assign(static_cast<size_t>(channels), 0.2860f);
  n.std.assign(static_cast<size_t>(channels), 0.3530f);
  return n;
}

class TempDir {
 public:
  TempDir() {
    auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("piconas_deploy_test_" + std::to_string(getpid()) + "_" + std::to_string(tick));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Runs a shell command; returns its exit status, with stdout+stderr in *output.
inline int run_command(const std::string& command, std::string* output = nullptr) {
  std::string text;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, got);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline void write_bytes(const std::string& path, const std::vector<int8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<int8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<int8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace piconas::nas::deploy::testing
