// Evaluation of a classifier on a Dataset, and the checks that a data set fits a model.
//
// evaluate() runs the module in eval mode without gradients, batch by batch, normalising the
// uint8 images exactly as training does ((pixel / 255 - mean[c]) / std[c]). It reports the
// accuracy, the mean cross-entropy, per-class accuracy and the confusion matrix
// ([true class][predicted class], row-major). Ties between logits go to the lower class index.
// Results do not depend on the batch size beyond float rounding of the loss.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/module.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/normalize.h"
#include "nas/arch/arch_spec.h"

namespace piconas::nas::train {

struct EvalResult {
  int64_t count = 0;
  int num_classes = 0;
  double accuracy = 0;
  double loss = 0;                         // mean cross-entropy (no label smoothing)
  std::vector<double> per_class_accuracy;  // NaN for a class without samples
  std::vector<int64_t> per_class_count;
  std::vector<int64_t> confusion;  // [true class][predicted class], row-major K x K
  int64_t confusion_at(int truth, int predicted) const {
    return confusion[static_cast<size_t>(truth) * num_classes + predicted];
  }
};

// The arg-max class of each row of [N, K] logits (float or double); ties go to the lower index.
std::vector<int32_t> predicted_classes(const Tensor& logits);

// Runs the module in eval mode without gradients over dataset (all images, or `indices`), with
// normalisation as in training. The module must output [N, dataset.num_classes] logits.
// The module's training flag is restored afterwards.
EvalResult evaluate(autograd::Module& module, const data::Dataset& dataset,
                    const data::Normalization& normalization, const std::vector<int64_t>& indices = {},
                    int64_t batch_size = 256);
// "Precise BatchNorm": re-estimates every BatchNorm2d's running statistics for the current
// weights as the plain average of the batch statistics over `batches` batches (training-mode
// forward passes without gradients, no augmentation, order seeded by (seed, round)). The
// running averages of a short or fast-moving run lag behind the weights and can make eval-mode
// accuracy far worse than training accuracy; this removes the lag. Momenta are restored after.
// Returns the number of images used.
int64_t recalibrate_batchnorm(autograd::Module& module, const data::Dataset& dataset,
                              const data::Normalization& normalization, const std::vector<int64_t>& indices,
                              int64_t batch_size, int64_t batches, uint64_t seed, int64_t round);

nlohmann::json eval_result_json(const EvalResult& result, const std::vector<std::string>& class_names);

// Throws Error unless the dataset's images are arch.input (channels and resolution, naming
// both) and its class count equals arch.num_classes. `what` names the data in the message.
void check_data_matches(const data::Dataset& dataset, const ArchSpec& arch, const std::string& what);
// The spec with channels/resolution defaults filled in for this model (folders: the model's
// resolution), so load_dataset returns images the model can take.
data::DatasetSpec data_spec_for(const data::DatasetSpec& spec, const ArchSpec& arch);

}  // namespace piconas::nas::train
