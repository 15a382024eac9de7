#include "nas/deploy/latency_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <utility>

#include "core/byte_size.h"
#include "core/error.h"
#include "nas/arch/arch_cost.h"

namespace piconas::nas::deploy {

namespace {

struct Samples {
  std::vector<LatencyTerms> x;
  std::vector<double> y;
  std::vector<double> scale;  // of each residual's weight 1 / scale^2 (the measured count)
  bool only_patched = true;   // no unpatched layer of the variant (see fit_latency)
};

// Least squares on the used columns (see the header); Gaussian elimination with partial
// pivoting on the scaled normal equations (at most 9 x 9).
LatencyTerms solve(const Samples& s, const std::array<bool, kLatencyTerms>& used) {
  std::vector<int> cols;
  for (int t = 0; t < kLatencyTerms; ++t)
    if (used[static_cast<size_t>(t)]) cols.push_back(t);
  const size_t n = cols.size();
  std::vector<double> scale(n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    for (const LatencyTerms& x : s.x)
      scale[j] = std::max(scale[j], std::abs(x[static_cast<size_t>(cols[j])]));
    if (scale[j] == 0) scale[j] = 1;
  }
  std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0.0));
  for (size_t r = 0; r < s.x.size(); ++r) {
    const double w = 1.0 / std::max(s.scale[r] * s.scale[r], 1.0);  // relative residuals
    for (size_t i = 0; i < n; ++i) {
      const double xi = w * s.x[r][static_cast<size_t>(cols[i])] / scale[i];
      for (size_t j = 0; j < n; ++j)
        a[i][j] += xi * s.x[r][static_cast<size_t>(cols[j])] / scale[j];
      a[i][n] += xi * s.y[r];
    }
  }
  double trace = 0;
  for (size_t i = 0; i < n; ++i) trace += a[i][i];
  for (size_t i = 0; i < n; ++i) a[i][i] += 1e-12 * trace / static_cast<double>(n) + 1e-300;
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c || a[c][c] == 0) continue;
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k <= n; ++k) a[r][k] -= f * a[c][k];
    }
  }
  LatencyTerms coefficients{};
  for (size_t j = 0; j < n; ++j)
    coefficients[static_cast<size_t>(cols[j])] = a[j][j] == 0 ? 0 : a[j][n] / a[j][j] / scale[j];
  return coefficients;
}

}  // namespace

void parse_plan_flags(const std::string& flags, LatencyMeasurement& m) {
  std::istringstream in(flags);
  m.plan_flags = flags;
  m.memory = PlanOptions{};
  m.max_sram = 0;
  for (std::string flag, value; in >> flag;) {
    PICONAS_CHECK(static_cast<bool>(in >> value),
                  "plan flags '" << flags << "': " << flag << " without a value");
    if (flag == "--max-sram") {
      // The byte parser of every byte flag (core/byte_size.h), so "64K" works here as in export.
      const int64_t bytes = parse_byte_size(value, "plan flags '" + flags + "': --max-sram");
      PICONAS_CHECK(bytes > 0 && bytes <= (int64_t{1} << 40),
                    "plan flags '" << flags << "': --max-sram " << value
                                   << " is not a byte count in [1, 2^40]");
      m.max_sram = bytes;
    } else if (flag == "--patch-layers") {
      parse_patch_layers(value, m.memory);
    } else if (flag == "--patch-grid") {
      parse_patch_grid(value, m.memory);
    } else {
      PICONAS_CHECK(false, "plan flags '" << flags << "': unknown flag '" << flag
                                          << "' (--max-sram, --patch-layers, --patch-grid)");
    }
  }
}

std::string plan_kind(const LatencyMeasurement& m) {
  const Graph graph = lower_arch(m.arch);
  const MemoryPlan plan = plan_for_budget(graph, m.memory, m.max_sram);
  if (plan.patch.on()) return "patched";
  for (size_t i = 0; i < graph.layers.size(); ++i)
    if (plan.in_place[i] && graph.layers[i].kind == LayerKind::Conv) return "in-place 1x1";
  for (const Layer& l : graph.layers)
    if (l.kind == LayerKind::Hardswish || l.kind == LayerKind::ChannelMul) return "se/hswish";
  return "default";
}

