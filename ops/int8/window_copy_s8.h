/*
 * window_copy_s8.h: copies a rectangular window of an int8 NHWC image ({1, H, W, C}) to or from
 * a compact buffer ({1, h, w, C}), for patch-based execution (docs/memory.md): the exported
 * model runs its leading layers patch by patch, each patch in small compact buffers, and these
 * two copies move a patch's input window in and its output window out.
 *
 *   piconas_window_copy_in_s8:  dst[r][x][c] = src[y0 + r][x0 + x][c],  r < h, x < w
 *   piconas_window_copy_out_s8: dst[y0 + r][x0 + x][c] = src[r][x][c]
 *
 * image_dims is the large image {1, H, W, C}; window_dims the compact one {1, h, w, C}. The
 * window must lie inside the image (0 <= y0, y0 + h <= H, likewise x) and the channel counts
 * agree; otherwise PICONAS_S8_ERR_ARGUMENT and nothing is written. The buffers must not overlap.
 */
#ifndef PICONAS_INT8_WINDOW_COPY_S8_H
#define PICONAS_INT8_WINDOW_COPY_S8_H

#include <stdint.h>

#include "int8_types.h"

#ifdef __cplusplus
extern "C" {
#endif

int piconas_window_copy_in_s8(const piconas_dims *image_dims, const int8_t *image, int32_t y0,
                              int32_t x0, const piconas_dims *window_dims, int8_t *window);

int piconas_window_copy_out_s8(const piconas_dims *window_dims, const int8_t *window,
                               const piconas_dims *image_dims, int32_t y0, int32_t x0,
                               int8_t *image);

#ifdef __cplusplus
}
#endif

#endif /* PICONAS_INT8_WINDOW_COPY_S8_H */
