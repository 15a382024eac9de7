#include "core/setting_name.h"

#include <utility>

namespace piconas {

SettingName flag_names(std::map<std::string, std::string> renames) {
  return [renames = std::move(renames)](const std::string& member) {
    if (const auto it = renames.find(member); it != renames.end()) return it->second;
    std::string flag = "--" + member;
    for (char& ch : flag)
      if (ch == '_') ch = '-';
    return flag;
  };
}

SettingName prefixed_names(std::string prefix, std::map<std::string, std::string> renames,
                           std::string suffix) {
  return [prefix = std::move(prefix), renames = std::move(renames),
          suffix = std::move(suffix)](const std::string& member) {
    const auto it = renames.find(member);
    return prefix + (it != renames.end() ? it->second : member) + suffix;
  };
}

}  // namespace piconas
