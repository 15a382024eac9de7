// Shared by the libFuzzer targets of tests/fuzz: FUZZ_CHECK aborts (a crash libFuzzer records
// with the input) when a property of an accepted input fails, e.g. a broken round trip.
// Rejected inputs are fine: every target catches piconas::Error, the parsers' one way to say no.
#pragma once
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
