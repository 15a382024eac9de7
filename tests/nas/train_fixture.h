// Test helpers for the trainer: a small synthetic IDX ("mnist"-layout) data set on disk and a
// fast training configuration over it.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/temp_dir.h"
#include "nas/checkpoint.h"
#include "nas/train/trainer.h"

namespace piconas::nas::testing {

using data::testing::TempDir;

// 8x8 grey images of three classes (labels 0..2 of the 10 IDX classes): a bright horizontal
// line, a vertical line, or a diagonal at a random offset, over uniform noise.
inline void write_synthetic_idx(const std::string& dir, const std::string& prefix, int count, uint64_t seed) {
  const int size = 8;
  Rng rng(seed);
  std::vector<uint8_t> images, labels;
  data::testing::put_be32(images, 0x803);
  data::testing::put_be32(images, static_cast<uint32_t>(count));
  data::testing::put_be32(images, size);
  data::testing::put_be32(images, size);
  data::testing::put_be32(labels, 0x801);
  data::testing::put_be32(labels, static_cast<uint32_t>(count));
  for (int n = 0; n < count; ++n) {
    int label = static_cast<int>(rng.uniform_int(0, 2));
    int offset = static_cast<int>(rng.uniform_int(-2, 2));
    labels.push_back(static_cast<uint8_t>(label));
    for (int r = 0; r < size; ++r)
      for (int c = 0; c < size; ++c) {
        bool on = label == 0 ? r == size / 2 + offset : label == 1 ? c == size / 2 + offset : r - c == offset;
        images.push_back(static_cast<uint8_t>((on ? 160 : 0) + rng.uniform_int(0, 90)));
      }
  }
  data::testing::write_gzip(dir + "/" + prefix + "-images-idx3-ubyte.gz", images);
  data::testing::write_gzip(dir + "/" + prefix + "-labels-idx1-ubyte.gz", labels);
}

inline const char* kSmallArch = "blocks:in=1x8x8,classes=10,act=relu,stem=4k3s1|ds:k3s2c8|head=0";

// Data in <root>/data (96 train, 30 test images), output in <root>/<run>.
inline train::TrainSettings small_config(const TempDir& root, const std::string& run) {
  std::filesystem::create_directories(root.path() / "data");
  std::string data_dir = (root.path() / "data").string();
  if (!std::filesystem::exists(data_dir + "/train-images-idx3-ubyte.gz")) {
    write_synthetic_idx(data_dir, "train", 96, 11);
    write_synthetic_idx(data_dir, "t10k", 30, 12);
  }
  train::TrainSettings c;
  c.arch = kSmallArch;
  c.data.kind = data::DatasetKind::Mnist;
  c.data.path = data_dir;
  c.epochs = 2;
  c.batch_size = 16;
  c.lr = 0.05;
  c.warmup_epochs = 0.5;
  c.val_fraction = 0.25;
  c.augment.pad = 1;
  c.seed = 5;
  c.threads = 1;  // one thread keeps these runs fast on a loaded machine; resume tests use 2
  c.out_dir = (root.path() / run).string();
  return c;
}

// True when both checkpoints hold the same tensor names with bit-identical contents.
inline bool same_tensors(const Checkpoint& a, const Checkpoint& b) {
  if (a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [name_a, ta] = a.tensors[i];
    const auto& [name_b, tb] = b.tensors[i];
    if (name_a != name_b || ta.shape() != tb.shape() || ta.dtype() != tb.dtype()) return false;
    if (std::memcmp(ta.raw_data(), tb.raw_data(), static_cast<size_t>(ta.nbytes())) != 0) return false;
  }
  return true;
}

}  // namespace piconas::nas::testing
