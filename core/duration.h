// The one duration format of progress lines and reports: "42s", "3m07s", "1h05m" (seconds
// rounded to the nearest whole; negative durations print as 0s).
#pragma once
#include <string>

namespace piconas {

std::string duration_str(double seconds);

}  // namespace piconas