LatencyTable fit_latency(const std::vector<LatencyMeasurement>& measurements,
                         const std::string& origin) {
  std::map<std::pair<int, int>, Samples> samples;  // (target, kernel)
  struct Patched {  // a layer of a patched stage, fitted in the second pass
    McuTarget target;
    LatencyKernel kernel;
    LatencyTerms x, copy;
    double y;
  };
  std::vector<Patched> patched;
  for (const LatencyMeasurement& m : measurements) {  // variants seen only in patched stages
    const Graph graph = lower_arch(m.arch);
    const MemoryPlan plan = plan_for_budget(graph, m.memory, m.max_sram);
    const std::vector<LatencyKernel> kernels = latency_kernels(graph, plan, m.target, m.max_sram);
    for (int i = 0; i < plan.patch.layers; ++i)
      samples[{static_cast<int>(m.target), static_cast<int>(kernels[static_cast<size_t>(i)])}];
  }
  for (const LatencyMeasurement& m : measurements) {
    const Graph graph = lower_arch(m.arch);
    const MemoryPlan plan = plan_for_budget(graph, m.memory, m.max_sram);
    PICONAS_CHECK(m.layer_instructions.size() == graph.layers.size(),
                  m.run << ": " << m.layer_instructions.size()
                        << " measured layers, the lowering has " << graph.layers.size());
    const int target = static_cast<int>(m.target);
    double layers = 0;
    const std::vector<LatencyKernel> kernels = latency_kernels(graph, plan, m.target, m.max_sram);
    for (size_t i = 0; i < graph.layers.size(); ++i) {
      const double y = m.layer_instructions[i];
      layers += y;
      if (static_cast<int>(i) < plan.patch.layers) {
        patched.push_back({m.target, kernels[i], layer_features(graph, plan, i),
                           window_copy_features(graph, plan, i), y});
        continue;
      }
      Samples& s = samples[{target, static_cast<int>(kernels[i])}];
      s.only_patched = false;
      s.x.push_back(layer_features(graph, plan, i));
      s.y.push_back(y);
      s.scale.push_back(y);
    }
    Samples& s = samples[{target, static_cast<int>(LatencyKernel::Invoke)}];
    s.only_patched = false;
    s.x.push_back(invoke_features(graph));
    s.y.push_back(m.total_instructions - layers);
    s.scale.push_back(m.total_instructions - layers);
  }
  LatencyTable table;
  table.origin = origin;
  const auto add_row = [&](int target, int kernel, const Samples& s) {
    LatencyRow row;
    row.target = static_cast<McuTarget>(target);
    row.kernel = static_cast<LatencyKernel>(kernel);
    row.coefficients = solve(s, latency_terms_used(row.kernel));
    row.samples = static_cast<int>(s.y.size());
    table.rows.push_back(row);
  };
  // A variant measured only in patched stages (e.g. the unpacked stem of a budget plan on
  // cortex-m4) is fitted on those layers, copies included.
  std::vector<Patched> residual;
  for (const Patched& p : patched) {
    const std::pair<int, int> key{static_cast<int>(p.target), static_cast<int>(p.kernel)};
    if (samples.count(key) == 0 || !samples[key].only_patched) {
      residual.push_back(p);
      continue;
    }
    Samples& s = samples[key];
    s.x.push_back(p.x);
    s.y.push_back(p.y);
    s.scale.push_back(p.y);
  }
  for (const auto& [key, s] : samples) add_row(key.first, key.second, s);
  // Second pass: the window copies and per-patch overhead, from what the patched layers
  // measure beyond their kernel's row.
  std::map<int, Samples> copies;  // per target
  for (const Patched& p : residual) {
    const LatencyRow* row = table.find(p.target, p.kernel);
    PICONAS_CHECK(row != nullptr,
                  "fit_latency: no row for a patched " << latency_kernel_name(p.kernel));
    double kernel = 0;
    for (size_t t = 0; t < p.x.size(); ++t) kernel += row->coefficients[t] * p.x[t];
    Samples& s = copies[static_cast<int>(p.target)];
    s.x.push_back(p.copy);
    s.y.push_back(p.y - kernel);
    s.scale.push_back(p.y);
  }
  for (const auto& [target, s] : copies)
    add_row(target, static_cast<int>(LatencyKernel::WindowCopy), s);
  return table;
}

