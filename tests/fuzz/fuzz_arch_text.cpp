// Fuzzes the architecture text forms (nas/arch/arch_text.h): parse_blocks, parse_mbv2,
// parse_arch (with check_arch / check_mbv2), canonical_text and the mbv2 short key. Accepted
// texts must print back to themselves, and a valid architecture's analytic cost must compute
// (no int64 overflow: the structural ranges of arch_spec.cpp promise it).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_check.h"
#include "nas/arch/arch_cost.h"
#include "nas/arch/arch_text.h"

using namespace piconas;
using namespace piconas::nas;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    FUZZ_CHECK(to_text(parse_blocks(text)) == text);
  } catch (const Error&) {
  }
  try {
    FUZZ_CHECK(to_text(parse_mbv2(text)) == text);
  } catch (const Error&) {
  }
  try {
    const ArchSpec spec = parse_arch(text);
    FUZZ_CHECK(parse_arch(canonical_text(text)) == spec);
    const ArchCost cost = arch_cost(spec);
    FUZZ_CHECK(cost.params > 0 && cost.macs > 0);
  } catch (const Error&) {
  }
  try {
    const Mbv2Spec spec = mbv2_from_key(text, mbv2_bench());
    FUZZ_CHECK(mbv2_key(spec) == text);
  } catch (const Error&) {
  }
  return 0;
}
