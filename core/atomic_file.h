// Atomic output files: the content goes to "<path>.tmp.<pid>", is flushed and fsync'ed, then
// renamed over <path>, so a reader (or a resumed run after kill -9) sees either the old file
// or the complete new one, never half of it. Errors (missing directory, permission, disk full)
// throw Error naming the path and the system's reason; the previous file is left intact.
// An existing path that is not a regular file (a directory, /dev/full) is an Error, never
// replaced.
#pragma once
#include <string>
#include <string_view>

namespace piconas {

void write_file_atomic(const std::string& path, std::string_view content);
// Reads a whole file; throws Error naming the path if it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace piconas
