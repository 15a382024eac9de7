#include "core/error.h"

namespace piconas {

std::string excerpt(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return text.substr(0, max_chars) + "... (" + std::to_string(text.size() - max_chars) +
         " more characters)";
}

}  // namespace piconas
