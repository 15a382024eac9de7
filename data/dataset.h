// Dataset: a labelled image set held in memory, decoded once.
// Images are uint8 in NCHW order ([count, channels, height, width], one contiguous buffer);
// labels are int32 in [0, num_classes). Loaders (IDX, CIFAR-10, image folders) all produce
// this one type; load_dataset() picks the loader from a typed DatasetSpec and converts the
// result to the requested channel count and resolution.
// Folder layout for DatasetKind::Folder: <path>/<split>/<class>/*.{jpg,jpeg,png,bmp} when a
// "train"/"test" subfolder exists, otherwise <path>/<class>/... is the train split and asking
// for the test split is an error (split it yourself with split_train_val). A folder with a
// "test" but no "train" subfolder is an error for both splits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace piconas::data {

struct Dataset {
  int64_t count = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> images;  // [count, channels, height, width]
  std::vector<int32_t> labels;  // [count]
  int num_classes = 0;
  std::vector<std::string> class_names;  // [num_classes]
  // Files left out while loading (image folders with skip_corrupt only).
  std::vector<std::string> skipped_files;

  int64_t image_size() const { return static_cast<int64_t>(channels) * height * width; }
  const uint8_t* image(int64_t index) const { return images.data() + index * image_size(); }
  uint8_t* image(int64_t index) { return images.data() + index * image_size(); }
  // Throws Error unless sizes agree and every label is in [0, num_classes).
  void validate() const;
};

enum class DatasetKind { FashionMnist, Mnist, Cifar10, Folder };
enum class Split { Train, Test };

// "fashion-mnist", "mnist", "cifar10", "folder"; unknown names throw Error.
DatasetKind parse_dataset_kind(const std::string& name);
const char* dataset_kind_name(DatasetKind kind);
Split parse_split(const std::string& name);  // "train" | "test"
const char* split_name(Split split);

struct DatasetSpec {
  DatasetKind kind = DatasetKind::FashionMnist;
  std::string path;  // empty: default_dataset_path(kind) (required for folders)
  Split split = Split::Train;
  int channels = 0;    // 1 or 3; 0 keeps the native count (3 for folders)
  int resolution = 0;  // square side in pixels; 0 keeps the native size (required for folders)
  int width = 0;       // > 0: resize to resolution (the height) x width instead, a non-square size
  bool skip_corrupt = false;  // folders: skip unreadable images instead of throwing

  bool operator==(const DatasetSpec&) const = default;
};

// /usr/share/datasets/fashion-mnist, /usr/share/datasets/mnist,
// /usr/share/datasets/cifar-10-batches-bin; "" for folders.
std::string default_dataset_path(DatasetKind kind);

Dataset load_dataset(const DatasetSpec& spec);

// Sets spec.resolution (and spec.width) from "N" (a square side, 0: native) or "HxW" (e.g.
// "49x10" for a 49x10 model input); throws Error naming `what` on anything else.
void set_resolution(DatasetSpec& spec, const std::string& text, const std::string& what);

// A copy of dataset with `channels` channels (1 <-> 3: replicate grey, or ITU-R BT.601 luma)
// and every image resized to height x width with resize_bilinear. 0 keeps that property.
Dataset convert_dataset(const Dataset& dataset, int channels, int height, int width);

}  // namespace piconas::data
