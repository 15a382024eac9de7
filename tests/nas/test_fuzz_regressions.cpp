// Regression tests for the bugs the libFuzzer targets of tests/fuzz found; each crashing input
// is also in the seed corpus (tests/fuzz/corpus/<target>/regress_*).
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"
#include "nas/checkpoint.h"
#include "nas/search/search_io.h"
#include "search_test_util.h"

using namespace piconas;
using namespace piconas::nas;

namespace {

// A checkpoint file around a hand-written tensor directory (checksum included).
std::string checkpoint_with_directory(const nlohmann::json& tensors, const std::string& payload) {
  Checkpoint empty;
  const std::string reference = encode_checkpoint(empty);
  const std::string json =
      nlohmann::json{{"meta", nlohmann::json::object()}, {"tensors", tensors}}.dump();
  std::string out = reference.substr(0, 12);  // magic + version
  const uint64_t size = json.size();
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out += json + payload;
  const uint32_t crc =
      static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data()),
                                  static_cast<uInt>(out.size())));
  out.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  return out;
}

nlohmann::json tensor_entry(const nlohmann::json& shape, const nlohmann::json& offset,
                            const nlohmann::json& bytes) {
  return nlohmann::json::array({{{"name", "w"},
                                 {"dtype", "float32"},
                                 {"shape", shape},
                                 {"offset", offset},
                                 {"bytes", bytes}}});
}

}  // namespace

TEST_CASE("fuzz regression: a valid but huge architecture's cost is an Error, not an overflow") {
  // fuzz_arch_text: int64 overflow (UBSan) in the MAC count of arch_cost.cpp.
  const ArchSpec spec = parse_arch(
      "blocks:in=65536x16384x16384,classes=1000000,act=gelu,stem=65536k15s1|ir:k15e16s1c65536|"
      "head=65536");
  CHECK_THROWS_WITH_AS(arch_cost(spec), doctest::Contains("overflows int64"), Error);
  CHECK_THROWS_WITH_AS(format_layer_table(spec), doctest::Contains("stem.conv"), Error);
  // Just below the limit still works: one 65536-channel layer on a 2048x2048 map.
  const ArchCost cost =
      arch_cost(parse_arch("blocks:in=65536x2048x2048,classes=10,act=relu,stem=65536k1s1|head=0"));
  CHECK(cost.macs == int64_t{65536} * 65536 * 2048 * 2048 + int64_t{65536} * 10);
}

TEST_CASE("fuzz regression: the blocks space rejects a text whose header is not its base") {
  // fuzz_search_text: BlocksSpace::parse dropped the header, so this text (input 0x28x28)
  // parsed to a candidate with a different text in the default 1x28x28 space.
  auto space = search::make_search_space("blocks", search::SpaceOptions{});
  const std::string text =
      "blocks:in=0x28x28,classes=10,act=relu6,stem=16k3s2|ds:k7s1c64|cn:k7e6s2c64|ir:k5e6s1c64|"
      "ir:k5e2s1c32|cn:k3e6s1c96|head=0";
  CHECK_THROWS_WITH_AS(space->parse(text), doctest::Contains("differ from the search's base"),
                       Error);
  std::string good = text;
  good.replace(good.find("in=0x"), 5, "in=1x");
  CHECK(space->parse(good).text == good);
}

TEST_CASE("fuzz regression: checkpoint shapes that overflow or are not integers are errors") {
  // Found with the fuzz_checkpoint target's directory mutations: an element count beyond
  // int64 was undefined behaviour in shape_numel, a float dimension was truncated (1.5 -> 1)
  // and 1e30 was an undefined float-to-integer cast.
  const std::string payload(4, '\0');
  for (const nlohmann::json& shape :
       {nlohmann::json{uint64_t{1} << 39, uint64_t{1} << 39, uint64_t{1} << 39},
        nlohmann::json{uint64_t{1} << 32, uint64_t{1} << 32}, nlohmann::json{1.5},
        nlohmann::json{1e30}, nlohmann::json{-1}, nlohmann::json(1)})
    CHECK_THROWS_WITH_AS(
        decode_checkpoint(checkpoint_with_directory(tensor_entry(shape, 0, 4), payload), "f.ckpt"),
        doctest::Contains("f.ckpt"), Error);
  CHECK_THROWS_AS(
      decode_checkpoint(checkpoint_with_directory(tensor_entry({1}, 1e30, 4), payload), "f"),
      Error);
  CHECK_THROWS_AS(
      decode_checkpoint(checkpoint_with_directory(tensor_entry({1}, 0, 4.0), payload), "f"), Error);
  // The same directory with integers decodes.
  const Checkpoint ok =
      decode_checkpoint(checkpoint_with_directory(tensor_entry({1}, 0, 4), payload), "f");
  CHECK(ok.tensor("w").shape() == Shape{1});
}

TEST_CASE("fuzz regression: a search state a resume would crash on is rejected") {
  // fuzz_search_state: an initialized freerea state with an empty population indexed an
  // empty vector when the search resumed; float integers were undefined casts.
  auto space = search::make_search_space("nb201", search::SpaceOptions{});
  test::SearchTempDir dir;
  search::SearchSettings s;
  s.population = 4;
  s.sample_size = 2;
  s.steps = 2;
  s.output_dir = dir.str();
  search::run_search(*space, s, test::synthetic_metrics);
  const nlohmann::json good =
      nlohmann::json::parse(read_file(search::search_state_path(dir.str())));
  CHECK_NOTHROW(search::decode_search_state(good.dump(), "state.json", *space, s));

  nlohmann::json bad = good;
  bad["state"]["population"] = nlohmann::json::array();
  CHECK_THROWS_WITH_AS(search::decode_search_state(bad.dump(), "state.json", *space, s),
                       doctest::Contains("population is empty"), Error);
  bad = good;
  bad["state"]["history"][good["state"]["population"][0][0].get<size_t>()]["feasible"] = false;
  CHECK_THROWS_WITH_AS(search::decode_search_state(bad.dump(), "state.json", *space, s),
                       doctest::Contains("infeasible"), Error);
  for (const char* field : {"step", "consecutive_infeasible"}) {
    bad = good;
    bad["state"][field] = 1e30;
    CHECK_THROWS_WITH_AS(search::decode_search_state(bad.dump(), "state.json", *space, s),
                         doctest::Contains("expected an integer"), Error);
  }
  bad = good;
  bad["state"]["step"] = -3;
  CHECK_THROWS_WITH_AS(search::decode_search_state(bad.dump(), "state.json", *space, s),
                       doctest::Contains("negative step"), Error);
  bad = good;
  bad["state"]["rng"][2] = -1;
  CHECK_THROWS_WITH_AS(search::decode_search_state(bad.dump(), "state.json", *space, s),
                       doctest::Contains("non-negative integer"), Error);
}
