#include "nas/pipeline/svg_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/svg.h"

namespace piconas::nas::pipeline {

namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 30, kBottom = 58;

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

svg::Axes plot_area(int width, int height, double x0, double x1, double y0,
                    double y1) {
  return svg::Axes::make(kLeft, kTop, width - kLeft - kRight,
                         height - kTop - kBottom, x0, x1, y0, y1);
}

std::string head(const std::string &title, int width, int height,
                 const svg::Axes &axes, const std::string &y_label) {
  return svg::open(width, height, 11) + svg::title(width, title) +
         svg::y_ticks(axes, svg::round_ticks(axes.y.data_lo, axes.y.data_hi),
                      num, true) +
         svg::frame(axes) + svg::y_label(axes, y_label);
}

} // namespace

std::string line_plot_svg(const std::string &title, const std::string &x_label,
                          const std::string &y_label,
                          const std::vector<LineSeries> &series, int width,
                          int height) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const LineSeries &s : series)
    for (const auto &[x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y),
        y1 = std::max(y1, y);
      }
  if (!std::isfinite(x0))
    x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12)
    x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12)
    y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  const svg::Axes axes = plot_area(width, height, x0, x1, y0 - pad, y1 + pad);
  std::string s = head(title, width, height, axes, y_label) +
                  svg::x_ticks(axes, svg::round_ticks(x0, x1), num) +
                  svg::x_label(axes, x_label);
  double legend_x = kLeft;
  for (const LineSeries &line : series) {
    std::vector<std::pair<double, double>> points;
    for (const auto &[x, y] : line.points)
      if (std::isfinite(x) && std::isfinite(y))
        points.emplace_back(axes.x(x), axes.y(y));
    s += svg::polyline(points, line.color, 2, line.dashed);
    for (const auto &[x, y] : points)
      s += svg::circle(x, y, 2.5, line.color);
    const double ly = height - 8;
    s += svg::line(legend_x, ly - 4, legend_x + 18, ly - 4, line.color, 2,
                   line.dashed);
    s += svg::text(legend_x + 22, ly, line.name);
    legend_x += 30 + 6.5 * static_cast<double>(line.name.size());
  }
  return s + svg::close();
}

std::string bar_plot_svg(const std::string &title, const std::string &y_label,
                         const std::vector<std::string> &labels,
                         const std::vector<double> &values,
                         const std::string &color, int width, int height) {
  double top = 0;
  for (double v : values)
    if (std::isfinite(v))
      top = std::max(top, v);
  if (top <= 0)
    top = 1;
  const svg::Axes axes = plot_area(
      width, height, 0, static_cast<double>(std::max<size_t>(values.size(), 1)),
      0, top * 1.05);
  std::string s = head(title, width, height, axes, y_label);
  const double slot = axes.x(1) - axes.x(0);
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = std::isfinite(values[i]) ? values[i] : 0.0;
    const std::string label = i < labels.size() ? labels[i] : "";
    s += svg::bar(axes.x(static_cast<double>(i)) + 0.15 * slot, axes.y(v),
                  0.7 * slot, axes.y(0) - axes.y(v), color,
                  label + ": " + num(v));
    if (i < labels.size()) {
      const double cx = axes.x(static_cast<double>(i) + 0.5);
      s += svg::rotated_text(cx + 3, axes.bottom() + 6, -60, labels[i], "end",
                             9);
    }
  }
  return s + svg::close();
}

} // namespace piconas::nas::pipeline
