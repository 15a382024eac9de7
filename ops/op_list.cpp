#include "ops/op_list.h"

namespace piconas::ops {

const char* op_name(OpKind kind) {
  static constexpr const char* kNames[] = {
#define PICONAS_OP(name, text) text,
#include "ops/op_list.def"
#undef PICONAS_OP
  };
  return kNames[static_cast<int>(kind)];
}

}  // namespace piconas::ops
