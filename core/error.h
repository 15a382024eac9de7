// piconas::Error — the one exception type of the project.
// Library code throws it with a message naming the shapes, values, file or field at fault;
// it never prints or exits. PICONAS_CHECK(cond, message-stream) is the one-line guard.
// A message longer than kMaxErrorChars is cut (an error quoting a hostile input, say a
// 78 MB architecture text, stays one readable line); quote user text through excerpt().
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace piconas {

inline constexpr size_t kMaxErrorChars = 2000;

// text itself when short, else its first max_chars characters and "... (N more characters)".
std::string excerpt(const std::string& text, size_t max_chars = 200);

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message)
      : std::runtime_error(excerpt(message, kMaxErrorChars)) {}
};

using Shape = std::vector<int64_t>;

// "[32, 3, 96, 96]"
std::string shape_str(const Shape& shape);

}  // namespace piconas

#define PICONAS_CHECK(condition, message)                  \
  do {                                                     \
    if (!(condition)) {                                    \
      std::ostringstream piconas_check_stream;             \
      piconas_check_stream << message;                     \
      throw ::piconas::Error(piconas_check_stream.str());  \
    }                                                      \
  } while (0)