namespace {

const char* target_enum(McuTarget t) {
  switch (t) {
    case McuTarget::CortexM0:
      return "CortexM0";
    case McuTarget::CortexM4:
      return "CortexM4";
    case McuTarget::CortexM7:
      return "CortexM7";
    case McuTarget::CortexM55:
      return "CortexM55";
  }
  return "?";
}

const char* kernel_enum(LatencyKernel k) {
  switch (k) {
    case LatencyKernel::ConvPointwise:
      return "ConvPointwise";
    case LatencyKernel::ConvIm2col:
      return "ConvIm2col";
    case LatencyKernel::ConvPacked:
      return "ConvPacked";
    case LatencyKernel::Depthwise:
      return "Depthwise";
    case LatencyKernel::DepthwiseInPlace:
      return "DepthwiseInPlace";
    case LatencyKernel::Add:
      return "Add";
    case LatencyKernel::GlobalAvgPool:
      return "GlobalAvgPool";
    case LatencyKernel::FullyConnected:
      return "FullyConnected";
    case LatencyKernel::ConvPointwiseInPlace:
      return "ConvPointwiseInPlace";
    case LatencyKernel::Hardswish:
      return "Hardswish";
    case LatencyKernel::ChannelMul:
      return "ChannelMul";
    case LatencyKernel::WindowCopy:
      return "WindowCopy";
    case LatencyKernel::Invoke:
      return "Invoke";
  }
  return "?";
}

}  // namespace

std::string latency_table_source(const LatencyTable& table) {
  std::ostringstream o;
  o << "// Generated by bench/latency_calibrate.sh (bench_latency fit): " << table.origin << "\n"
    << "// Do not edit; rerun the script after changing the int8 kernels or the emitter.\n"
    << "// Coefficients of [1, MACs, output elements, input elements, output pixels, window\n"
    << "// elements, output elements x k, output elements x k x k, output channels, output\n"
    << "// channels x output rows, idle MACs] per target and kernel\n"
    << "// variant (nas/deploy/latency.h).\n"
    << "#include \"nas/deploy/latency.h\"\n\nnamespace piconas::nas::deploy {\n\n"
    << "const LatencyTable& builtin_latency_table() {\n"
    << "  static const LatencyTable table{\n      \"" << table.origin << "\",\n      {\n";
  char number[40];
  for (const LatencyRow& row : table.rows) {
    o << "          {McuTarget::" << target_enum(row.target)
      << ", LatencyKernel::" << kernel_enum(row.kernel) << ", {";
    for (int t = 0; t < kLatencyTerms; ++t) {
      std::snprintf(number, sizeof number, "%.9g", row.coefficients[static_cast<size_t>(t)]);
      o << (t ? ", " : "") << number;
    }
    o << "}, " << row.samples << "},\n";
  }
  o << "      },\n      {\n";
  for (const LatencyMargin& m : table.margins) {
    std::snprintf(number, sizeof number, "%.9g", m.under_prediction);
    o << "          {McuTarget::" << target_enum(m.target) << ", " << number << ", " << m.models
      << "},\n";
  }
  o << "      }};\n  return table;\n}\n\n}  // namespace piconas::nas::deploy\n";
  return o.str();
}

