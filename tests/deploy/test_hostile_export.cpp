// Issue 13 (hostile input), export part: prefixes that would shadow a system or runtime header
// or make too long a file name are refused before anything is created; text reaching a
// comment (a path with "/*") is escaped so the C compiles with -Wall -Werror; an export
// directory switches as one unit and keeps other models' files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/atomic_file.h"
#include "deploy/deploy_helpers.h"
#include "nas/deploy/emit_c.h"
#include "nas/deploy/export.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::deploy;
using namespace piconas::nas::deploy::testing;

namespace {
data::Dataset calibration_images(const Shape3& s, int64_t n) {
  data::Dataset d;
  d.count = n;
  d.channels = static_cast<int>(s.c);
  d.height = static_cast<int>(s.h);
  d.width = static_cast<int>(s.w);
  d.num_classes = 10;
  for (int k = 0; k < 10; ++k) d.class_names.push_back(std::string(1, static_cast<char>('a' + k)));
  for (int64_t i = 0; i < n; ++i) {
    d.labels.push_back(static_cast<int32_t>(i % 10));
    for (int64_t p = 0; p < s.c * s.h * s.w; ++p) d.images.push_back(static_cast<uint8_t>((p * 7 + i * 31) % 256));
  }
  return d;
}

struct Fixture {
  ArchSpec arch = tiny_bench();
  DeployModel model;
  data::Dataset calib = calibration_images(arch.input, 8);
  Fixture() {
    model.arch = arch;
    model.module = make_model(arch, 23);
    model.normalization = fashion_normalization();
    model.source_hash = "0123456789abcdef";
  }
  ExportOptions options(const std::string& out, const std::string& prefix = "model") const {
    ExportOptions o;
    o.out_dir = out;
    o.prefix = prefix;
    o.calibration_images = 8;
    o.eval_images = 0;
    return o;
  }
};
}  // namespace

TEST_CASE("prefixes that shadow a header, reach the runtime's names or are too long are refused first") {
  TempDir dir;
  Fixture f;
  for (const std::string& prefix : std::vector<std::string>{"stdint", "stdio", "STDINT", "piconas_int8_conv2d_s8",
                                                             "Piconas", "_model", std::string(300, 'm'), "my model",
                                                             "m\xc3\xa9"}) {
    CAPTURE(prefix);
    const std::string out = dir.str() + "/out";
    CHECK_THROWS_WITH_AS(export_model(f.model, f.calib, nullptr, f.options(out, prefix), "x.ckpt"),
                         doctest::Contains("prefix"), Error);
    CHECK_THROWS_AS(export_checkpoint(dir.str() + "/missing.ckpt", f.options(out, prefix)), Error);
    CHECK_FALSE(std::filesystem::exists(out));  // nothing created, not even the folder
  }
  CHECK_NOTHROW(check_c_prefix("stdint_model"));
  CHECK_NOTHROW(check_c_prefix(std::string(64, 'm')));
}

TEST_CASE("negative budgets and a NaN percentile are refused, never read as \"none\" or min/max") {
  Fixture f;
  TempDir dir;
  ExportOptions o = f.options(dir.str() + "/out");
  o.max_sram = -1;
  CHECK_THROWS_WITH_AS(export_model(f.model, f.calib, nullptr, o, "x"), doctest::Contains("--max-sram"), Error);
  o = f.options(dir.str() + "/out");
  o.max_flash = -5;
  CHECK_THROWS_WITH_AS(export_model(f.model, f.calib, nullptr, o, "x"), doctest::Contains("--max-flash"), Error);
  o = f.options(dir.str() + "/out");
  o.calibration.method = CalibrationMethod::Percentile;
  o.calibration.percentile = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(export_model(f.model, f.calib, nullptr, o, "x"), doctest::Contains("percentile"), Error);
  CHECK_FALSE(std::filesystem::exists(dir.str() + "/out"));
}

TEST_CASE("a source path with comment markers and odd bytes still gives C that compiles with -Werror") {
  TempDir dir;
  Fixture f;
  const std::string out = dir.str() + "/out";
  export_model(f.model, f.calib, nullptr, f.options(out), "runs/*/a/*.ckpt */ ??/\n\xff end");
  const std::string h = read_file(out + "/model.h");
  CHECK(h.find("source:       runs/ * /a/ *.ckpt * / ? ?/? ? end\n") != std::string::npos);
  std::string log;
  const std::string cc = std::string(PICONAS_TEST_CC) + " -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I" +
                         out + " " + out + "/model.c";
  CHECK_MESSAGE(run_command(cc + " 2>&1", &log) == 0, log);
}

TEST_CASE("an export replaces its directory as one unit and keeps other models' files") {
  TempDir dir;
  Fixture f;
  const std::string out = dir.str() + "/out";
  // An earlier export whose model.h / model.c must never be mixed with the new pair.
  make_directories(out + "/piconas_runtime");
  std::ofstream(out + "/model.h") << "old header";
  std::ofstream(out + "/model.c") << "old source";
  std::ofstream(out + "/model.c.tmp.12345") << "left by a killed run";
  std::ofstream(out + "/piconas_runtime/stale.c") << "old runtime file";
  std::ofstream(out + "/other.h") << "another model";
  const ExportReport r = export_model(f.model, f.calib, nullptr, f.options(out), "x.ckpt");
  CHECK(read_file(out + "/model.h").find("int8 model generated by piconas") != std::string::npos);
  CHECK(read_file(out + "/model.c").find("model_invoke") != std::string::npos);
  CHECK(read_file(out + "/other.h") == "another model");  // not ours: kept
  CHECK_FALSE(std::filesystem::exists(out + "/model.c.tmp.12345"));
  CHECK_FALSE(std::filesystem::exists(out + "/piconas_runtime/stale.c"));
  for (const std::string& file : r.emitted.files) CHECK(std::filesystem::exists(file));
  int siblings = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.str())) ++siblings;
  CHECK(siblings == 1);  // no "<out>.tmp.<pid>" left behind
  // An output path that is a file is an Error naming it.
  std::ofstream(dir.str() + "/file") << "x";
  CHECK_THROWS_WITH_AS(export_model(f.model, f.calib, nullptr, f.options(dir.str() + "/file"), "x.ckpt"),
                       doctest::Contains("not a directory"), Error);
}
