// Writes the seed corpus of tests/fuzz/corpus: small valid inputs for every fuzz target and a
// few edge cases (truncations, boundary values). Usage: fuzz_make_seeds <corpus dir>.
// The seeds are committed; this program documents and regenerates them (tests/fuzz/README.md).
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include "core/tensor.h"
#include "fuzz_search_setup.h"
#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/onnx/onnx_export.h"
#include "nas/checkpoint.h"
#include "nas/search/nb201_space.h"
#include "nas/search/search_io.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::search;
namespace fs = std::filesystem;

namespace {

// A graph network with per-side conv padding (pad_end), for the text and ONNX seeds.
constexpr const char* kGraphPadEnd =
    R"({"graph":1,"input":[1,7,6],"classes":3,"layers":[)"
    R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"stride":[2,2],"pad":[0,1],"pad_end":[1,2]},)"
    R"({"name":"bn","op":"batchnorm"},{"name":"r","op":"relu"},)"
    R"({"name":"gap","op":"global_avgpool"},{"name":"fc","op":"linear","out":3}]})";

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols) {
  std::string out = be32(2051) + be32(count) + be32(rows) + be32(cols);
  for (uint32_t i = 0; i < count * rows * cols; ++i) out += static_cast<char>(i * 37);
  return out;
}

std::string idx_labels(uint32_t count) {
  std::string out = be32(2049) + be32(count);
  for (uint32_t i = 0; i < count; ++i) out += static_cast<char>(i % 10);
  return out;
}

std::string cifar_records(int count) {
  std::string out;
  for (int r = 0; r < count; ++r) {
    out += static_cast<char>(r % 10);
    for (int i = 0; i < 3072; ++i) out += static_cast<char>((i * 7 + r) & 0xff);
  }
  return out;
}

std::string gzip(const std::string& bytes) {
  const fs::path temp = fs::temp_directory_path() / "piconas_make_seeds.gz";
  gzFile file = gzopen(temp.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
  std::ifstream in(temp, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), {});
  fs::remove(temp);
  return out;
}

void arch_text_seeds(const fs::path& dir) {
  write(dir, "tiny_bench", reference_text("tiny-bench"));
  write(dir, "mbv2_bench", reference_text("mbv2-bench"));
  write(dir, "mobilenetv2", reference_text("mobilenetv2"));
  write(dir, "resnet8", reference_text("resnet8"));
  write(dir, "name", "tiny-bench");
  write(dir, "blocks_all_kinds",
        "blocks:in=1x28x28,classes=10,act=hswish,stem=8k3s1|ir:k5e4s2c32|ds:k7s1c32|"
        "cn:k3e2s2c64|head=128");
  write(dir, "blocks_large_numbers",
        "blocks:in=65536x16384x16384,classes=1000000,act=gelu,stem=65536k15s1|ir:k15e16s1c65536|"
        "head=65536");
  write(dir, "mbv2_key", mbv2_key(mbv2_bench()));
  write(dir, "bad_leading_zero", "blocks:in=01x28x28,classes=10,act=relu,stem=8k3s1|head=0");
  // A graph network (nas/arch/graph_text.h) with every op.
  write(dir, "graph_all_ops",
        R"({"graph":1,"input":[3,16,16],"classes":4,"layers":[)"
        R"({"name":"c1","op":"conv","out":8,"kernel":[3,3],"stride":[1,1],"pad":[1,1]},)"
        R"({"name":"bn1","op":"batchnorm","eps":0.001},{"name":"r1","op":"relu6"},)"
        R"({"name":"dw","op":"conv","out":8,"groups":8,"kernel":[3,3],"pad":[2,2],"dilation":[2,2]},)"
        R"({"name":"h","op":"hswish"},{"name":"a","op":"add","inputs":["h","r1"]},)"
        R"({"name":"mp","op":"maxpool","kernel":[2,2],"stride":[2,2]},)"
        R"({"name":"ap","op":"avgpool","kernel":[3,3],"pad":[1,1],"count_include_pad":true},)"
        R"({"name":"g","op":"gelu"},{"name":"r","op":"relu"},)"
        R"({"name":"gap","op":"global_avgpool","inputs":["mp"]},)"
        R"({"name":"fc","op":"linear","out":4,"bias":false}]})");
  // Per-side conv padding (pad_end).
  write(dir, "graph_pad_end", kGraphPadEnd);
}

