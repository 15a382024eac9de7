#include "data/image.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace piconas::data {

namespace {

// Filter taps of one output coordinate along one axis: source indices [first, first + count)
// of the crop with normalised weights.
struct AxisTaps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // out_size * max_taps, row o holds the taps of output o
  int max_taps = 0;
};

AxisTaps make_taps(int in_size, int out_size) {
  AxisTaps taps;
  double scale = static_cast<double>(in_size) / out_size;
  double support = std::max(scale, 1.0);  // triangle half-width in source pixels
  taps.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.max_taps, 0.0f);
  for (int o = 0; o < out_size; ++o) {
    double center = (o + 0.5) * scale;
    int lo = std::max(0, static_cast<int>(std::floor(center - support)));
    int hi = std::min(in_size, static_cast<int>(std::ceil(center + support)));
    std::vector<double> weights(taps.max_taps);
    int n = 0;
    double total = 0.0;
    int first = -1;
    for (int j = lo; j < hi && n < taps.max_taps; ++j) {
      double w = 1.0 - std::abs((j + 0.5 - center) / support);
      if (w <= 0.0) {
        if (first < 0) continue;
        break;
      }
      if (first < 0) first = j;
      weights[n++] = w;
      total += w;
    }
    if (first < 0) {  // unreachable for in_size >= 1; keeps the table well-formed
      first = std::clamp(static_cast<int>(center), 0, in_size - 1);
      weights[n++] = total = 1.0;
    }
    taps.first[o] = first;
    taps.count[o] = n;
    for (int k = 0; k < n; ++k)
      taps.weights[static_cast<size_t>(o) * taps.max_taps + k] = static_cast<float>(weights[k] / total);
  }
  return taps;
}

}  // namespace

void resize_bilinear(const uint8_t* src, int channels, int height, int width, CropBox box,
                     uint8_t* dst, int out_height, int out_width) {
  PICONAS_CHECK(channels > 0 && height > 0 && width > 0 && out_height > 0 && out_width > 0,
                "resize_bilinear: bad sizes: image [" << channels << ", " << height << ", "
                                                      << width << "] to " << out_height << "x"
                                                      << out_width);
  PICONAS_CHECK(box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0 &&
                    box.top + box.height <= height && box.left + box.width <= width,
                "resize_bilinear: crop box (top " << box.top << ", left " << box.left
                                                  << ", " << box.height << "x" << box.width
                                                  << ") outside image " << height << "x"
                                                  << width);
  PICONAS_CHECK(box.height <= 32 * out_height && box.width <= 32 * out_width,
                "resize_bilinear: shrink factor above 32 (" << box.height << "x" << box.width
                                                            << " to " << out_height << "x"
                                                            << out_width << ")");
  AxisTaps xs = make_taps(box.width, out_width);
  AxisTaps ys = make_taps(box.height, out_height);
  // Horizontal pass over the rows of the box, then vertical pass; float keeps 8-bit inputs exact.
  std::vector<float> rows(static_cast<size_t>(box.height) * out_width);
  for (int c = 0; c < channels; ++c) {
    const uint8_t* plane = src + static_cast<int64_t>(c) * height * width;
    for (int y = 0; y < box.height; ++y) {
      const uint8_t* line = plane + static_cast<int64_t>(box.top + y) * width + box.left;
      for (int o = 0; o < out_width; ++o) {
        const float* w = &xs.weights[static_cast<size_t>(o) * xs.max_taps];
        const uint8_t* p = line + xs.first[o];
        float sum = 0.0f;
        for (int k = 0; k < xs.count[o]; ++k) sum += w[k] * p[k];
        rows[static_cast<size_t>(y) * out_width + o] = sum;
      }
    }
    uint8_t* out = dst + static_cast<int64_t>(c) * out_height * out_width;
    for (int o = 0; o < out_height; ++o) {
      const float* w = &ys.weights[static_cast<size_t>(o) * ys.max_taps];
      for (int x = 0; x < out_width; ++x) {
        float sum = 0.0f;
        for (int k = 0; k < ys.count[o]; ++k)
          sum += w[k] * rows[static_cast<size_t>(ys.first[o] + k) * out_width + x];
        out[static_cast<int64_t>(o) * out_width + x] =
            static_cast<uint8_t>(std::clamp(std::lround(sum), 0L, 255L));
      }
    }
  }
}

void resize_bilinear(const uint8_t* src, int channels, int height, int width, uint8_t* dst,
                     int out_height, int out_width) {
  resize_bilinear(src, channels, height, width, CropBox{0, 0, height, width}, dst, out_height,
                  out_width);
}

void convert_channels(const uint8_t* src, int src_channels, int64_t pixels, uint8_t* dst,
                      int dst_channels) {
  PICONAS_CHECK((src_channels == 1 || src_channels == 3) && (dst_channels == 1 || dst_channels == 3),
                "convert_channels: only 1 and 3 channels are supported, got " << src_channels
                                                                               << " -> "
                                                                               << dst_channels);
  if (src_channels == dst_channels) {
    std::copy(src, src + pixels * src_channels, dst);
  } else if (src_channels == 1) {
    for (int c = 0; c < 3; ++c) std::copy(src, src + pixels, dst + c * pixels);
  } else {
    const uint8_t* r = src;
    const uint8_t* g = src + pixels;
    const uint8_t* b = src + 2 * pixels;
    for (int64_t i = 0; i < pixels; ++i)
      dst[i] = static_cast<uint8_t>((r[i] * 77 + g[i] * 150 + b[i] * 29) >> 8);
  }
}

void flip_horizontal(uint8_t* image, int channels, int height, int width) {
  for (int64_t row = 0; row < static_cast<int64_t>(channels) * height; ++row) {
    uint8_t* line = image + row * width;
    std::reverse(line, line + width);
  }
}

}  // namespace piconas::data
