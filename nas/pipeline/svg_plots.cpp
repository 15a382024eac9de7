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

// About five round ticks covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) out.push_back(std::fabs(t) < 1e-12 * step ? 0.0 : t);
  return out;
}

std::string header(const std::string& title, int width, int height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(width) +
         "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" "
         "height=\"100%\" fill=\"white\"/>\n<text x=\"" + svg_px(width / 2.0) +
         "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(title) + "</text>\n";
}

struct Frame {
  double x0, x1, y0, y1;  // data ranges
  double w, h;            // svg size
  double sx(double x) const { return kLeft + (x - x0) / (x1 - x0) * (w - kLeft - kRight); }
  double sy(double y) const { return h - kBottom - (y - y0) / (y1 - y0) * (h - kTop - kBottom); }
};

std::string y_axis(const Frame& f, const std::string& y_label) {
  std::string s;
  for (double t : ticks(f.y0, f.y1)) {
    s += "<line x1=\"" + svg_px(kLeft) + "\" x2=\"" + svg_px(f.w - kRight) + "\" y1=\"" + svg_px(f.sy(t)) + "\" y2=\"" +
         svg_px(f.sy(t)) + "\" stroke=\"#e0e0e0\"/>\n";
    s += "<text x=\"" + svg_px(kLeft - 4) + "\" y=\"" + svg_px(f.sy(t) + 4) + "\" text-anchor=\"end\">" + num(t) + "</text>\n";
  }
  s += "<line x1=\"" + svg_px(kLeft) + "\" x2=\"" + svg_px(kLeft) + "\" y1=\"" + svg_px(kTop) + "\" y2=\"" +
       svg_px(f.h - kBottom) + "\" stroke=\"black\"/>\n";
  s += "<line x1=\"" + svg_px(kLeft) + "\" x2=\"" + svg_px(f.w - kRight) + "\" y1=\"" + svg_px(f.h - kBottom) + "\" y2=\"" +
       svg_px(f.h - kBottom) + "\" stroke=\"black\"/>\n";
  s += "<text transform=\"translate(14 " + svg_px((kTop + f.h - kBottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(y_label) + "</text>\n";
  return s;
}

}  // namespace


std::string line_plot_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<LineSeries>& series, int width, int height) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const LineSeries& s : series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  const Frame f{x0, x1, y0 - pad, y1 + pad, static_cast<double>(width), static_cast<double>(height)};
  std::string s = header(title, width, height) + y_axis(f, y_label);
  for (double t : ticks(x0, x1))
    s += "<text x=\"" + svg_px(f.sx(t)) + "\" y=\"" + svg_px(height - kBottom + 14) + "\" text-anchor=\"middle\">" +
         num(t) + "</text>\n";
  s += "<text x=\"" + svg_px((kLeft + width - kRight) / 2) + "\" y=\"" + svg_px(height - kBottom + 30) +
       "\" text-anchor=\"middle\">" + xml_escape(x_label) + "</text>\n";
  double legend_x = kLeft;
  for (const LineSeries& line : series) {
    std::string points;
    for (const auto& [x, y] : line.points)
      if (std::isfinite(x) && std::isfinite(y)) points += svg_px(f.sx(x)) + "," + svg_px(f.sy(y)) + " ";
    const std::string dash = line.dashed ? " stroke-dasharray=\"5,3\"" : "";
    s += "<polyline fill=\"none\" stroke=\"" + line.color + "\" stroke-width=\"2\"" + dash + " points=\"" + points +
         "\"/>\n";
    for (const auto& [x, y] : line.points)
      if (std::isfinite(x) && std::isfinite(y))
        s += "<circle cx=\"" + svg_px(f.sx(x)) + "\" cy=\"" + svg_px(f.sy(y)) + "\" r=\"2.5\" fill=\"" + line.color + "\"/>\n";
    const double ly = height - 12;
    s += "<line x1=\"" + svg_px(legend_x) + "\" x2=\"" + svg_px(legend_x + 18) + "\" y1=\"" + svg_px(ly - 4) + "\" y2=\"" +
         svg_px(ly - 4) + "\" stroke=\"" + line.color + "\" stroke-width=\"2\"" + dash + "/>\n";
    s += "<text x=\"" + svg_px(legend_x + 22) + "\" y=\"" + svg_px(ly) + "\">" + xml_escape(line.name) + "</text>\n";
    legend_x += 30 + 6.5 * static_cast<double>(line.name.size());
  }
  return s + "</svg>\n";
}

std::string bar_plot_svg(const std::string& title, const std::string& y_label, const std::vector<std::string>& labels,
                         const std::vector<double>& values, const std::string& color, int width, int height) {
  double top = 0;
  for (double v : values)
    if (std::isfinite(v)) top = std::max(top, v);
  if (top <= 0) top = 1;
  const Frame f{0, static_cast<double>(std::max<size_t>(values.size(), 1)), 0, top * 1.05,
                static_cast<double>(width), static_cast<double>(height)};
  std::string s = header(title, width, height) + y_axis(f, y_label);
  const double slot = f.sx(1) - f.sx(0);
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = std::isfinite(values[i]) ? values[i] : 0.0;
    const double x = f.sx(static_cast<double>(i)) + 0.15 * slot;
    s += "<rect x=\"" + svg_px(x) + "\" y=\"" + svg_px(f.sy(v)) + "\" width=\"" + svg_px(0.7 * slot) + "\" height=\"" +
         svg_px(f.sy(0) - f.sy(v)) + "\" fill=\"" + color + "\"><title>" +
         xml_escape((i < labels.size() ? labels[i] : "") + ": " + num(v)) + "</title></rect>\n";
    if (i < labels.size()) {
      const double cx = f.sx(static_cast<double>(i) + 0.5);
      s += "<text transform=\"translate(" + svg_px(cx + 3) + " " + svg_px(height - kBottom + 6) +
           ") rotate(-60)\" text-anchor=\"end\" font-size=\"9\">" + xml_escape(labels[i]) + "</text>\n";
    }
  }
  return s + "</svg>\n";
}

}  // namespace piconas::nas::pipeline
