#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace piconas::data {

void AugmentConfig::validate() const {
  PICONAS_CHECK(pad >= 0, "augment: negative pad " << pad);
  const ResizedCropConfig& r = resized_crop;
  if (!r.enabled) return;
  PICONAS_CHECK(r.scale_min > 0.0 && r.scale_min <= r.scale_max && r.scale_max <= 1.0,
                "augment: resized-crop scale range [" << r.scale_min << ", " << r.scale_max
                                                      << "] must satisfy 0 < min <= max <= 1");
  PICONAS_CHECK(r.ratio_min > 0.0 && r.ratio_min <= r.ratio_max,
                "augment: resized-crop ratio range [" << r.ratio_min << ", " << r.ratio_max
                                                      << "] must satisfy 0 < min <= max");
}

CropBox random_resized_crop_box(int height, int width, const ResizedCropConfig& config, Rng& rng) {
  double area = static_cast<double>(height) * width;
  double log_lo = std::log(config.ratio_min);
  double log_hi = std::log(config.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    double target = area * rng.uniform(config.scale_min, config.scale_max);
    double ratio = std::exp(rng.uniform(log_lo, log_hi));  // width / height
    int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      int top = static_cast<int>(rng.uniform_int(0, height - h));
      int left = static_cast<int>(rng.uniform_int(0, width - w));
      return CropBox{top, left, h, w};
    }
  }
  // Fallback: the largest centred box whose ratio is clamped into range.
  double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < config.ratio_min)
    h = std::max(1, static_cast<int>(std::lround(w / config.ratio_min)));
  else if (in_ratio > config.ratio_max)
    w = std::max(1, static_cast<int>(std::lround(h * config.ratio_max)));
  h = std::min(h, height);
  w = std::min(w, width);
  return CropBox{(height - h) / 2, (width - w) / 2, h, w};
}

void shifted_copy(const uint8_t* src, int channels, int height, int width, int dy, int dx,
                  uint8_t* dst) {
  for (int c = 0; c < channels; ++c) {
    const uint8_t* plane = src + static_cast<int64_t>(c) * height * width;
    uint8_t* out = dst + static_cast<int64_t>(c) * height * width;
    for (int y = 0; y < height; ++y) {
      int sy = y + dy;
      uint8_t* line = out + static_cast<int64_t>(y) * width;
      if (sy < 0 || sy >= height) {
        std::fill(line, line + width, uint8_t{0});
        continue;
      }
      for (int x = 0; x < width; ++x) {
        int sx = x + dx;
        line[x] = (sx >= 0 && sx < width) ? plane[static_cast<int64_t>(sy) * width + sx] : 0;
      }
    }
  }
}

void augment_image(uint8_t* image, int channels, int height, int width,
                   const AugmentConfig& config, Rng& rng) {
  size_t size = static_cast<size_t>(channels) * height * width;
  std::vector<uint8_t> scratch;
  if (config.resized_crop.enabled) {
    CropBox box = random_resized_crop_box(height, width, config.resized_crop, rng);
    scratch.resize(size);
    resize_bilinear(image, channels, height, width, box, scratch.data(), height, width);
    std::copy(scratch.begin(), scratch.end(), image);
  }
  if (config.pad > 0) {
    int dy = static_cast<int>(rng.uniform_int(-config.pad, config.pad));
    int dx = static_cast<int>(rng.uniform_int(-config.pad, config.pad));
    scratch.resize(size);
    shifted_copy(image, channels, height, width, dy, dx, scratch.data());
    std::copy(scratch.begin(), scratch.end(), image);
  }
  if (config.horizontal_flip && rng.uniform() < 0.5) flip_horizontal(image, channels, height, width);
}

}  // namespace piconas::data
