#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace piconas {

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw Error(what + " '" + path + "': " + std::strerror(error));
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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open", path, errno ? errno : ENOENT);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("cannot read", path, errno ? errno : EIO);
  return buffer.str();
}

}  // namespace piconas
