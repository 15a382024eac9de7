// Output errors of write_file_atomic: permission denied, disk full (simulated with
// RLIMIT_FSIZE), an unwritable file system and a device target. Each must throw an Error that
// names the path and the reason, and leave the earlier file intact with no temp file behind.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"

using namespace piconas;
namespace fs = std::filesystem;

namespace {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(fs::temp_directory_path() /
              ("piconas_atomic_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, ec);
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }
  int entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("atomic write into a read-only directory: clear error, earlier file intact") {
  ScratchDir dir("readonly");
  const std::string path = dir.file("results.json");
  write_file_atomic(path, "earlier");
  if (::geteuid() != 0) {
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH_AS(write_file_atomic(path, "new"),
                         doctest::Contains((path + ".tmp.").c_str()), Error);
    CHECK_THROWS_WITH_AS(write_file_atomic(path, "new"), doctest::Contains("Permission denied"),
                         Error);
    fs::permissions(dir.path(), fs::perms::owner_all);
  } else {
    // Permissions do not stop root: occupy the temp file's name with a directory instead, so
    // creating the temp file fails the same way a read-only directory makes it fail.
    fs::create_directory(path + ".tmp." + std::to_string(::getpid()));
    CHECK_THROWS_WITH_AS(write_file_atomic(path, "new"),
                         doctest::Contains((path + ".tmp.").c_str()), Error);
    CHECK_THROWS_WITH_AS(write_file_atomic(path, "new"), doctest::Contains("Is a directory"),
                         Error);
    fs::remove(path + ".tmp." + std::to_string(::getpid()));
  }
  CHECK(read_file(path) == "earlier");
  CHECK(dir.entries() == 1);
}

TEST_CASE("atomic write on a file system nobody can create files in (/proc) fails clearly") {
  // procfs refuses new files even to root.
  CHECK_THROWS_WITH_AS(write_file_atomic("/proc/piconas_out.json", "x"),
                       doctest::Contains("/proc/piconas_out.json"), Error);
}

TEST_CASE("atomic write that runs out of space: clear error, earlier file intact, no temp") {
  ScratchDir dir("full");
  const std::string path = dir.file("history.csv");
  write_file_atomic(path, "earlier");
  // RLIMIT_FSIZE makes write() fail part-way like a full disk (EFBIG instead of ENOSPC);
  // SIGXFSZ, which would kill the process, is ignored meanwhile.
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit small = old;
  small.rlim_cur = 4096;
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    write_file_atomic(path, std::string(100000, 'x'));
  } catch (const Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  CHECK(message.find("cannot write '" + path + ".tmp.") == 0);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK(read_file(path) == "earlier");
  CHECK(dir.entries() == 1);
}

TEST_CASE("atomic write to /dev/full fails clearly and leaves the device alone") {
  struct stat before {};
  REQUIRE(::stat("/dev/full", &before) == 0);
  REQUIRE(S_ISCHR(before.st_mode));
  CHECK_THROWS_WITH_AS(write_file_atomic("/dev/full", "x"),
                       doctest::Contains("'/dev/full': it exists and is not a regular file"),
                       Error);
  ScratchDir dir("target_dir");
  CHECK_THROWS_WITH_AS(write_file_atomic(dir.path().string(), "x"),
                       doctest::Contains("not a regular file"), Error);
  struct stat after {};
  REQUIRE(::stat("/dev/full", &after) == 0);
  CHECK(S_ISCHR(after.st_mode));
  CHECK(after.st_rdev == before.st_rdev);
  CHECK(!fs::exists("/dev/full.tmp." + std::to_string(::getpid())));
}
