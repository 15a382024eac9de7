/*
 * simd_s8.h: the Armv7E-M DSP ("SIMD within a register") operations the fast int8 kernels use,
 * plus the fast requantization (internal, not a public API).
 *
 * With __ARM_FEATURE_DSP (Cortex-M4/M7/M33/M55) each piconas_* operation is the ACLE intrinsic
 * of <arm_acle.h>. Without it (the host; Cortex-M0/M3 with -DPICONAS_S8_SIMD_EMULATION, see
 * PICONAS_S8_SIMD_AVAILABLE in int8_types.h) it is a plain C emulation with the same
 * result bit for bit, so the very same kernel source runs in the host test suite and on the MCU.
 * Packed values are uint32_t: bytes b0..b3 or halfwords h0 (low), h1 (high); every sum and
 * product wraps modulo 2^32 (2^16 per halfword) exactly like the instructions.
 *
 *   piconas_sxtb16(x)        (sext b0, sext b2)           SXTB16
 *   piconas_sxtb16_ror8(x)   (sext b1, sext b3)           SXTB16 x, ROR #8
 *   piconas_sxtab16(a, x)    (a.h0 + sext b0, a.h1 + sext b2)       SXTAB16
 *   piconas_sxtab16_ror8(a, x) (a.h0 + sext b1, a.h1 + sext b3)     SXTAB16 x, ROR #8
 *   piconas_smlad(x, y, acc) acc + x.h0*y.h0 + x.h1*y.h1   SMLAD
 *   piconas_smlabb / smlatt  acc + x.h0*y.h0 / acc + x.h1*y.h1
 *   piconas_pkhbt(a, b)      (a.h0, b.h0)                  PKHBT a, b, LSL #16
 *   piconas_smmulr(a, b)     (a*b + 2^31) >> 32 (64-bit)   SMMULR
 *   piconas_pkhtb(a, b)      (b.h1, a.h1)                  PKHTB a, b, ASR #16
 *
 * piconas_read_s8x4 / piconas_read_s16x2 load 4 bytes from any address (memcpy: one LDR on
 * cores with unaligned access). Byte order is little endian (every Cortex-M and the host).
 */
#ifndef PICONAS_INT8_SIMD_S8_H
#define PICONAS_INT8_SIMD_S8_H

#include <stdint.h>
#include <string.h>

#include "int8_types.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP == 1
#include <arm_acle.h>
#define PICONAS_S8_DSP 1
#else
#define PICONAS_S8_DSP 0
#endif

/* The kernels' DSP inline assembly blocks hold up to 14 values in registers. GCC 12 at -O0
 * gives inline assembly fewer (with -mfloat-abi=hard 8 in-out operands can already fail), so
 * there the kernels use their C form (same results); with a frame pointer (13 registers) a block
 * keeps one pointer in memory, chosen at assembly time by PICONAS_S8_ASM_IF_REG. */
#if PICONAS_S8_DSP && defined(__GNUC__) && defined(__OPTIMIZE__)
#define PICONAS_S8_DSP_ASM 1
#else
#define PICONAS_S8_DSP_ASM 0
#endif

/* Assembler text opening ".if" on whether the compiler put operand op (an "rm" constraint) in a
 * core register ("r5") or in memory ("[sp, #8]"); the caller adds ".else" and ".endif". The
 * branch not taken is skipped by the assembler. */
#define PICONAS_S8_ASM_IF_REG(op)                                       \
  ".set .Lpiconas_s8_is_reg, 0\n\t"                                     \
  ".irp r,r0,r1,r2,r3,r4,r5,r6,r7,r8,r9,r10,r11,r12,sb,sl,fp,ip,lr\n\t" \
  ".ifc \"" op                                                          \
  "\",\"\\r\"\n\t"                                                      \
  ".set .Lpiconas_s8_is_reg, 1\n\t"                                     \
  ".endif\n\t"                                                          \
  ".endr\n\t"                                                           \
  ".if .Lpiconas_s8_is_reg\n\t"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernels rely on >> of a negative int being an arithmetic shift (every compiler for these
 * targets does this; C99 leaves it implementation-defined): refuse to compile otherwise. */
typedef char piconas_s8_arithmetic_shift_check[((-1) >> 1) == -1 ? 1 : -1];