std::vector<LatencyMargin> latency_margins(const std::vector<LatencyMeasurement>& measurements,
                                           const LatencyTable& table) {
  std::map<int, LatencyMargin> by_target;
  for (const LatencyMeasurement& m : measurements) {
    const Graph graph = lower_arch(m.arch);
    const LatencyEstimate e = estimate_latency(graph, plan_for_budget(graph, m.memory, m.max_sram),
                                               m.target, table, m.max_sram);
    LatencyMargin& margin = by_target[static_cast<int>(m.target)];
    margin.target = m.target;
    margin.under_prediction =
        std::max(margin.under_prediction, m.total_instructions / e.instructions - 1);
    ++margin.models;
  }
  std::vector<LatencyMargin> out;
  for (const auto& [target, margin] : by_target) out.push_back(margin);
  return out;
}

namespace {

void distribution_row(std::ostringstream& o, const std::string& target, const std::string& kind,
                      const std::vector<double>& list) {
  double sum = 0, abs_sum = 0, worst = 0;
  int within5 = 0, within10 = 0;
  for (double e : list) {
    sum += e;
    abs_sum += std::abs(e);
    worst = std::max(worst, std::abs(e));
    within5 += std::abs(e) <= 0.05;
    within10 += std::abs(e) <= 0.10;
  }
  const double n = static_cast<double>(list.size());
  char line[512];
  std::snprintf(line, sizeof line, "| %s | %s | %zu | %+.2f %% | %.2f %% | %.2f %% | %d | %d |\n",
                target.c_str(), kind.c_str(), list.size(), 100 * sum / n, 100 * abs_sum / n,
                100 * worst, within5, within10);
  o << line;
}

}  // namespace

std::string latency_validation(const std::vector<LatencyMeasurement>& measurements,
                               const LatencyTable& table) {
  std::ostringstream o;
  // Relative errors (predicted / measured - 1) per target, and per target and plan kind.
  std::map<int, std::vector<double>> errors;
  std::map<std::pair<int, std::string>, std::vector<double>> by_kind;
  o << "| model | target | plan | MACs | measured instructions | predicted | error |\n"
    << "|---|---|---|---:|---:|---:|---:|\n";
  char line[512];
  for (const LatencyMeasurement& m : measurements) {
    const Graph graph = lower_arch(m.arch);
    const LatencyEstimate e = estimate_latency(graph, plan_for_budget(graph, m.memory, m.max_sram),
                                               m.target, table, m.max_sram);
    const double error = e.instructions / m.total_instructions - 1;
    const std::string kind = plan_kind(m);
    errors[static_cast<int>(m.target)].push_back(error);
    by_kind[{static_cast<int>(m.target), kind}].push_back(error);
    std::snprintf(line, sizeof line, "| %s | %s | %s | %lld | %.0f | %.0f | %+.1f %% |\n",
                  m.run.substr(m.run.find_last_of('/') + 1).c_str(), mcu_board(m.target).name,
                  (kind + (m.plan_flags.empty() ? "" : " (" + m.plan_flags + ")")).c_str(),
                  static_cast<long long>(arch_cost(m.arch).macs), m.total_instructions,
                  e.instructions, 100 * error);
    o << line;
  }
  o << "\n| target | plan | models | mean error | mean abs error | max abs error | within 5 % | "
       "within 10 % |\n"
    << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [target, list] : errors) {
    const std::string name = mcu_board(static_cast<McuTarget>(target)).name;
    distribution_row(o, name, "all", list);
    for (const auto& [key, kind_list] : by_kind)
      if (key.first == target) distribution_row(o, name, key.second, kind_list);
  }
  o << "\nBudget margins of the table (largest held-out under-prediction; a latency budget "
       "admits predicted x (1 + margin)):\n\n| target | margin | held-out models |\n|---|---:|---:|\n";
  for (const LatencyMargin& m : table.margins) {
    std::snprintf(line, sizeof line, "| %s | %+.1f %% | %d |\n", mcu_board(m.target).name,
                  100 * m.under_prediction, m.models);
    o << line;
  }
  return o.str();
}

}  // namespace piconas::nas::deploy
