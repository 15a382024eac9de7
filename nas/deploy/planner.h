// Static memory planner: places every int8 activation tensor (and every layer's kernel
// scratch buffer) of one inference in a single arena, reusing memory between buffers whose
// lifetimes do not overlap.
//
// Lifetimes are in layer steps, inclusive: a tensor lives from the layer that writes it (the
// input from step 0, where invoke copies it in) to the last layer that reads it (the logits
// to the last step, where invoke copies them out); a layer's scratch lives during that layer.
// Offsets are multiples of 4 (the kernels need 4-byte aligned scratch).
//
// Strategies (same placement rule, different order): each buffer goes to the lowest offset
// where it overlaps no already placed buffer with an overlapping lifetime.
//   GreedyBySize  largest buffers first (TFLite-Micro's greedy planner);
//   FirstFit      in order of allocation time;
//   LongestFirst  longest-lived buffers first, then by size (keeps long-lived tensors such as
//                 residual inputs out of the way of the large short-lived ones).
// plan_memory() runs all three and keeps the smallest arena unless a strategy is forced.
// naive_bytes is the plan without reuse: the sum of all buffer sizes.
//
// In-place depthwise (allowed by default): a depthwise layer whose input dies at that layer
// and whose output has no more pixels than its input writes its output over its input
// (ops/int8/depthwise_conv2d_inplace_s8.h), so both tensors share one buffer of the larger
// size, and the layer gets an H*W-byte scratch buffer. plan_memory() plans with and without
// and keeps in-place only when its arena is smaller (the scratch can make it larger).
// plan.in_place marks those layers; the emitter and the host executor call the in-place
// kernel for them.
//
// In-place 1x1 conv (with in-place depthwise, same switch): a 1x1 stride-1 unpadded conv whose
// input dies at that layer writes its output over its input in strips of kInPlaceConvStrip pixels
// (ops/int8/conv2d_1x1_inplace_s8.h): with C_out <= C_in the output starts where the input starts,
// with C_out > C_in it ends where the input ends (the input at the output's tail), so that no strip
// overwrites input not yet read. The two tensors form a rigid group in the placement (Buffer::group);
// the layer gets a scratch of one strip of output pixels and the conv's scratch. plan_memory
// tries out of place, in-place 1x1 convs only, and both in-place kinds, and keeps the smallest
// arena. In-place 1x1 convs are used only under an SRAM budget (plan_for_budget) and by
// plan_smallest: the export's default plan (no budget) keeps the plan the latency model was
// validated on (docs/latency.md), and an in-place 1x1 conv runs the unpacked conv kernel.
//
// In-place elementwise layers (with in-place depthwise, same switch): an add, hard-swish,
// logistic, SE channel multiply or mul whose input of the output's shape dies at that layer writes its output
// over it (an add: over its residual input if that dies, else over the other; a mul: over its
// first input if that dies, else over the second). The kernels read
// each element before writing it (same kernel, same instructions), so the output joins the
// input's group at the input's start. Every plan above is made with and without, and keeps
// them only when the arena is smaller (the placement is a heuristic: aliasing can also raise it).
// Under an SRAM budget they are tried with every tier. Without one (the default plan) they are
// used only where they cost no instruction: the speed-first plan (elementwise out of place) is
// re-made with them in place and kept only when no other layer changes kernel (the same
// depthwise / 1x1 layers in place, the same convs packed by with_packed_conv) and the arena,
// packed scratch included, shrinks. Letting the smaller arena choose freely once moved a
// depthwise layer in place and took a packed conv's scratch room (a MobileNetV3-style model:
// +55 % predicted instructions on cortex-m4).
//
// Patch-based execution (nas/deploy/patch.h): the first layers run patch by
// patch; the tensors between them take patch-sized buffers, the network input lives until the
// last patch is done and the stage output from the first patch on. Copied input windows and
// the stage output's patch buffer are extra buffers of their layer. In-place depthwise applies
// only after the stage. patch_auto picks the layers and grid with the smallest arena whose
// recomputed MACs stay within max_extra_macs of the network's MACs (choose_patching). By
// default (patch_if_needed) the automatic choice is made only when an SRAM budget needs it.
//
// One memory model: plan_for_budget() is the plan export, the search cost model and
// `piconas info --memory` all use: without an SRAM budget plan_memory (out of place or in-place
// depthwise, the smaller); with one, the fastest plan that fits, in this order: out of place,
// in-place 1x1 convs, in-place depthwise, both, then the same four patched (fewest recomputed
// MACs that fit; the default patch_if_needed included, so an unpatched plan that fits is never
// patched); when none fits, the smallest (the caller reports it over budget).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nas/arch/arch_spec.h"
#include "nas/deploy/graph.h"
#include "nas/deploy/patch.h"

