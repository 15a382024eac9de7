/*
 * int8_kernels.h: umbrella header of the piconas int8 inference kernels (portable C99, no float,
 * no malloc). See int8_types.h for layouts and conventions, requantize.h for the arithmetic.
 * quantize_multiplier.h is host-only and deliberately not included here.
 */
#ifndef PICONAS_INT8_KERNELS_H
#define PICONAS_INT8_KERNELS_H

#include "add_s8.h"
#include "avg_pool2d_s8.h"
#include "conv2d_grouped_s8.h"
#include "conv2d_packed_s8.h"
#include "conv2d_s8.h"
#include "depthwise_conv2d_inplace_s8.h"
#include "depthwise_conv2d_s8.h"
#include "fully_connected_s8.h"
#include "int8_types.h"
#include "max_pool2d_s8.h"
#include "requantize.h"
#include "window_copy_s8.h"

#endif /* PICONAS_INT8_KERNELS_H */
