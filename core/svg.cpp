#include "core/svg.h"

#include <cmath>
#include <cstdio>

namespace piconas {

std::string xml_escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string svg_px(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

namespace svg {

namespace {

constexpr double kTickGap = 4;     // pixels between a y tick label and the axis
constexpr double kXTickDrop = 16;  // x tick label baseline under the axis
constexpr double kXLabelDrop = 34; // x axis title baseline under the axis
constexpr double kYLabelOffset = 46; // y axis title left of the axis
constexpr int kTickFontSize = 11;

std::string attr(const char *name, double v) {
  return std::string(" ") + name + "=\"" + svg_px(v) + "\"";
}

std::string tooltip_and_close(const char *element, const std::string &tooltip) {
  if (tooltip.empty())
    return "/>\n";
  return "><title>" + xml_escape(tooltip) + "</title></" + element + ">\n";
}

} // namespace

double Scale::operator()(double v) const {
  return px_lo + (v - data_lo) / (data_hi - data_lo) * (px_hi - px_lo);
}

Axes Axes::make(double left, double top, double width, double height,
                double x_lo, double x_hi, double y_lo, double y_hi,
                double inset) {
  return {left,
          top,
          width,
          height,
          {x_lo, x_hi, left + inset, left + width - inset},
          {y_lo, y_hi, top + height - inset, top + inset}};
}

std::vector<double> even_ticks(double lo, double hi, int intervals) {
  std::vector<double> out;
  for (int i = 0; i <= intervals; ++i)
    out.push_back(lo + (hi - lo) * i / intervals);
  return out;
}

std::vector<double> round_ticks(double lo, double hi) {
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
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step)
    out.push_back(std::fabs(t) < 1e-12 * step ? 0.0 : t);
  return out;
}

std::string open(double width, double height, int font_size) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         svg_px(width) + "\" height=\"" + svg_px(height) + "\" viewBox=\"0 0 " +
         svg_px(width) + " " + svg_px(height) +
         "\" font-family=\"sans-serif\" font-size=\"" +
         std::to_string(font_size) +
         "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

std::string close() { return "</svg>\n"; }

std::string text(double x, double y, const std::string &content,
                 const std::string &anchor, int font_size) {
  std::string out = "<text" + attr("x", x) + attr("y", y);
  if (!anchor.empty())
    out += " text-anchor=\"" + anchor + "\"";
  if (font_size > 0)
    out += " font-size=\"" + std::to_string(font_size) + "\"";
  return out + ">" + xml_escape(content) + "</text>\n";
}

std::string rotated_text(double x, double y, double degrees,
                         const std::string &content, const std::string &anchor,
                         int font_size) {
  std::string out = "<text transform=\"translate(" + svg_px(x) + " " +
                    svg_px(y) + ") rotate(" + svg_px(degrees) +
                    ")\" text-anchor=\"" + anchor + "\"";
  if (font_size > 0)
    out += " font-size=\"" + std::to_string(font_size) + "\"";
  return out + ">" + xml_escape(content) + "</text>\n";
}

std::string title(double width, const std::string &content) {
  return text(width / 2, 18, content, "middle", 14);
}

std::string frame(const Axes &axes) {
  return "<rect" + attr("x", axes.left) + attr("y", axes.top) +
         attr("width", axes.width) + attr("height", axes.height) +
         " fill=\"none\" stroke=\"#444\"/>\n";
}

std::string x_ticks(const Axes &axes, const std::vector<double> &values,
                    const Label &label) {
  std::string out;
  for (double v : values)
    out += text(axes.x(v), axes.bottom() + kXTickDrop, label(v), "middle",
                kTickFontSize);
  return out;
}

std::string y_ticks(const Axes &axes, const std::vector<double> &values,
                    const Label &label, bool y_grid) {
  std::string out;
  for (double v : values) {
    if (y_grid)
      out += line(axes.left, axes.y(v), axes.right(), axes.y(v), "#e0e0e0");
    out += text(axes.left - kTickGap, axes.y(v) + 4, label(v), "end",
                kTickFontSize);
  }
  return out;
}

std::string x_label(const Axes &axes, const std::string &content) {
  return text(axes.left + axes.width / 2, axes.bottom() + kXLabelDrop, content,
              "middle");
}

std::string y_label(const Axes &axes, const std::string &content) {
  return rotated_text(axes.left - kYLabelOffset, axes.top + axes.height / 2,
                      -90, content, "middle");
}

std::string circle(double x, double y, double r, const std::string &fill,
                   const std::string &tooltip, const std::string &stroke) {
  std::string out = "<circle" + attr("cx", x) + attr("cy", y) + attr("r", r) +
                    " fill=\"" + fill + "\"";
  if (!stroke.empty())
    out += " stroke=\"" + stroke + "\"";
  return out + tooltip_and_close("circle", tooltip);
}

std::string polyline(const std::vector<std::pair<double, double>> &points,
                     const std::string &stroke, double stroke_width,
                     bool dashed) {
  std::string coordinates;
  for (const auto &[x, y] : points)
    coordinates += svg_px(x) + "," + svg_px(y) + " ";
  return "<polyline fill=\"none\" stroke=\"" + stroke + "\"" +
         attr("stroke-width", stroke_width) +
         (dashed ? " stroke-dasharray=\"5,3\"" : "") + " points=\"" +
         coordinates + "\"/>\n";
}

std::string line(double x1, double y1, double x2, double y2,
                 const std::string &stroke, double stroke_width, bool dashed) {
  return "<line" + attr("x1", x1) + attr("y1", y1) + attr("x2", x2) +
         attr("y2", y2) + " stroke=\"" + stroke + "\"" +
         attr("stroke-width", stroke_width) +
         (dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
}

std::string bar(double x, double y, double width, double height,
                const std::string &fill, const std::string &tooltip) {
  return "<rect" + attr("x", x) + attr("y", y) + attr("width", width) +
         attr("height", height) + " fill=\"" + fill + "\"" +
         tooltip_and_close("rect", tooltip);
}

} // namespace svg
} // namespace piconas
