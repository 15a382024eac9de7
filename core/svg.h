// The one plotting helper of piconas's hand-written SVG 1.1 plots (search
// pareto.svg, the DNAS sweep plot, the run report's line and bar plots): the
// document, the plot area with its two linear scales, ticks, the frame, axis
// labels and the marks (points, lines, bars, text). Every coordinate is printed
// by svg_px and every text is XML-escaped here; the plotters only choose what
// to draw. No scripts, no external resources.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace piconas {

// &, <, >, " escaped for XML / HTML.
std::string xml_escape(const std::string &text);
// A coordinate with one decimal: 12.25 -> "12.2" (printf "%.1f").
std::string svg_px(double v);

namespace svg {

// A linear map of the data interval [data_lo, data_hi] onto the pixel interval
// [px_lo, px_hi]. A y scale passes the bottom pixel as px_lo, so larger values
// are drawn higher.
struct Scale {
  double data_lo, data_hi, px_lo, px_hi;
  double operator()(double v) const;
};

// The plot area in pixels and the scales of its two axes. `inset` keeps the
// data range that many pixels inside the frame on every side (points on the
// extremes are not cut by it).
struct Axes {
  double left, top, width, height;
  Scale x, y;
  static Axes make(double left, double top, double width, double height,
                   double x_lo, double x_hi, double y_lo, double y_hi,
                   double inset = 0);
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

// intervals + 1 evenly spaced values from lo to hi, both included.
std::vector<double> even_ticks(double lo, double hi, int intervals);
// About five round values (1, 2 or 5 times a power of ten) inside [lo, hi]; lo
// < hi.
std::vector<double> round_ticks(double lo, double hi);

using Label = std::function<std::string(double)>;

// <svg ...> of width x height and its white background.
std::string open(double width, double height, int font_size);
std::string close();
// A text at (x, y); anchor "" (start), "middle" or "end"; font_size 0 keeps the
// document's.
std::string text(double x, double y, const std::string &content,
                 const std::string &anchor = "", int font_size = 0);
// A text rotated by `degrees` (negative: counter-clockwise) about its anchor
// point (x, y).
std::string rotated_text(double x, double y, double degrees,
                         const std::string &content, const std::string &anchor,
                         int font_size = 0);
// The plot title, centred above the plot area.
std::string title(double width, const std::string &content);
// The frame around the plot area.
std::string frame(const Axes &axes);
// A label under each x tick and left of each y tick; y_grid draws a light line
// at each y tick.
std::string x_ticks(const Axes &axes, const std::vector<double> &values,
                    const Label &label);
std::string y_ticks(const Axes &axes, const std::vector<double> &values,
                    const Label &label, bool y_grid = false);
// The axis titles: under the x axis, and rotated left of the y axis.
std::string x_label(const Axes &axes, const std::string &content);
std::string y_label(const Axes &axes, const std::string &content);
// Marks in pixel coordinates. `tooltip` becomes a <title>; `stroke` "" draws no
// outline.
std::string circle(double x, double y, double r, const std::string &fill,
                   const std::string &tooltip = "",
                   const std::string &stroke = "");
std::string polyline(const std::vector<std::pair<double, double>> &points,
                     const std::string &stroke, double stroke_width,
                     bool dashed = false);
std::string line(double x1, double y1, double x2, double y2,
                 const std::string &stroke, double stroke_width = 1,
                 bool dashed = false);
std::string bar(double x, double y, double width, double height,
                const std::string &fill, const std::string &tooltip);

} // namespace svg
} // namespace piconas
