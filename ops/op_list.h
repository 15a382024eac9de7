// OpKind: the enum generated from ops/op_list.def, and the op names used in messages.
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
