#include "nas/deploy/patch.h"

#include <algorithm>

namespace piconas::nas::deploy {

namespace {

bool empty(const Window& w) { return w.h <= 0 || w.w <= 0; }

Window bounding_box(const Window& a, const Window& b) {
  if (empty(a)) return b;
  if (empty(b)) return a;
  const int32_t y0 = std::min(a.y0, b.y0), x0 = std::min(a.x0, b.x0);
  const int32_t y1 = std::max(a.y0 + a.h, b.y0 + b.h), x1 = std::max(a.x0 + a.w, b.x0 + b.w);
  return {y0, x0, y1 - y0, x1 - x0};
}

Window whole(const Shape3& s) {
  return {0, 0, static_cast<int32_t>(s.h), static_cast<int32_t>(s.w)};
}

// The input rows (or columns) [begin, end) a layer with kernel k, stride s and leading padding p
// along one axis reads for outputs [a, a + n), clipped to the image size.
std::pair<int32_t, int32_t> input_span(int32_t a, int32_t n, int32_t k, int32_t s, int32_t p, int64_t size) {
  const int64_t begin = std::max<int64_t>(0, int64_t{a} * s - p);
  const int64_t end = std::min<int64_t>(size, int64_t{a + n - 1} * s - p + k);
  return {static_cast<int32_t>(begin), static_cast<int32_t>(end - begin)};
}

bool spatial(LayerKind kind) {
  return kind == LayerKind::Conv || kind == LayerKind::Depthwise || kind == LayerKind::Add;
}

}  // namespace

int64_t layer_macs(const Graph& graph, const Layer& l, int64_t out_pixels) {
  const Shape3& in = graph.tensors[static_cast<size_t>(l.input)];
  const Shape3& out = graph.tensors[static_cast<size_t>(l.output)];
  const int64_t taps = int64_t{l.kernel.h} * l.kernel.w;
  switch (l.kind) {
    case LayerKind::Conv:
      return out_pixels * out.c * taps * (in.c / l.groups);
    case LayerKind::Depthwise:
      return out_pixels * out.c * taps;
    case LayerKind::FullyConnected:
      return in.c * in.h * in.w * out.c;
    case LayerKind::Add:
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
    case LayerKind::GlobalAvgPool:
    case LayerKind::Hardswish:
    case LayerKind::ChannelMul:
    case LayerKind::Mul:
    case LayerKind::Logistic:
      return 0;
    case LayerKind::Input:
    case LayerKind::BatchNorm:
    case LayerKind::LayerNorm:
    case LayerKind::Activation:
      unexpected_layer_kind(l.kind, "patch");
  }
  return 0;
}

int64_t graph_macs(const Graph& graph) {
  int64_t macs = 0;
  for (const Layer& l : graph.layers) {
    const Shape3& out = graph.tensors[static_cast<size_t>(l.output)];
    macs += layer_macs(graph, l, out.h * out.w);
  }
  return macs;
}

std::vector<int> patchable_layers(const Graph& graph) {
  const int n = static_cast<int>(graph.layers.size());
  std::vector<int> producer(graph.tensors.size(), -1);
  for (int i = 0; i < n; ++i)
    producer[static_cast<size_t>(graph.layers[static_cast<size_t>(i)].output)] = i;
  // last_reader[t]: the last layer reading tensor t.
  std::vector<int> last_reader(graph.tensors.size(), -1);
  for (int i = 0; i < n; ++i)
    for (int t :
         {graph.layers[static_cast<size_t>(i)].input, graph.layers[static_cast<size_t>(i)].input2})
      if (t >= 0) last_reader[static_cast<size_t>(t)] = i;
  std::vector<int> valid;
  for (int stage = 1; stage < n; ++stage) {
    if (!spatial(graph.layers[static_cast<size_t>(stage - 1)].kind)) break;
    bool ok = last_reader[0] < stage;
    for (size_t t = 1; ok && t < graph.tensors.size(); ++t)
      ok = producer[t] >= stage - 1 || last_reader[t] < stage;
    if (ok) valid.push_back(stage);
  }
  return valid;
}

PatchPlan plan_patches(const Graph& graph, const PatchOptions& options) {
  PatchPlan plan;
  if (options.layers == 0) return plan;
  const std::vector<int> valid = patchable_layers(graph);
  PICONAS_CHECK(std::find(valid.begin(), valid.end(), options.layers) != valid.end(),
                "patching: --patch-layers "
                    << options.layers
                    << " does not end a stage of conv / depthwise / add layers whose only "
                       "tensor read later is the last one's output ("
                    << valid.size() << " valid counts, " << (valid.empty() ? 0 : valid.back())
                    << " the largest)");
  const size_t stage = static_cast<size_t>(options.layers);
  plan.layers = options.layers;
  plan.output_tensor = graph.layers[stage - 1].output;
  const Shape3& out = graph.tensors[static_cast<size_t>(plan.output_tensor)];
  PICONAS_CHECK(options.grid_h >= 1 && options.grid_h <= out.h && options.grid_w >= 1 &&
                    options.grid_w <= out.w,
                "patching: grid " << options.grid_h << "x" << options.grid_w
                                  << " does not fit the stage output " << shape3_str(out)
                                  << " (each side 1.." << out.h << " x 1.." << out.w << ")");
  plan.grid_h = options.grid_h;
  plan.grid_w = options.grid_w;
  const size_t tensors = graph.tensors.size();
  plan.copy_input.assign(graph.layers.size(), 0);
  plan.patch_bytes.assign(tensors, 0);
  plan.window_bytes.assign(graph.layers.size(), 0);
  int64_t stage_macs = 0, whole_stage_macs = 0;
  for (size_t i = 0; i < stage; ++i) {
    const Layer& l = graph.layers[i];
    const Shape3& o = graph.tensors[static_cast<size_t>(l.output)];
    whole_stage_macs += layer_macs(graph, l, o.h * o.w);
  }
  for (int gy = 0; gy < plan.grid_h; ++gy) {
    for (int gx = 0; gx < plan.grid_w; ++gx) {
      std::vector<Window> region(tensors);
      std::vector<Window> window(graph.layers.size());
      const auto split = [](int64_t size, int parts, int k) {
        return static_cast<int32_t>(size * k / parts);
      };
      const int32_t y0 = split(out.h, plan.grid_h, gy), x0 = split(out.w, plan.grid_w, gx);
      region[static_cast<size_t>(plan.output_tensor)] = {
          y0, x0, split(out.h, plan.grid_h, gy + 1) - y0, split(out.w, plan.grid_w, gx + 1) - x0};
      region[0] = whole(graph.tensors[0]);
      for (size_t i = stage; i-- > 0;) {
        const Layer& l = graph.layers[i];
        const Window r = region[static_cast<size_t>(l.output)];
        PICONAS_CHECK(!empty(r), "patching: layer '" << l.name << "' computes nothing in a patch");
        stage_macs += layer_macs(graph, l, int64_t{r.h} * r.w);
        Window need = r;
        if (l.kind != LayerKind::Add) {
          const Shape3& in = graph.tensors[static_cast<size_t>(l.input)];
          const auto [iy, ih] = input_span(r.y0, r.h, l.kernel.h, l.stride.h, l.padding.h, in.h);
          const auto [ix, iw] = input_span(r.x0, r.w, l.kernel.w, l.stride.w, l.padding.w, in.w);
          need = {iy, ix, ih, iw};
        }
        window[i] = need;
        for (int t : {l.input, l.input2})
          if (t > 0)
            region[static_cast<size_t>(t)] = bounding_box(region[static_cast<size_t>(t)], need);
      }
      plan.region.push_back(std::move(region));
      plan.input_window.push_back(std::move(window));
    }
  }
  for (size_t p = 0; p < plan.region.size(); ++p) {
    for (size_t t = 1; t < tensors; ++t) {
      const Window& r = plan.region[p][t];
      const int64_t bytes = int64_t{r.h} * r.w * graph.tensors[t].c;
      if (static_cast<int>(t) == plan.output_tensor)
        plan.output_patch_bytes = std::max(plan.output_patch_bytes, bytes);
      else
        plan.patch_bytes[t] = std::max(plan.patch_bytes[t], bytes);
    }
    for (size_t i = 0; i < stage; ++i) {
      const Layer& l = graph.layers[i];
      if (l.kind == LayerKind::Add) continue;
      const Window& w = plan.input_window[p][i];
      const Window& stored = plan.region[p][static_cast<size_t>(l.input)];
      if (w.x0 != stored.x0 || w.w != stored.w) plan.copy_input[i] = 1;
    }
  }
  for (size_t i = 0; i < stage; ++i) {
    if (!plan.copy_input[i]) continue;
    const int64_t c = graph.tensors[static_cast<size_t>(graph.layers[i].input)].c;
    for (const auto& windows : plan.input_window)
      plan.window_bytes[i] =
          std::max(plan.window_bytes[i], int64_t{windows[i].h} * windows[i].w * c);
  }
  plan.extra_macs = stage_macs - whole_stage_macs;
  plan.macs = graph_macs(graph) + plan.extra_macs;
  return plan;
}

}  // namespace piconas::nas::deploy
