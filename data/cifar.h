// CIFAR-10 binary loader (the "CIFAR-10 binary version" of www.cs.toronto.edu/~kriz/cifar.html).
// Each record is 1 label byte followed by 3072 pixel bytes: the 32x32 red plane, then green,
// then blue — already CHW. Train = data_batch_1.bin .. data_batch_5.bin, test = test_batch.bin.
// A file whose size is not a whole number of records, an empty file or a label above 9 throws
// Error naming the file. Files may also be gzip-compressed under the same names.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace piconas::data {

// Reads the given batch files in order into one dataset [N, 3, 32, 32].
Dataset load_cifar10_files(const std::vector<std::string>& paths);
// One batch file's contents already in memory (already decompressed); `source` names it in
// error messages.
Dataset decode_cifar10(const std::vector<uint8_t>& bytes, const std::string& source);

// Loads the standard batch files of the split from dir.
Dataset load_cifar10(const std::string& dir, Split split);

std::vector<std::string> cifar10_class_names();

}  // namespace piconas::data
