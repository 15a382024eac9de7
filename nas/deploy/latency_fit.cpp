#include "nas/deploy/latency_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// One least-squares problem: rows of equal width, their measured counts and the
// scale of each residual's weight 1 / scale^2 (the measured count: relative
// residuals).
struct Problem {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::vector<double> scale;
};

// Least squares (see the header) by Householder QR of the weighted design
// matrix, its columns scaled to unit norm, with a tiny ridge as extra rows: the
// joint problem of a target has some 80 columns, and normal equations (which
// square the condition number) lost digits.
std::vector<double> solve(const Problem& p, size_t n) {
  const size_t m = p.x.size() + n;
  std::vector<std::vector<double>> a(n, std::vector<double>(m, 0.0));  // column-major
  std::vector<double> b(m, 0.0);
  for (size_t r = 0; r < p.x.size(); ++r) {
    const double w = 1.0 / std::max(std::abs(p.scale[r]), 1.0);  // relative residuals
    for (size_t j = 0; j < n; ++j) a[j][r] = w * p.x[r][j];
    b[r] = w * p.y[r];
  }
  std::vector<double> scale(n, 0.0);  // each weighted column to unit norm
  for (size_t j = 0; j < n; ++j) {
    for (size_t r = 0; r < p.x.size(); ++r) scale[j] += a[j][r] * a[j][r];
    scale[j] = scale[j] > 0 ? std::sqrt(scale[j]) : 1;
    for (size_t r = 0; r < p.x.size(); ++r) a[j][r] /= scale[j];
  }
  for (size_t j = 0; j < n; ++j) a[j][p.x.size() + j] = 1e-9;
  for (size_t k = 0; k < n; ++k) {
    double norm = 0;
    for (size_t r = k; r < m; ++r) norm += a[k][r] * a[k][r];
    norm = std::sqrt(norm);
    if (norm == 0) continue;
    const double alpha = a[k][k] > 0 ? -norm : norm;
    std::vector<double> v(m, 0.0);
    for (size_t r = k; r < m; ++r) v[r] = a[k][r];
    v[k] -= alpha;
    double vv = 0;
    for (size_t r = k; r < m; ++r) vv += v[r] * v[r];
    if (vv == 0) continue;
    for (size_t j = k; j < n; ++j) {
      double dot = 0;
      for (size_t r = k; r < m; ++r) dot += v[r] * a[j][r];
      const double f = 2 * dot / vv;
      for (size_t r = k; r < m; ++r) a[j][r] -= f * v[r];
    }
    double dot = 0;
    for (size_t r = k; r < m; ++r) dot += v[r] * b[r];
    const double f = 2 * dot / vv;
    for (size_t r = k; r < m; ++r) b[r] -= f * v[r];
  }
  std::vector<double> coefficients(n, 0.0);
  for (size_t k = n; k-- > 0;) {
    double sum = b[k];
    for (size_t j = k + 1; j < n; ++j) sum -= a[j][k] * coefficients[j];
    coefficients[k] = a[k][k] == 0 ? 0 : sum / a[k][k];
  }
  for (size_t j = 0; j < n; ++j) coefficients[j] /= scale[j];
  return coefficients;
}

// A measured layer: the terms of each variant it runs (its kernel; in a patched
// stage also the window copies) and its count.
struct LayerSample {
  std::vector<std::pair<LatencyKernel, LatencyTerms>> parts;
  double y = 0;
};

// One joint fit of every variant measured on a target (see the header): the
// rows of `table`.
void fit_target(McuTarget target, const std::vector<LayerSample>& layers, LatencyTable& table) {
  std::map<int, std::vector<size_t>> columns;  // variant -> its used terms' columns
  std::map<int, int> counts;                   // variant -> layers it was fitted on
  size_t n = 0;
  for (const LayerSample& l : layers)
    for (const auto& [kernel, x] : l.parts) {
      ++counts[static_cast<int>(kernel)];
      if (columns.count(static_cast<int>(kernel))) continue;
      std::vector<size_t>& cols = columns[static_cast<int>(kernel)];
      for (int t = 0; t < kLatencyTerms; ++t)
        cols.push_back(latency_terms_used(kernel)[static_cast<size_t>(t)] ? n++ : SIZE_MAX);
    }
  Problem p;
  for (const LayerSample& l : layers) {
    std::vector<double> row(n, 0.0);
    for (const auto& [kernel, x] : l.parts) {
      const std::vector<size_t>& cols = columns[static_cast<int>(kernel)];
      for (size_t t = 0; t < x.size(); ++t)
        if (cols[t] != SIZE_MAX) row[cols[t]] += x[t];
    }
    p.x.push_back(std::move(row));
    p.y.push_back(l.y);
    p.scale.push_back(l.y);
  }
  const std::vector<double> c = solve(p, n);
  for (const auto& [kernel, cols] : columns) {
    LatencyRow row;
    row.target = target;
    row.kernel = static_cast<LatencyKernel>(kernel);
    for (size_t t = 0; t < cols.size(); ++t)
      if (cols[t] != SIZE_MAX) row.coefficients[t] = c[cols[t]];
    row.samples = counts[kernel];
    table.rows.push_back(row);
  }
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
    if (l.kind == LayerKind::Hardswish || l.kind == LayerKind::ChannelMul ||
        l.kind == LayerKind::Mul || l.kind == LayerKind::Logistic)
      return "se/hswish";
  return "default";
}