namespace piconas::nas::deploy {

enum class PlanStrategy { Best, GreedyBySize, FirstFit, LongestFirst };

// Which layers a plan may run in place: none, depthwise, 1x1 convs (Pointwise), or both.
enum class InPlace { None, Depthwise, Pointwise, All };

// Pixels per strip of an in-place 1x1 conv (conv2d_1x1_inplace_s8.h): its scratch holds one
// strip of output pixels; 16 keeps it small (16 x C_out bytes) and the per-strip call cost low.
inline constexpr int32_t kInPlaceConvStrip = 16;
const char* plan_strategy_name(PlanStrategy strategy);

// A buffer may belong to the group of another (group: that root buffer's index, -1: none), at a
// fixed byte delta (>= 0, a multiple of 4) from the root's offset: a group is placed as one rigid
// piece, its members free to overlap each other (an in-place output over its input).
struct Buffer {
  int64_t size = 0;
  int first = 0, last = 0;  // inclusive lifetime in layer steps
  int group = -1;
  int64_t delta = 0;
};

struct BufferPlacement {
  std::vector<int64_t> offsets;  // one per buffer
  int64_t arena_bytes = 0;
  PlanStrategy strategy = PlanStrategy::GreedyBySize;
};

// Bytes of the buffers alive at a step (a group's members alive then: the span they cover).
int64_t live_bytes(const std::vector<Buffer>& buffers, int step);

// Places arbitrary buffers (strategy Best tries all and keeps the smallest arena).
BufferPlacement place_buffers(const std::vector<Buffer>& buffers, PlanStrategy strategy);

struct MemoryPlan {
  std::vector<int64_t> tensor_offset;   // per graph tensor
  std::vector<int64_t> scratch_offset;  // per layer, -1 when the layer needs no scratch
  std::vector<int64_t> scratch_size;    // per layer, bytes
  std::vector<char> in_place;           // per layer: depthwise or 1x1 conv writing over its input
  InPlace in_place_mode = InPlace::None;  // the in-place kinds this plan was made with
  bool in_place_elementwise = false;      // and whether elementwise layers could run in place
  PatchPlan patch;                      // patch-based execution of the leading layers (off: layers 0)
  std::vector<int64_t> window_offset;   // per layer: its copied input window (patch.copy_input), else -1
  int64_t output_patch_offset = -1;     // the stage output's patch buffer (patching on)
  std::vector<char> packed_conv;        // per layer: conv scratch with room for the packed kernel
  // Tensors first (an in-place output in the group of its input's buffer, at the placement
  // conv2d_1x1_inplace_s8.h / depthwise_conv2d_inplace_s8.h need), then the non-empty scratch
  // buffers.
  std::vector<Buffer> buffers;
  int64_t arena_bytes = 0;              // PEAK_SRAM: activations + scratch
  int64_t naive_bytes = 0;              // sum of all buffers (no reuse)
  int64_t max_live_bytes = 0;           // lower bound: largest sum of buffers live at one step
  PlanStrategy strategy = PlanStrategy::GreedyBySize;
};

// Scratch bytes the int8 kernel of a layer needs (conv; in-place depthwise or 1x1 conv when in_place; a conv
// with packed_conv: room for the packed kernel of ops/int8/conv2d_packed_s8.h as well).
int64_t scratch_bytes(const Graph& graph, const Layer& layer, bool in_place = false, bool packed_conv = false);
// The same for a conv layer reading an in_h x in_w window and computing out_h x out_w (a patch).
int64_t conv_scratch_bytes(const Graph& graph, const Layer& layer, int32_t pad_h, int32_t pad_w, int64_t in_h,
                           int64_t in_w, int64_t out_h, int64_t out_w, bool packed_conv = false);

struct PlanOptions {
  PlanStrategy strategy = PlanStrategy::Best;
  bool in_place_depthwise = true;         // in-place depthwise and 1x1 convs (`--no-in-place`: off)
  bool in_place_only_if_smaller = true;  // false: in place wherever possible (tests)
  bool in_place_elementwise = true;  // add / hard-swish / logistic / channel mul / mul (as above)
  PatchOptions patch{};                  // fixed patching (layers > 0); ignored when patch_auto
  bool patch_auto = false;               // choose the patching (choose_patching)
  // With patch.layers 0 and not patch_auto (the default, `--patch-layers if-needed`): the
  // automatic choice when an SRAM budget needs it, no patching when the unpatched plan fits or
  // without a budget. `--patch-layers 0` turns it off.
  bool patch_if_needed = true;
  double max_extra_macs = 0.2;           // patch_auto: recomputed MACs / network MACs, >= 0
  bool operator==(const PlanOptions&) const = default;
};

// The command-line form shared by export, verify, search, run and info:
//   --patch-layers N|auto|if-needed   N leading layers per patch (0: off), the automatic choice,
//                           or (the default) the automatic choice only when an SRAM budget needs it;
//   --patch-grid HxW        the grid for N (default 2x2), each side 1..64;
//   --patch-max-extra-macs F  the automatic choice's limit (recomputed / network MACs, >= 0).
// Each parser throws Error naming the flag and the value.
void parse_patch_layers(const std::string& text, PlanOptions& options);
void parse_patch_grid(const std::string& text, PlanOptions& options);
void parse_patch_max_extra_macs(const std::string& text, PlanOptions& options);
// The texts parse_patch_layers / parse_patch_grid read back: "if-needed", "auto" or the count;
// "HxW".
std::string patch_layers_text(const PlanOptions& options);
std::string patch_grid_text(const PlanOptions& options);

// Plans with the given options (patch_auto: the patching of choose_patching without budget;
// patch_if_needed: none, there is no budget).
MemoryPlan plan_memory(const Graph& graph, const PlanOptions& options = {});

// The same options with patching off (the "without patching" figures of the reports).
PlanOptions without_patching(PlanOptions options);

// The patching with the smallest arena (ties: fewer recomputed MACs) whose recomputed MACs are
// at most options.max_extra_macs x the network's; with max_sram > 0, the one with the fewest
// recomputed MACs among those whose arena fits, if any. Candidates: every valid stage length
// and the grids 2x2..8x8, each side clipped to the stage output. layers 0 when none helps.
PatchOptions choose_patching(const Graph& graph, const PlanOptions& options, int64_t max_sram = 0);

// The smallest arena with every in-place kind the options allow (no budget; patching as in
// plan_memory): what an SRAM budget can reach without (more) patching (`info --memory`).
MemoryPlan plan_smallest(const Graph& graph, const PlanOptions& options);

// The one memory model (see above). max_sram 0: no budget.
MemoryPlan plan_for_budget(const Graph& graph, const PlanOptions& options, int64_t max_sram);

// The exporter's last planning step: plan (same in-place and patching choice) re-planned with room for the
// packed conv kernel (conv2d_packed_s8.h, faster on DSP cores; its scratch is four widened
// pixel columns; packed_conv says which layers got it). Every conv layer gets it when the arena
// grows by at most 1 % and stays within max_arena (> 0: an SRAM budget); else each layer whose
// larger scratch leaves the arena no larger than plan's (a model with some conv layers packed
// links both conv kernels: more flash).
MemoryPlan with_packed_conv(const Graph& graph, const MemoryPlan& plan, PlanStrategy strategy,
                            int64_t max_arena = 0);

// For the search: SRAM of the planned arena and flash of the int8 constants (weights,
// biases, multipliers, shifts) of an architecture, from the ArchSpec alone. Throw Error for
// architectures export refuses (ConvNeXt blocks, GELU / Hardswish).
int64_t peak_sram(const ArchSpec& spec, const PlanOptions& options = {}, int64_t max_sram = 0);
int64_t flash_bytes(const ArchSpec& spec);

}  // namespace piconas::nas::deploy