// ONNX models written by export_onnx: block architectures with every exportable layer kind,
// a graph network with pools, one with per-side conv pads, and truncated copies.
// (corpus/onnx/padded_net is tests/onnx/padded_net.onnx: zero Pad nodes before convs;
// corpus/onnx/mbv3_block and sigmoid_se are tests/onnx/mbv3_block.onnx and sigmoid_se.onnx:
// squeeze-and-excitation with HardSigmoid and Sigmoid gates and their Mul.)
void onnx_seeds(const fs::path& dir) {
  const char* texts[] = {
      "blocks:in=3x8x8,classes=3,act=relu6,stem=4k3s2|ir:k3e2s1c4|ds:k3s2c8|rb:k3s2c8|head=8",
      "blocks:in=1x8x8,classes=2,act=hswish,stem=4k3s1|ir:k3e2s1c4|head=0",
      R"({"graph":1,"input":[2,8,8],"classes":3,"layers":[)"
      R"({"name":"c","op":"conv","out":4,"kernel":[3,3],"pad":[1,1],"bias":true},)"
      R"({"name":"mp","op":"maxpool","kernel":[2,2],"stride":[2,2]},)"
      R"({"name":"ap","op":"avgpool","kernel":[2,2],"stride":[2,2]},)"
      R"({"name":"fc","op":"linear","out":3}]})",
      kGraphPadEnd};
  const char* names[] = {"blocks_mixed", "blocks_hswish", "graph_pools", "graph_pad_end"};
  for (int i = 0; i < 4; ++i) {
    const ArchSpec spec = parse_arch(texts[i]);
    auto net = build_network(spec);
    Rng rng(static_cast<uint64_t>(i + 1));
    net->initialize(rng);
    net->set_training(false);
    const data::Normalization norm = data::Normalization::identity(static_cast<int>(spec.input.c));
    const std::string bytes = onnx_io::export_onnx(spec, *net, &norm);
    write(dir, names[i], bytes);
    write(dir, std::string(names[i]) + "_truncated", bytes.substr(0, bytes.size() * 2 / 3));
  }
}

void checkpoint_seeds(const fs::path& dir) {
  Checkpoint c;
  c.meta = {{"arch", reference_text("tiny-bench")}, {"epoch", 3}, {"lr", 0.05}};
  c.tensors.emplace_back("w", Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, DType::F32));
  c.tensors.emplace_back("b", Tensor::from_values({2}, {-1, 0.5}, DType::F64));
  c.tensors.emplace_back("empty", Tensor({0, 4}, DType::F32));
  const std::string full = encode_checkpoint(c);
  write(dir, "two_tensors", full);
  // The fuzz target appends a CRC to every input: the body without its CRC is a seed too.
  write(dir, "two_tensors_no_crc", full.substr(0, full.size() - 4));
  write(dir, "no_tensors", encode_checkpoint(Checkpoint{}));
  write(dir, "truncated", full.substr(0, 30));
  // Regressions (no CRC: the target appends it): element counts beyond int64 and a float
  // dimension, both once undefined behaviour in the decoder.
  auto body = [&](const nlohmann::json& shape) {
    const std::string json =
        nlohmann::json{{"meta", nlohmann::json::object()},
                       {"tensors",
                        {{{"name", "w"}, {"dtype", "float32"}, {"shape", shape}, {"offset", 0},
                          {"bytes", 4}}}}}
            .dump();
    std::string out = full.substr(0, 12);
    const uint64_t size = json.size();
    out.append(reinterpret_cast<const char*>(&size), sizeof size);
    return out + json + std::string(4, '\0');
  };
  write(dir, "regress_numel_overflow", body({uint64_t{1} << 39, uint64_t{1} << 39}));
  write(dir, "regress_float_dimension", body({1e30}));
  // Issue 13: a duplicate tensor name and a model version >= 2^32 (once read as 1), both
  // accepted before; and a valid model checkpoint (load_model's meta checks).
  Checkpoint twice = c;
  twice.tensors.emplace_back("w", Tensor::from_values({1}, {7}, DType::F32));
  write(dir, "regress_duplicate_name", encode_checkpoint(twice));
  const std::string arch = "blocks:in=1x8x8,classes=3,act=relu,stem=4k3s1|head=0";
  Checkpoint model;
  model.meta = {{"format", "piconas-model"}, {"version", 1}, {"arch", arch}, {"input", {1, 8, 8}},
                {"classes", 3}, {"class_names", {"a", "b", "c"}},
                {"normalization", {{"mean", {0.5}}, {"std", {0.25}}}}, {"epoch", 1}, {"data", "mnist"}};
  for (auto& [name, tensor] : build_network(parse_arch(arch))->state()) model.tensors.emplace_back(name, tensor);
  write(dir, "model", encode_checkpoint(model));
  model.meta["version"] = uint64_t{4294967297};
  write(dir, "regress_model_version_wrap", encode_checkpoint(model));
  model.meta["version"] = 1;
  model.meta["class_names"] = {"a", 7};
  write(dir, "regress_class_names_type", encode_checkpoint(model));
}

