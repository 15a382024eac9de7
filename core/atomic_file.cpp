#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>

#include "core/error.h"

namespace piconas {

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw Error(what + " '" + path + "': " + std::strerror(error));
}
std::filesystem::path directory_path(const std::string& dir) {
  std::filesystem::path target = std::filesystem::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..")
    throw Error("cannot use '" + dir + "' as an output directory: name it (e.g. " + dir + "/out)");
  return target;
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view content) {
  // Renaming over a device or a directory would replace it (as root, /dev/full or /dev/null
  // would become a regular file): only regular files are replaced.
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode))
    throw Error("cannot write '" + path + "': it exists and is not a regular file");
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", temp, errno);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(temp.c_str());
      fail("cannot write", temp, error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    fail("cannot flush", temp, error);
  }
  if (::close(fd) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    fail("cannot close", temp, error);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    fail("cannot rename " + temp + " to", path, error);
  }
}

std::string read_file(const std::string& path, int64_t max_bytes) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) fail("cannot open", path, errno);
  if (!S_ISREG(info.st_mode)) throw Error("cannot read '" + path + "': not a regular file");
  if (info.st_size > max_bytes)
    throw Error("cannot read '" + path + "': " + std::to_string(info.st_size) + " bytes, over the limit of " +
                std::to_string(max_bytes));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail("cannot open", path, errno);
  // The size is re-checked while reading: the file may grow after the stat.
  std::string content(static_cast<size_t>(info.st_size), '\0');
  size_t got = 0;
  while (true) {
    if (got == content.size()) {
      if (static_cast<int64_t>(got) >= max_bytes + 1) break;
      content.resize(std::min<size_t>(content.size() + 65536, static_cast<size_t>(max_bytes) + 1));
    }
    ssize_t n = ::read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      fail("cannot read", path, error);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (static_cast<int64_t>(got) > max_bytes)
    throw Error("cannot read '" + path + "': over the limit of " + std::to_string(max_bytes) + " bytes");
  content.resize(got);
  return content;
}

std::string fresh_sibling_directory(const std::string& dir) {
  const std::filesystem::path target = directory_path(dir);
  if (target.has_parent_path()) make_directories(target.parent_path().string());
  std::filesystem::path fresh = target;
  fresh += ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(fresh, ec);
  make_directories(fresh.string());
  return fresh.string();
}

void replace_directory(const std::string& fresh, const std::string& dir) {
  const std::string target = directory_path(dir).string();
  struct stat existing {};
  std::error_code ec;
  if (::stat(target.c_str(), &existing) != 0) {
    if (std::rename(fresh.c_str(), target.c_str()) != 0) fail("cannot rename " + fresh + " to", target, errno);
    return;
  }
  if (!S_ISDIR(existing.st_mode)) {
    std::filesystem::remove_all(fresh, ec);
    throw Error("cannot write into '" + target + "': it exists and is not a directory");
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    std::filesystem::remove_all(fresh, ec);  // now the old content
    return;
  }
  if (errno != EINVAL && errno != ENOSYS) fail("cannot swap " + fresh + " with", target, errno);
  // File systems without RENAME_EXCHANGE: two renames (a kill between them leaves the old
  // content complete in "<dir>.old.<pid>").
  const std::string old = target + ".old." + std::to_string(::getpid());
  std::filesystem::remove_all(old, ec);
  if (std::rename(target.c_str(), old.c_str()) != 0) fail("cannot rename " + target + " to", old, errno);
  if (std::rename(fresh.c_str(), target.c_str()) != 0) fail("cannot rename " + fresh + " to", target, errno);
  std::filesystem::remove_all(old, ec);
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error("cannot create directory '" + path + "': " + ec.message());
  if (!std::filesystem::is_directory(path, ec))
    throw Error("cannot create directory '" + path + "': a file of that name exists");
}

}  // namespace piconas
