// Issue 13 (hostile input), core part: reads refuse FIFOs, devices and oversized files before
// allocating; output directories give Errors and switch as one unit; integers and floats from
// outside are range-checked; error text is capped; UTF-8 is checked before JSON sees it.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_checks.h"

using namespace piconas;
namespace fs = std::filesystem;

namespace {
struct Scratch {
  fs::path path = fs::temp_directory_path() / ("piconas_hostile_" + std::to_string(::getpid()));
  Scratch() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};
}  // namespace

TEST_CASE("read_file refuses a FIFO (would block), a device and a file over the limit") {
  Scratch dir;
  const std::string fifo = dir.file("last.ckpt");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(read_file(fifo), doctest::Contains("not a regular file"), Error);
  CHECK_THROWS_WITH_AS(read_file("/dev/zero"), doctest::Contains("not a regular file"), Error);
  std::ofstream(dir.file("big")) << std::string(1000, 'x');
  CHECK(read_file(dir.file("big"), 1000).size() == 1000);
  CHECK_THROWS_WITH_AS(read_file(dir.file("big"), 999), doctest::Contains("over the limit of 999"), Error);
}

TEST_CASE("make_directories: a path through a file is an Error naming it, not a filesystem_error") {
  Scratch dir;
  std::ofstream(dir.file("plain")) << "x";
  CHECK_THROWS_WITH_AS(make_directories(dir.file("plain") + "/out"), doctest::Contains("plain/out"), Error);
  CHECK_THROWS_AS(make_directories(dir.file("plain")), Error);
  make_directories(dir.file("a/b/c"));
  CHECK(fs::is_directory(dir.file("a/b/c")));
}

TEST_CASE("replace_directory switches a whole directory and leaves no temporary behind") {
  Scratch dir;
  const std::string out = dir.file("export");
  make_directories(out);
  std::ofstream(out + "/model.h") << "old h";
  std::ofstream(out + "/model.c") << "old c";
  const std::string fresh = fresh_sibling_directory(out + "/");
  CHECK(fs::path(fresh).parent_path() == dir.path);
  std::ofstream(fresh + "/model.h") << "new h";
  CHECK(read_file(out + "/model.h") == "old h");  // nothing visible before the switch
  replace_directory(fresh, out);
  CHECK(read_file(out + "/model.h") == "new h");
  CHECK_FALSE(fs::exists(out + "/model.c"));  // no old file survives next to a new one
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++entries;
  CHECK(entries == 1);
  // A target that is a file is refused (and the fresh directory is cleaned up).
  std::ofstream(dir.file("file")) << "x";
  const std::string fresh2 = fresh_sibling_directory(dir.file("file"));
  CHECK_THROWS_WITH_AS(replace_directory(fresh2, dir.file("file")), doctest::Contains("not a directory"), Error);
  CHECK_FALSE(fs::exists(fresh2));
}

TEST_CASE("checked_int refuses values that would wrap; check_finite refuses NaN and infinity") {
  CHECK(checked_int<int>(int64_t{2147483647}, "x") == 2147483647);
  CHECK_THROWS_WITH_AS(checked_int<int>(uint64_t{4294967298}, "population"),
                       doctest::Contains("population: 4294967298 is outside"), Error);
  CHECK_THROWS_AS(checked_int<int>(int64_t{4294967297}, "threads"), Error);
  CHECK_THROWS_AS(checked_int<uint64_t>(int64_t{-1}, "seed"), Error);
  CHECK(check_finite(1e30, "lr") == 1e30);
  CHECK_THROWS_AS(check_finite(std::numeric_limits<double>::quiet_NaN(), "lr"), Error);
  CHECK_THROWS_AS(check_finite(std::numeric_limits<double>::infinity(), "lr"), Error);
}

TEST_CASE("error text is capped: a message quoting a huge input stays one short line") {
  const Error e("architecture text: bad block in \"" + std::string(1 << 20, 'x') + "\"");
  CHECK(std::string(e.what()).size() < kMaxErrorChars + 100);
  CHECK(std::string(e.what()).find("more characters)") != std::string::npos);
  CHECK(excerpt("short") == "short");
}

TEST_CASE("UTF-8 validation: valid text passes, stray bytes, overlongs and surrogates fail") {
  CHECK(is_valid_utf8("runs/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80"));
  CHECK_FALSE(is_valid_utf8("runs/\xff"));
  CHECK_FALSE(is_valid_utf8("\xc3"));          // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));  // UTF-16 surrogate
  CHECK_THROWS_WITH_AS(check_utf8("out\xfe", "output directory"), doctest::Contains("not valid UTF-8"), Error);
}
