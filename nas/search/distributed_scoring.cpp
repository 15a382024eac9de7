#include "nas/search/distributed_scoring.h"

#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"

namespace piconas::nas::search {

namespace {

constexpr char kScore = 'S';
constexpr char kStop = 'Q';

// Messages are plain bytes: 8-byte integers and doubles in host order (every rank of a job runs
// the same binary on the same kind of machine) and length-prefixed strings.
class MessageWriter {
 public:
  void put_u64(uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_double(double v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_string(const std::string& s) {
    put_u64(s.size());
    bytes_ += s;
  }
  void put_char(char c) { bytes_ += c; }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class MessageReader {
 public:
  explicit MessageReader(const std::string& bytes) : bytes_(bytes) {}
  uint64_t get_u64() {
    uint64_t v = 0;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  double get_double() {
    double v = 0;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string get_string() {
    const uint64_t n = get_u64();
    PICONAS_CHECK(n <= bytes_.size() - pos_, "distributed scoring: truncated message");
    return std::string(take(n), n);
  }
  char get_char() { return *take(1); }

 private:
  const char* take(uint64_t n) {
    PICONAS_CHECK(n <= bytes_.size() - pos_, "distributed scoring: truncated message");
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  const std::string& bytes_;
  size_t pos_ = 0;
};

// This rank's share of a batch of texts: positions k with k % size == rank, scored locally.
// The reply holds either every share's metrics or the first error.
std::string score_share(const Communicator& comm, const SearchSpace& space, const ScoreFn& score,
                        const std::vector<std::string>& texts) {
  MessageWriter reply;
  try {
    std::vector<Candidate> share;
    for (size_t k = static_cast<size_t>(comm.rank()); k < texts.size();
         k += static_cast<size_t>(comm.size()))
      share.push_back(space.parse(texts[k]));
    const std::vector<MetricValues> values = score_candidates(share, score);
    reply.put_char(1);
    for (const MetricValues& v : values) {
      reply.put_u64(v.size());
      for (const auto& [name, value] : v) {
        reply.put_string(name);
        reply.put_double(value);
      }
    }
  } catch (const std::exception& e) {
    reply = MessageWriter();
    reply.put_char(0);
    reply.put_string(e.what());
  }
  return reply.bytes();
}

std::vector<std::string> read_batch(const std::string& message) {
  MessageReader in(message);
  PICONAS_CHECK(in.get_char() == kScore, "distributed scoring: unexpected message");
  std::vector<std::string> texts(in.get_u64());
  for (std::string& t : texts) t = in.get_string();
  return texts;
}

}  // namespace

BatchScoreFn make_distributed_score_fn(const Communicator& comm, const SearchSpace& space,
                                       const ScoreFn& score) {
  return [&comm, &space, &score](const std::vector<Candidate>& batch) {
    if (comm.size() == 1) return score_candidates(batch, score);
    MessageWriter out;
    out.put_char(kScore);
    out.put_u64(batch.size());
    for (const Candidate& c : batch) out.put_string(c.text);
    comm.broadcast(out.bytes());
    const std::vector<std::string> texts = read_batch(out.bytes());
    const std::vector<std::string> replies = comm.gather(score_share(comm, space, score, texts));
    std::vector<MetricValues> values(batch.size());
    for (size_t r = 0; r < replies.size(); ++r) {
      MessageReader in(replies[r]);
      if (in.get_char() == 0)
        throw Error("rank " + std::to_string(r) + " of " + std::to_string(comm.size()) + ": " +
                    in.get_string());
      for (size_t k = r; k < batch.size(); k += replies.size()) {
        const uint64_t count = in.get_u64();
        for (uint64_t m = 0; m < count; ++m) {
          std::string name = in.get_string();
          values[k][name] = in.get_double();
        }
      }
    }
    return values;
  };
}

void serve_scoring(const Communicator& comm, const SearchSpace& space, const ScoreFn& score) {
  PICONAS_CHECK(!comm.is_root(), "serve_scoring runs on the non-root ranks");
  while (true) {
    std::string message;
    comm.broadcast(message);
    PICONAS_CHECK(!message.empty(), "distributed scoring: empty message from the root");
    if (message[0] == kStop) return;
    comm.gather(score_share(comm, space, score, read_batch(message)));
  }
}

void stop_scoring(const Communicator& comm) {
  if (comm.size() == 1) return;
  std::string message(1, kStop);
  comm.broadcast(message);
}

}  // namespace piconas::nas::search
