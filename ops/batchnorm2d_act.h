// batchnorm2d_act: training-mode BatchNorm (batch statistics, ops/batchnorm2d.h) followed by an
// activation (identity, ReLU, ReLU6), fused: y = act(batchnorm(x)) over NCHW.
// Forward: one pass for the channel statistics, one pass writing y; the normalised values
// before the activation are never stored. Backward: one pass for the channel sums of the gated
// gradient g = act'(z) * dy, one pass writing dx; it recomputes z from x with the forward's own
// per-channel constants (save_affine: mean_lo, scale, shift per channel, 3 * C values; mean_hi
// is save_mean), the same float operations, so it reads neither y nor a stored z.
// The unfused composition (batchnorm2d_forward_train, then relu_forward / relu6_forward;
// backward relu*_backward into a zeroed buffer, then batchnorm2d_backward_train) is the naive
// twin: the fused kernels do the same float operations in the same order and give the same
// bits, for every thread count (channels are split over the threads; each channel's sums run
// in a fixed order on one thread).
// Running statistics, save_mean and save_invstd as batchnorm2d_forward_train. dgamma and dbeta
// ACCUMULATE (each may be null); dx is written as `dx_write` says (it may be null):
// Accumulate adds to it like every backward; Overwrite writes every element without reading it
// (a fresh, uninitialised gradient buffer: no zero fill), giving the same bits as accumulating
// into zeros.
// Two kernel variants, the same bits (one selector, norm_kernel_for; tests force each):
// ByChannel gives each channel its own sums over its N planes and walks groups of consecutive
// channels (about 64 KB per image; one channel on planes under 1 KB) image by image, so each
// pass reads long contiguous runs. ChannelBlocks walks blocks of consecutive
// channels image by image, one flat loop over a block's values, vectorised across channels:
// faster on planes of up to 16 values (4x4, 3x3 late in a network), where a plane alone is
// shorter than the vector loop (bench_batchnorm_act).
#pragma once
#include <cstdint>

#include "ops/batchnorm2d.h"
#include "ops/grad_write.h"

namespace piconas::ops {

enum class NormActivation { Identity, ReLU, ReLU6 };
const char* norm_activation_name(NormActivation act);

enum class NormKernel { Auto, ByChannel, ChannelBlocks };
const char* norm_kernel_name(NormKernel kernel);
// ChannelBlocks for planes of up to 16 values (one lane sum per value), else ByChannel
// (measured, AVX-512 and AVX2: bench/README.md).
inline constexpr int64_t kChannelBlocksMaxSpatial = 16;
NormKernel norm_kernel_for(const NormShape& s);

template <class T>
void batchnorm2d_act_forward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                             const T* beta, T eps, T momentum, T* running_mean, T* running_var,
                             T* y, T* save_mean, T* save_invstd, T* save_affine,
                             NormKernel kernel = NormKernel::Auto);
template <class T>
void batchnorm2d_act_backward(const NormShape& s, NormActivation act, const T* x, const T* gamma,
                              const T* save_mean, const T* save_invstd, const T* save_affine,
                              const T* dy, T* dx, GradWrite dx_write, T* dgamma, T* dbeta,
                              NormKernel kernel = NormKernel::Auto);

}  // namespace piconas::ops
