/* int8 in-place depthwise 2-D convolution (see depthwise_conv2d_inplace_s8.h). */
#include "depthwise_conv2d_inplace_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"
#include "simd_s8.h"

int32_t piconas_depthwise_conv2d_inplace_s8_get_buffer_size(const piconas_dims *input_dims) {
  if (!piconas_s8_dims_ok(input_dims) || (int64_t)input_dims->h * input_dims->w > INT32_MAX) {
    return -1;
  }
  return input_dims->h * input_dims->w;
}

static int inplace_check(const piconas_s8_context *ctx, const piconas_dw_conv_params *p,
                         const piconas_per_channel_quant_params *q, const piconas_dims *in,
                         const piconas_dims *f, const int8_t *filter, const int32_t *bias,
                         const piconas_dims *out, const int8_t *data) {
  if (p == NULL || data == NULL || filter == NULL || !piconas_s8_dims_ok(in) ||
      !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || p->ch_mult != 1 || f->n != 1 ||
      in->n != 1 || out->n != 1 || in->c != out->c || f->c != out->c ||
      (int64_t)out->h * out->w > (int64_t)in->h * in->w || !piconas_s8_tile_ok(p->stride, 1) ||
      !piconas_s8_tile_ok(p->dilation, 1) || !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(q, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  if (ctx == NULL || ctx->buf == NULL ||
      ctx->size < piconas_depthwise_conv2d_inplace_s8_get_buffer_size(in)) {
    return PICONAS_S8_ERR_BUFFER;
  }
  return piconas_s8_accumulator_ok(bias, out->c, (int64_t)f->h * f->w);
}

/* Input channel c of data ([H*W, C]) to plane ([H*W]). */
static void copy_channel(const int8_t *data, int32_t channels, int32_t pixels, int8_t *plane) {
  int32_t i = 0;
  for (; i + 4 <= pixels; i += 4) {
    plane[i] = data[0];
    plane[i + 1] = data[channels];
    plane[i + 2] = data[2 * channels];
    plane[i + 3] = data[3 * channels];
    data += 4 * channels;
  }
  for (; i < pixels; ++i, data += channels) {
    plane[i] = *data;
  }
}

int piconas_depthwise_conv2d_inplace_s8(const piconas_s8_context *ctx,
                                        const piconas_dw_conv_params *params,
                                        const piconas_per_channel_quant_params *quant,
                                        const piconas_dims *input_dims,
                                        const piconas_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const piconas_dims *output_dims,
                                        int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  if (piconas_depthwise_conv2d_inplace_simd_applies(params, quant, bias, filter_dims)) {
    return piconas_depthwise_conv2d_inplace_simd_s8(ctx, params, quant, input_dims, filter_dims,
                                                    filter, bias, output_dims, data);
  }
#endif
  return piconas_depthwise_conv2d_inplace_generic_s8(ctx, params, quant, input_dims, filter_dims,
                                                     filter, bias, output_dims, data);
}

int piconas_depthwise_conv2d_inplace_generic_s8(const piconas_s8_context *ctx,
                                                const piconas_dw_conv_params *params,
                                                const piconas_per_channel_quant_params *quant,
                                                const piconas_dims *input_dims,
                                                const piconas_dims *filter_dims,
                                                const int8_t *filter, const int32_t *bias,
                                                const piconas_dims *output_dims, int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  int32_t c, oy, ox, ky, kx;
  if (status != PICONAS_S8_OK) {
    return status;
  }
  {
    const int32_t channels = input_dims->c;
    const int32_t offset = params->input_offset;
    int8_t *plane = (int8_t *)ctx->buf; /* input channel c, [H, W] */
    for (c = 0; c < channels; ++c) {
      copy_channel(data + c, channels, input_dims->h * input_dims->w, plane);
      for (oy = 0; oy < output_dims->h; ++oy) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky_begin, ky_end;
        piconas_s8_tap_range(iy0, params->dilation.h, filter_dims->h, input_dims->h, &ky_begin,
                             &ky_end);
        for (ox = 0; ox < output_dims->w; ++ox) {
          const int32_t ix0 = ox * params->stride.w - params->padding.w;
          int32_t kx_begin, kx_end;
          int32_t acc = bias != NULL ? bias[c] : 0;
          piconas_s8_tap_range(ix0, params->dilation.w, filter_dims->w, input_dims->w, &kx_begin,
                               &kx_end);
          for (ky = ky_begin; ky < ky_end; ++ky) {
            const int32_t iy = iy0 + ky * params->dilation.h;
            for (kx = kx_begin; kx < kx_end; ++kx) {
              const int32_t ix = ix0 + kx * params->dilation.w;
              const int32_t w = filter[((ptrdiff_t)ky * filter_dims->w + kx) * channels + c];
              acc += w * (plane[(ptrdiff_t)iy * input_dims->w + ix] + offset);
            }
          }
          acc =
              piconas_multiply_by_quantized_multiplier(acc, quant->multiplier[c], quant->shift[c]);
          data[((ptrdiff_t)oy * output_dims->w + ox) * channels + c] =
              piconas_s8_output(acc, params->output_offset, params->activation);
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

#if PICONAS_S8_SIMD_AVAILABLE

/* ---- SIMD variant: planar, over the copied input plane ---------------------------------------
 * Per channel the weights are packed once into halfword pairs: for kernel row ky and tap group
 * g (taps 4g..4g+3, zero beyond KW) wa = (w[4g], w[4g+2]), wb = (w[4g+1], w[4g+3]). Output
 * pixels run in horizontal pairs whose windows lie inside the plane: one 32-bit load of plane
 * bytes ix..ix+3 gives, through SXTAB16 (+ input offset) and its ROR #8 form, e02 = (x0, x2)
 * and e13 = (x1, x3), and two SMLADs add four taps. In a 3x3 stride-1 layer the same word also
 * serves the second pixel: pixel 0 takes e02.wa + e13.lo*w1, pixel 1 e13.wa + e02.hi*w1 (one
 * load, two SXTs, four MACs per kernel row and pair). The few border pixels (window partly in
 * the padding) take a scalar loop over their in-image taps. Requantization: simd_s8.h's, once
 * per channel; applies when its accumulator bound holds (piconas_s8_simd_quant_ok). */

enum { DW_INPLACE_MAX_K = 8, DW_INPLACE_MAX_GROUPS = DW_INPLACE_MAX_K / 4 };

typedef struct {
  const int8_t *plane;
  int32_t in_w;     /* W, bytes per plane row */
  int32_t kh, kw;   /* KH, KW */
  int32_t groups;   /* tap groups per kernel row: ceil(KW / 4) */
  int32_t stride;   /* stride.w */
  uint32_t offset2; /* input offset in both halfwords */
  uint32_t wa[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS];
  uint32_t wb[DW_INPLACE_MAX_K][DW_INPLACE_MAX_GROUPS];
} dw_plane;

static uint32_t pack_taps(const int8_t *w, int32_t channels, int32_t kw, int32_t k0, int32_t k1) {
  const int32_t lo = k0 < kw ? w[(ptrdiff_t)k0 * channels] : 0;
  const int32_t hi = k1 < kw ? w[(ptrdiff_t)k1 * channels] : 0;
  return piconas_pkhbt((uint32_t)lo, (uint32_t)hi);
}

/* One output pixel from the in-image taps [ky0, ky1) x [kx0, kx1); x at the window origin. */
static int32_t dw_border_pixel(const dw_plane *d, const int8_t *w, int32_t channels, int32_t offset,
                               const int8_t *x, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                               int32_t acc) {
  int32_t ky, kx;
  for (ky = ky0; ky < ky1; ++ky) {
    for (kx = kx0; kx < kx1; ++kx) {
      acc += (int32_t)w[((ptrdiff_t)ky * d->kw + kx) * channels] *
             ((int32_t)x[(ptrdiff_t)ky * d->in_w + kx] + offset);
    }
  }
  return acc;
}

/* A 3x3 stride-1 pair: windows at x and x + 1. */
static void dw_pair_3x3_s1(const dw_plane *d, const int8_t *x, int32_t *acc0, int32_t *acc1) {
  const uint32_t off2 = d->offset2;
  const int32_t step = d->in_w;
  int32_t a0 = *acc0, a1 = *acc1, ky;
  for (ky = 0; ky < 3; ++ky) {
    const uint32_t v = piconas_read_s8x4(x);
    const uint32_t e02 = piconas_sxtab16(off2, v), e13 = piconas_sxtab16_ror8(off2, v);
    const uint32_t wa = d->wa[ky][0], w11 = d->wb[ky][0];
    a0 = piconas_smlad(e02, wa, a0);
    a0 = piconas_smlabb(e13, w11, a0);
    a1 = piconas_smlad(e13, wa, a1);
    a1 = piconas_smlatt(e02, w11, a1);
    x += step;
  }
  *acc0 = a0;
  *acc1 = a1;
}

/* Any KH, KW <= 8 and stride: windows at x and x + stride; reads bytes up to
 * x + stride + 4 * groups - 1 of each kernel row (weights beyond KW are zero). */
static void dw_pair_any(const dw_plane *d, const int8_t *x, int32_t *acc0, int32_t *acc1) {
  const uint32_t off2 = d->offset2;
  const int32_t s = d->stride;
  int32_t a0 = *acc0, a1 = *acc1, ky, g;
  for (ky = 0; ky < d->kh; ++ky) {
    for (g = 0; g < d->groups; ++g) {
      const uint32_t u = piconas_read_s8x4(x + 4 * g), v = piconas_read_s8x4(x + s + 4 * g);
      const uint32_t wa = d->wa[ky][g], wb = d->wb[ky][g];
      a0 = piconas_smlad(piconas_sxtab16(off2, u), wa, a0);
      a0 = piconas_smlad(piconas_sxtab16_ror8(off2, u), wb, a0);
      a1 = piconas_smlad(piconas_sxtab16(off2, v), wa, a1);
      a1 = piconas_smlad(piconas_sxtab16_ror8(off2, v), wb, a1);
    }
    x += d->in_w;
  }
  *acc0 = a0;
  *acc1 = a1;
}

int piconas_depthwise_conv2d_inplace_simd_s8(const piconas_s8_context *ctx,
                                             const piconas_dw_conv_params *params,
                                             const piconas_per_channel_quant_params *quant,
                                             const piconas_dims *input_dims,
                                             const piconas_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const piconas_dims *output_dims,
                                             int8_t *data) {
  const int status =
      inplace_check(ctx, params, quant, input_dims, filter_dims, filter, bias, output_dims, data);
  const piconas_s8_out_stage out =
      piconas_s8_out_stage_of(params->output_offset, params->activation);
  const int32_t channels = input_dims->c, ow = output_dims->w, sw = params->stride.w;
  const int32_t pw = params->padding.w, offset = params->input_offset;
  dw_plane d;
  int32_t c, oy, ky, g;
  int pair_3x3_s1;
  int64_t read_end, window_end; /* bytes a pair reads / uses from its window origin on */
  if (status != PICONAS_S8_OK) {
    return status;
  }
  if (!piconas_depthwise_conv2d_inplace_simd_applies(params, quant, bias, filter_dims)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  d.plane = (const int8_t *)ctx->buf;
  d.in_w = input_dims->w;
  d.kh = filter_dims->h;
  d.kw = filter_dims->w;
  d.groups = (filter_dims->w + 3) / 4;
  d.stride = sw;
  d.offset2 = piconas_dup16(offset);
  pair_3x3_s1 = d.kh == 3 && d.kw == 3 && sw == 1;
  /* A pair runs when both windows lie inside the image (window_end columns from ix0) and its
   * reads (up to read_end bytes past the last row's origin) stay inside the scratch, which
   * holds the plane: reads past a row's end only meet weights that are zero. */
  window_end = (int64_t)sw + d.kw;
  read_end = ((int64_t)d.kh - 1) * d.in_w + (pair_3x3_s1 ? 4 : (int64_t)sw + 4 * d.groups);
  for (c = 0; c < channels; ++c) {
    const piconas_s8_requant r = piconas_s8_requant_of(quant->multiplier[c], quant->shift[c]);
    const int32_t b = bias != NULL ? bias[c] : 0;
    const int8_t *w = filter + c;
    copy_channel(data + c, channels, input_dims->h * input_dims->w, (int8_t *)ctx->buf);
    for (ky = 0; ky < d.kh; ++ky) {
      for (g = 0; g < d.groups; ++g) {
        const int8_t *wr = w + (ptrdiff_t)ky * d.kw * channels;
        d.wa[ky][g] = pack_taps(wr, channels, d.kw, 4 * g, 4 * g + 2);
        d.wb[ky][g] = pair_3x3_s1 ? pack_taps(wr, channels, d.kw, 1, 1)
                                  : pack_taps(wr, channels, d.kw, 4 * g + 1, 4 * g + 3);
      }
    }
    for (oy = 0; oy < output_dims->h; ++oy) {
      const int32_t iy0 = oy * params->stride.h - params->padding.h;
      const int8_t *row = d.plane + (ptrdiff_t)iy0 * d.in_w;
      int8_t *y = data + (ptrdiff_t)oy * ow * channels + c;
      int32_t ky0, ky1, ox = 0;
      piconas_s8_tap_range(iy0, 1, d.kh, input_dims->h, &ky0, &ky1);
      while (ox < ow) {
        const int32_t ix0 = ox * sw - pw;
        if (ky0 == 0 && ky1 == d.kh && ix0 >= 0 && ox + 1 < ow && ix0 + window_end <= d.in_w &&
            (int64_t)iy0 * d.in_w + ix0 + read_end <= ctx->size) {
          int32_t acc0 = b, acc1 = b;
          if (pair_3x3_s1) {
            dw_pair_3x3_s1(&d, row + ix0, &acc0, &acc1);
          } else {
            dw_pair_any(&d, row + ix0, &acc0, &acc1);
          }
          y[0] = piconas_s8_store(piconas_s8_requantize(acc0, r), out);
          y[channels] = piconas_s8_store(piconas_s8_requantize(acc1, r), out);
          y += 2 * channels;
          ox += 2;
        } else {
          int32_t kx0, kx1, acc;
          piconas_s8_tap_range(ix0, 1, d.kw, d.in_w, &kx0, &kx1);
          acc = dw_border_pixel(&d, w, channels, offset, row + ix0, ky0, ky1, kx0, kx1, b);
          y[0] = piconas_s8_store(piconas_s8_requantize(acc, r), out);
          y += channels;
          ox += 1;
        }
      }
    }
  }
  return PICONAS_S8_OK;
}

int piconas_depthwise_conv2d_inplace_simd_applies(const piconas_dw_conv_params *params,
                                                  const piconas_per_channel_quant_params *quant,
                                                  const int32_t *bias,
                                                  const piconas_dims *filter_dims) {
  return params != NULL && quant != NULL && quant->multiplier != NULL && quant->shift != NULL &&
         piconas_s8_dims_ok(filter_dims) && params->ch_mult == 1 && params->dilation.h == 1 &&
         params->dilation.w == 1 && filter_dims->h <= DW_INPLACE_MAX_K &&
         filter_dims->w <= DW_INPLACE_MAX_K &&
         piconas_s8_simd_quant_ok(quant->multiplier, quant->shift, bias, filter_dims->c,
                                  (int64_t)filter_dims->h * filter_dims->w);
}

#endif /* PICONAS_S8_SIMD_AVAILABLE */
