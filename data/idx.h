// IDX loader (MNIST, Fashion-MNIST): the big-endian format of yann.lecun.com/exdb/mnist.
// images file: magic 2051 (0x00000803), count, rows, cols, then count*rows*cols uint8 pixels;
// labels file: magic 2049 (0x00000801), count, then count uint8 labels.
// Files may be gzip-compressed or plain. Every problem (wrong magic, truncated or oversized
// file, zero dimension, image/label count mismatch, label >= num_classes) throws Error naming
// the file and the field.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace piconas::data {

// One grey channel, rows x cols images.
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::vector<std::string> class_names);
// The same from file contents already in memory (already decompressed); the names stand for
// the files in error messages.
Dataset decode_idx(const std::vector<uint8_t>& image_bytes, const std::string& images_name,
                   const std::vector<uint8_t>& label_bytes, const std::string& labels_name,
                   std::vector<std::string> class_names);

// Loads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte, taking the ".gz" name when it
// exists and the plain name otherwise. kind is FashionMnist or Mnist (sets the class names).
Dataset load_mnist_dir(const std::string& dir, DatasetKind kind, Split split);

// "T-shirt/top", "Trouser", ... for Fashion-MNIST; "0".."9" for MNIST.
std::vector<std::string> mnist_class_names(DatasetKind kind);

}  // namespace piconas::data