static inline uint32_t piconas_read_s8x4(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint32_t piconas_read_s16x2(const int16_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline void piconas_write_s16x2(int16_t *p, uint32_t v) { memcpy(p, &v, 4); }

static inline uint32_t piconas_ror8(uint32_t x) { return (x >> 8) | (x << 24); }

#if PICONAS_S8_DSP

static inline uint32_t piconas_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }
/* GCC 12 folds no rotation into SXTB16 / SXTAB16 (and its arm_acle.h has no __ror): the
 * rotated forms are one instruction each in inline assembly. */
static inline uint32_t piconas_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
static inline uint32_t piconas_sxtab16(uint32_t a, uint32_t x) {
  return (uint32_t)__sxtab16((int32_t)a, (int32_t)x);
}
static inline uint32_t piconas_sxtab16_ror8(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
static inline int32_t piconas_smlad(uint32_t x, uint32_t y, int32_t acc) {
  return __smlad((int32_t)x, (int32_t)y, acc);
}
static inline int32_t piconas_smlabb(uint32_t x, uint32_t y, int32_t acc) {
  return __smlabb((int32_t)x, (int32_t)y, acc);
}
static inline int32_t piconas_smlatt(uint32_t x, uint32_t y, int32_t acc) {
  return __smlatt((int32_t)x, (int32_t)y, acc);
}
/* arm_acle.h has no SMMULR. */
static inline int32_t piconas_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

#else /* C emulation, bit-exact with the instructions */

static inline int32_t piconas_half_lo(uint32_t x) { return (int32_t)(int16_t)(uint16_t)x; }
static inline int32_t piconas_half_hi(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }
static inline uint32_t piconas_byte_s(uint32_t x, int byte) {
  return (uint32_t)(int32_t)(int8_t)(uint8_t)(x >> (8 * byte));
}
static inline uint32_t piconas_sxtb16(uint32_t x) {
  return (piconas_byte_s(x, 0) & 0xFFFFu) | (piconas_byte_s(x, 2) << 16);
}
static inline uint32_t piconas_sxtb16_ror8(uint32_t x) { return piconas_sxtb16(piconas_ror8(x)); }
static inline uint32_t piconas_sxtab16(uint32_t a, uint32_t x) {
  const uint32_t lo = (a + piconas_byte_s(x, 0)) & 0xFFFFu;
  const uint32_t hi = ((a >> 16) + piconas_byte_s(x, 2)) & 0xFFFFu;
  return lo | (hi << 16);
}
static inline uint32_t piconas_sxtab16_ror8(uint32_t a, uint32_t x) {
  return piconas_sxtab16(a, piconas_ror8(x));
}
static inline int32_t piconas_wrap_add(int32_t acc, int32_t v) {
  return (int32_t)((uint32_t)acc + (uint32_t)v);
}
static inline int32_t piconas_smlad(uint32_t x, uint32_t y, int32_t acc) {
  /* Each product fits int32; the sums wrap like the instruction (which only sets Q). */
  const int32_t p0 = piconas_half_lo(x) * piconas_half_lo(y);
  const int32_t p1 = piconas_half_hi(x) * piconas_half_hi(y);
  return piconas_wrap_add(piconas_wrap_add(acc, p0), p1);
}
static inline int32_t piconas_smlabb(uint32_t x, uint32_t y, int32_t acc) {
  return piconas_wrap_add(acc, piconas_half_lo(x) * piconas_half_lo(y));
}
static inline int32_t piconas_smlatt(uint32_t x, uint32_t y, int32_t acc) {
  return piconas_wrap_add(acc, piconas_half_hi(x) * piconas_half_hi(y));
}
static inline int32_t piconas_smmulr(int32_t a, int32_t b) {
  /* |a*b| <= 2^62: the rounded sum fits int64. */
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}

#endif /* PICONAS_S8_DSP */

/* (a.h0, b.h0) and (b.h1, a.h1)... written in C: GCC emits PKHBT / PKHTB for these forms. */
static inline uint32_t piconas_pkhbt(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t piconas_pkhtb(uint32_t a, uint32_t b) {
  return (a & 0xFFFF0000u) | (b >> 16);
}

/* Both halfwords = v (v in int16 range): the packed input offset. */
static inline uint32_t piconas_dup16(int32_t v) {
  return ((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16);
}

/* ---- requantization of the SIMD kernels --------------------------------------------------
 * MBQM of requantize.h in fewer instructions, the same result whenever the accumulator is
 * "small": |acc| * 2^max(shift, 0) < 2^29 = PICONAS_S8_SIMD_ACC_LIMIT, the multiplier is not
 * INT32_MIN and shift >= -29 (guaranteed per call by piconas_s8_simd_quant_ok from the bias
 * and the MAC count; every realistic layer qualifies). Then x = acc << left cannot wrap, SRDHM
 * never saturates and is h = (x*m + 2^30) >> 31 = (2x*m + 2^31) >> 32: one SMMULR of
 * 2x = acc << (left + 1), which fits int32; |h| <= 2^29. RDBPOT(h, n), rounding half away from
 * zero, is (h + 2^(n-1) - (h < 0)) >> n for n > 0 and h for n = 0; both equal
 * (2h + 2^n - (h < 0)) >> (n + 1): for h >= 0 the numerator is just doubled; for h < 0 the odd
 * 2h + 2^n - 1 floors like the even 2h + 2^n - 2 (no multiple of 2^(n+1) lies between); for
 * n = 0 it is (2h + 1 - (h < 0)) >> 1 = h. |2h| + 2^n <= 2^30 + 2^29: no overflow. Per channel
 * the constants are computed once (piconas_s8_requant_of) and serve every pixel. */
#define PICONAS_S8_SIMD_ACC_LIMIT ((int64_t)1 << 29)
#define PICONAS_S8_SIMD_MIN_SHIFT (-29)
typedef struct {
  int32_t multiplier;
  int32_t left1;  /* max(shift, 0) + 1 */
  int32_t right1; /* max(-shift, 0) + 1 */
  int32_t round;  /* 2^max(-shift, 0) */
} piconas_s8_requant;

static inline piconas_s8_requant piconas_s8_requant_of(int32_t multiplier, int32_t shift) {
  piconas_s8_requant r;
  const int32_t right = shift > 0 ? 0 : -shift;
  r.multiplier = multiplier;
  r.left1 = (shift > 0 ? shift : 0) + 1;
  r.right1 = right + 1;
  r.round = (int32_t)((uint32_t)1 << right);
  return r;
}

static inline int32_t piconas_s8_requantize(int32_t acc, piconas_s8_requant r) {
  const int32_t h = piconas_smmulr((int32_t)((uint32_t)acc << r.left1), r.multiplier);
  return (int32_t)((uint32_t)h * 2u + (uint32_t)r.round + (uint32_t)(h >> 31)) >> r.right1;
}

/* 1 when piconas_s8_requantize is exact for every channel: multiplier != INT32_MIN,
 * shift >= -29 and (|bias| + macs * PICONAS_S8_MAX_PRODUCT) * 2^max(shift, 0) < 2^29. bias
 * may be null. */
static inline int piconas_s8_simd_quant_ok(const int32_t *multiplier, const int32_t *shift,
                                           const int32_t *bias, int32_t channels, int64_t macs) {
  const int64_t products = macs * PICONAS_S8_MAX_PRODUCT;
  int32_t c;
  if (channels > 0 && products >= PICONAS_S8_SIMD_ACC_LIMIT) {
    return 0;
  }
  for (c = 0; c < channels; ++c) {
    /* |bias| + products < 2^29 >> left, in 32 bits: products < 2^29 here */
    const uint32_t b = bias != 0 ? (bias[c] < 0 ? 0u - (uint32_t)bias[c] : (uint32_t)bias[c]) : 0u;
    const int32_t left = shift[c] > 0 ? shift[c] : 0;
    const int32_t room =
        left > 29 ? 0 : (int32_t)(PICONAS_S8_SIMD_ACC_LIMIT >> left) - (int32_t)products;
    if (multiplier[c] == INT32_MIN || room <= 0 || shift[c] < PICONAS_S8_SIMD_MIN_SHIFT ||
        b >= (uint32_t)room) {
      return 0;
    }
  }
  return 1;
}

/* Output stage: clamp(y + offset, act) as a clamp of y to [act.min - offset, act.max - offset]
 * (no int32 overflow for any y), computed once per call. */
typedef struct {
  int32_t lo;
  int32_t hi;
  int32_t offset;
} piconas_s8_out_stage;

static inline piconas_s8_out_stage piconas_s8_out_stage_of(int32_t offset, piconas_activation a) {
  piconas_s8_out_stage s;
  s.lo = a.min - offset;
  s.hi = a.max - offset;
  s.offset = offset;
  return s;
}

static inline int8_t piconas_s8_store(int32_t y, piconas_s8_out_stage s) {
  y = y < s.lo ? s.lo : y;
  y = y > s.hi ? s.hi : y;
  return (int8_t)(y + s.offset);
}

/* 1 when the stage's clamp is the whole int8 range (no activation, or a ReLU whose minimum is an
 * output zero point of -128): then piconas_s8_store(y, s) = piconas_s8_store_full(y, s), one
 * SSAT on DSP cores. */
static inline int piconas_s8_out_stage_full(piconas_s8_out_stage s) {
  return s.lo + s.offset == -128 && s.hi + s.offset == 127;
}

/* clamp(y + s.offset, -128, 127); |y| < 2^30 (the requantized values): no overflow. */
static inline int8_t piconas_s8_store_full(int32_t y, piconas_s8_out_stage s) {
#if PICONAS_S8_DSP
  return (int8_t)__ssat(y + s.offset, 8);
#else
  y += s.offset;
  return (int8_t)(y < -128 ? -128 : y > 127 ? 127 : y);
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_SIMD_S8_H */