// An uncompressed (stored) zlib stream, enough for a valid PNG without deflate.
std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  return be32(static_cast<uint32_t>(data.size())) + body +
         be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string png_grey(uint32_t width, uint32_t height, const std::string& idat_rows) {
  std::string ihdr = be32(width) + be32(height) + std::string("\x08\x00\x00\x00\x00", 5);
  uLongf packed_size = compressBound(static_cast<uLong>(idat_rows.size()));
  std::string packed(packed_size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(idat_rows.data()),
           static_cast<uLong>(idat_rows.size()));
  packed.resize(packed_size);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", packed) +
         png_chunk("IEND", "");
}

std::string bmp_header(int32_t width, int32_t height, uint32_t data_bytes) {
  std::string h = "BM" + le32(54 + data_bytes) + le32(0) + le32(54) + le32(40) + le32(static_cast<uint32_t>(width)) +
                  le32(static_cast<uint32_t>(height)) + std::string("\x01\x00\x18\x00", 4) + le32(0) +
                  le32(data_bytes) + le32(2835) + le32(2835) + le32(0) + le32(0);
  return h;
}

void image_seeds(const fs::path& dir) {
  std::string rows;
  for (int y = 0; y < 4; ++y) {
    rows += '\0';  // filter: none
    for (int x = 0; x < 4; ++x) rows += static_cast<char>(x * 60 + y * 5);
  }
  write(dir, "png_4x4_grey", png_grey(4, 4, rows));
  // 2x2 24-bit BMP: rows padded to 4 bytes.
  std::string pixels;
  for (int y = 0; y < 2; ++y) pixels += std::string("\x10\x20\x30\x40\x50\x60\x00\x00", 8);
  write(dir, "bmp_2x2", bmp_header(2, 2, 16) + pixels);
  // Baseline JPEGs (stb_image_write): grey 4x4 and RGB 8x8 (with chroma tables).
  for (int channels : {1, 3}) {
    const int side = channels == 1 ? 4 : 8;
    std::vector<uint8_t> image(static_cast<size_t>(side) * side * channels);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 29);
    std::string jpeg;
    auto append = [](void* out, void* data, int size) {
      static_cast<std::string*>(out)->append(static_cast<const char*>(data), static_cast<size_t>(size));
    };
    stbi_write_jpg_to_func(append, &jpeg, side, side, channels, image.data(), 90);
    write(dir, channels == 1 ? "jpeg_4x4_grey" : "jpeg_8x8_rgb", jpeg);
  }
  // Issue 13: headers declaring 20000x20000 (once 1.2-1.6 GB before the size check).
  write(dir, "regress_bmp_header_20000", bmp_header(20000, 20000, 0));
  write(dir, "regress_png_header_20000", png_grey(20000, 20000, rows));
}

