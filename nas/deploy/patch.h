// Patch-based execution of the leading layers (MCUNetV2): the first `layers` layers of the graph
// run once per cell of a grid_h x grid_w grid over the output of the last of them (the stage
// output), each patch computing only the part of every tensor its cell depends on (its
// receptive field, the halo recomputed by neighbouring patches). The network input and the
// stage output stay whole in the arena; every tensor in between lives in a small patch buffer,
// so the big early activations never exist at full size (docs/memory.md).
//
// Geometry, per patch, computed backwards from the cell: a tensor's region is the bounding box
// of what its readers need; a conv / depthwise layer computing output rows [a, b) reads input
// rows [max(0, a*s - p), min(H, (b-1)*s - p + k)) (likewise columns) and runs the unchanged
// kernel on that window with padding (window start) - (a*s - p) >= 0: taps outside the window
// are outside the image, which the kernels skip, so every output byte equals whole-tensor
// execution. An add reads the window of each input equal to its output region.
//
// Storage of one patch: tensors produced inside the stage live compact ({1, h, w, C} of their
// region); the stage output's region is computed into a compact buffer and copied out into the
// whole tensor (ops/int8/window_copy_s8.h). A conv / depthwise input whose window spans the
// stored columns is read in place (a row offset); otherwise (the network input, or a tensor an
// add reads wider) the window is first copied into a compact buffer of the layer.
//
// A stage is valid when its layers are conv / depthwise / add, no tensor made inside it other
// than its output is read after it, and the input is read by no later layer.
#pragma once
#include <cstdint>
#include <vector>

#include "nas/deploy/graph.h"

namespace piconas::nas::deploy {

struct Window {
  int32_t y0 = 0, x0 = 0, h = 0, w = 0;  // rows [y0, y0 + h), columns [x0, x0 + w)
  bool operator==(const Window&) const = default;
};

struct PatchOptions {
  int layers = 0;              // leading layers run per patch; 0: whole-tensor execution
  int grid_h = 1, grid_w = 1;  // cells over the stage output (each <= its height / width)
  bool operator==(const PatchOptions&) const = default;
};

struct PatchPlan {
  int layers = 0, grid_h = 1, grid_w = 1;  // layers == 0: off
  int output_tensor = -1;                  // the stage output (written whole, cell by cell)
  // [patch][tensor]: the region of each tensor a patch computes (tensor 0: the whole input;
  // tensors outside the stage: empty). Patches in row-major grid order.
  std::vector<std::vector<Window>> region;
  // [patch][layer]: the window of the layer's input it reads (add: of both inputs).
  std::vector<std::vector<Window>> input_window;
  std::vector<char> copy_input;       // [layer]: conv / depthwise input copied into a window buffer
  std::vector<int64_t> patch_bytes;   // [tensor]: largest region of a patch-stored tensor, bytes
  std::vector<int64_t> window_bytes;  // [layer]: largest copied input window, bytes (0: none)
  int64_t output_patch_bytes = 0;     // largest cell of the stage output, bytes
  int64_t macs = 0;                   // MACs of the whole graph with this patching
  int64_t extra_macs = 0;             // MACs recomputed in the halos (macs - whole-tensor MACs)

  int patches() const { return grid_h * grid_w; }
  bool on() const { return layers > 0; }
  // Tensors stored in patch buffers: made inside the stage, other than its output.
  bool patch_stored(int tensor) const {
    return on() && tensor != 0 && tensor != output_tensor && !region.empty() &&
           region[0][static_cast<size_t>(tensor)].h > 0;
  }
};

// Multiply-accumulates of one layer computing `out` pixels (conv, depthwise, fully connected;
// 0 for add and pooling), the count the search's MAC budget uses.
int64_t layer_macs(const Graph& graph, const Layer& layer, int64_t out_pixels);
int64_t graph_macs(const Graph& graph);

// The layer counts L for which the first L layers form a valid stage (ascending).
std::vector<int> patchable_layers(const Graph& graph);

// Geometry of one patching. Error naming the option when the stage is invalid or the grid
// exceeds the stage output. options.layers == 0 gives an empty plan (off).
PatchPlan plan_patches(const Graph& graph, const PatchOptions& options);

}  // namespace piconas::nas::deploy
