// Fitting and validating the latency model (latency.h) from QEMU measurements; used by
// bench/latency_calibrate.sh through bench_latency.
//
// fit_latency: per (target, kernel variant), least squares of the measured per-layer
// instructions on the variant's terms (latency_terms_used), over every layer of every
// measurement, with weights 1 / measured^2: relative residuals, so the many small layers of a
// small model count as much as the few large ones (absolute residuals left +20-40 % errors on
// 50-100k-instruction 1x1 convs); the Invoke row fits total - sum of layers per model. Columns are
// scaled to unit maximum and a tiny ridge (1e-9 of the mean diagonal) keeps collinear terms (e.g.
// input and output elements of a stride-1 depthwise) solvable. A variant with no samples gets no
// row.
#pragma once
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/deploy/latency.h"

namespace piconas::nas::deploy {

struct LatencyMeasurement {
  std::string run;  // where it came from (printed in the validation)
  ArchSpec arch;
  McuTarget target = McuTarget::CortexM4;
  std::vector<double> layer_instructions;  // per layer of lower_arch(arch), QEMU-measured
  double total_instructions = 0;
};

LatencyTable fit_latency(const std::vector<LatencyMeasurement>& measurements,
                         const std::string& origin);
// C++ source of nas/deploy/latency_table.cpp for `table`.
std::string latency_table_source(const LatencyTable& table);
// Markdown: per measurement predicted vs measured total, then per target the error
// distribution (mean, mean |error|, max |error|, share within 5 % and 10 %).
std::string latency_validation(const std::vector<LatencyMeasurement>& measurements,
                               const LatencyTable& table);

}  // namespace piconas::nas::deploy
