// Small operations on one uint8 image in CHW layout (channels, height, width; contiguous).
//
// resize_bilinear samples a crop box of the source onto an out_height x out_width grid with a
// separable triangle (bilinear) filter on pixel centres (half-pixel convention, as PIL and
// torchvision): when enlarging it is plain bilinear interpolation with edge clamping; when
// shrinking the filter widens by the scale factor so every source pixel contributes (no
// aliasing). Results are rounded to nearest and clamped to [0, 255]. A same-size resize of the
// whole image is an exact copy.
#pragma once
#include <cstdint>

namespace piconas::data {

struct CropBox {
  int top = 0;
  int left = 0;
  int height = 0;
  int width = 0;
};

// dst holds channels * out_height * out_width bytes and must not overlap src.
// The box must lie inside the source image (Error otherwise).
void resize_bilinear(const uint8_t* src, int channels, int height, int width, CropBox box,
                     uint8_t* dst, int out_height, int out_width);

// Whole-image resize.
void resize_bilinear(const uint8_t* src, int channels, int height, int width, uint8_t* dst,
                     int out_height, int out_width);

// Channel conversion of one CHW image with `pixels` = height * width:
// 1 -> 3 replicates grey; 3 -> 1 is luma (77 R + 150 G + 29 B) >> 8, the formula stb_image
// uses, so folder images and converted datasets agree; equal counts copy.
void convert_channels(const uint8_t* src, int src_channels, int64_t pixels, uint8_t* dst,
                      int dst_channels);

// Mirror left-right in place.
void flip_horizontal(uint8_t* image, int channels, int height, int width);

}  // namespace piconas::data
