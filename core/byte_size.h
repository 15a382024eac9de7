// Byte sizes: the one parser of every byte budget and flag (--max-sram, --max-flash,
// --max-memory, --budget-sram, the run configuration's byte keys), into a plain int64_t.
// Text: a whole number with an optional binary suffix K, M or G, optionally followed by B or iB,
// case-insensitive: "64K" = 65536, "256KB" = "256KiB" = 262144, "1000" = 1000; "1.5M", "-1",
// "64X" are errors.
#pragma once
#include <cstdint>
#include <string>

namespace piconas {

// "64K" -> 65536; throws Error naming `what` on malformed text or overflow.
int64_t parse_byte_size(const std::string& text, const std::string& what = "size");
// 65536 -> "64K", 1000 -> "1000" (the largest exact binary suffix).
std::string byte_size_str(int64_t bytes);

}  // namespace piconas
