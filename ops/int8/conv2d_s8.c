/* int8 2-D convolution (see conv2d_s8.h): argument checks and the wrapper that picks a variant;
 * the variants are in conv2d_portable_s8.c and conv2d_simd_s8.c (conv2d_variants_s8.h). */
#include "conv2d_s8.h"

#include <stddef.h>

#include "conv2d_variants_s8.h"
#include "int8_checks.h"

int piconas_conv2d_check_args_s8(const piconas_conv_params *p,
                                 const piconas_per_channel_quant_params *q, const piconas_dims *in,
                                 const int8_t *input, const piconas_dims *f, const int8_t *filter,
                                 const int32_t *bias, const piconas_dims *out,
                                 const int8_t *output) {
  if (p == NULL || input == NULL || filter == NULL || output == NULL || !piconas_s8_dims_ok(in) ||
      !piconas_s8_dims_ok(f) || !piconas_s8_dims_ok(out) || in->n != out->n || f->c != in->c ||
      f->n != out->c || !piconas_s8_tile_ok(p->stride, 1) || !piconas_s8_tile_ok(p->dilation, 1) ||
      !piconas_s8_tile_ok(p->padding, 0) ||
      !piconas_s8_offsets_ok(p->input_offset, p->output_offset) ||
      !piconas_s8_activation_ok(p->activation) || !piconas_s8_quant_ok(q, out->c) ||
      !piconas_s8_axis_ok(in->h, out->h, f->h, p->stride.h, p->padding.h, p->dilation.h, 0) ||
      !piconas_s8_axis_ok(in->w, out->w, f->w, p->stride.w, p->padding.w, p->dilation.w, 0)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return piconas_s8_accumulator_ok(bias, f->n, (int64_t)f->h * f->w * f->c);
}

int32_t piconas_conv2d_s8_get_buffer_size(const piconas_conv_params *params,
                                          const piconas_dims *input_dims,
                                          const piconas_dims *filter_dims,
                                          const piconas_dims *output_dims) {
  if (params == NULL || !piconas_s8_dims_ok(input_dims) || !piconas_s8_dims_ok(filter_dims) ||
      !piconas_s8_dims_ok(output_dims) ||
      (int64_t)filter_dims->h * filter_dims->w * filter_dims->c > PICONAS_S8_MAX_MACS) {
    return -1;
  }
  if (piconas_conv2d_is_1x1(params, input_dims, filter_dims, output_dims)) {
    return piconas_conv2d_1x1_buffer_size(input_dims);
  }
  return 2 * piconas_conv2d_generic_buffer_size(filter_dims); /* the SIMD variant's two columns */
}

int piconas_conv2d_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  /* Checked first, so that the selection reads bias / multipliers of a valid layer only. */
  const int status = piconas_conv2d_check_args_s8(params, quant, input_dims, input, filter_dims,
                                                  filter, bias, output_dims, output);
  const int pointwise = status == PICONAS_S8_OK &&
                        piconas_conv2d_is_1x1(params, input_dims, filter_dims, output_dims);
  if (status != PICONAS_S8_OK) {
    return status;
  }
#if PICONAS_S8_SIMD_PREFERRED
  if (piconas_conv2d_simd_applies(quant, bias, filter_dims)) {
    return pointwise
               ? piconas_conv2d_1x1_simd_s8(ctx, params, quant, input_dims, input, filter_dims,
                                            filter, bias, output_dims, output)
               : piconas_conv2d_im2col_simd_s8(ctx, params, quant, input_dims, input, filter_dims,
                                               filter, bias, output_dims, output);
  }
#endif
  return pointwise ? piconas_conv2d_1x1_s8(ctx, params, quant, input_dims, input, filter_dims,
                                           filter, bias, output_dims, output)
                   : piconas_conv2d_generic_s8(ctx, params, quant, input_dims, input, filter_dims,
                                               filter, bias, output_dims, output);
}

int piconas_conv2d_s8_check(const piconas_conv_params *params,
                            const piconas_per_channel_quant_params *quant,
                            const piconas_dims *input_dims, const piconas_dims *filter_dims,
                            const int32_t *bias, const piconas_dims *output_dims) {
  static const int8_t tensor = 0; /* stands for the tensors: only their pointers are checked */
  if (input_dims == NULL || filter_dims == NULL || output_dims == NULL) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  return piconas_conv2d_check_args_s8(params, quant, input_dims, &tensor, filter_dims, &tensor,
                                      bias, output_dims, &tensor);
}
