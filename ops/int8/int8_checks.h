/*
 * int8_checks.h: argument checks shared by the int8 kernels (internal, not a public API).
 * Every check is O(1) or O(channels) and runs once per kernel call, before any output write.
 */
#ifndef PICONAS_INT8_CHECKS_H
#define PICONAS_INT8_CHECKS_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline int piconas_s8_dims_ok(const piconas_dims *d) {
  return d != 0 && d->n > 0 && d->h > 0 && d->w > 0 && d->c > 0;
}

static inline int piconas_s8_tile_ok(piconas_tile t, int32_t min_value) {
  return t.h >= min_value && t.w >= min_value;
}

static inline int piconas_s8_activation_ok(piconas_activation a) {
  return a.min >= -128 && a.max <= 127 && a.min <= a.max;
}

/* input_offset = -z_in and output_offset = z_out with z in [-128, 127]. */
static inline int piconas_s8_offsets_ok(int32_t input_offset, int32_t output_offset) {
  return input_offset >= -127 && input_offset <= 128 && output_offset >= -128 &&
         output_offset <= 127;
}

static inline int piconas_s8_shift_ok(int32_t shift) { return shift >= -31 && shift <= 31; }

static inline int piconas_s8_quant_ok(const piconas_per_channel_quant_params *q, int32_t channels) {
  int32_t c;
  if (q == 0 || q->multiplier == 0 || q->shift == 0) {
    return 0;
  }
  for (c = 0; c < channels; ++c) {
    if (!piconas_s8_shift_ok(q->shift[c])) {
      return 0;
    }
  }
  return 1;
}

/* PICONAS_S8_OK when bias[c] + (macs products) cannot leave int32, else PICONAS_S8_ERR_OVERFLOW.
 * bias may be null (treated as zero). */
static inline int piconas_s8_accumulator_ok(const int32_t *bias, int32_t channels, int64_t macs) {
  int64_t limit;
  int32_t c;
  if (macs > PICONAS_S8_MAX_MACS) {
    return PICONAS_S8_ERR_OVERFLOW;
  }
  limit = (int64_t)INT32_MAX - macs * PICONAS_S8_MAX_PRODUCT;
  if (bias != 0) {
    /* limit is in [2^23, INT32_MAX] here: 32-bit compares (one call per layer, many channels) */
    const int32_t lim = (int32_t)limit;
    for (c = 0; c < channels; ++c) {
      if (bias[c] > lim || bias[c] < -lim) {
        return PICONAS_S8_ERR_OVERFLOW;
      }
    }
  }
  return PICONAS_S8_OK;
}

/* Window positions along one axis stay in int32: stride, dilation, padding, (out-1)*stride and
 * (kernel-1)*dilation are bounded by INT32_MAX / 2. With need_tap (pooling, dilation 1), every
 * window must also hold at least one image tap (pooling divides by / maximises over them). */
static inline int piconas_s8_axis_ok(int32_t in_size, int32_t out_size, int32_t kernel,
                                     int32_t stride, int32_t padding, int32_t dilation,
                                     int need_tap) {
  const int64_t limit = INT32_MAX / 2;
  const int64_t last_origin = (int64_t)(out_size - 1) * stride - padding;
  if ((int64_t)(out_size - 1) * stride > limit || (int64_t)(kernel - 1) * dilation > limit ||
      stride > limit || dilation > limit || padding > limit || in_size > limit) {
    return 0;
  }
  if (need_tap) {
    /* Origins grow with the output index: the first and the last window decide. */
    return (int64_t)(kernel - 1) * dilation - padding >= 0 && last_origin < in_size;
  }
  return 1;
}

static inline int8_t piconas_s8_clamp(int32_t v, piconas_activation a) {
  v = v < a.min ? a.min : v;
  v = v > a.max ? a.max : v;
  return (int8_t)v;
}

/* clamp(y + offset) over the activation range, free of int32 overflow for any y: with offset
 * and range inside [-128, 127], clamping y to [-512, 512] first changes nothing. */
static inline int8_t piconas_s8_output(int32_t y, int32_t offset, piconas_activation a) {
  y = y < -512 ? -512 : y;
  y = y > 512 ? 512 : y;
  return piconas_s8_clamp(y + offset, a);
}

/* First and one-past-last kernel tap k with 0 <= origin + k*dilation < size. */
static inline void piconas_s8_tap_range(int32_t origin, int32_t dilation, int32_t kernel,
                                        int32_t size, int32_t *begin, int32_t *end) {
  int32_t b = 0;
  int32_t e = kernel;
  if (origin < 0) {
    b = (-origin + dilation - 1) / dilation;
  }
  if ((int64_t)origin + (int64_t)(e - 1) * dilation >= size) {
    e = origin >= size ? 0 : (size - 1 - origin) / dilation + 1;
  }
  *begin = b;
  *end = e > b ? e : b;
}

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_CHECKS_H */