LatencyTable fit_latency(const std::vector<LatencyMeasurement>& measurements,
                         const std::string& origin) {
  std::map<int, std::vector<LayerSample>> layers;   // per target
  std::map<int, std::vector<LayerSample>> invokes;  // per target: total - sum of layers
  for (const LatencyMeasurement& m : measurements) {
    const Graph graph = lower_arch(m.arch);
    const MemoryPlan plan = plan_for_budget(graph, m.memory, m.max_sram);
    PICONAS_CHECK(m.layer_instructions.size() == graph.layers.size(),
                  m.run << ": " << m.layer_instructions.size()
                        << " measured layers, the lowering has " << graph.layers.size());
    const int target = static_cast<int>(m.target);
    double sum = 0;
    const std::vector<LatencyKernel> kernels = latency_kernels(graph, plan, m.target, m.max_sram);
    for (size_t i = 0; i < graph.layers.size(); ++i) {
      LayerSample l;
      l.y = m.layer_instructions[i];
      sum += l.y;
      l.parts.push_back({kernels[i], layer_features(graph, plan, i)});
      if (static_cast<int>(i) < plan.patch.layers)
        l.parts.push_back({LatencyKernel::WindowCopy, window_copy_features(graph, plan, i)});
      layers[target].push_back(std::move(l));
    }
    LayerSample invoke;
    invoke.parts.push_back({LatencyKernel::Invoke, invoke_features(graph)});
    invoke.y = m.total_instructions - sum;
    invokes[target].push_back(std::move(invoke));
  }
  LatencyTable table;
  table.origin = origin;
  for (auto& [target, list] : layers) {
    // An unpacked conv variant with fewer layers than terms is left out (its
    // layers too): its row would be underdetermined (3 unpacked stems on
    // cortex-m4 fitted 28,947 instructions per call); the estimate then takes
    // the packed row, as for a variant never measured.
    // A shape-chosen kernel (ConvWindow, DepthwisePlane, PixelMul) with fewer layers than
    // terms is fitted with the kernel the estimate then takes for it.
    const auto too_few = [](const std::map<int, int>& counts, LatencyKernel k) {
      const auto& used = latency_terms_used(k);
      const auto it = counts.find(static_cast<int>(k));
      return it == counts.end() || it->second < std::count(used.begin(), used.end(), true);
    };
    std::map<int, int> counts;
    for (const LayerSample& l : list) ++counts[static_cast<int>(l.parts.front().first)];
    for (LayerSample& l : list) {
      LatencyKernel& k = l.parts.front().first;
      if (k == LatencyKernel::ConvWindow && too_few(counts, k)) k = LatencyKernel::ConvIm2col;
      if (k == LatencyKernel::DepthwisePlane && too_few(counts, k)) k = LatencyKernel::Depthwise;
      if (k == LatencyKernel::PixelMul && too_few(counts, k)) k = LatencyKernel::Mul;
    }
    counts.clear();
    for (const LayerSample& l : list) ++counts[static_cast<int>(l.parts.front().first)];
    std::erase_if(list, [&](const LayerSample& l) {
      const LatencyKernel k = l.parts.front().first;
      const auto& used = latency_terms_used(k);
      const bool stand_in = k == LatencyKernel::ConvIm2col || k == LatencyKernel::ConvPointwise;
      return stand_in && counts[static_cast<int>(k)] < std::count(used.begin(), used.end(), true);
    });
    fit_target(static_cast<McuTarget>(target), list, table);
    fit_target(static_cast<McuTarget>(target), invokes[target], table);
  }
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
    case LatencyKernel::Mul:
      return "Mul";
    case LatencyKernel::Logistic:
      return "Logistic";
    case LatencyKernel::PixelMul:
      return "PixelMul";
    case LatencyKernel::WindowCopy:
      return "WindowCopy";
    case LatencyKernel::Invoke:
      return "Invoke";
    case LatencyKernel::MaxPool:
      return "MaxPool";
    case LatencyKernel::AvgPool:
      return "AvgPool";
    case LatencyKernel::ConvWindow:
      return "ConvWindow";
    case LatencyKernel::DepthwisePlane:
      return "DepthwisePlane";
  }
  return "?";
}

}  // namespace

std::string latency_table_source(const LatencyTable& table) {
  std::ostringstream o;
  o << "// Generated by bench/latency_calibrate.sh (bench_latency fit): " << table.origin << "\n"
    << "// Do not edit; rerun the script after changing the int8 kernels or "
       "the emitter.\n"
    << "// Coefficients of [1, MACs, output elements, input elements, output "
       "pixels, window\n"
    << "// elements, output elements x k, output elements x k x k, output "
       "channels, output\n"
    << "// channels x output rows, idle MACs, weights, taps, idle pair MACs] per target and\n"
    << "// kernel variant (nas/deploy/latency.h).\n"
    << "#include \"nas/deploy/latency.h\"\n\nnamespace piconas::nas::deploy "
       "{\n\n"
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
  o << "      }};\n  return table;\n}\n\n}  // namespace "
       "piconas::nas::deploy\n";
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
  o << "| model | target | plan | MACs | measured instructions | predicted | "
       "error |\n"
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
  o << "\n| target | plan | models | mean error | mean abs error | max abs "
       "error | within 5 % | "
       "within 10 % |\n"
    << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [target, list] : errors) {
    const std::string name = mcu_board(static_cast<McuTarget>(target)).name;
    distribution_row(o, name, "all", list);
    for (const auto& [key, kind_list] : by_kind)
      if (key.first == target) distribution_row(o, name, key.second, kind_list);
  }
  o << "\nBudget margins of the table (largest held-out under-prediction; a "
       "latency budget "
       "admits predicted x (1 + margin)):\n\n| target | margin | held-out "
       "models |\n|---|---:|---:|\n";
  for (const LatencyMargin& m : table.margins) {
    std::snprintf(line, sizeof line, "| %s | %+.1f %% | %d |\n", mcu_board(m.target).name,
                  100 * m.under_prediction, m.models);
    o << line;
  }
  return o.str();
}

}  // namespace piconas::nas::deploy
