#include "nas/metrics/naswot.h"

#include <bit>

#include "autograd/layers.h"
#include "core/parallel.h"
#include "nas/metrics/linalg.h"

namespace piconas::nas::metrics {

using autograd::Module;

NaswotKernel::NaswotKernel(int64_t samples) : samples_(samples) {
  PICONAS_CHECK(samples >= 1, "NaswotKernel: need at least one sample, got " << samples);
  kernel_.assign(static_cast<size_t>(samples * samples), 0);
}

void NaswotKernel::add_packed(const std::vector<uint64_t>& bits, int64_t words, int64_t units) {
  const int64_t n = samples_;
  // Pairs i < j enumerated row by row; a flat split keeps the threads' work balanced and each
  // pair is written by exactly one thread.
  std::vector<std::pair<int32_t, int32_t>> pairs;
  pairs.reserve(static_cast<size_t>(n * (n - 1) / 2));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) pairs.emplace_back(static_cast<int32_t>(i), static_cast<int32_t>(j));
  parallel_for(0, static_cast<int64_t>(pairs.size()), [&](int64_t p) {
    const auto [i, j] = pairs[static_cast<size_t>(p)];
    const uint64_t* a = bits.data() + i * words;
    const uint64_t* b = bits.data() + j * words;
    int64_t hamming = 0;
    for (int64_t w = 0; w < words; ++w) hamming += std::popcount(a[w] ^ b[w]);
    kernel_[static_cast<size_t>(i * n + j)] += units - hamming;
    kernel_[static_cast<size_t>(j * n + i)] += units - hamming;
  });
  for (int64_t i = 0; i < n; ++i) kernel_[static_cast<size_t>(i * n + i)] += units;
  units_ += units;
}

void NaswotKernel::add_activation(const Tensor& activation) {
  PICONAS_CHECK(activation.ndim() >= 1 && activation.dim(0) == samples_,
                "NaswotKernel: activation " << shape_str(activation.shape()) << " does not have "
                                            << samples_ << " samples");
  const int64_t units = activation.numel() / samples_;
  if (units == 0) return;
  const int64_t words = (units + 63) / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(samples_ * words));
  dispatch_dtype(activation.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* x = activation.data<T>();
    parallel_for(0, samples_, [&](int64_t n) {
      const T* row = x + n * units;
      uint64_t* out = bits.data() + n * words;
      for (int64_t w = 0; w < words; ++w) {
        const int64_t begin = w * 64;
        const int64_t count = std::min<int64_t>(64, units - begin);
        const T* v = row + begin;
        uint64_t word = 0;
#pragma omp simd reduction(| : word)
        for (int64_t b = 0; b < count; ++b) word |= static_cast<uint64_t>(v[b] > T(0)) << b;
        out[w] = word;
      }
    });
  });
  add_packed(bits, words, units);
}

void NaswotKernel::add_codes(const std::vector<std::vector<uint8_t>>& codes) {
  PICONAS_CHECK(static_cast<int64_t>(codes.size()) == samples_,
                "NaswotKernel: " << codes.size() << " code rows for " << samples_ << " samples");
  const int64_t units = static_cast<int64_t>(codes.front().size());
  for (const auto& row : codes)
    PICONAS_CHECK(static_cast<int64_t>(row.size()) == units,
                  "NaswotKernel: code rows of lengths " << units << " and " << row.size());
  if (units == 0) return;
  const int64_t words = (units + 63) / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(samples_ * words));
  for (int64_t n = 0; n < samples_; ++n)
    for (int64_t u = 0; u < units; ++u)
      if (codes[n][u]) bits[n * words + u / 64] |= uint64_t{1} << (u % 64);
  add_packed(bits, words, units);
}

double NaswotKernel::score() const {
  PICONAS_CHECK(units_ > 0, "naswot: no activation units were coded (does the network have "
                            "ReLU/ReLU6/GELU/Hardswish layers?)");
  return logabsdet(std::vector<double>(kernel_.begin(), kernel_.end()), samples_);
}

bool is_coded_activation(const Module& module) {
  const auto* act = dynamic_cast<const autograd::Activation*>(&module);
  return act && act->activation() != autograd::ActivationKind::Sigmoid;
}

Module::ForwardHook naswot_hook(NaswotKernel& kernel) {
  return [&kernel](const Module& module, const autograd::Variable& output) {
    if (is_coded_activation(module)) kernel.add_activation(output.value());
  };
}

double naswot_from_codes(const std::vector<std::vector<uint8_t>>& codes) {
  PICONAS_CHECK(!codes.empty(), "naswot_from_codes: no codes");
  NaswotKernel kernel(static_cast<int64_t>(codes.size()));
  kernel.add_codes(codes);
  return kernel.score();
}

double naswot(Module& net, const Tensor& images) {
  PICONAS_CHECK(images.ndim() >= 2, "naswot: images " << shape_str(images.shape())
                                                      << " need a batch dimension");
  NaswotKernel kernel(images.dim(0));
  net.set_training(true);
  net.set_forward_hook_recursive(naswot_hook(kernel));
  {
    autograd::NoGradGuard no_grad;
    try {
      net(autograd::Variable(images));
    } catch (...) {
      net.set_forward_hook_recursive({});
      throw;
    }
  }
  net.set_forward_hook_recursive({});
  return kernel.score();
}

}  // namespace piconas::nas::metrics
