// How an error message names a setting. A validation function (check_search_settings,
// check_train_settings, check_export_options) names each field by its member name ("batch_size")
// and asks its caller's SettingName for the spelling that caller's user knows: the command
// line's "--batch", a run configuration's "config key 'batch'", a library caller's
// "train: batch size". So one function checks the ranges, and every message still names the
// flag or key the user typed, with the value.
#pragma once
#include <functional>
#include <map>
#include <string>

namespace piconas {

using SettingName = std::function<std::string(const std::string& member)>;

// "--" + the member with '_' -> '-', unless `renames` maps the member to its flag.
SettingName flag_names(std::map<std::string, std::string> renames = {});
// prefix + renames[member] (the member itself when absent), e.g. ("config key '", "'").
SettingName prefixed_names(std::string prefix, std::map<std::string, std::string> renames = {},
                           std::string suffix = "");

}  // namespace piconas
