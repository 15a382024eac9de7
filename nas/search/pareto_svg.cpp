#include "nas/search/pareto_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/svg.h"

namespace piconas::nas::search {

namespace {

constexpr double kPanelWidth = 420, kPanelHeight = 320, kMargin = 60;

std::string fmt(const char *format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

struct Point {
  double cost, score;
  bool best;
};

// A value printed short: 1.2k, 3.4M.
std::string short_number(double v) {
  if (std::fabs(v) >= 1e9)
    return fmt("%.3gG", v / 1e9);
  if (std::fabs(v) >= 1e6)
    return fmt("%.3gM", v / 1e6);
  if (std::fabs(v) >= 1e3)
    return fmt("%.3gk", v / 1e3);
  return fmt("%.3g", v);
}

std::string panel(const std::vector<Point> &points, double x0,
                  const std::string &label) {
  double cmin = 0, cmax = 1, smin = 0, smax = 1;
  if (!points.empty()) {
    cmin = cmax = points[0].cost;
    smin = smax = points[0].score;
  }
  for (const Point &p : points) {
    cmin = std::min(cmin, p.cost);
    cmax = std::max(cmax, p.cost);
    smin = std::min(smin, p.score);
    smax = std::max(smax, p.score);
  }
  if (cmax <= cmin)
    cmax = cmin + 1;
  if (smax <= smin)
    smax = smin + 1;
  const double top = 30;
  const svg::Axes axes =
      svg::Axes::make(x0 + kMargin, top, kPanelWidth - kMargin - 20,
                      kPanelHeight - top - 50, cmin, cmax, smin, smax, 8);
  std::string out = svg::frame(axes) + svg::x_label(axes, label) +
                    svg::y_label(axes, "aggregate");
  if (points.empty())
    return out;
  out += svg::x_ticks(axes, svg::even_ticks(cmin, cmax, 2), short_number);
  out += svg::y_ticks(axes, svg::even_ticks(smin, smax, 2), short_number);
  const Point *best = nullptr;
  for (const Point &p : points) {
    bool dominated = false;
    for (const Point &q : points)
      dominated |= q.cost <= p.cost && q.score > p.score;
    out += svg::circle(axes.x(p.cost), axes.y(p.score), 3,
                       dominated ? "#9db8d9" : "#1f4e8c");
    if (p.best)
      best = &p;
  }
  if (best)
    out += svg::circle(axes.x(best->cost), axes.y(best->score), 6, "#d62728",
                       "chosen", "black");
  return out;
}

} // namespace

std::string pareto_svg(const SearchResult &result) {
  std::vector<Point> by_macs, by_sram;
  const auto &history = result.state.history;
  for (size_t i = 0; i < history.size(); ++i) {
    if (!history[i].feasible || !std::isfinite(result.aggregates[i]))
      continue;
    const bool best = static_cast<int64_t>(i) == result.best;
    by_macs.push_back({static_cast<double>(history[i].cost.macs),
                       result.aggregates[i], best});
    by_sram.push_back({static_cast<double>(history[i].cost.peak_sram),
                       result.aggregates[i], best});
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += svg::open(2 * kPanelWidth, kPanelHeight, 13);
  out += svg::text(10, 18,
                   "piconas search: " + std::to_string(by_macs.size()) +
                       " feasible candidates, chosen in red");
  out += panel(by_macs, 0, "MACs per image");
  out += panel(by_sram, kPanelWidth, "peak SRAM (bytes, int8 estimate)");
  out += svg::close();
  return out;
}

} // namespace piconas::nas::search
