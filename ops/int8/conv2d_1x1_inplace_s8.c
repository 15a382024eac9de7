#include "conv2d_1x1_inplace_s8.h"

#include <string.h>

#include "conv2d_s8.h"

static int32_t round_up4(int32_t bytes) { return (bytes + 3) & ~3; }

static int shapes_ok(const piconas_conv_params *params, const piconas_dims *input_dims,
                     const piconas_dims *filter_dims, int32_t strip) {
  if (!params || !input_dims || !filter_dims || strip < 1) return 0;
  if (input_dims->n != 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1) return 0;
  if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != input_dims->c ||
      filter_dims->n < 1)
    return 0;
  if (params->stride.h != 1 || params->stride.w != 1 || params->padding.h != 0 ||
      params->padding.w != 0)
    return 0;
  /* the strip's output must fit in an int32 scratch size */
  return (int64_t)strip * filter_dims->n <= INT32_MAX / 2;
}

int32_t piconas_conv2d_1x1_inplace_s8_get_buffer_size(const piconas_conv_params *params,
                                                      const piconas_dims *input_dims,
                                                      const piconas_dims *filter_dims,
                                                      int32_t strip) {
  piconas_dims strip_in, strip_out;
  int32_t conv_bytes;
  if (!shapes_ok(params, input_dims, filter_dims, strip)) return -1;
  strip_in.n = 1;
  strip_in.h = 1;
  strip_in.w = strip;
  strip_in.c = input_dims->c;
  strip_out = strip_in;
  strip_out.c = filter_dims->n;
  conv_bytes = piconas_conv2d_s8_get_buffer_size(params, &strip_in, filter_dims, &strip_out);
  if (conv_bytes < 0 || conv_bytes > INT32_MAX / 2) return -1;
  return round_up4(strip * filter_dims->n) + conv_bytes;
}

int piconas_conv2d_1x1_inplace_placement_ok(const int8_t *input, int32_t in_channels,
                                            const int8_t *output, int32_t out_channels,
                                            int32_t n_pixels, int32_t strip) {
  const uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
  uintptr_t first;
  if (!input || !output || in_channels < 1 || out_channels < 1 || n_pixels < 1 || strip < 1)
    return 0;
  if (out + (uintptr_t)n_pixels * (uintptr_t)out_channels <= in ||
      in + (uintptr_t)n_pixels * (uintptr_t)in_channels <= out)
    return 1; /* disjoint */
  first = (uintptr_t)(strip < n_pixels ? strip : n_pixels);
  return out + first * (uintptr_t)out_channels <= in + first * (uintptr_t)in_channels &&
         out + (uintptr_t)n_pixels * (uintptr_t)out_channels <=
             in + (uintptr_t)n_pixels * (uintptr_t)in_channels;
}

/* piconas_conv2d_s8_check for one strip of n pixels. */
static int strip_check(const piconas_conv_params *params,
                       const piconas_per_channel_quant_params *quant,
                       const piconas_dims *input_dims, const piconas_dims *filter_dims,
                       const int32_t *bias, int32_t n) {
  piconas_dims strip_in, strip_out;
  strip_in.n = strip_out.n = 1;
  strip_in.h = strip_out.h = 1;
  strip_in.w = strip_out.w = n;
  strip_in.c = input_dims->c;
  strip_out.c = filter_dims->n;
  return piconas_conv2d_s8_check(params, quant, &strip_in, filter_dims, bias, &strip_out);
}

static int disjoint(const void *a, size_t a_bytes, const void *b, size_t b_bytes) {
  const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return x + a_bytes <= y || y + b_bytes <= x;
}

int piconas_conv2d_1x1_inplace_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output, int32_t strip) {
  piconas_dims strip_in, strip_out;
  piconas_s8_context conv_ctx;
  int8_t *strip_buf;
  int32_t pixels, p, n, need, strip_bytes, status;
  size_t in_bytes, out_bytes;
  if (!ctx || !input || !filter || !output || !output_dims || !quant)
    return PICONAS_S8_ERR_ARGUMENT;
  if (!shapes_ok(params, input_dims, filter_dims, strip)) return PICONAS_S8_ERR_ARGUMENT;
  if (output_dims->n != 1 || output_dims->h != input_dims->h || output_dims->w != input_dims->w ||
      output_dims->c != filter_dims->n)
    return PICONAS_S8_ERR_ARGUMENT;
  if ((int64_t)input_dims->h * input_dims->w > INT32_MAX) return PICONAS_S8_ERR_ARGUMENT;
  pixels = input_dims->h * input_dims->w;
  if (strip > pixels) strip = pixels;
  if (!piconas_conv2d_1x1_inplace_placement_ok(input, input_dims->c, output, output_dims->c, pixels,
                                               strip))
    return PICONAS_S8_ERR_ARGUMENT;
  /* Every strip call's arguments: the full strip and the last, shorter one. */
  status = strip_check(params, quant, input_dims, filter_dims, bias, strip);
  if (status == PICONAS_S8_OK && pixels % strip != 0)
    status = strip_check(params, quant, input_dims, filter_dims, bias, pixels % strip);
  if (status != PICONAS_S8_OK) return status;
  strip_in.n = strip_out.n = 1;
  strip_in.h = strip_out.h = 1;
  strip_in.c = input_dims->c;
  strip_out.c = output_dims->c;
  need = piconas_conv2d_1x1_inplace_s8_get_buffer_size(params, input_dims, filter_dims, strip);
  if (need < 0) return PICONAS_S8_ERR_ARGUMENT;
  if (!ctx->buf || ctx->size < need || ((uintptr_t)ctx->buf & 3u) != 0)
    return PICONAS_S8_ERR_BUFFER;
  in_bytes = (size_t)pixels * (size_t)input_dims->c;
  out_bytes = (size_t)pixels * (size_t)output_dims->c;
  if (!disjoint(ctx->buf, (size_t)need, input, in_bytes) ||
      !disjoint(ctx->buf, (size_t)need, output, out_bytes))
    return PICONAS_S8_ERR_BUFFER;
  strip_bytes = round_up4(strip * output_dims->c);
  strip_buf = (int8_t *)ctx->buf;
  conv_ctx.buf = strip_buf + strip_bytes;
  conv_ctx.size = need - strip_bytes;
  for (p = 0; p < pixels; p += n) {
    n = pixels - p < strip ? pixels - p : strip;
    strip_in.w = strip_out.w = n;
    status = piconas_conv2d_s8(&conv_ctx, params, quant, &strip_in,
                               input + (size_t)p * (size_t)input_dims->c, filter_dims, filter, bias,
                               &strip_out, strip_buf);
    if (status != PICONAS_S8_OK) return status;
    memcpy(output + (size_t)p * (size_t)output_dims->c, strip_buf,
           (size_t)n * (size_t)output_dims->c);
  }
  return PICONAS_S8_OK;
}
