#include "nas/train/epoch_metrics.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace piconas::nas::train {

namespace {
nlohmann::json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::json() : nlohmann::json(value);
}
double number_or_nan(const nlohmann::json& value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

}  // namespace

nlohmann::json metrics_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"lr", m.lr},
          {"train_loss", m.train_loss},
          {"train_accuracy", m.train_accuracy},
          {"val_loss", number_or_null(m.val_loss)},
          {"val_accuracy", number_or_null(m.val_accuracy)},
          {"images_per_second", m.images_per_second},
          {"seconds", m.seconds}};
}

EpochMetrics metrics_from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.lr = j.at("lr").get<double>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_accuracy = j.at("train_accuracy").get<double>();
  m.val_loss = number_or_nan(j.at("val_loss"));
  m.val_accuracy = number_or_nan(j.at("val_accuracy"));
  m.images_per_second = j.at("images_per_second").get<double>();
  m.seconds = j.at("seconds").get<double>();
  return m;
}

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::ostringstream out;
  out << "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,images_per_second,seconds\n";
  out.precision(9);
  for (const EpochMetrics& m : history) {
    out << m.epoch << ',' << m.lr << ',' << m.train_loss << ',' << m.train_accuracy << ',';
    if (!std::isnan(m.val_loss)) out << m.val_loss;
    out << ',';
    if (!std::isnan(m.val_accuracy)) out << m.val_accuracy;
    out << ',' << m.images_per_second << ',' << m.seconds << '\n';
  }
  return out.str();
}

}  // namespace piconas::nas::train
