#include "data/cifar.h"

#include "core/error.h"
#include "data/file_io.h"

namespace piconas::data {

namespace {
constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = 1 + kPixels;
}  // namespace

std::vector<std::string> cifar10_class_names() {
  return {"airplane", "automobile", "bird", "cat", "deer",
          "dog",      "frog",       "horse", "ship", "truck"};
}

namespace {

Dataset empty_cifar10() {
  Dataset dataset;
  dataset.channels = 3;
  dataset.height = 32;
  dataset.width = 32;
  dataset.class_names = cifar10_class_names();
  dataset.num_classes = static_cast<int>(dataset.class_names.size());
  return dataset;
}

void append_records(Dataset& dataset, const std::vector<uint8_t>& bytes, const std::string& path) {
  int64_t size = static_cast<int64_t>(bytes.size());
  PICONAS_CHECK(size > 0, "CIFAR-10 file '" << path << "' is empty");
  PICONAS_CHECK(size % kRecord == 0,
                "CIFAR-10 file '" << path << "' is truncated or damaged: " << size
                                  << " bytes is not a whole number of " << kRecord
                                  << "-byte records (record " << size / kRecord
                                  << " has only " << size % kRecord << " bytes)");
  int64_t records = size / kRecord;
  dataset.images.reserve(dataset.images.size() + records * kPixels);
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = bytes.data() + r * kRecord;
    PICONAS_CHECK(record[0] < dataset.num_classes, "CIFAR-10 file '" << path << "': label of record "
                                                                     << r << " is "
                                                                     << int{record[0]}
                                                                     << ", outside [0, 10)");
    dataset.labels.push_back(record[0]);
    dataset.images.insert(dataset.images.end(), record + 1, record + kRecord);
  }
  dataset.count += records;
}

}  // namespace

Dataset load_cifar10_files(const std::vector<std::string>& paths) {
  PICONAS_CHECK(!paths.empty(), "load_cifar10_files: no files given");
  Dataset dataset = empty_cifar10();
  for (const std::string& path : paths) append_records(dataset, read_file_bytes(path), path);
  return dataset;
}

Dataset decode_cifar10(const std::vector<uint8_t>& bytes, const std::string& source) {
  Dataset dataset = empty_cifar10();
  append_records(dataset, bytes, source);
  return dataset;
}

Dataset load_cifar10(const std::string& dir, Split split) {
  std::vector<std::string> paths;
  if (split == Split::Train) {
    for (int i = 1; i <= 5; ++i) paths.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  } else {
    paths.push_back(dir + "/test_batch.bin");
  }
  return load_cifar10_files(paths);
}

}  // namespace piconas::data
