/*
 * int8_types.h: shapes, parameters and status codes shared by the piconas int8 kernels.
 *
 * The kernels in ops/int8/ are portable C99 (no float, no malloc, no globals) and are copied
 * verbatim into the firmware emitted by nas/deploy. They reproduce the TFLite-Micro / CMSIS-NN
 * int8 arithmetic bit for bit (see docs/int8.md, summarised here):
 *   - activations are NHWC int8 with a per-tensor zero point z;
 *   - conv filters are [C_out, KH, KW, C_in], depthwise filters [1, KH, KW, C_in * M],
 *     fully-connected filters [C_out, in_features] with in_features in NHWC (h, w, c) order;
 *     weights are symmetric (zero point 0), one (multiplier, shift) pair per output channel;
 *   - offsets follow the TFLite-Micro convention: input_offset = -z_in, output_offset = +z_out;
 *   - a positive shift means a left shift (multiply by 2^shift);
 *   - taps outside the image are skipped (the same as padding with z_in);
 *   - "padding" is the number of virtual rows/columns before the first input pixel (top/left);
 *     the caller chooses the output size, so asymmetric TFLite SAME padding is expressible.
 *
 * Every kernel returns PICONAS_S8_OK (0) or a negative status and writes nothing on error.
 * Scratch memory, when a kernel needs any, is owned by the caller and passed as a
 * piconas_s8_context; each such kernel has a *_get_buffer_size() companion.
 */
#ifndef PICONAS_INT8_TYPES_H
#define PICONAS_INT8_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by the kernels. */
#define PICONAS_S8_OK 0
#define PICONAS_S8_ERR_ARGUMENT (-1) /* null pointer, bad shape, bad stride/offset/shift */
#define PICONAS_S8_ERR_OVERFLOW (-2) /* the int32 accumulator could overflow for this layer */
#define PICONAS_S8_ERR_BUFFER (-3)   /* scratch buffer missing, too small or misaligned */

/* Bound on |w * (x + input_offset)|: |w| <= 128 and, with z_in in [-128, 127], the input
 * offset is in [-127, 128], so |x + input_offset| <= 255. */
#define PICONAS_S8_MAX_PRODUCT 32640
/* Largest number of multiply-accumulates per output: 65536 * 32640 < 2^31. */
#define PICONAS_S8_MAX_MACS 65536

/* 1 where the *_simd_s8 kernel variants are the fast choice: cores with the Armv7E-M DSP
 * extension (M4, M7, M33, M55) and non-Arm hosts, where their C emulation runs in the tests.
 * On Cortex-M0/M3 the emulation would be slower than the portable kernels: the wrappers and
 * the emitted models take the portable variants there. */
#if defined(__ARM_FEATURE_DSP) || !(defined(__arm__) || defined(__thumb__))
#define PICONAS_S8_SIMD_PREFERRED 1
#else
#define PICONAS_S8_SIMD_PREFERRED 0
#endif
/* The *_simd_s8 variants are compiled where preferred, and on Cortex-M0/M3 only on request
 * (-DPICONAS_S8_SIMD_EMULATION, the kernel tests under QEMU), so that a firmware there
 * compiles exactly the portable kernels. */
#if PICONAS_S8_SIMD_PREFERRED || defined(PICONAS_S8_SIMD_EMULATION)
#define PICONAS_S8_SIMD_AVAILABLE 1
#else
#define PICONAS_S8_SIMD_AVAILABLE 0
#endif

/* Tensor shape, NHWC. A vector of C values is {n, 1, 1, c}. */
typedef struct {
  int32_t n;
  int32_t h;
  int32_t w;
  int32_t c;
} piconas_dims;

/* A (height, width) pair: stride, padding, dilation or pooling window. */
typedef struct {
  int32_t h;
  int32_t w;
} piconas_tile;

/* Output clamp; a fused activation is only a clamp (none: [-128, 127],
 * ReLU: [max(-128, z_out), 127], ReLU6: [max(-128, z_out), min(127, z_out + round(6/s))]). */
typedef struct {
  int32_t min;
  int32_t max;
} piconas_activation;

/* Caller-owned scratch memory: buf must be 4-byte aligned, size in bytes. */
typedef struct {
  void *buf;
  int32_t size;
} piconas_s8_context;

/* One (multiplier, shift) pair per output channel; multiplier from quantize_multiplier. */
typedef struct {
  const int32_t *multiplier;
  const int32_t *shift;
} piconas_per_channel_quant_params;

typedef struct {
  int32_t input_offset;  /* -z_in, in [-127, 128] */
  int32_t output_offset; /* +z_out, in [-128, 127] */
  piconas_tile stride;   /* >= 1 */
  piconas_tile padding;  /* >= 0, top/left */
  piconas_tile dilation; /* >= 1 */
  piconas_activation activation;
} piconas_conv_params;

typedef struct {
  int32_t input_offset;
  int32_t output_offset;
  int32_t ch_mult; /* M: output channel oc = ic * M + m, so C_out = C_in * M */
  piconas_tile stride;
  piconas_tile padding;
  piconas_tile dilation;
  piconas_activation activation;
} piconas_dw_conv_params;

typedef struct {
  int32_t input_offset;
  int32_t output_offset;
  piconas_activation activation;
} piconas_fc_params;

/* Residual add: y = MBQM(MBQM((q1 + input1_offset) << left_shift, m1, s1)
 *                      + MBQM((q2 + input2_offset) << left_shift, m2, s2), mo, so) + output_offset,
 * then clamp. left_shift is 20 for int8 (docs/int8.md). */
typedef struct {
  int32_t input1_offset;
  int32_t input1_multiplier;
  int32_t input1_shift;
  int32_t input2_offset;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t left_shift; /* in [0, 23] so that 255 << left_shift fits in int32 */
  int32_t output_offset;
  int32_t output_multiplier;
  int32_t output_shift;
  piconas_activation activation;
} piconas_add_params;

/* Average and max pooling keep the input's scale and zero point: no offsets. */
typedef struct {
  piconas_tile stride;
  piconas_tile padding;
  piconas_activation activation;
} piconas_pool_params;

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_TYPES_H */
