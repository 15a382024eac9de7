/*
 * piconas_on_cmsis_nn.c: the piconas int8 kernel API (ops/int8/int8_kernels.h) implemented with
 * CMSIS-NN's s8 kernels, for bench/cmsis_nn_compare.sh only. An exported model.c linked with
 * this file instead of piconas_runtime/*.c runs every layer on CMSIS-NN with the very same
 * quantized parameters, so its logits must be byte-identical and its instruction count is
 * CMSIS-NN's:
 *   piconas_conv2d_s8              -> arm_convolve_wrapper_s8
 *   piconas_depthwise_conv2d_s8    -> arm_depthwise_conv_wrapper_s8
 *   piconas_fully_connected_s8     -> arm_fully_connected_per_channel_s8
 *   piconas_add_s8                 -> arm_elementwise_add_s8
 *   piconas_global_avg_pool2d_s8   -> arm_avgpool_s8 (the whole feature map as the window)
 * (With MVE the classifier's kernel sums are computed in every call, see below.)
 * CMSIS-NN's scratch comes from one static buffer of PICONAS_CMSIS_SCRATCH bytes (the model's
 * own scratch, planned for piconas's kernels, may be too small); a layer needing more fails
 * with PICONAS_S8_ERR_BUFFER. Nothing of CMSIS-NN is part of piconas: the user supplies it.
 */
#include "arm_nnfunctions.h"
#include "piconas_runtime/int8_kernels.h"

#ifndef PICONAS_CMSIS_SCRATCH
#define PICONAS_CMSIS_SCRATCH 16384
#endif

static int32_t scratch_words[PICONAS_CMSIS_SCRATCH / 4];

static cmsis_nn_dims to_dims(const piconas_dims *d) {
  cmsis_nn_dims r;
  r.n = d->n;
  r.h = d->h;
  r.w = d->w;
  r.c = d->c;
  return r;
}

static cmsis_nn_tile to_tile(piconas_tile t) {
  cmsis_nn_tile r;
  r.w = t.w;
  r.h = t.h;
  return r;
}

static cmsis_nn_activation to_act(piconas_activation a) {
  cmsis_nn_activation r;
  r.min = a.min;
  r.max = a.max;
  return r;
}

static int scratch(cmsis_nn_context *ctx, int32_t bytes) {
  if (bytes > (int32_t)sizeof scratch_words) return PICONAS_S8_ERR_BUFFER;
  ctx->buf = bytes > 0 ? scratch_words : 0;
  ctx->size = bytes;
  return PICONAS_S8_OK;
}

static int status_of(arm_cmsis_nn_status s) {
  return s == ARM_CMSIS_NN_SUCCESS ? PICONAS_S8_OK : PICONAS_S8_ERR_ARGUMENT;
}

int piconas_conv2d_s8(const piconas_s8_context *ctx_unused, const piconas_conv_params *params,
                      const piconas_per_channel_quant_params *quant, const piconas_dims *input_dims,
                      const int8_t *input, const piconas_dims *filter_dims, const int8_t *filter,
                      const int32_t *bias, const piconas_dims *output_dims, int8_t *output) {
  cmsis_nn_conv_params p;
  cmsis_nn_per_channel_quant_params q;
  cmsis_nn_context ctx;
  const cmsis_nn_dims in = to_dims(input_dims), f = to_dims(filter_dims),
                      out = to_dims(output_dims);
  cmsis_nn_dims bias_dims = {1, 1, 1, 1};
  int status;
  (void)ctx_unused;
  bias_dims.c = output_dims->c;
  p.input_offset = params->input_offset;
  p.output_offset = params->output_offset;
  p.stride = to_tile(params->stride);
  p.padding = to_tile(params->padding);
  p.dilation = to_tile(params->dilation);
  p.activation = to_act(params->activation);
  q.multiplier = (int32_t *)quant->multiplier;
  q.shift = (int32_t *)quant->shift;
  status = scratch(&ctx, arm_convolve_wrapper_s8_get_buffer_size(&p, &in, &f, &out));
  if (status != PICONAS_S8_OK) return status;
  return status_of(arm_convolve_wrapper_s8(&ctx, &p, &q, &in, input, &f, filter, &bias_dims, bias,
                                           &out, output));
}

int piconas_depthwise_conv2d_s8(const piconas_dw_conv_params *params,
                                const piconas_per_channel_quant_params *quant,
                                const piconas_dims *input_dims, const int8_t *input,
                                const piconas_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias, const piconas_dims *output_dims,
                                int8_t *output) {
  cmsis_nn_dw_conv_params p;
  cmsis_nn_per_channel_quant_params q;
  cmsis_nn_context ctx;
  const cmsis_nn_dims in = to_dims(input_dims), f = to_dims(filter_dims),
                      out = to_dims(output_dims);
  cmsis_nn_dims bias_dims = {1, 1, 1, 1};
  int status;
  bias_dims.c = output_dims->c;
  p.input_offset = params->input_offset;
  p.output_offset = params->output_offset;
  p.ch_mult = params->ch_mult;
  p.stride = to_tile(params->stride);
  p.padding = to_tile(params->padding);
  p.dilation = to_tile(params->dilation);
  p.activation = to_act(params->activation);
  q.multiplier = (int32_t *)quant->multiplier;
  q.shift = (int32_t *)quant->shift;
  status = scratch(&ctx, arm_depthwise_conv_wrapper_s8_get_buffer_size(&p, &in, &f, &out));
  if (status != PICONAS_S8_OK) return status;
  return status_of(arm_depthwise_conv_wrapper_s8(&ctx, &p, &q, &in, input, &f, filter, &bias_dims,
                                                 bias, &out, output));
}

