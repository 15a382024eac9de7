#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "nas/checkpoint.h"

using namespace piconas;
using namespace piconas::nas;

namespace {
Checkpoint sample() {
  Checkpoint c;
  c.meta = {{"arch", "tiny-bench"}, {"epoch", 3}};
  c.tensors.emplace_back("conv.weight", Tensor::from_values({2, 1, 1, 2}, {1, -2, 3.5, 4}));
  c.tensors.emplace_back("stats", Tensor::from_values({3}, {1e67, -1e-300, 0}, DType::F64));
  c.tensors.emplace_back("empty", Tensor({0, 4}));
  return c;
}
}  // namespace

TEST_CASE("checkpoint: encode/decode round trip keeps metadata, dtypes and exact values") {
  Checkpoint back = decode_checkpoint(encode_checkpoint(sample()), "memory");
  CHECK(back.meta["arch"] == "tiny-bench");
  CHECK(back.meta["epoch"] == 3);
  REQUIRE(back.tensors.size() == 3);
  CHECK(back.tensor("conv.weight").shape() == Shape{2, 1, 1, 2});
  CHECK(back.tensor("conv.weight").to_vector() == std::vector<double>{1, -2, 3.5, 4});
  CHECK(back.tensor("stats").dtype() == DType::F64);
  CHECK(back.tensor("stats").get(0) == 1e67);
  CHECK(back.tensor("empty").numel() == 0);
  CHECK_THROWS_AS(back.tensor("missing"), Error);
}

TEST_CASE("checkpoint: every corruption is detected with the file named") {
  std::string good = encode_checkpoint(sample());
  CHECK_THROWS_WITH_AS(decode_checkpoint(good.substr(0, 10), "f.ckpt"), doctest::Contains("f.ckpt"), Error);
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  CHECK_THROWS_WITH_AS(decode_checkpoint(bad_magic, "f.ckpt"), doctest::Contains("bad magic"), Error);
  std::string bad_version = good;
  bad_version[8] = 9;
  CHECK_THROWS_WITH_AS(decode_checkpoint(bad_version, "f.ckpt"), doctest::Contains("version 9"), Error);
  // Flipping any single byte of the body or truncating the tail must fail, never crash.
  for (size_t i = 12; i < good.size(); i += 7) {
    std::string flipped = good;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    CHECK_THROWS_AS(decode_checkpoint(flipped, "f.ckpt"), Error);
  }
  for (size_t n = 0; n < good.size(); n += 5) CHECK_THROWS_AS(decode_checkpoint(good.substr(0, n), "f.ckpt"), Error);
}

TEST_CASE("checkpoint: file save/load and missing file error") {
  namespace fs = std::filesystem;
  fs::path path = fs::temp_directory_path() / ("piconas_ckpt_" + std::to_string(::getpid()) + ".ckpt");
  save_checkpoint(path.string(), sample());
  CHECK(load_checkpoint(path.string()).tensor("conv.weight").get(2) == 3.5);
  fs::remove(path);
  CHECK_THROWS_WITH_AS(load_checkpoint(path.string()), doctest::Contains(path.string().c_str()), Error);
}
