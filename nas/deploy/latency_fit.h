// Fitting and validating the latency model (latency.h) from QEMU measurements; used by
// bench/latency_calibrate.sh through bench_latency.
//
// fit_latency: per (target, kernel variant), least squares of the measured per-layer
// instructions on the variant's terms (latency_terms_used), over every layer of every
// measurement, with weights 1 / measured^2: relative residuals, so the many small layers of a
// small model count as much as the few large ones (absolute residuals left +20-40 % errors on
// 50-100k-instruction 1x1 convs); the Invoke row fits total - sum of layers per model. Layers of
// a patched stage are left out of their kernel's fit; the WindowCopy row is then fitted on what
// they measure beyond their kernel's prediction (weights 1 / layer measured^2). Columns are
// scaled to unit maximum and a tiny ridge (1e-9 of the mean diagonal) keeps collinear terms (e.g.
// input and output elements of a stride-1 depthwise) solvable. A variant with no samples gets no
// row.
#pragma once
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/deploy/latency.h"
#include "nas/deploy/planner.h"

namespace piconas::nas::deploy {

struct LatencyMeasurement {
  std::string run;  // where it came from (printed in the validation)
  ArchSpec arch;
  // The planner flags the export and verify were run with (parse_plan_flags; "": the default
  // plan) and what they set: the model was measured on plan_for_budget(memory, max_sram).
  std::string plan_flags;
  PlanOptions memory;
  int64_t max_sram = 0;
  McuTarget target = McuTarget::CortexM4;
  std::vector<double> layer_instructions;  // per layer of lower_arch(arch), QEMU-measured
  double total_instructions = 0;
};

// "--max-sram BYTES", "--patch-layers N|auto", "--patch-grid HxW" (piconas export's flags),
// separated by spaces, into m's plan fields; Error naming the flag otherwise.
void parse_plan_flags(const std::string& flags, LatencyMeasurement& m);
// The plan kind of a measurement, for the validation's breakdown: "patched", "in-place 1x1",
// "se/hswish" (squeeze-and-excitation or hard-swish layers), else "default".
std::string plan_kind(const LatencyMeasurement& m);

LatencyTable fit_latency(const std::vector<LatencyMeasurement>& measurements,
                         const std::string& origin);
// C++ source of nas/deploy/latency_table.cpp for `table`.
std::string latency_table_source(const LatencyTable& table);
// Markdown: per measurement predicted vs measured total, then per target the error
// distribution (mean, mean |error|, max |error|, share within 5 % and 10 %).
std::string latency_validation(const std::vector<LatencyMeasurement>& measurements,
                               const LatencyTable& table);

}  // namespace piconas::nas::deploy
