#include "data/dataset.h"

#include <filesystem>

#include "core/error.h"
#include "core/parallel.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/image.h"
#include "data/image_folder.h"

namespace piconas::data {

void Dataset::validate() const {
  PICONAS_CHECK(count >= 0 && channels > 0 && height > 0 && width > 0,
                "dataset: bad shape [" << count << ", " << channels << ", " << height << ", "
                                       << width << "]");
  PICONAS_CHECK(static_cast<int64_t>(images.size()) == count * image_size(),
                "dataset: images hold " << images.size() << " bytes, shape [" << count << ", "
                                        << channels << ", " << height << ", " << width
                                        << "] needs " << count * image_size());
  PICONAS_CHECK(static_cast<int64_t>(labels.size()) == count,
                "dataset: " << labels.size() << " labels for " << count << " images");
  PICONAS_CHECK(num_classes > 0 && static_cast<int>(class_names.size()) == num_classes,
                "dataset: num_classes " << num_classes << " but " << class_names.size()
                                        << " class names");
  for (int64_t i = 0; i < count; ++i)
    PICONAS_CHECK(labels[i] >= 0 && labels[i] < num_classes,
                  "dataset: label of item " << i << " is " << labels[i] << ", outside [0, "
                                            << num_classes << ")");
}

DatasetKind parse_dataset_kind(const std::string& name) {
  for (DatasetKind kind : {DatasetKind::FashionMnist, DatasetKind::Mnist, DatasetKind::Cifar10,
                           DatasetKind::Folder})
    if (name == dataset_kind_name(kind)) return kind;
  throw Error("unknown dataset kind '" + name + "' (expected fashion-mnist, mnist, cifar10, folder)");
}

const char* dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::FashionMnist: return "fashion-mnist";
    case DatasetKind::Mnist: return "mnist";
    case DatasetKind::Cifar10: return "cifar10";
    case DatasetKind::Folder: return "folder";
  }
  throw Error("dataset_kind_name: invalid DatasetKind value");
}

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "test") return Split::Test;
  throw Error("unknown split '" + name + "' (expected train, test)");
}

const char* split_name(Split split) { return split == Split::Train ? "train" : "test"; }

std::string default_dataset_path(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::FashionMnist: return "/usr/share/datasets/fashion-mnist";
    case DatasetKind::Mnist: return "/usr/share/datasets/mnist";
    case DatasetKind::Cifar10: return "/usr/share/datasets/cifar-10-batches-bin";
    case DatasetKind::Folder: return "";
  }
  throw Error("default_dataset_path: invalid DatasetKind value");
}

Dataset convert_dataset(const Dataset& dataset, int channels, int height, int width) {
  int c = channels > 0 ? channels : dataset.channels;
  int h = height > 0 ? height : dataset.height;
  int w = width > 0 ? width : dataset.width;
  Dataset out;
  out.count = dataset.count;
  out.channels = c;
  out.height = h;
  out.width = w;
  out.labels = dataset.labels;
  out.num_classes = dataset.num_classes;
  out.class_names = dataset.class_names;
  out.skipped_files = dataset.skipped_files;
  if (c == dataset.channels && h == dataset.height && w == dataset.width) {
    out.images = dataset.images;
    return out;
  }
  out.images.resize(static_cast<size_t>(out.count * out.image_size()));
  int64_t src_pixels = static_cast<int64_t>(dataset.height) * dataset.width;
  // Validate once on the calling thread so no exception starts inside the parallel loop.
  convert_channels(dataset.image(0), dataset.channels, 0, out.image(0), c);
  if (h != dataset.height || w != dataset.width)
    PICONAS_CHECK(dataset.height <= 32 * h && dataset.width <= 32 * w,
                  "convert_dataset: shrink factor above 32 (" << dataset.height << "x"
                                                              << dataset.width << " to " << h
                                                              << "x" << w << ")");
  parallel_for(0, out.count, [&](int64_t i) {
    std::vector<uint8_t> converted(static_cast<size_t>(c) * src_pixels);
    convert_channels(dataset.image(i), dataset.channels, src_pixels, converted.data(), c);
    if (h == dataset.height && w == dataset.width)
      std::copy(converted.begin(), converted.end(), out.image(i));
    else
      resize_bilinear(converted.data(), c, dataset.height, dataset.width, out.image(i), h, w);
  });
  return out;
}

Dataset load_dataset(const DatasetSpec& spec) {
  std::string path = spec.path.empty() ? default_dataset_path(spec.kind) : spec.path;
  PICONAS_CHECK(spec.channels == 0 || spec.channels == 1 || spec.channels == 3,
                "load_dataset: channels must be 0 (native), 1 or 3, got " << spec.channels);
  PICONAS_CHECK(spec.resolution >= 0 && spec.width >= 0 && (spec.width == 0 || spec.resolution > 0),
                "load_dataset: bad resolution " << spec.resolution << " x width " << spec.width);
  const int width = spec.width > 0 ? spec.width : spec.resolution;
  Dataset dataset;
  switch (spec.kind) {
    case DatasetKind::FashionMnist:
    case DatasetKind::Mnist:
      dataset = load_mnist_dir(path, spec.kind, spec.split);
      break;
    case DatasetKind::Cifar10:
      dataset = load_cifar10(path, spec.split);
      break;
    case DatasetKind::Folder: {
      PICONAS_CHECK(!path.empty(), "load_dataset: a folder dataset needs a path");
      PICONAS_CHECK(spec.resolution > 0, "load_dataset: folder dataset '"
                                             << path << "' needs a resolution > 0");
      std::error_code ec;
      std::filesystem::path split_dir = std::filesystem::path(path) / split_name(spec.split);
      std::string root = path;
      if (std::filesystem::is_directory(split_dir, ec))
        root = split_dir.string();
      else
        PICONAS_CHECK(spec.split == Split::Train &&
                          !std::filesystem::is_directory(std::filesystem::path(path) / "test", ec),
                      "load_dataset: folder dataset '" << path << "' has no '" << split_name(spec.split)
                                                       << "' subfolder; split the train data "
                                                       << "with split_train_val instead");
      FolderOptions options;
      options.channels = spec.channels > 0 ? spec.channels : 3;
      options.height = spec.resolution;
      options.width = width;
      options.skip_corrupt = spec.skip_corrupt;
      return load_image_folder(root, options);
    }
  }
  dataset.validate();
  return convert_dataset(dataset, spec.channels, spec.resolution, width);
}

void set_resolution(DatasetSpec& spec, const std::string& text, const std::string& what) {
  // Sides up to 16384 (the largest model input, nas/arch/arch_spec.h), no signs or spaces.
  auto side = [&](const std::string& digits) {
    const bool ok = !digits.empty() && digits.size() <= 5 &&
                    digits.find_first_not_of("0123456789") == std::string::npos;
    const int v = ok ? std::stoi(digits) : -1;
    PICONAS_CHECK(v >= 0 && v <= 16384, what << ": '" << text
                                             << "' is not a size (N or HxW, sides 0..16384)");
    return v;
  };
  const size_t x = text.find('x');
  if (x == std::string::npos) {
    spec.resolution = side(text);
    spec.width = 0;
    return;
  }
  spec.resolution = side(text.substr(0, x));
  spec.width = side(text.substr(x + 1));
  PICONAS_CHECK(spec.resolution > 0 && spec.width > 0,
                what << ": '" << text << "' needs both sides > 0");
  if (spec.width == spec.resolution) spec.width = 0;
}

}  // namespace piconas::data
