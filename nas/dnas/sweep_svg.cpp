// sweep_svg: the Pareto plot of a lambda sweep (declared in dnas_run.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/svg.h"
#include "nas/dnas/dnas_run.h"

namespace piconas::nas::dnas {

namespace {
constexpr double kWidth = 640, kHeight = 420, kLeft = 70, kRight = 20, kTop = 40, kBottom = 60;
}  // namespace

std::string sweep_svg(const std::vector<RunPoint>& points, CostKind cost,
                      const std::string& title) {
  auto x_of = [&](const RunPoint& p) {
    return std::log10(
        static_cast<double>(std::max<int64_t>(1, cost == CostKind::Params ? p.params : p.macs)));
  };
  double x0 = 1e300, x1 = -1e300, y0 = 1.0, y1 = 0.0;
  for (const RunPoint& p : points) {
    x0 = std::min(x0, x_of(p));
    x1 = std::max(x1, x_of(p));
    y0 = std::min(y0, p.test_accuracy);
    y1 = std::max(y1, p.test_accuracy);
  }
  if (points.empty()) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  x0 -= 0.05, x1 += 0.05, y0 = std::max(0.0, y0 - 0.02), y1 = std::min(1.0, y1 + 0.02);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto sx = [&](double v) { return kLeft + (v - x0) / (x1 - x0) * pw; };
  auto sy = [&](double v) { return kTop + (1.0 - (v - y0) / (y1 - y0)) * ph; };
  // Front: no other point is at most as costly and strictly more accurate.
  std::vector<const RunPoint*> front;
  for (const RunPoint& p : points) {
    bool dominated = false;
    for (const RunPoint& q : points)
      if (&q != &p && x_of(q) <= x_of(p) && q.test_accuracy > p.test_accuracy) dominated = true;
    if (!dominated) front.push_back(&p);
  }
  std::sort(front.begin(), front.end(),
            [&](const RunPoint* a, const RunPoint* b) { return x_of(*a) < x_of(*b); });
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << kWidth
    << "\" height=\"" << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << xml_escape(title) << "</text>\n"
    << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
    s << "<text x=\"" << svg_px(sx(xv)) << "\" y=\"" << kHeight - kBottom + 18
      << "\" text-anchor=\"middle\">" << static_cast<long long>(std::llround(std::pow(10.0, xv)))
      << "</text>\n"
      << "<text x=\"" << kLeft - 6 << "\" y=\"" << svg_px(sy(yv) + 4) << "\" text-anchor=\"end\">"
      << svg_px(100 * yv) << "%</text>\n";
  }
  s << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kHeight - 15 << "\" text-anchor=\"middle\">"
    << (cost == CostKind::Params ? "parameters" : "MACs per image") << " (log scale)</text>\n"
    << "<text transform=\"translate(16," << kTop + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">"
    << "test accuracy after fine-tuning</text>\n";
  if (front.size() > 1) {
    s << "<polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"1.5\" points=\"";
    for (const RunPoint* p : front)
      s << svg_px(sx(x_of(*p))) << ',' << svg_px(sy(p->test_accuracy)) << ' ';
    s << "\"/>\n";
  }
  for (const RunPoint& p : points) {
    const bool on_front = std::find(front.begin(), front.end(), &p) != front.end();
    s << "<circle cx=\"" << svg_px(sx(x_of(p))) << "\" cy=\"" << svg_px(sy(p.test_accuracy))
      << "\" r=\"5\" fill=\"" << (on_front ? "#c33" : "#999") << "\"><title>" << xml_escape(p.arch)
      << "</title></circle>\n"
      << "<text x=\"" << svg_px(sx(x_of(p)) + 7) << "\" y=\"" << svg_px(sy(p.test_accuracy) - 7)
      << "\" font-size=\"10\">"
      << "&#955;=" << p.lambda << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace piconas::nas::dnas
