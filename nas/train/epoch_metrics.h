// The per-epoch metrics of a training run as JSON (checkpoint "train_state" and summary.json)
// and as metrics.csv; internal to nas/train (trainer.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nas/train/trainer.h"

namespace piconas::nas::train {

// NaN validation numbers (no validation part) are JSON null and empty CSV fields.
nlohmann::json metrics_json(const EpochMetrics& m);
EpochMetrics metrics_from_json(const nlohmann::json& j);
std::string metrics_csv(const std::vector<EpochMetrics>& history);

}  // namespace piconas::nas::train
