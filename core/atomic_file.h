// Atomic output files: the content goes to "<path>.tmp.<pid>", is flushed and fsync'ed, then
// renamed over <path>, so a reader (or a resumed run after kill -9) sees either the old file
// or the complete new one, never half of it. Errors (missing directory, permission, disk full)
// throw Error naming the path and the system's reason; the previous file is left intact.
// An existing path that is not a regular file (a directory, /dev/full) is an Error, never
// replaced.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace piconas {

inline constexpr int64_t kMaxReadBytes = int64_t{1} << 30;

void write_file_atomic(const std::string& path, std::string_view content);
// Reads a whole regular file of at most max_bytes; throws Error naming the path if it cannot be
// opened or read, is not a regular file (a FIFO would block, /dev/zero never ends) or is
// larger than max_bytes (checked before anything is allocated).
std::string read_file(const std::string& path, int64_t max_bytes = kMaxReadBytes);
// Outputs made of several files (an export) switch as one unit: write them all into
// fresh_sibling_directory(dir) ("<dir>.tmp.<pid>", created empty next to dir), then
// replace_directory(fresh, dir) swaps it in with one rename (renameat2 RENAME_EXCHANGE when dir
// exists) and deletes the old content. A kill -9 at any moment leaves dir holding all old or all
// new files, never a mix (at worst a stale "<dir>.tmp.<pid>" sibling remains). An existing dir
// that is not a directory is an Error.
std::string fresh_sibling_directory(const std::string& dir);
void replace_directory(const std::string& fresh, const std::string& dir);
// create_directories with an Error naming the path and the reason (a path that is a file,
// a permission problem) instead of a filesystem_error.
void make_directories(const std::string& path);

}  // namespace piconas
