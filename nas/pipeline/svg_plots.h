// Hand-written SVG 1.1 plots for the run report (no scripts, no external
// resources; the primitives shared with the search and DNAS plots are in
// core/svg.h):
//   line_plot_svg  one panel of line series against a shared x axis (training
//   curves); bar_plot_svg   one panel of vertical bars with a label per bar
//   (per-layer SRAM / flash).
// Axes start at zero for bars and span the data for lines; non-finite points
// are skipped. Text is XML-escaped. Numbers in tick labels use at most 4
// significant digits.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/svg.h"

namespace piconas::nas::pipeline {

struct LineSeries {
  std::string name;
  std::string color;                             // CSS colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points; // (x, y)
  bool dashed = false;
};

std::string line_plot_svg(const std::string &title, const std::string &x_label,
                          const std::string &y_label,
                          const std::vector<LineSeries> &series,
                          int width = 480, int height = 300);

std::string bar_plot_svg(const std::string &title, const std::string &y_label,
                         const std::vector<std::string> &labels,
                         const std::vector<double> &values,
                         const std::string &color, int width = 640,
                         int height = 300);

} // namespace piconas::nas::pipeline
