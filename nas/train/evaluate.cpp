#include <algorithm>
#include "nas/train/evaluate.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "autograd/functions.h"
#include "autograd/layers.h"
#include "data/loader.h"

namespace piconas::nas::train {

namespace {
// Restores a module's training flag when the scope ends (also on exceptions).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(autograd::Module& module) : module_(module), was_training_(module.training()) {
    module_.set_training(false);
  }
  ~EvalModeGuard() { module_.set_training(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  autograd::Module& module_;
  bool was_training_;
};
}  // namespace

std::vector<int32_t> predicted_classes(const Tensor& logits) {
  PICONAS_CHECK(logits.ndim() == 2 && logits.dim(1) > 0,
                "predicted_classes: logits must be [N, K], got " << shape_str(logits.shape()));
  const int64_t n = logits.dim(0), k = logits.dim(1);
  std::vector<int32_t> out(static_cast<size_t>(n));
  dispatch_dtype(logits.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* v = logits.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < k; ++c)
        if (v[i * k + c] > v[i * k + best]) best = c;
      out[static_cast<size_t>(i)] = static_cast<int32_t>(best);
    }
  });
  return out;
}

EvalResult evaluate(autograd::Module& module, const data::Dataset& dataset,
                    const data::Normalization& normalization, const std::vector<int64_t>& indices,
                    int64_t batch_size) {
  std::vector<int64_t> items = indices;
  if (items.empty()) {
    items.resize(static_cast<size_t>(dataset.count));
    std::iota(items.begin(), items.end(), int64_t{0});
  }
  const int k = dataset.num_classes;
  PICONAS_CHECK(k > 0, "evaluate: the data set has no classes");
  data::LoaderOptions options;
  PICONAS_CHECK(batch_size > 0, "evaluate: batch size must be > 0, got " << batch_size);
  // A batch beyond the data set is one batch of everything (and allocates no more).
  options.batch_size = std::min(batch_size, static_cast<int64_t>(items.size()));
  options.shuffle = false;
  data::Loader loader(dataset, items, options, normalization);

  EvalResult result;
  result.num_classes = k;
  result.confusion.assign(static_cast<size_t>(k) * k, 0);
  double loss_sum = 0;
  EvalModeGuard eval_mode(module);
  autograd::NoGradGuard no_grad;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    autograd::Variable logits = module(autograd::Variable(batch->images));
    const int64_t n = batch->images.dim(0);
    PICONAS_CHECK(logits.shape() == (Shape{n, k}),
                  "evaluate: the model outputs " << shape_str(logits.shape()) << " for a batch of " << n
                                                 << " images, expected " << shape_str({n, k})
                                                 << " (the data set has " << k << " classes)");
    loss_sum += autograd::softmax_cross_entropy(logits, batch->labels).value().get(0) * static_cast<double>(n);
    std::vector<int32_t> predicted = predicted_classes(logits.value());
    for (int64_t i = 0; i < n; ++i) ++result.confusion[static_cast<size_t>(batch->labels[i]) * k + predicted[i]];
    result.count += n;
  }
  int64_t correct = 0;
  result.per_class_accuracy.assign(k, std::numeric_limits<double>::quiet_NaN());
  result.per_class_count.assign(k, 0);
  for (int t = 0; t < k; ++t) {
    int64_t row = 0;
    for (int p = 0; p < k; ++p) row += result.confusion_at(t, p);
    result.per_class_count[t] = row;
    correct += result.confusion_at(t, t);
    if (row > 0) result.per_class_accuracy[t] = static_cast<double>(result.confusion_at(t, t)) / row;
  }
  PICONAS_CHECK(result.count == static_cast<int64_t>(items.size()),
                "evaluate: evaluated " << result.count << " of " << items.size() << " images");
  result.accuracy = static_cast<double>(correct) / static_cast<double>(result.count);
  result.loss = loss_sum / static_cast<double>(result.count);
  return result;
}

