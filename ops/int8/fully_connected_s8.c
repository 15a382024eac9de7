/* int8 fully-connected layer (see fully_connected_s8.h). */
#include "fully_connected_s8.h"

#include <stddef.h>

#include "int8_checks.h"
#include "requantize.h"

int piconas_fully_connected_s8(const piconas_fc_params *params,
                               const piconas_per_channel_quant_params *quant,
                               const piconas_dims *input_dims, const int8_t *input,
                               const piconas_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const piconas_dims *output_dims,
                               int8_t *output) {
  int64_t depth;
  int status;
  int32_t b, o, i;
  if (params == NULL || input == NULL || filter == NULL || output == NULL ||
      !piconas_s8_dims_ok(input_dims) || !piconas_s8_dims_ok(filter_dims) ||
      !piconas_s8_dims_ok(output_dims) || output_dims->n != input_dims->n || output_dims->h != 1 ||
      output_dims->w != 1 || output_dims->c != filter_dims->n ||
      !piconas_s8_offsets_ok(params->input_offset, params->output_offset) ||
      !piconas_s8_activation_ok(params->activation) ||
      !piconas_s8_quant_ok(quant, output_dims->c)) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  depth = (int64_t)input_dims->h * input_dims->w * input_dims->c;
  if ((int64_t)filter_dims->h * filter_dims->w * filter_dims->c != depth) {
    return PICONAS_S8_ERR_ARGUMENT;
  }
  status = piconas_s8_accumulator_ok(bias, output_dims->c, depth);
  if (status != PICONAS_S8_OK) {
    return status;
  }
  {
    const int32_t d = (int32_t)depth;
    const int32_t cout = output_dims->c;
    const int32_t offset = params->input_offset;
    for (b = 0; b < input_dims->n; ++b) {
      const int8_t *x = input + (ptrdiff_t)b * d;
      int8_t *y = output + (ptrdiff_t)b * cout;
      for (o = 0; o < cout; ++o) {
        const int8_t *w = filter + (ptrdiff_t)o * d;
        int32_t acc = bias != NULL ? bias[o] : 0;
        for (i = 0; i < d; ++i) {
          acc += (int32_t)w[i] * ((int32_t)x[i] + offset);
        }
        acc = piconas_mbqm(acc, quant->multiplier[o], quant->shift[o]);
        y[o] = piconas_s8_output(acc, params->output_offset, params->activation);
      }
    }
  }
  return PICONAS_S8_OK;
}
