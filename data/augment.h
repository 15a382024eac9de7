// Training-time augmentations of one uint8 CHW image, driven by an explicit Rng.
// The output always has the input's size. Order when several are enabled:
// random resized crop -> padded random crop -> horizontal flip.
//  - random resized crop (Inception-style, for image folders): pick an area fraction in
//    [scale_min, scale_max] and a log-uniform aspect ratio in [ratio_min, ratio_max]; up to 10
//    tries to fit the box in the image, otherwise a centre crop with the ratio clamped; the box
//    is resized back to the full size with resize_bilinear.
//  - padded random crop (CIFAR-style): zero-pad `pad` pixels on every side and cut a random
//    window of the original size.
//  - horizontal flip with probability 1/2 (an exact left-right mirror).
// Every enabled augmentation draws from rng in a fixed order, so a given Rng state gives the
// same image.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "data/image.h"

namespace piconas::data {

struct ResizedCropConfig {
  bool enabled = false;
  double scale_min = 0.08;
  double scale_max = 1.0;
  double ratio_min = 3.0 / 4.0;
  double ratio_max = 4.0 / 3.0;

  bool operator==(const ResizedCropConfig&) const = default;
};

struct AugmentConfig {
  int pad = 0;  // padded random crop when > 0
  bool horizontal_flip = false;
  ResizedCropConfig resized_crop;

  bool any() const { return pad > 0 || horizontal_flip || resized_crop.enabled; }
  void validate() const;  // Error on a negative pad or an empty / invalid range
  bool operator==(const AugmentConfig&) const = default;
};

// Box for a random resized crop of a height x width image.
CropBox random_resized_crop_box(int height, int width, const ResizedCropConfig& config, Rng& rng);

// dst = src shifted by (dy, dx) in [-pad, pad] with zeros shifted in; this is the padded crop
// at offset (pad + dy, pad + dx).
void shifted_copy(const uint8_t* src, int channels, int height, int width, int dy, int dx,
                  uint8_t* dst);

// Applies the enabled augmentations to image in place.
void augment_image(uint8_t* image, int channels, int height, int width,
                   const AugmentConfig& config, Rng& rng);

}  // namespace piconas::data
