/*
 * requant32_s8.h: MBQM of requantize.h with 32-bit multiplies only, for the portable kernels
 * (internal, not a public API). Armv6-M (Cortex-M0/M0+) has no 32x32->64 multiply: there the
 * int64 product of SRDHM is a call to __aeabi_lmul (about 45 instructions) plus 64-bit adds and
 * shifts; this form is four MULS and a few shifts, with the same result bit for bit whenever
 *   multiplier >= 0, shift in [-29, 29] and |acc| * 2^max(shift, 0) < 2^29
 * (piconas_s8_rq32_ok checks it once per call from the bias and the MAC count; every realistic
 * layer qualifies; otherwise the kernels call piconas_mbqm).
 *
 * Why it is exact. x = acc << left with |x| < 2^29 never wraps, and SRDHM(x, m) does not
 * saturate (m >= 0), so SRDHM(x, m) = floor((x*m + 2^30) / 2^31) (the nudge 1 - 2^30 of a
 * negative product with C's truncating division is the same floor). Split x = xh*2^16 + xl with
 * xl = sext16(x) in [-2^15, 2^15) and xh = (x - xl) >> 16 in [-2^13, 2^13], and m = mh*2^16 + ml
 * with mh = m >> 16 in [0, 2^15) and ml in [0, 2^16):
 *   x*m + 2^30 = 2*xh*mh * 2^31 + mid * 2^16 + lo + 2^30,  mid = xh*ml + xl*mh,  lo = xl*ml,
 * |mid| < 2^29 + 2^30, |lo| < 2^31: every product and sum fits int32. Dropping the low 16 bits
 * of lo + 2^30 cannot change floor(. / 2^31) of the whole (mid*2^16 is a multiple of 2^16), so
 *   h = SRDHM(x, m) = 2*xh*mh + ((mid + (lo >> 16) + 2^14) >> 15),  |h| <= 2^29.
 * RDBPOT(h, n), n = max(-shift, 0) <= 29, rounding half away from zero, is
 * (2h + 2^n - (h < 0)) >> (n + 1) (the identity of simd_s8.h's requantization); |2h| + 2^n
 * <= 2^30 + 2^29 fits int32. The per-channel constants are computed once per call.
 */
#ifndef PICONAS_INT8_REQUANT32_S8_H
#define PICONAS_INT8_REQUANT32_S8_H

#include <stdint.h>

#include "int8_types.h"
#include "requantize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The split relies on >> of a negative int being an arithmetic shift (as simd_s8.h does). */
typedef char piconas_s8_rq32_arithmetic_shift_check[((-1) >> 1) == -1 ? 1 : -1];

#define PICONAS_S8_RQ32_LIMIT ((int64_t)1 << 29)

typedef struct {
  int32_t mult_hi; /* multiplier >> 16 */
  int32_t mult_lo; /* multiplier & 0xFFFF */
  int32_t left;    /* max(shift, 0) */
  int32_t right1;  /* max(-shift, 0) + 1 */
  int32_t round;   /* 2^max(-shift, 0) */
} piconas_s8_rq32;

static inline piconas_s8_rq32 piconas_s8_rq32_of(int32_t multiplier, int32_t shift) {
  piconas_s8_rq32 r;
  const int32_t right = shift > 0 ? 0 : -shift;
  r.mult_hi = multiplier >> 16;
  r.mult_lo = multiplier & 0xFFFF;
  r.left = shift > 0 ? shift : 0;
  r.right1 = right + 1;
  r.round = (int32_t)((uint32_t)1 << right);
  return r;
}

static inline int32_t piconas_s8_rq32_apply(int32_t acc, const piconas_s8_rq32 *r) {
  const int32_t x = (int32_t)((uint32_t)acc << r->left);
  const int32_t xl = (int16_t)x; /* sext16: modulo conversion, as every compiler here does */
  const int32_t xh = (x - xl) >> 16;
  const int32_t mid = xh * r->mult_lo + xl * r->mult_hi + ((xl * r->mult_lo) >> 16) + (1 << 14);
  const int32_t h = 2 * xh * r->mult_hi + (mid >> 15);
  return (int32_t)((uint32_t)h * 2u + (uint32_t)r->round + (uint32_t)(h >> 31)) >> r->right1;
}

/* 1 when piconas_s8_rq32_apply equals MBQM for one channel whose accumulators are bounded by
 * acc_bound in magnitude. */
static inline int piconas_s8_rq32_channel_ok(int32_t multiplier, int32_t shift, int64_t acc_bound) {
  const int32_t left = shift > 0 ? shift : 0;
  return multiplier >= 0 && shift >= -29 && shift <= 29 &&
         acc_bound < (PICONAS_S8_RQ32_LIMIT >> left);
}

/* 1 when every channel of a conv-like layer qualifies: |acc| <= |bias| + macs * 2^15 bounds the
 * final accumulator and every partial sum of the kernels, including those that start from the
 * bias with the input offset folded in (|offset * sum w| <= macs * 2^14, each remaining
 * product |w * x| <= 2^14). bias may be null. */
static inline int piconas_s8_rq32_ok(const int32_t *multiplier, const int32_t *shift,
                                     const int32_t *bias, int32_t channels, int64_t macs) {
  int32_t c;
  for (c = 0; c < channels; ++c) {
    const int64_t b = bias != 0 ? (bias[c] < 0 ? -(int64_t)bias[c] : (int64_t)bias[c]) : 0;
    if (!piconas_s8_rq32_channel_ok(multiplier[c], shift[c], b + macs * 32768)) {
      return 0;
    }
  }
  return 1;
}

/* Requantized accumulator: the 32-bit form when the call qualified (fast), else MBQM. */
static inline int32_t piconas_s8_rq32_or_mbqm(int32_t acc, int fast, const piconas_s8_rq32 *r,
                                              int32_t multiplier, int32_t shift) {
  return fast ? piconas_s8_rq32_apply(acc, r) : piconas_mbqm(acc, multiplier, shift);
}

/* clamp(v + offset, act) as clamp(v, act.min - offset, act.max - offset) + offset: two
 * compares, no int32 overflow for any v (the clamped value is in [-255, 255]). */
typedef struct {
  int32_t lo;
  int32_t hi;
  int32_t offset;
} piconas_s8_clamp_stage;

static inline piconas_s8_clamp_stage piconas_s8_clamp_stage_of(int32_t offset,
                                                               piconas_activation a) {
  piconas_s8_clamp_stage s;
  s.lo = a.min - offset;
  s.hi = a.max - offset;
  s.offset = offset;
  return s;
}

static inline int8_t piconas_s8_clamp_store(int32_t v, const piconas_s8_clamp_stage *s) {
  v = v < s->lo ? s->lo : v;
  v = v > s->hi ? s->hi : v;
  return (int8_t)(v + s->offset);
}

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_REQUANT32_S8_H */
