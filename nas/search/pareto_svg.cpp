#include "nas/search/pareto_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "core/svg.h"

namespace piconas::nas::search {

namespace {

constexpr double kPanelWidth = 420, kPanelHeight = 320, kMargin = 60;

std::string fmt(const char* format, double v) {
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
  if (std::fabs(v) >= 1e9) return fmt("%.3gG", v / 1e9);
  if (std::fabs(v) >= 1e6) return fmt("%.3gM", v / 1e6);
  if (std::fabs(v) >= 1e3) return fmt("%.3gk", v / 1e3);
  return fmt("%.3g", v);
}

std::string panel(const std::vector<Point>& points, double x0, const std::string& label) {
  std::string out;
  const double left = x0 + kMargin, top = 30, width = kPanelWidth - kMargin - 20,
               height = kPanelHeight - top - 50;
  out += "<rect x=\"" + svg_px(left) + "\" y=\"" + svg_px(top) + "\" width=\"" +
         svg_px(width) + "\" height=\"" + svg_px(height) +
         "\" fill=\"none\" stroke=\"#444\"/>\n";
  out += "<text x=\"" + svg_px(left + width / 2) + "\" y=\"" + svg_px(top + height + 40) +
         "\" text-anchor=\"middle\">" + label + "</text>\n";
  out += "<text x=\"" + svg_px(x0 + 15) + "\" y=\"" + svg_px(top + height / 2) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 " + svg_px(x0 + 15) + " " +
         svg_px(top + height / 2) + ")\">aggregate</text>\n";
  if (points.empty()) return out;
  double cmin = points[0].cost, cmax = cmin, smin = points[0].score, smax = smin;
  for (const Point& p : points) {
    cmin = std::min(cmin, p.cost);
    cmax = std::max(cmax, p.cost);
    smin = std::min(smin, p.score);
    smax = std::max(smax, p.score);
  }
  const double cspan = cmax > cmin ? cmax - cmin : 1, sspan = smax > smin ? smax - smin : 1;
  auto x = [&](double c) { return left + 8 + (width - 16) * (c - cmin) / cspan; };
  auto y = [&](double s) { return top + height - 8 - (height - 16) * (s - smin) / sspan; };
  for (int t = 0; t <= 2; ++t) {
    const double c = cmin + cspan * t / 2, s = smin + sspan * t / 2;
    out += "<text x=\"" + svg_px(x(c)) + "\" y=\"" + svg_px(top + height + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + short_number(c) + "</text>\n";
    out += "<text x=\"" + svg_px(left - 4) + "\" y=\"" + svg_px(y(s) + 4) +
           "\" text-anchor=\"end\" font-size=\"11\">" + short_number(s) + "</text>\n";
  }
  const Point* best = nullptr;
  for (const Point& p : points) {
    bool dominated = false;
    for (const Point& q : points) dominated |= q.cost <= p.cost && q.score > p.score;
    out += "<circle cx=\"" + svg_px(x(p.cost)) + "\" cy=\"" + svg_px(y(p.score)) +
           "\" r=\"3\" fill=\"" + (dominated ? "#9db8d9" : "#1f4e8c") + "\"/>\n";
    if (p.best) best = &p;
  }
  if (best)
    out += "<circle cx=\"" + svg_px(x(best->cost)) + "\" cy=\"" + svg_px(y(best->score)) +
           "\" r=\"6\" fill=\"#d62728\" stroke=\"black\"><title>chosen</title></circle>\n";
  return out;
}

}  // namespace

std::string pareto_svg(const SearchResult& result) {
  std::vector<Point> by_macs, by_sram;
  const auto& history = result.state.history;
  for (size_t i = 0; i < history.size(); ++i) {
    if (!history[i].feasible || !std::isfinite(result.aggregates[i])) continue;
    const bool best = static_cast<int64_t>(i) == result.best;
    by_macs.push_back({static_cast<double>(history[i].cost.macs), result.aggregates[i], best});
    by_sram.push_back({static_cast<double>(history[i].cost.peak_sram), result.aggregates[i], best});
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         fmt("%.0f", 2 * kPanelWidth) + "\" height=\"" + fmt("%.0f", kPanelHeight) +
         "\" font-family=\"sans-serif\" font-size=\"13\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"10\" y=\"18\">piconas search: " + std::to_string(by_macs.size()) +
         " feasible candidates, chosen in red</text>\n";
  out += panel(by_macs, 0, "MACs per image");
  out += panel(by_sram, kPanelWidth, "peak SRAM (bytes, int8 estimate)");
  out += "</svg>\n";
  return out;
}

}  // namespace piconas::nas::search
