// Independent reference of the int8 hard-swish and channel multiply
// (docs/int8.md), for tests/int8/ and tests/deploy/: written from the text of
// docs/int8.md with int64 arithmetic and the closed rounding forms of
// reference_s8.h, sharing no code with ops/int8/. Also the host-side parameters
// of both ops as TFLite's Prepare derives them from real scales.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "int8/reference_s8.h"
#include "ops/int8/channel_mul_s8.h"
#include "ops/int8/hardswish_s8.h"
#include "ops/int8/quantize_multiplier.h"

namespace piconas::int8_ref {

// Rounding doubling high multiply of two int16: floor((a b + 2^14) / 2^15) (the
// nudge form's closed form, as srdhm of reference_s8.h); -2^15 * -2^15
// saturates.
inline int32_t srdhm16(int32_t a, int32_t b) {
  if (a == -32768 && b == -32768) return 32767;
  return static_cast<int32_t>((int64_t{a} * b + (int64_t{1} << 14)) >> 15);
}
// The truncating one: a b / 2^15 rounded towards zero, on the magnitude.
inline int32_t sdhm16(int32_t a, int32_t b) {
  if (a == -32768 && b == -32768) return 32767;
  const int64_t ab = int64_t{a} * b;
  const int64_t magnitude = (ab < 0 ? -ab : ab) >> 15;
  return static_cast<int32_t>(ab < 0 ? -magnitude : magnitude);
}
inline int32_t saturate16(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, -32768, 32767));
}

inline int8_t hardswish(const piconas_hardswish_params &p, int8_t q) {
  const int32_t hires = (q + p.input_offset) * 128;
  const int32_t pre = srdhm16(hires, p.output_multiplier);
  int32_t r = hires;
  const int e = p.reluish_shift;
  if (e > 0) {
    r = saturate16(int64_t{r} << (e - 1));
    r = srdhm16(r, p.reluish_multiplier);
    r = saturate16(int64_t{r} * 2);
  } else {
    r = rdbpot(srdhm16(r, p.reluish_multiplier), -e);
  }
  r = (r + 32768) / 2;  // r + 2^15 >= 0: halving is the shift
  const int32_t y = rdbpot(sdhm16(r, pre), -p.output_shift) + p.output_offset;
  return clamp_out(y, -128, 127);
}

// TFLite's rounding of a Q31 multiplier to Q15.
inline int32_t q15_multiplier(int32_t m32) {
  if (m32 >= 2147483647 - (1 << 15)) return 32767;
  return (m32 + (1 << 15)) >> 16;
}

// TFLite's HardSwish Prepare: the scales combined in float, then
// QuantizeMultiplier. Returns false where TFLite refuses (output exponent > 0)
// or a shift is out of range.
inline bool hardswish_from_scales(float s_in, int z_in, float s_out, int z_out,
                                  piconas_hardswish_params &p) {
  const float hires = (1.0f / 128.0f) * s_in;
  const float output_multiplier = hires / s_out;
  const float reluish_multiplier = hires / (3.0f / 32768.0f);
  int32_t m = 0, e = 0;
  p.input_offset = -z_in;
  p.output_offset = z_out;
  if (piconas_quantize_multiplier(output_multiplier, &m, &e) != 0) return false;
  p.output_multiplier = q15_multiplier(m);
  p.output_shift = e;
  if (piconas_quantize_multiplier(reluish_multiplier, &m, &e) != 0) return false;
  p.reluish_multiplier = q15_multiplier(m);
  p.reluish_shift = e;
  return piconas_hardswish_s8_check(&p, 0) == 0;
}

inline int8_t channel_mul(const piconas_channel_mul_params &p, int8_t x, int8_t g) {
  const int64_t product = int64_t{x + p.input1_offset} * (g + p.input2_offset);
  const int32_t y = mbqm(static_cast<int32_t>(product), p.multiplier, p.shift);
  return clamp_out(int64_t{y} + p.output_offset, p.activation.min, p.activation.max);
}

}  // namespace piconas::int8_ref