int piconas_fully_connected_s8(const piconas_fc_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output) {
  cmsis_nn_fc_params p;
  cmsis_nn_per_channel_quant_params q;
  cmsis_nn_context ctx;
  const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
  cmsis_nn_dims in = to_dims(input_dims), f = {1, 1, 1, 1}, bias_dims = {1, 1, 1, 1},
                out = {1, 1, 1, 1};
  int status;
  f.n = depth; /* CMSIS-NN: [accumulation depth, C_out]; the weights are row-major [C_out, depth] */
  f.c = filter_dims->n;
  bias_dims.c = output_dims->c;
  out.n = input_dims->n;
  out.c = output_dims->c;
  p.input_offset = params->input_offset;
  p.filter_offset = 0;
  p.output_offset = params->output_offset;
  p.activation = to_act(params->activation);
  q.multiplier = (int32_t *)quant->multiplier;
  q.shift = (int32_t *)quant->shift;
  status = scratch(&ctx, arm_fully_connected_s8_get_buffer_size(&f));
  if (status != PICONAS_S8_OK) return status;
#if defined(ARM_MATH_MVEI)
  /* The MVE path reads precomputed kernel sums (with the bias) from the context; TFLite-Micro
   * computes them once at init, here they are counted in every inference (classifier only). */
  arm_vector_sum_s8((int32_t *)ctx.buf, depth, output_dims->c, filter, params->input_offset, 0,
                    bias);
#endif
  return status_of(arm_fully_connected_per_channel_s8(&ctx, &p, &q, &in, input, &f, filter,
                                                      &bias_dims, bias, &out, output));
}

int piconas_add_s8(const piconas_add_params *p, const int8_t *input1, const int8_t *input2,
                   int8_t *output, int32_t size) {
  return status_of(arm_elementwise_add_s8(
      input1, input2, p->input1_offset, p->input1_multiplier, p->input1_shift, p->input2_offset,
      p->input2_multiplier, p->input2_shift, p->left_shift, output, p->output_offset,
      p->output_multiplier, p->output_shift, p->activation.min, p->activation.max, size));
}

int piconas_global_avg_pool2d_s8(piconas_activation activation, const piconas_dims *input_dims,
                                 const int8_t *input, const piconas_dims *output_dims,
                                 int8_t *output) {
  cmsis_nn_pool_params p;
  cmsis_nn_context ctx;
  const cmsis_nn_dims in = to_dims(input_dims), out = to_dims(output_dims);
  cmsis_nn_dims f = {1, 1, 1, 1};
  int status;
  f.h = input_dims->h;
  f.w = input_dims->w;
  p.stride.w = 1;
  p.stride.h = 1;
  p.padding.w = 0;
  p.padding.h = 0;
  p.activation = to_act(activation);
  status = scratch(&ctx, arm_avgpool_s8_get_buffer_size(output_dims->w, input_dims->c));
  if (status != PICONAS_S8_OK) return status;
  return status_of(arm_avgpool_s8(&ctx, &p, &in, input, &f, &out, output));
}

/* On DSP and MVE cores the exported model calls the SIMD variants by name (nas/deploy/emit_c.cpp:
 * the variant its wrapper would pick): here they are the same CMSIS-NN calls. (Its packed conv
 * filters are not used: the script compiles model.c with -DPICONAS_S8_PACKED_PREFERRED=0, which
 * selects the original filters.) */
int piconas_conv2d_1x1_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output) {
  return piconas_conv2d_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                           output_dims, output);
}

int piconas_conv2d_im2col_simd_s8(const piconas_s8_context *ctx, const piconas_conv_params *params,
                                  const piconas_per_channel_quant_params *quant,
                                  const piconas_dims *input_dims, const int8_t *input,
                                  const piconas_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const piconas_dims *output_dims,
                                  int8_t *output) {
  return piconas_conv2d_s8(ctx, params, quant, input_dims, input, filter_dims, filter, bias,
                           output_dims, output);
}

int piconas_depthwise_conv2d_simd_s8(const piconas_dw_conv_params *params,
                                     const piconas_per_channel_quant_params *quant,
                                     const piconas_dims *input_dims, const int8_t *input,
                                     const piconas_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const piconas_dims *output_dims,
                                     int8_t *output) {
  return piconas_depthwise_conv2d_s8(params, quant, input_dims, input, filter_dims, filter, bias,
                                     output_dims, output);
}

int piconas_add_simd_s8(const piconas_add_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output, int32_t size) {
  return piconas_add_s8(p, input1, input2, output, size);
}