void run_config_seeds(const fs::path& dir) {
  write(dir, "empty_object", "{}");
  write(dir, "typical", R"({"data": "fashion-mnist", "budget_sram": "64K", "budget_flash": 262144,
  "space": "blocks", "stem": "16k3s2", "min_blocks": 3, "max_blocks": 6, "population": 50,
  "lr": 0.1, "epochs": 8, "seed": 7, "threads": 2})");
  // Issue 13: values that once passed validation (wrapped, or failing only in a later stage).
  write(dir, "regress_population_wrap", R"({"population": 4294967298})");
  write(dir, "regress_threads_wrap", R"({"threads": 4294967297})");
  write(dir, "regress_min_blocks_zero", R"({"min_blocks": 0})");
  write(dir, "regress_data_path_like", R"({"data": "../etc"})");
  write(dir, "regress_negative_budget", R"({"max_macs": -1})");
}

void idx_seeds(const fs::path& dir) {
  auto pair = [](const std::string& images, const std::string& labels) {
    return le32(static_cast<uint32_t>(images.size())) + images + labels;
  };
  write(dir, "three_4x5", pair(idx_images(3, 4, 5), idx_labels(3)));
  write(dir, "one_1x1", pair(idx_images(1, 1, 1), idx_labels(1)));
  write(dir, "count_mismatch", pair(idx_images(2, 2, 2), idx_labels(3)));
  write(dir, "huge_dims",
        pair(be32(2051) + be32(0xffffffffu) + be32(65536) + be32(65536), idx_labels(1)));
}

void cifar_seeds(const fs::path& dir) {
  write(dir, "two_records", cifar_records(2));
  write(dir, "one_record_truncated", cifar_records(1).substr(0, 3000));
}

void file_io_seeds(const fs::path& dir) {
  const std::string plain = idx_labels(20);
  write(dir, "plain", plain);
  write(dir, "gzip", gzip(plain));
  write(dir, "gzip_truncated", gzip(plain).substr(0, 20));
  write(dir, "gzip_twice", gzip(plain) + gzip(plain));
}

void search_text_seeds(const fs::path& dir) {
  const auto spaces = fuzz::fuzz_spaces();
  Rng rng(3);
  for (const auto& space : spaces)
    write(dir, std::string(space->name()) + "_candidate", space->sample(rng).text);
  write(dir, "metrics", "naswot,logsynflow:0.5,skip:-2e-3");
  write(dir, "strategy", "freerea");
  write(dir, "aggregator", "zscore");
}

void search_state_seeds(const fs::path& dir) {
  const auto spaces = fuzz::fuzz_spaces();
  for (const auto& space : spaces)
    for (const SearchSettings& settings : fuzz::fuzz_settings()) {
      SearchSettings s = settings;
      s.output_dir = (fs::temp_directory_path() / "piconas_make_seeds_search").string();
      s.steps = 2;
      run_search(*space, s, fuzz::fuzz_metrics);
      const std::string path = search_state_path(s.output_dir);
      std::ifstream in(path, std::ios::binary);
      const std::string name = std::string(space->name()) + "_" + strategy_name(s.strategy);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      write(dir, name, text);
      fs::remove_all(s.output_dir);
      if (std::string(space->name()) != "nb201") continue;
      // Edge cases, edited from the real state: no population, nothing feasible, NaN metrics.
      nlohmann::json j = nlohmann::json::parse(text);
      nlohmann::json edited = j;
      edited["state"]["population"] = nlohmann::json::array();
      write(dir, name + "_empty_population", edited.dump());
      edited = j;
      for (auto& entry : edited["state"]["history"]) {
        entry["feasible"] = false;
        entry["metrics"] = nlohmann::json::object();
      }
      write(dir, name + "_all_infeasible", edited.dump());
      edited = j;
      for (auto& entry : edited["state"]["history"])
        entry["metrics"] = {{"naswot", "nan"}, {"logsynflow", "-inf"}};
      write(dir, name + "_non_finite", edited.dump());
    }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  arch_text_seeds(root / "arch_text");
  checkpoint_seeds(root / "checkpoint");
  idx_seeds(root / "idx");
  cifar_seeds(root / "cifar");
  image_seeds(root / "image");
  run_config_seeds(root / "run_config");
  file_io_seeds(root / "file_io");
  search_text_seeds(root / "search_text");
  search_state_seeds(root / "search_state");
  onnx_seeds(root / "onnx");
  return 0;
}
