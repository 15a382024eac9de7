#include <doctest/doctest.h>

#include "nas/arch/arch_text.h"
#include "nas/builder.h"
#include "nas/dnas/dnas_export.h"
#include "nas/dnas/dnas_run.h"
#include "nas/dnas/dnas_search.h"

using namespace piconas;
using namespace piconas::nas;
using namespace piconas::nas::dnas;

namespace {
// 1x8x8 stripes: class 0 horizontal, class 1 vertical, random phase, noisy. Both classes have
// the same pixel histogram, so a network made of 1x1 convolutions only cannot tell them apart.
data::Dataset stripes(int64_t count, uint64_t seed) {
  data::Dataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = 8;
  d.num_classes = 2;
  d.class_names = {"horizontal", "vertical"};
  d.images.resize(static_cast<size_t>(count * 64));
  Rng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 2);
    const int64_t phase = rng.uniform_int(0, 1);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        const bool on = ((label == 0 ? y : x) + phase) % 2 == 0;
        d.image(i)[y * 8 + x] = static_cast<uint8_t>((on ? 200 : 40) + rng.uniform_int(0, 15));
      }
    d.labels.push_back(label);
  }
  return d;
}

TrainData all_of(const data::Dataset& d) {
  TrainData t;
  t.dataset = &d;
  for (int64_t i = 0; i < d.count; ++i) t.indices.push_back(i);
  t.normalization = data::compute_normalization(d);
  return t;
}
}  // namespace

TEST_CASE("a tiny search picks the branch that can see space") {
  const data::Dataset d = stripes(384, 1);
  const ArchSpec seed =
      parse_blocks("blocks:in=1x8x8,classes=2,act=relu,stem=4k1s1|ds:k3s1c8|head=0");
  DnasConfig config;
  config.candidates = parse_candidates("ds:k1,ds:k3");
  DnasNetwork net(seed, config);
  Rng rng(2);
  net.initialize(rng);
  SearchOptions o;
  o.epochs = 4;
  o.batch_size = 32;
  o.arch_lr = 0.05;
  std::vector<EpochReport> reports;
  search_supernet(net, all_of(d), o, [&](const EpochReport& r) { reports.push_back(r); });
  REQUIRE(reports.size() == 4);
  CHECK(net.blocks()[0]->argmax() == 1);
  const std::vector<double> theta = softmax_values(net.blocks()[0]->alpha().value(), 1.0);
  CHECK(theta[1] > 0.6);
  CHECK(evaluate(net, all_of(d)) > 0.9);
}

TEST_CASE("a large lambda drives the choice to the cheapest branch and the masks down") {
  const data::Dataset d = stripes(256, 2);
  const ArchSpec seed =
      parse_blocks("blocks:in=1x8x8,classes=2,act=relu,stem=8k3s1|ds:k3s1c8|head=0");
  DnasConfig config;
  config.candidates = parse_candidates("ds:k5,skip");
  config.pit = true;
  DnasNetwork net(seed, config);
  Rng rng(3);
  net.initialize(rng);
  SearchOptions o;
  o.epochs = 3;
  o.warmup_epochs = 1;
  o.batch_size = 32;
  o.lambda = 0.01;
  o.arch_lr = 0.1;
  o.mode = SelectionMode::HardGumbel;
  std::vector<EpochReport> reports;
  search_supernet(net, all_of(d), o, [&](const EpochReport& r) { reports.push_back(r); });
  CHECK_FALSE(reports[0].arch_trained);
  CHECK(reports[2].arch_trained);
  CHECK(net.blocks()[0]->argmax() == 1);  // skip
  const DnasExport ex = export_network(net);
  CHECK(ex.arch.blocks.empty());
  CHECK(ex.arch.stem.out_channels < 8);
  CHECK(reports[2].cost < reports[0].cost);
}

TEST_CASE("dnas method names and the sweep plot") {
  CHECK(parse_dnas_method("pit-after-supernet") == DnasMethod::PitAfterSuperNet);
  CHECK(std::string(dnas_method_name(DnasMethod::PitSuperNet)) == "pitsupernet");
  CHECK_THROWS_AS(parse_dnas_method("darts"), Error);
  std::vector<RunPoint> points(3);
  points[0] = {0.0, "a<b", 1000, 10, 0.9, 0.90, ""};
  points[1] = {1e-4, "b", 100, 1, 0.8, 0.80, ""};
  points[2] = {1e-5, "c", 2000, 20, 0.7, 0.85, ""};  // dominated by the first point
  const std::string svg = sweep_svg(points, CostKind::Params, "sweep");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("a&lt;b") != std::string::npos);
  size_t front = 0, pos = 0;
  while ((pos = svg.find("fill=\"#c33\"", pos)) != std::string::npos) ++front, ++pos;
  CHECK(front == 2);
  CHECK(svg.find("fill=\"#999\"") != std::string::npos);
}

TEST_CASE("fine-tuning trains an exported network through nas/train's loop") {
  const data::Dataset d = stripes(256, 3);
  const ArchSpec arch =
      parse_blocks("blocks:in=1x8x8,classes=2,act=relu,stem=4k3s1|ds:k3s1c8|head=0");
  auto net = build_network(arch);
  Rng rng(4);
  net->initialize(rng);
  const TrainData data = all_of(d);
  const double before = evaluate(*net, data);
  FinetuneOptions o;
  o.epochs = 4;
  o.batch_size = 32;
  std::vector<double> losses, accuracies;
  const double last = finetune(*net, data, o, [&](int64_t epoch, double loss, double accuracy) {
    CHECK(epoch == static_cast<int64_t>(losses.size()));
    losses.push_back(loss);
    accuracies.push_back(accuracy);
  });
  REQUIRE(losses.size() == 4);
  CHECK(last == accuracies.back());
  CHECK(losses.back() < 0.5 * losses.front());  // the weights moved towards the task
  CHECK(accuracies.back() > 0.9);
  const double after = evaluate(*net, data);
  MESSAGE("accuracy before " << before << ", after " << after << "; loss " << losses.front()
                             << " -> " << losses.back());
  CHECK(before < 0.75);
  CHECK(after > 0.9);
}
