// core/svg: the plotting helper shared by pareto.svg, the DNAS sweep plot and
// the run report.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/svg.h"

namespace svg = piconas::svg;

TEST_CASE(
    "svg: text and coordinates are escaped and printed with one decimal") {
  CHECK(piconas::xml_escape("a<b & \"c\">") ==
        "a&lt;b &amp; &quot;c&quot;&gt;");
  CHECK(piconas::svg_px(12.25) == "12.2");
  CHECK(piconas::svg_px(-3) == "-3.0");
  CHECK(svg::text(1, 2.25, "x<y", "end", 9) ==
        "<text x=\"1.0\" y=\"2.2\" text-anchor=\"end\" "
        "font-size=\"9\">x&lt;y</text>\n");
}

TEST_CASE(
    "svg: the y scale puts larger values higher, the x scale further right") {
  // Plot area x 100..300, y 50..250; data x 0..10, y 0..1.
  const svg::Axes axes = svg::Axes::make(100, 50, 200, 200, 0, 10, 0, 1);
  CHECK(axes.x(0) == doctest::Approx(100));
  CHECK(axes.x(10) == doctest::Approx(300));
  CHECK(axes.x(2.5) == doctest::Approx(150));
  CHECK(axes.y(0) == doctest::Approx(250)); // the bottom of the frame
  CHECK(axes.y(1) == doctest::Approx(50));  // the top
  CHECK(axes.y(0.25) == doctest::Approx(200));
  CHECK(axes.bottom() == 250);
  CHECK(axes.right() == 300);
  // An inset keeps the data range 8 px inside the frame on every side.
  const svg::Axes inset = svg::Axes::make(100, 50, 200, 200, 0, 10, 0, 1, 8);
  CHECK(inset.x(0) == doctest::Approx(108));
  CHECK(inset.x(10) == doctest::Approx(292));
  CHECK(inset.y(0) == doctest::Approx(242));
  CHECK(inset.y(1) == doctest::Approx(58));
}

TEST_CASE("svg: ticks") {
  CHECK(svg::even_ticks(2, 4, 4) == std::vector<double>{2, 2.5, 3, 3.5, 4});
  // Round ticks: steps of 1, 2 or 5 times a power of ten, inside the range,
  // ends included.
  CHECK(svg::round_ticks(0, 10) == std::vector<double>{0, 2, 4, 6, 8, 10});
  const std::vector<double> unit =
      svg::round_ticks(0, 1); // step 0.2, 1 itself included
  REQUIRE(unit.size() == 6);
  for (size_t i = 0; i < unit.size(); ++i)
    CHECK(unit[i] == doctest::Approx(0.2 * i));
  const std::vector<double> wide =
      svg::round_ticks(3, 47); // raw step 8.8 -> 10
  CHECK(wide == std::vector<double>{10, 20, 30, 40});
  const std::vector<double> around_zero =
      svg::round_ticks(-0.3, 0.3); // step 0.2, no -0.0
  REQUIRE(around_zero.size() == 3);
  CHECK(around_zero[0] == doctest::Approx(-0.2));
  CHECK(around_zero[1] == 0.0);
  CHECK(around_zero[2] == doctest::Approx(0.2));
}

TEST_CASE("svg: tick labels sit under the x axis and left of the y axis at the "
          "scaled values") {
  const svg::Axes axes = svg::Axes::make(100, 50, 200, 200, 0, 10, 0, 1);
  const svg::Label label = [](double v) { return piconas::svg_px(v); };
  CHECK(svg::x_ticks(axes, {5}, label) ==
        "<text x=\"200.0\" y=\"266.0\" text-anchor=\"middle\" "
        "font-size=\"11\">5.0</text>\n");
  CHECK(svg::y_ticks(axes, {0.75}, label) ==
        "<text x=\"96.0\" y=\"104.0\" text-anchor=\"end\" "
        "font-size=\"11\">0.8</text>\n");
  const std::string grid = svg::y_ticks(axes, {0.5}, label, true);
  CHECK(grid.rfind("<line x1=\"100.0\" y1=\"150.0\" x2=\"300.0\" y2=\"150.0\" "
                   "stroke=\"#e0e0e0\"",
                   0) == 0);
}

TEST_CASE("svg: frame, labels and marks") {
  const svg::Axes axes = svg::Axes::make(100, 50, 200, 200, 0, 10, 0, 1);
  CHECK(svg::frame(axes) == "<rect x=\"100.0\" y=\"50.0\" width=\"200.0\" "
                            "height=\"200.0\" fill=\"none\" "
                            "stroke=\"#444\"/>\n");
  CHECK(svg::x_label(axes, "MACs") ==
        "<text x=\"200.0\" y=\"284.0\" text-anchor=\"middle\">MACs</text>\n");
  CHECK(svg::y_label(axes, "a&b") ==
        "<text transform=\"translate(54.0 150.0) rotate(-90.0)\" "
        "text-anchor=\"middle\">a&amp;b"
        "</text>\n");
  CHECK(svg::circle(1, 2, 3, "red") ==
        "<circle cx=\"1.0\" cy=\"2.0\" r=\"3.0\" fill=\"red\"/>\n");
  CHECK(svg::circle(1, 2, 3, "red", "a<b", "black") ==
        "<circle cx=\"1.0\" cy=\"2.0\" r=\"3.0\" fill=\"red\" "
        "stroke=\"black\"><title>a&lt;b"
        "</title></circle>\n");
  CHECK(svg::polyline({{1, 2}, {3, 4}}, "#c33", 1.5, true) ==
        "<polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"1.5\" "
        "stroke-dasharray=\"5,3\" "
        "points=\"1.0,2.0 3.0,4.0 \"/>\n");
  CHECK(svg::bar(1, 2, 3, 4, "blue", "conv: 5") ==
        "<rect x=\"1.0\" y=\"2.0\" width=\"3.0\" height=\"4.0\" "
        "fill=\"blue\"><title>conv: 5"
        "</title></rect>\n");
  const std::string doc = svg::open(640, 420, 12) + svg::close();
  CHECK(doc.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                  "width=\"640.0\"",
                  0) == 0);
  CHECK(doc.find("viewBox=\"0 0 640.0 420.0\"") != std::string::npos);
  CHECK(doc.substr(doc.size() - 7) == "</svg>\n");
}