int64_t recalibrate_batchnorm(autograd::Module& module, const data::Dataset& dataset,
                              const data::Normalization& normalization, const std::vector<int64_t>& indices,
                              int64_t batch_size, int64_t batches, uint64_t seed, int64_t round) {
  std::vector<autograd::BatchNorm2d*> norms;
  module.visit([&](autograd::Module& m) {
    if (auto* bn = dynamic_cast<autograd::BatchNorm2d*>(&m)) norms.push_back(bn);
  });
  if (norms.empty() || batches <= 0) return 0;
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.seed = seed;
  options.shuffle = true;
  options.drop_last = static_cast<int64_t>(indices.size()) >= batch_size;
  data::Loader loader(dataset, indices, options, normalization);
  std::vector<double> momenta;
  for (autograd::BatchNorm2d* bn : norms) momenta.push_back(bn->state.momentum);
  bool was_training = module.training();
  module.set_training(true);
  int64_t images = 0;
  try {
    autograd::NoGradGuard no_grad;
    loader.start_epoch(round);
    int64_t done = 0;
    while (done < batches) {
      std::optional<data::Batch> batch = loader.next();
      if (!batch) break;
      // momentum 1 / (i + 1) at batch i: the running value becomes the mean over batches 0..i.
      for (autograd::BatchNorm2d* bn : norms) bn->state.momentum = 1.0 / static_cast<double>(done + 1);
      module(autograd::Variable(batch->images));
      images += batch->images.dim(0);
      ++done;
    }
  } catch (...) {
    for (size_t i = 0; i < norms.size(); ++i) norms[i]->state.momentum = momenta[i];
    module.set_training(was_training);
    throw;
  }
  for (size_t i = 0; i < norms.size(); ++i) norms[i]->state.momentum = momenta[i];
  module.set_training(was_training);
  return images;
}

nlohmann::json eval_result_json(const EvalResult& result, const std::vector<std::string>& class_names) {
  nlohmann::json per_class = nlohmann::json::array();
  nlohmann::json matrix = nlohmann::json::array();
  for (int t = 0; t < result.num_classes; ++t) {
    double acc = result.per_class_accuracy[t];
    per_class.push_back({{"class", t < static_cast<int>(class_names.size()) ? class_names[t] : std::to_string(t)},
                         {"count", result.per_class_count[t]},
                         {"accuracy", std::isnan(acc) ? nlohmann::json() : nlohmann::json(acc)}});
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < result.num_classes; ++p) row.push_back(result.confusion_at(t, p));
    matrix.push_back(row);
  }
  return {{"count", result.count},       {"accuracy", result.accuracy}, {"loss", result.loss},
          {"per_class", per_class},      {"class_names", class_names},
          {"confusion_matrix", matrix},  {"confusion_layout", "rows: true class, columns: predicted class"}};
}

void check_data_matches(const data::Dataset& dataset, const ArchSpec& arch, const std::string& what) {
  PICONAS_CHECK(dataset.channels == arch.input.c && dataset.height == arch.input.h && dataset.width == arch.input.w,
                what << " has " << dataset.channels << "x" << dataset.height << "x" << dataset.width
                     << " images (channels x height x width) but the model expects " << shape3_str(arch.input)
                     << "; convert the data (--channels, --resolution) or change the architecture's in=");
  PICONAS_CHECK(dataset.num_classes == arch.num_classes,
                what << " has " << dataset.num_classes << " classes but the model has " << arch.num_classes
                     << "; change the architecture's classes=");
}

data::DatasetSpec data_spec_for(const data::DatasetSpec& spec, const ArchSpec& arch) {
  data::DatasetSpec out = spec;
  if (out.kind == data::DatasetKind::Folder && out.resolution == 0) {
    out.resolution = static_cast<int>(arch.input.h);
    out.width = arch.input.w != arch.input.h ? static_cast<int>(arch.input.w) : 0;
  }
  return out;
}

}  // namespace piconas::nas::train
