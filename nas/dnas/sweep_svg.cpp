// sweep_svg: the Pareto plot of a lambda sweep (declared in dnas_run.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/svg.h"
#include "nas/dnas/dnas_run.h"

namespace piconas::nas::dnas {

namespace {
constexpr double kWidth = 640, kHeight = 420, kLeft = 70, kRight = 20,
                 kTop = 40, kBottom = 60;
} // namespace

std::string sweep_svg(const std::vector<RunPoint> &points, CostKind cost,
                      const std::string &title) {
  auto x_of = [&](const RunPoint &p) {
    return std::log10(static_cast<double>(
        std::max<int64_t>(1, cost == CostKind::Params ? p.params : p.macs)));
  };
  double x0 = 1e300, x1 = -1e300, y0 = 1.0, y1 = 0.0;
  for (const RunPoint &p : points) {
    x0 = std::min(x0, x_of(p));
    x1 = std::max(x1, x_of(p));
    y0 = std::min(y0, p.test_accuracy);
    y1 = std::max(y1, p.test_accuracy);
  }
  if (points.empty())
    x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  x0 -= 0.05, x1 += 0.05, y0 = std::max(0.0, y0 - 0.02),
                          y1 = std::min(1.0, y1 + 0.02);
  const svg::Axes axes =
      svg::Axes::make(kLeft, kTop, kWidth - kLeft - kRight,
                      kHeight - kTop - kBottom, x0, x1, y0, y1);
  auto px = [&](const RunPoint &p) { return axes.x(x_of(p)); };
  auto py = [&](const RunPoint &p) { return axes.y(p.test_accuracy); };
  // Front: no other point is at most as costly and strictly more accurate.
  std::vector<const RunPoint *> front;
  for (const RunPoint &p : points) {
    bool dominated = false;
    for (const RunPoint &q : points)
      if (&q != &p && x_of(q) <= x_of(p) && q.test_accuracy > p.test_accuracy)
        dominated = true;
    if (!dominated)
      front.push_back(&p);
  }
  std::sort(front.begin(), front.end(),
            [&](const RunPoint *a, const RunPoint *b) {
              return x_of(*a) < x_of(*b);
            });
  std::string s = svg::open(kWidth, kHeight, 12) + svg::title(kWidth, title) +
                  svg::frame(axes);
  const std::vector<double> ticks_x = svg::even_ticks(x0, x1, 4),
                            ticks_y = svg::even_ticks(y0, y1, 4);
  s += svg::x_ticks(axes, ticks_x, [](double v) {
    return std::to_string(
        static_cast<long long>(std::llround(std::pow(10.0, v))));
  });
  s += svg::y_ticks(axes, ticks_y,
                    [](double v) { return svg_px(100 * v) + "%"; });
  s += svg::x_label(
      axes,
      std::string(cost == CostKind::Params ? "parameters" : "MACs per image") +
          " (log scale)");
  s += svg::y_label(axes, "test accuracy after fine-tuning");
  if (front.size() > 1) {
    std::vector<std::pair<double, double>> line;
    for (const RunPoint *p : front)
      line.emplace_back(px(*p), py(*p));
    s += svg::polyline(line, "#c33", 1.5);
  }
  for (const RunPoint &p : points) {
    const bool on_front =
        std::find(front.begin(), front.end(), &p) != front.end();
    std::ostringstream lambda;
    lambda << p.lambda;
    s += svg::circle(px(p), py(p), 5, on_front ? "#c33" : "#999", p.arch);
    s += svg::text(px(p) + 7, py(p) - 7, "\u03bb=" + lambda.str(), "", 10);
  }
  return s + svg::close();
}

} // namespace piconas::nas::dnas
