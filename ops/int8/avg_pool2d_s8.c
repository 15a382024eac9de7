/* int8 average pooling (see avg_pool2d_s8.h). */
#include "avg_pool2d_s8.h"

#include <stddef.h>

#include "int8_checks.h"

#define PICONAS_S8_MAX_POOL_TAPS ((int64_t)1 << 24) /* 128 * 2^24 = 2^31: acc stays in int32 */

/* include_pad 0: divides by the count of in-image taps; 1: by KH*KW, each padding tap adding
 * pad_value (the input zero point: the real value 0). */
static int avg_pool2d(const piconas_pool_params *params, const piconas_dims *input_dims,
                      const int8_t *input, piconas_tile kernel, const piconas_dims *output_dims,
                      int8_t *output, int include_pad, int32_t pad_value) {
  int32_t b, oy, ox, c, ky, kx;
  if (params == NULL || input == NULL || output == NULL || !piconas_s8_dims_ok(input_dims) ||
      !piconas_s8_dims_ok(output_dims) || input_dims->n != output_dims->n ||
      input_dims->c != output_dims->c || !piconas_s8_tile_ok(kernel, 1) ||
      !piconas_s8_tile_ok(params->stride, 1) || !piconas_s8_tile_ok(params->padding, 0) ||
      !piconas_s8_activation_ok(params->activation) || pad_value < -128 || pad_value > 127 ||
      !piconas_s8_axis_ok(input_dims->h, output_dims->h, kernel.h, params->stride.h,
                          params->padding.h, 1, 1) ||
      !piconas_s8_axis_ok(input_dims->w, output_dims->w, kernel.w, params->stride.w,
                          params->padding.w, 1, 1)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if ((int64_t)kernel.h * kernel.w > PICONAS_S8_MAX_POOL_TAPS) {
    return PICONAS_S8_ERR_OVERFLOW;
  }
  {
    const int32_t channels = input_dims->c;
    for (b = 0; b < output_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * input_dims->h * input_dims->w * channels;
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky_begin, ky_end;
        piconas_s8_tap_range(iy0, 1, kernel.h, input_dims->h, &ky_begin, &ky_end);
        for (ox = 0; ox < output_dims->w; ++ox) {
          const int32_t ix0 = ox * params->stride.w - params->padding.w;
          int8_t *y =
              output + (((ptrdiff_t)b * output_dims->h + oy) * output_dims->w + ox) * channels;
          int32_t kx_begin, kx_end, count, pad_taps;
          piconas_s8_tap_range(ix0, 1, kernel.w, input_dims->w, &kx_begin, &kx_end);
          count = (ky_end - ky_begin) * (kx_end - kx_begin);
          pad_taps = include_pad ? kernel.h * kernel.w - count : 0;
          count += pad_taps;
          for (c = 0; c < channels; ++c) {
            int32_t acc = pad_taps * pad_value;
            for (ky = ky_begin; ky < ky_end; ++ky) {
              const int8_t *row = image + (ptrdiff_t)(iy0 + ky) * input_dims->w * channels;
              for (kx = kx_begin; kx < kx_end; ++kx) {
                acc += row[(ptrdiff_t)(ix0 + kx) * channels + c];
              }
            }
            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            y[c] = piconas_s8_clamp(acc, params->activation);
          }
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

int piconas_avg_pool2d_s8(const piconas_pool_params *params, const piconas_dims *input_dims,
                          const int8_t *input, piconas_tile kernel, const piconas_dims *output_dims,
                          int8_t *output) {
  return avg_pool2d(params, input_dims, input, kernel, output_dims, output, 0, 0);
}

int piconas_avg_pool2d_include_pad_s8(const piconas_pool_params *params,
                                      const piconas_dims *input_dims, const int8_t *input,
                                      piconas_tile kernel, int32_t input_zero_point,
                                      const piconas_dims *output_dims, int8_t *output) {
  return avg_pool2d(params, input_dims, input, kernel, output_dims, output, 1, input_zero_point);
}

/* The whole-image window on its own (no window bookkeeping): the same result as
 * piconas_avg_pool2d_s8 with kernel = the image, stride 1, no padding, and a smaller firmware. */
int piconas_global_avg_pool2d_s8(piconas_activation activation, const piconas_dims *input_dims,
                                 const int8_t *input, const piconas_dims *output_dims,
                                 int8_t *output) {
  int32_t b, c, i;
  if (input == NULL || output == NULL || !piconas_s8_dims_ok(input_dims) ||
      !piconas_s8_dims_ok(output_dims) || output_dims->h != 1 || output_dims->w != 1 ||
      input_dims->n != output_dims->n || input_dims->c != output_dims->c ||
      !piconas_s8_activation_ok(activation)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if ((int64_t)input_dims->h * input_dims->w > PICONAS_S8_MAX_POOL_TAPS) {
    return PICONAS_S8_ERR_OVERFLOW;
  }
  {
    const int32_t channels = input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    for (b = 0; b < input_dims->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * count * channels;
      for (c = 0; c < channels; ++c) {
        int32_t acc = 0;
        for (i = 0; i < count; ++i) {
          acc += image[(ptrdiff_t)i * channels + c];
        }
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        output[(ptrdiff_t)b * channels + c] = piconas_s8_clamp(acc, activation);
      }
    }
  }
  return PICONAS_S8_OK;
}
