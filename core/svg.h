// The shared primitives of piconas's hand-written SVG 1.1 plots (search pareto.svg, the DNAS
// sweep plot, the run report's line and bar plots): one text escape and one coordinate format.
#pragma once
#include <string>

namespace piconas {

// &, <, >, " escaped for XML / HTML.
std::string xml_escape(const std::string& text);
// A coordinate with one decimal: 12.25 -> "12.2" (printf "%.1f").
std::string svg_px(double v);

}  // namespace piconas
