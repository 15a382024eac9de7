// The piconas subcommands. Each registers its CLI11 subcommand and the callback that runs it;
// library errors (piconas::Error) propagate to main, which prints them and exits non-zero.
#pragma once
#include <CLI/CLI.hpp>

namespace piconas::apps {

void register_demo(CLI::App& app);
void register_dnas(CLI::App& app);
void register_export(CLI::App& app);
void register_search(CLI::App& app);
void register_score(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_info(CLI::App& app);

}  // namespace piconas::apps
