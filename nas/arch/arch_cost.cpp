#include "nas/arch/arch_cost.h"

#include <algorithm>
#include <array>

#include "core/error.h"

namespace piconas::nas {

namespace {

std::string pad_left(const std::string& s, size_t width) {
  return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
}
std::string pad_right(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

ArchCost arch_cost(const ArchSpec& spec) {
  ArchCost total;
  for (const LayerInfo& layer : arch_layers(spec)) {
    total.params += layer.params;
    total.macs += layer.macs;
  }
  return total;
}

std::string format_layer_table(const ArchSpec& spec) {
  const std::vector<LayerInfo> layers = arch_layers(spec);
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"layer", "type", "output", "params", "MACs"});
  ArchCost total;
  for (const LayerInfo& layer : layers) {
    rows.push_back({layer.name, layer.type, shape3_str(layer.output), std::to_string(layer.params),
                    std::to_string(layer.macs)});
    total.params += layer.params;
    total.macs += layer.macs;
  }
  rows.push_back({"total", "", "", std::to_string(total.params), std::to_string(total.macs)});
  std::array<size_t, 5> width{};
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  size_t line_width = 0;
  for (size_t w : width) line_width += w;
  line_width += 2 * (width.size() - 1);
  const std::string rule(line_width, '-');
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r == 1 || r + 1 == rows.size()) out += rule + "\n";
    std::string line = pad_right(rows[r][0], width[0]) + "  " + pad_right(rows[r][1], width[1]) +
                       "  " + pad_right(rows[r][2], width[2]) + "  " +
                       pad_left(rows[r][3], width[3]) + "  " + pad_left(rows[r][4], width[4]);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace piconas::nas
