#include "data/idx.h"

#include <algorithm>

#include "core/error.h"
#include "data/file_io.h"

namespace piconas::data {

namespace {

constexpr uint32_t kImagesMagic = 2051;
constexpr uint32_t kLabelsMagic = 2049;
// Fashion-MNIST's train images are 47 MB; a declared size above this is an error, not a
// reason to allocate.
constexpr uint64_t kMaxIdxPixelBytes = uint64_t{1} << 30;

// Reads big-endian uint32 field number `field` (0-based) of the header.
uint32_t header_field(const std::vector<uint8_t>& bytes, int field, const std::string& path,
                      const char* name) {
  size_t at = static_cast<size_t>(field) * 4;
  PICONAS_CHECK(bytes.size() >= at + 4, "IDX file '" << path << "' is truncated: header field '"
                                                     << name << "' missing (file has "
                                                     << bytes.size() << " bytes)");
  return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) |
         (uint32_t{bytes[at + 2]} << 8) | uint32_t{bytes[at + 3]};
}

void check_payload(const std::vector<uint8_t>& bytes, size_t header, uint64_t expected,
                   const std::string& path, const char* field) {
  uint64_t have = bytes.size() - header;
  PICONAS_CHECK(have >= expected, "IDX file '" << path << "' is truncated: field '" << field
                                               << "' needs " << expected << " bytes, found "
                                               << have);
  PICONAS_CHECK(have == expected, "IDX file '" << path << "' has " << (have - expected)
                                               << " unexpected bytes after field '" << field
                                               << "'");
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::vector<std::string> class_names) {
  PICONAS_CHECK(!class_names.empty(), "load_idx: no class names given");
  // The headers' declared sizes bound what is read (a gzip bomb stops one byte past them).
  const std::vector<uint8_t> head = read_file_head(images_path, 16);
  uint64_t pixels = 0;
  if (head.size() == 16) {
    const uint64_t count = header_field(head, 1, images_path, "count");
    const uint64_t plane = uint64_t{header_field(head, 2, images_path, "rows")} * header_field(head, 3, images_path, "cols");
    const bool too_large = __builtin_mul_overflow(count, plane, &pixels) || pixels > kMaxIdxPixelBytes;
    PICONAS_CHECK(!too_large, "IDX file '" << images_path << "' declares " << count << " images of " << plane
                                           << " pixels, over the limit of " << kMaxIdxPixelBytes << " bytes");
  }
  const std::vector<uint8_t> image_bytes = read_file_bytes(images_path, 16 + pixels + 1);
  // A short images header is reported by decode_idx; the labels are then read within the limit.
  const uint64_t labels = head.size() == 16 ? header_field(head, 1, images_path, "count") : kMaxIdxPixelBytes;
  const std::vector<uint8_t> label_bytes = read_file_bytes(labels_path, 8 + labels + 1);
  return decode_idx(image_bytes, images_path, label_bytes, labels_path, std::move(class_names));
}

Dataset decode_idx(const std::vector<uint8_t>& image_bytes, const std::string& images_path,
                   const std::vector<uint8_t>& label_bytes, const std::string& labels_path,
                   std::vector<std::string> class_names) {
  PICONAS_CHECK(!class_names.empty(), "decode_idx: no class names given");
  uint32_t magic = header_field(image_bytes, 0, images_path, "magic");
  PICONAS_CHECK(magic == kImagesMagic, "IDX file '" << images_path << "': field 'magic' is "
                                                    << magic << ", expected " << kImagesMagic
                                                    << " (images)");
  uint32_t count = header_field(image_bytes, 1, images_path, "count");
  uint32_t rows = header_field(image_bytes, 2, images_path, "rows");
  uint32_t cols = header_field(image_bytes, 3, images_path, "cols");
  PICONAS_CHECK(count > 0 && rows > 0 && cols > 0 && rows <= 65536 && cols <= 65536,
                "IDX file '" << images_path << "': bad dimensions count=" << count
                             << " rows=" << rows << " cols=" << cols);
  check_payload(image_bytes, 16, uint64_t{count} * rows * cols, images_path, "pixels");

  uint32_t label_magic = header_field(label_bytes, 0, labels_path, "magic");
  PICONAS_CHECK(label_magic == kLabelsMagic, "IDX file '" << labels_path << "': field 'magic' is "
                                                          << label_magic << ", expected "
                                                          << kLabelsMagic << " (labels)");
  uint32_t label_count = header_field(label_bytes, 1, labels_path, "count");
  PICONAS_CHECK(label_count == count, "IDX file '" << labels_path << "': field 'count' is "
                                                   << label_count << " but '" << images_path
                                                   << "' holds " << count << " images");
  check_payload(label_bytes, 8, count, labels_path, "labels");

  Dataset dataset;
  dataset.count = count;
  dataset.channels = 1;
  dataset.height = static_cast<int>(rows);
  dataset.width = static_cast<int>(cols);
  dataset.num_classes = static_cast<int>(class_names.size());
  dataset.class_names = std::move(class_names);
  dataset.images.assign(image_bytes.begin() + 16, image_bytes.end());
  dataset.labels.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    int32_t label = label_bytes[8 + i];
    PICONAS_CHECK(label < dataset.num_classes, "IDX file '" << labels_path << "': field 'label' "
                                                            << "of item " << i << " is " << label
                                                            << ", outside [0, "
                                                            << dataset.num_classes << ")");
    dataset.labels[i] = label;
  }
  return dataset;
}

std::vector<std::string> mnist_class_names(DatasetKind kind) {
  if (kind == DatasetKind::FashionMnist)
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  PICONAS_CHECK(kind == DatasetKind::Mnist,
                "mnist_class_names: '" << dataset_kind_name(kind) << "' is not an IDX dataset");
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

Dataset load_mnist_dir(const std::string& dir, DatasetKind kind, Split split) {
  std::string prefix = dir + "/" + (split == Split::Train ? "train" : "t10k");
  auto pick = [](const std::string& base) {
    return file_exists(base + ".gz") || !file_exists(base) ? base + ".gz" : base;
  };
  return load_idx(pick(prefix + "-images-idx3-ubyte"), pick(prefix + "-labels-idx1-ubyte"),
                  mnist_class_names(kind));
}

}  // namespace piconas::data
