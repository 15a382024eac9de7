/* int8 grouped convolution (see conv2d_grouped_s8.h): each group's input channels copied into
 * scratch, convolved by piconas_conv2d_s8, its output channels copied into place. */
#include "conv2d_grouped_s8.h"

#include <stddef.h>

#include "conv2d_s8.h"
#include "int8_checks.h"

/* The dims of one group: its input slice, its filter, its output slice. */
typedef struct {
  piconas_dims in, filter, out;
} piconas_group_dims;

static int piconas_group_dims_of(const piconas_dims *in, const piconas_dims *f,
                                 const piconas_dims *out, int32_t groups, piconas_group_dims *g) {
  if (!piconas_s8_dims_ok(in) || !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || groups < 1 ||
      in->c % groups != 0 || out->c % groups != 0 || f->c != in->c / groups || f->n != out->c) {
    return 0;
  }
  g->in = *in;
  g->in.c = in->c / groups;
  g->filter = *f;
  g->filter.n = out->c / groups;
  g->out = *out;
  g->out.c = out->c / groups;
  return 1;
}

static int64_t piconas_align4(int64_t bytes) { return (bytes + 3) & ~(int64_t)3; }

/* Scratch offsets: [conv scratch][input slice][output slice], each start 4-byte aligned. */
static int64_t piconas_grouped_layout(const piconas_conv_params *params,
                                      const piconas_group_dims *g, int64_t *in_at,
                                      int64_t *out_at) {
  const int32_t conv = piconas_conv2d_s8_get_buffer_size(params, &g->in, &g->filter, &g->out);
  if (conv < 0) {
    return -1;
  }
  *in_at = piconas_align4(conv);
  *out_at = *in_at + piconas_align4((int64_t)g->in.n * g->in.h * g->in.w * g->in.c);
  return *out_at + (int64_t)g->out.n * g->out.h * g->out.w * g->out.c;
}

int32_t piconas_conv2d_grouped_s8_get_buffer_size(const piconas_conv_params *params,
                                                  const piconas_dims *input_dims,
                                                  const piconas_dims *filter_dims,
                                                  const piconas_dims *output_dims, int32_t groups) {
  piconas_group_dims g;
  int64_t in_at = 0, out_at = 0, bytes;
  if (params == NULL || !piconas_group_dims_of(input_dims, filter_dims, output_dims, groups, &g)) {
    return -1;
  }
  bytes = piconas_grouped_layout(params, &g, &in_at, &out_at);
  return bytes < 0 || bytes > INT32_MAX ? -1 : (int32_t)bytes;
}

int piconas_conv2d_grouped_s8_check(const piconas_conv_params *params,
                                    const piconas_per_channel_quant_params *quant,
                                    const piconas_dims *input_dims, const piconas_dims *filter_dims,
                                    const int32_t *bias, const piconas_dims *output_dims,
                                    int32_t groups) {
  piconas_group_dims g;
  int32_t k;
  if (quant == NULL || quant->multiplier == NULL || quant->shift == NULL ||
      !piconas_group_dims_of(input_dims, filter_dims, output_dims, groups, &g) ||
      piconas_conv2d_grouped_s8_get_buffer_size(params, input_dims, filter_dims, output_dims,
                                                groups) < 0) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  for (k = 0; k < groups; ++k) { /* the channels of group k: its quantization and bias */
    const int32_t first = k * g.out.c;
    const piconas_per_channel_quant_params q = {quant->multiplier + first, quant->shift + first};
    const int status = piconas_conv2d_s8_check(params, &q, &g.in, &g.filter,
                                               bias != NULL ? bias + first : NULL, &g.out);
    if (status != PICONAS_S8_OK) {
      return status;
    }
  }
  return PICONAS_S8_OK;
}

int piconas_conv2d_grouped_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                              const piconas_per_channel_quant_params *quant,
                              const piconas_dims *input_dims, const int8_t *input,
                              const piconas_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const piconas_dims *output_dims, int8_t *output,
                              int32_t groups) {
  piconas_group_dims g;
  piconas_s8_context conv_ctx;
  int64_t in_at = 0, out_at = 0, bytes, filter_bytes;
  int32_t k, c, p, pixels, out_pixels;
  int8_t *slice_in, *slice_out;
  int status = piconas_conv2d_grouped_s8_check(params, quant, input_dims, filter_dims, bias,
                                               output_dims, groups);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (input == NULL || filter == NULL || output == NULL) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  piconas_group_dims_of(input_dims, filter_dims, output_dims, groups, &g);
  bytes = piconas_grouped_layout(params, &g, &in_at, &out_at);
  if (ctx == NULL || ctx->buf == NULL || ctx->size < bytes || ((uintptr_t)ctx->buf & 3u) != 0) {
    return PICONAS_S8_ERR_BUFFER;
  }
  conv_ctx.buf = ctx->buf;
  conv_ctx.size = (int32_t)in_at;
  slice_in = (int8_t *)ctx->buf + in_at;
  slice_out = (int8_t *)ctx->buf + out_at;
  pixels = g.in.n * g.in.h * g.in.w; /* both slices fit the scratch: int32 */
  out_pixels = g.out.n * g.out.h * g.out.w;
  filter_bytes = (int64_t)g.filter.n * g.filter.h * g.filter.w * g.filter.c;
  for (k = 0; k < groups; ++k) {
    const int32_t first = k * g.out.c;
    const piconas_per_channel_quant_params q = {quant->multiplier + first, quant->shift + first};
    const int8_t *from = input + k * g.in.c;
    int8_t *to = slice_in;
    for (p = 0; p < pixels; ++p, from += input_dims->c, to += g.in.c) {
      for (c = 0; c < g.in.c; ++c) {
        to[c] = from[c];
      }
    }
    status = piconas_conv2d_s8(&conv_ctx, params, &q, &g.in, slice_in, &g.filter,
                               filter + k * filter_bytes, bias != NULL ? bias + first : NULL,
                               &g.out, slice_out);
    if (status != PICONAS_S8_OK) {
      return status; /* not reached: every group was checked above */
    }
    from = slice_out;
    to = output + first;
    for (p = 0; p < out_pixels; ++p, from += g.out.c, to += output_dims->c) {
      for (c = 0; c < g.out.c; ++c) {
        to[c] = from[c];
      }
    }
  }
  return PICONAS_S8_OK;
}
