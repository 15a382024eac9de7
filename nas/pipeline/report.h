// The run report of `piconas run`: report.md and report.html in the run directory, built from
// the stage results (<out>/stages/*.json, see pipeline.h). Every number is stated next to the
// piconas command line that reproduces it (run from the directory `piconas run` ran in); wall
// times, the only numbers that are not reproducible, are in their own section.
//
// Plots (hand-written SVG, svg_plots.h), written next to the reports and embedded inline in
// report.html (report.md links them): search/pareto.svg (from the search), training_curves.svg
// (loss and accuracy per epoch of the winner and the shortlist), layer_sram.svg and
// layer_flash.svg (footprint.h).
#pragma once
#include <map>
#include <nlohmann/json.hpp>

#include "nas/pipeline/pipeline.h"

namespace piconas::nas::pipeline {

// Writes the files; returns {"files": [...]}.
nlohmann::json write_run_report(const PipelineConfig& config, const std::map<Stage, nlohmann::json>& results);

}  // namespace piconas::nas::pipeline
