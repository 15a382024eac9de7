// Checks for values that come from outside the program (command line, JSON files,
// checkpoints, file names), applied where they are parsed:
//   checked_int<T>(value, what)   a 64-bit integer narrowed to T, Error if it does not fit
//                                 (4294967297 never silently becomes 1)
//   check_finite(value, what)     Error on NaN or infinity
//   is_valid_utf8 / check_utf8    text that will be written into JSON (nlohmann throws on
//                                 invalid UTF-8 only when it dumps, after the work is done)
// Every Error names `what` and quotes the offending value (shortened by excerpt()).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace piconas {

template <class T, class From>
T checked_int(From value, const std::string& what) {
  static_assert(std::is_integral_v<T> && std::is_integral_v<From>);
  PICONAS_CHECK(std::in_range<T>(value), what << ": " << value << " is outside ["
                                              << +std::numeric_limits<T>::min() << ", "
                                              << +std::numeric_limits<T>::max() << "]");
  return static_cast<T>(value);
}

inline double check_finite(double value, const std::string& what) {
  PICONAS_CHECK(std::isfinite(value), what << " must be a finite number, got " << value);
  return value;
}

bool is_valid_utf8(std::string_view text);
void check_utf8(std::string_view text, const std::string& what);

}  // namespace piconas
