// piconas::Error — the one exception type of the project.
// Library code throws it with a message naming the shapes, values, file or field at fault;
// it never prints or exits. PICONAS_CHECK(cond, message-stream) is the one-line guard.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace piconas {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
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
