#include "core/byte_size.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

#include "core/error.h"

namespace piconas {

int64_t parse_byte_size(const std::string& text, const std::string& what) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string suffix = text.substr(digits);
  for (char& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  int shift = -1;
  if (suffix.empty() || suffix == "B") shift = 0;
  for (const auto& [letter, s] : {std::pair{'K', 10}, std::pair{'M', 20}, std::pair{'G', 30}})
    if (suffix == std::string(1, letter) || suffix == std::string(1, letter) + "B" ||
        suffix == std::string(1, letter) + "IB")
      shift = s;
  PICONAS_CHECK(digits > 0 && shift >= 0,
                what << ": '" << text
                     << "' is not a byte size (a whole number with an optional K, M or G suffix)");
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  PICONAS_CHECK(ec == std::errc() && ptr == text.data() + digits &&
                    value <= (std::numeric_limits<int64_t>::max() >> shift),
                what << ": '" << text << "' is too large");
  return value << shift;
}

std::string byte_size_str(int64_t bytes) {
  for (const auto& [letter, s] : {std::pair{"G", 30}, std::pair{"M", 20}, std::pair{"K", 10}})
    if (bytes > 0 && bytes % (int64_t{1} << s) == 0) return std::to_string(bytes >> s) + letter;
  return std::to_string(bytes);
}

}  // namespace piconas
