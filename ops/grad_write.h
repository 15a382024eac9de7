// GradWrite: how a backward kernel writes an input gradient it may be given fresh. Accumulate
// adds to it like every backward; Overwrite writes every element once without reading it (a
// fresh, uninitialised gradient buffer needs no zero fill), giving the same bits as
// accumulating into zeros. Used by ops/batchnorm2d_act.h and ops/depthwise_conv2d.h.
#pragma once

namespace piconas::ops {

enum class GradWrite { Accumulate, Overwrite };

}  // namespace piconas::ops
