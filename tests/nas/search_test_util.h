// Helpers for the search tests: a self-deleting temporary directory and a synthetic,
// deterministic, thread-safe metric function (no network is built or run).
#pragma once
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "nas/search/search.h"

namespace piconas::nas::test {

class SearchTempDir {
 public:
  SearchTempDir() {
    static std::atomic<int> counter{0};
    const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("piconas_search_test_" + std::to_string(getpid()) + "_" + std::to_string(tick) + "_" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~SearchTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  SearchTempDir(const SearchTempDir&) = delete;
  SearchTempDir& operator=(const SearchTempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : text) h = (h ^ ch) * 1099511628211ULL;
  return h;
}

// naswot and logsynflow from a hash of the text plus the genes; about 1 in 16 candidates gets
// a -inf naswot (a singular kernel), exercising the non-finite handling.
inline search::MetricValues synthetic_metrics(const search::Candidate& c) {
  const uint64_t h = fnv1a(c.text);
  double gene_sum = 0;
  for (size_t i = 0; i < c.genes.size(); ++i)
    gene_sum += static_cast<double>(c.genes[i] * (i % 5 + 1));
  const double naswot = h % 16 == 0 ? -std::numeric_limits<double>::infinity()
                                    : 100.0 + static_cast<double>(h % 1000) / 7.0 + gene_sum;
  const double logsynflow = static_cast<double>((h >> 20) % 997) / 13.0 + 0.1 * gene_sum;
  return {{"naswot", naswot}, {"logsynflow", logsynflow}};
}

}  // namespace piconas::nas::test
