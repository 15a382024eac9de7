#include <doctest/doctest.h>

#include "core/duration.h"

TEST_CASE("duration_str: one format for progress lines and reports") {
  using piconas::duration_str;
  CHECK(duration_str(-3) == "0s");
  CHECK(duration_str(0.4) == "0s");
  CHECK(duration_str(42) == "42s");
  CHECK(duration_str(59.6) == "1m00s");
  CHECK(duration_str(187) == "3m07s");
  CHECK(duration_str(3600 + 5 * 60 + 59) == "1h05m");
  CHECK(duration_str(26 * 3600) == "26h00m");
}
