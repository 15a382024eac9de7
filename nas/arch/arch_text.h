// Canonical text forms of architectures (grammar and examples: docs/architecture_text.md).
//
//   blocks  blocks:in=3x96x96,classes=2,act=relu6,stem=16k3s2|ir:k3e6s1c16|ds:k5s2c32|head=0
//   mbv2    mbv2:in=3x96x96,classes=2,act=relu6,stem=16k3s2|n1e6c16|n2e6c24|n3e6c32|n4e6c64|
//           n3e6c96|n3e6c160|n1e6c320|head=0                                   (one line)
//   key     the 21-character mbv2 short key "161262363466368" + "36b16e" : per stage one
//           character each for depth (1..4), expansion (1..6) and the hex index of the width
//           in kMbv2Channels. It names the stages only; input, classes, activation, stem and
//           head come from a base spec fixed for the whole search.
//
// Printing is canonical: one spelling per spec, so to_text(parse(s)) == s for every accepted s
// and parse(to_text(spec)) == spec for every spec whose numbers are in 0..999999999 and whose
// depthwise-separable and basic residual blocks have expansion 1 (the ds and rb forms have no
// expansion field).
// Parsing checks syntax only (no leading zeros, no spaces, lower case); unknown names and
// malformed text throw piconas::Error naming the offending token and its 0-based position.
// Validity (ranges, space membership) is separate: see arch_spec.h. parse_arch() is the
// entry point for user input: it accepts a reference name or either form and checks validity.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "nas/arch/arch_spec.h"

namespace piconas::nas {

std::string to_text(const ArchSpec& spec);
// The activation ("relu6") and stem ("16k3s2") parts of the header on their own, for the flags
// and configuration keys that set them; errors name `what`. The same readers parse the forms.
Activation parse_activation(std::string_view text, const std::string& what = "activation");
StemSpec parse_stem(std::string_view text, const std::string& what = "stem");
std::string to_text(const Mbv2Spec& spec);
ArchSpec parse_blocks(std::string_view text);
Mbv2Spec parse_mbv2(std::string_view text);

inline constexpr size_t kMbv2KeyLength = 3 * kMbv2Stages;
// Throws Error naming the stage when a gene is outside the mbv2 space.
std::string mbv2_key(const Mbv2Spec& spec);
// The stages decoded from `key`, everything else copied from `base`.
Mbv2Spec mbv2_from_key(std::string_view key, const Mbv2Spec& base);
// Reasons why `key` is not a valid mbv2 key (empty when valid).
std::vector<std::string> mbv2_key_problems(std::string_view key);

// Reference networks: "mbv2-bench", "mobilenetv2" (mbv2 form), "tiny-bench", "resnet8", "dscnn"
// "mobilenetv1-025", "mobilenetv3-small" and "mobilenetv3-large" (blocks form);
// docs/reference_networks.md lists their costs.
std::vector<std::string> reference_names();
// Canonical text of a reference network, a name with options in this order: ",in=CxHxW" and
// ",classes=N" (any name; the text is then the blocks form), ",width=W" (mobilenetv3-small and
// mobilenetv3-large, 0 < W <= 4; mobilenetv3-small with it is torchvision's exact network). Throws Error listing the known names, or naming a wrong option.
std::string reference_text(std::string_view name);

// User-facing entry point: a reference name, a blocks text, an mbv2 text (expanded to its
// blocks) or a graph network's JSON (nas/arch/graph_text.h; to_text prints that form back). Throws Error on syntax errors and on structural problems (check_arch / check_mbv2).
ArchSpec parse_arch(std::string_view text);
// The canonical text of whatever parse_arch accepts (a name becomes its network's text).
std::string canonical_text(std::string_view text);

}  // namespace piconas::nas
