#include "window_copy_s8.h"

#include <string.h>

static int window_ok(const piconas_dims *image_dims, const void *image, int32_t y0, int32_t x0,
                     const piconas_dims *window_dims, const void *window) {
  if (!image_dims || !image || !window_dims || !window) return 0;
  if (image_dims->n != 1 || window_dims->n != 1 || image_dims->c != window_dims->c ||
      image_dims->c < 1)
    return 0;
  if (window_dims->h < 1 || window_dims->w < 1 || y0 < 0 || x0 < 0) return 0;
  return y0 <= image_dims->h - window_dims->h && x0 <= image_dims->w - window_dims->w;
}

int piconas_window_copy_in_s8(const piconas_dims *image_dims, const int8_t *image, int32_t y0,
                              int32_t x0, const piconas_dims *window_dims, int8_t *window) {
  int32_t r;
  size_t row_bytes, image_row_bytes;
  if (!window_ok(image_dims, image, y0, x0, window_dims, window)) return PICONAS_S8_ERR_ARGUMENT;
  row_bytes = (size_t)window_dims->w * (size_t)window_dims->c;
  image_row_bytes = (size_t)image_dims->w * (size_t)image_dims->c;
  image += (size_t)y0 * image_row_bytes + (size_t)x0 * (size_t)image_dims->c;
  for (r = 0; r < window_dims->h; ++r)
    memcpy(window + (size_t)r * row_bytes, image + (size_t)r * image_row_bytes, row_bytes);
  return PICONAS_S8_OK;
}

int piconas_window_copy_out_s8(const piconas_dims *window_dims, const int8_t *window,
                               const piconas_dims *image_dims, int32_t y0, int32_t x0,
                               int8_t *image) {
  int32_t r;
  size_t row_bytes, image_row_bytes;
  if (!window_ok(image_dims, image, y0, x0, window_dims, window)) return PICONAS_S8_ERR_ARGUMENT;
  row_bytes = (size_t)window_dims->w * (size_t)window_dims->c;
  image_row_bytes = (size_t)image_dims->w * (size_t)image_dims->c;
  image += (size_t)y0 * image_row_bytes + (size_t)x0 * (size_t)image_dims->c;
  for (r = 0; r < window_dims->h; ++r)
    memcpy(image + (size_t)r * image_row_bytes, window + (size_t)r * row_bytes, row_bytes);
  return PICONAS_S8_OK;
}
