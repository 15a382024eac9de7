// OpKind: the enum generated from ops/op_list.def, and the op names used in messages.
// These are the differentiable kernels of ops/ (sigmoid, mul, dropout and the loss among them),
// listed for the gradient checks; they have no shapes or network structure. The kinds of a
// network's layers are another list, nas/arch/lowering.h's LayerKind (ops cannot include nas).
#pragma once

namespace piconas::ops {

enum class OpKind {
#define PICONAS_OP(name, text) name,
#include "ops/op_list.def"
#undef PICONAS_OP
};

inline constexpr int kOpCount = 0
#define PICONAS_OP(name, text) +1
#include "ops/op_list.def"
#undef PICONAS_OP
    ;

const char* op_name(OpKind kind);

}  // namespace piconas::ops
