// Fitting and validating the latency model (latency.h) from QEMU measurements; used by
// bench/latency_calibrate.sh through bench_latency.
//
// fit_latency: per target, one least-squares fit of every kernel variant's terms
// (latency_terms_used) to the measured per-layer instructions of every measurement, with
// weights 1 / measured^2: relative residuals, so the many small layers of a small model count
// as much as the few large ones (absolute residuals left +20-40 % errors on 50-100k-instruction
// 1x1 convs). A layer of a patched stage is one row holding its kernel's terms summed over its
// calls and the WindowCopy terms, so the patches' calls on small windows fit the kernel rows
// too (a fit of the kernel rows on whole layers only, then of the copies on the rest, left the
// cortex-m55 stem's per-call constant at 105,000 instructions: whole stems all had 196 or 256
// output pixels, so constant and pixel terms were collinear; patched plans were predicted
// +7..+20 %). The Invoke row fits total - sum of layers per model. Solved by Householder QR
// on the weighted columns scaled to unit norm, with a tiny ridge (1e-6 per column) that keeps
// collinear terms (e.g. input and output elements of a stride-1 depthwise) solvable. An unpacked conv variant with fewer
// layers than terms gets no row (its layers are left out; the estimate takes the packed row).
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
// Per target, the largest under-prediction of `table` on the held-out `measurements`
// (LatencyMargin): measured / predicted - 1, at least 0.
std::vector<LatencyMargin> latency_margins(const std::vector<LatencyMeasurement>& measurements,
                                           const LatencyTable& table);
// C++ source of nas/deploy/latency_table.cpp for `table`.
std::string latency_table_source(const LatencyTable& table);
// Markdown: per measurement predicted vs measured total, then per target the error
// distribution (mean, mean |error|, max |error|, share within 5 % and 10 %).
std::string latency_validation(const std::vector<LatencyMeasurement>& measurements,
                               const LatencyTable& table);

}  // namespace piconas::nas::deploy
