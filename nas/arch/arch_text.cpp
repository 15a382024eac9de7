#include "nas/arch/arch_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "core/error.h"
#include "nas/arch/graph_text.h"

namespace piconas::nas {

namespace {

constexpr std::array<BlockKind, 5> kAllKinds{BlockKind::InvertedResidual,
                                             BlockKind::DepthwiseSeparable, BlockKind::ConvNeXt,
                                             BlockKind::Basic, BlockKind::Conv};
// The kinds whose text has no expansion field (their expansion is always 1).
bool has_expansion_field(BlockKind kind) { return has_expansion(kind); }
constexpr std::array<Activation, 4> kAllActivations{Activation::ReLU, Activation::ReLU6,
                                                    Activation::GELU, Activation::Hardswish};
constexpr int kMaxDigits = 9;  // every number fits an int
// kMaxBlocks blocks of at most ~30 characters each fit.
constexpr size_t kMaxTextChars = 65536;
constexpr char kHexDigits[] = "0123456789abcdef";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Names are lower case; upper case and '_' are read too so that the error shows the whole name.
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
}

// Recursive-descent reader over one text; every error names the token and its position.
class Reader {
 public:
  // `context` starts every message: "architecture text", or the flag or key being read.
  explicit Reader(std::string_view text, std::string context = "architecture text")
      : text_(text), context_(std::move(context)) {
    if (text.size() > kMaxTextChars)
      throw Error(context_ + ": " + std::to_string(text.size()) + " characters, over the limit of " +
                  std::to_string(kMaxTextChars) + " (\"" + excerpt(std::string(text), 60) + "\")");
  }

  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == text_.size(); }
  bool next_is(std::string_view literal) const { return text_.substr(pos_).starts_with(literal); }

  [[noreturn]] void fail(const std::string& message, size_t at) const {
    throw Error(context_ + ": " + message + " at position " + std::to_string(at) + " in \"" +
                excerpt(std::string(text_), 400) + "\"");
  }

  // The token starting at `at`, for messages: up to the next separator, at most 16 characters.
  std::string token(size_t at) const {
    if (at >= text_.size()) return "end of text";
    size_t end = at + 1;
    while (end < text_.size() && end - at < 16 && text_[end] != '|' && text_[end] != ',') ++end;
    std::string quoted = "'";
    quoted.append(text_.substr(at, end - at)).append("'");
    return quoted;
  }

  void expect(std::string_view literal) {
    if (!next_is(literal))
      fail("expected '" + std::string(literal) + "', found " + token(pos_), pos_);
    pos_ += literal.size();
  }

  int integer(const char* what) {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    const size_t n = pos_ - start;
    if (n == 0) fail(std::string("expected ") + what + " (a number), found " + token(start), start);
    const std::string digits(text_.substr(start, n));
    if (n > 1 && digits[0] == '0')
      fail(std::string(what) + " '" + digits + "' has a leading zero", start);
    if (n > kMaxDigits) fail(std::string(what) + " '" + digits + "' is too large", start);
    return std::stoi(digits);
  }

  // Digits, possibly none or with leading zeros (a fraction's).
  std::string digits() {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string word() {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_word(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  void expect_end() {
    if (!at_end()) fail("unexpected trailing text " + token(pos_), pos_);
  }

 private:
  std::string_view text_;
  std::string context_;
  size_t pos_ = 0;
};

Activation read_activation(Reader& r) {
  const size_t at = r.pos();
  const std::string name = r.word();
  for (Activation a : kAllActivations)
    if (name == activation_name(a)) return a;
  r.fail("unknown activation '" + name + "' (known: relu, relu6, gelu, hswish)", at);
}

// Header shared by both forms: "in=CxHxW,classes=N,act=A,stem=CkKsS".
struct Header {
  Shape3 input;
  int num_classes = 0;
  Activation activation = Activation::ReLU;
  StemSpec stem;
};

void write_header(std::string& out, const Shape3& in, int classes, Activation act,
                  const StemSpec& stem) {
  out += "in=" + shape3_str(in) + ",classes=" + std::to_string(classes) +
         ",act=" + activation_name(act) + ",stem=" + std::to_string(stem.out_channels) + "k" +
         size2_str(stem.kernel) + "s" + size2_str(stem.stride);
}

// "H" (square) or "HxW"; a square size has the one canonical spelling "H".
Size2 read_size2(Reader& r, const std::string& what) {
  const size_t at = r.pos();
  const int h = r.integer(what.c_str());
  if (!r.next_is("x")) return Size2(h);
  r.expect("x");
  const int w = r.integer((what + " width").c_str());
  if (w == h) r.fail(what + " " + std::to_string(h) + "x" + std::to_string(w) + " is square: write " + std::to_string(h), at);
  return Size2(h, w);
}

StemSpec read_stem(Reader& r) {
  StemSpec stem;
  stem.out_channels = r.integer("stem channels");
  r.expect("k");
  stem.kernel = read_size2(r, "stem kernel");
  r.expect("s");
  stem.stride = read_size2(r, "stem stride");
  return stem;
}

Header read_header(Reader& r) {
  Header h;
  r.expect("in=");
  h.input.c = r.integer("input channels");
  r.expect("x");
  h.input.h = r.integer("input height");
  r.expect("x");
  h.input.w = r.integer("input width");
  r.expect(",classes=");
  h.num_classes = r.integer("classes");
  r.expect(",act=");
  h.activation = read_activation(r);
  r.expect(",stem=");
  h.stem = read_stem(r);
  return h;
}

BlockSpec read_block(Reader& r) {
  const size_t at = r.pos();
  const std::string name = r.word();
  BlockSpec b;
  bool known = false;
  for (BlockKind k : kAllKinds)
    if (name == block_kind_name(k)) {
      b.kind = k;
      known = true;
    }
  if (!known) r.fail("unknown block kind '" + name + "' (known: ir, ds, cn, rb, cv)", at);
  r.expect(":k");
  b.kernel = r.integer("kernel");
  if (!has_expansion_field(b.kind)) {
    b.expansion = 1;
  } else if (b.kind == BlockKind::InvertedResidual && r.next_is("h")) {
    r.expect("h");
    b.expansion = 1;
    const size_t at = r.pos();
    b.hidden = r.integer("hidden width");
    if (b.hidden == 0) r.fail("hidden width 0 (write e1 for no expand conv)", at);
  } else {
    r.expect("e");
    b.expansion = r.integer("expansion");
  }
  r.expect("s");
  b.stride = r.integer("stride");
  r.expect("c");
  b.out_channels = r.integer("channels");
  // MobileNetV3 options of an ir block, in this order: ":se", then ":<activation>".
  if (r.next_is(":") && b.kind != BlockKind::InvertedResidual)
    r.fail(std::string("a ") + block_kind_name(b.kind) + " block takes no options (ir blocks take :se and :relu|relu6|hswish)", r.pos());
  if (r.next_is(":se")) {
    r.expect(":se");
    b.se = true;
  }
  if (r.next_is(":")) {
    r.expect(":");
    const size_t option = r.pos();
    const Activation a = read_activation(r);
    if (a == Activation::GELU) r.fail("an ir block cannot use gelu", option);
    b.activation = a;
  }
  return b;
}

}  // namespace

std::string to_text(const ArchSpec& spec) {
  if (!spec.graph.empty()) return to_graph_json(spec);
  std::string out = "blocks:";
  write_header(out, spec.input, spec.num_classes, spec.activation, spec.stem);
  for (const BlockSpec& b : spec.blocks) {
    out.append("|").append(block_kind_name(b.kind)).append(":k").append(std::to_string(b.kernel));
    if (b.hidden != 0)
      out.append("h").append(std::to_string(b.hidden));
    else if (has_expansion_field(b.kind))
      out.append("e").append(std::to_string(b.expansion));
    out.append("s").append(std::to_string(b.stride));
    out.append("c").append(std::to_string(b.out_channels));
    if (b.se) out.append(":se");
    if (b.activation) out.append(":").append(activation_name(*b.activation));
  }
  out += "|head=" + std::to_string(spec.head_channels);
  if (spec.classifier_hidden != 0) out += ",fc=" + std::to_string(spec.classifier_hidden);
  return out;
}

std::string to_text(const Mbv2Spec& spec) {
  std::string out = "mbv2:";
  write_header(out, spec.input, spec.num_classes, spec.activation, spec.stem);
  for (const Mbv2Stage& s : spec.stages)
    out += "|n" + std::to_string(s.depth) + "e" + std::to_string(s.expansion) + "c" +
           std::to_string(s.channels);
  return out + "|head=" + std::to_string(spec.head_channels);
}

ArchSpec parse_blocks(std::string_view text) {
  Reader r(text);
  r.expect("blocks:");
  const Header h = read_header(r);
  ArchSpec spec;
  spec.input = h.input;
  spec.num_classes = h.num_classes;
  spec.activation = h.activation;
  spec.stem = h.stem;
  while (true) {
    r.expect("|");
    if (r.next_is("head=")) break;
    if (spec.blocks.size() == kMaxBlocks) r.fail("more than " + std::to_string(kMaxBlocks) + " blocks", r.pos());
    spec.blocks.push_back(read_block(r));
  }
  r.expect("head=");
  spec.head_channels = r.integer("head channels");
  if (r.next_is(",fc=")) {
    r.expect(",fc=");
    const size_t at = r.pos();
    spec.classifier_hidden = r.integer("fc channels");
    if (spec.classifier_hidden == 0) r.fail("fc=0 (leave it out for no hidden classifier layer)", at);
  }
  r.expect_end();
  return spec;
}

Mbv2Spec parse_mbv2(std::string_view text) {
  Reader r(text);
  r.expect("mbv2:");
  const Header h = read_header(r);
  Mbv2Spec spec;
  spec.input = h.input;
  spec.num_classes = h.num_classes;
  spec.activation = h.activation;
  spec.stem = h.stem;
  for (Mbv2Stage& s : spec.stages) {
    r.expect("|");
    if (r.next_is("head="))
      r.fail("expected " + std::to_string(kMbv2Stages) + " stages, found fewer", r.pos());
    r.expect("n");
    s.depth = r.integer("depth");
    r.expect("e");
    s.expansion = r.integer("expansion");
    r.expect("c");
    s.channels = r.integer("channels");
  }
  r.expect("|");
  if (r.next_is("n"))
    r.fail("expected 'head=' after " + std::to_string(kMbv2Stages) + " stages, found " +
               r.token(r.pos()),
           r.pos());
  r.expect("head=");
  spec.head_channels = r.integer("head channels");
  r.expect_end();
  return spec;
}

std::string mbv2_key(const Mbv2Spec& spec) {
  std::string key;
  for (int s = 0; s < kMbv2Stages; ++s) {
    const Mbv2Stage& st = spec.stages[s];
    int channel_index = -1;
    for (size_t i = 0; i < kMbv2Channels.size(); ++i)
      if (kMbv2Channels[i] == st.channels) channel_index = static_cast<int>(i);
    PICONAS_CHECK(st.depth >= 1 && st.depth <= kMbv2MaxDepth && st.expansion >= 1 &&
                      st.expansion <= kMbv2MaxExpansion && channel_index >= 0,
                  "mbv2_key: stage " << s + 1 << " (depth " << st.depth << ", expansion "
                                     << st.expansion << ", channels " << st.channels
                                     << ") is outside the mbv2 space");
    key += static_cast<char>('0' + st.depth);
    key += static_cast<char>('0' + st.expansion);
    key += kHexDigits[channel_index];
  }
  return key;
}

std::vector<std::string> mbv2_key_problems(std::string_view key) {
  std::vector<std::string> p;
  if (key.size() != kMbv2KeyLength) {
    p.push_back("mbv2 key '" + std::string(key) + "' has length " + std::to_string(key.size()) +
                ", expected " + std::to_string(kMbv2KeyLength));
    return p;
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const std::string where = "mbv2 key '" + std::string(key) + "' position " + std::to_string(i) +
                              " (stage " + std::to_string(i / 3 + 1) + " ";
    switch (i % 3) {
      case 0:
        if (c < '1' || c > '0' + kMbv2MaxDepth)
          p.push_back(where + "depth): '" + std::string(1, c) + "' not in 1.." +
                      std::to_string(kMbv2MaxDepth));
        break;
      case 1:
        if (c < '1' || c > '0' + kMbv2MaxExpansion)
          p.push_back(where + "expansion): '" + std::string(1, c) + "' not in 1.." +
                      std::to_string(kMbv2MaxExpansion));
        break;
      default:
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
          p.push_back(where + "channels): '" + std::string(1, c) +
                      "' is not a lower-case hex digit");
    }
  }
  return p;
}

Mbv2Spec mbv2_from_key(std::string_view key, const Mbv2Spec& base) {
  const auto problems = mbv2_key_problems(key);
  PICONAS_CHECK(problems.empty(), problems.front());
  Mbv2Spec spec = base;
  for (int s = 0; s < kMbv2Stages; ++s) {
    const char c = key[3 * s + 2];
    spec.stages[s].depth = key[3 * s] - '0';
    spec.stages[s].expansion = key[3 * s + 1] - '0';
    spec.stages[s].channels = kMbv2Channels[is_digit(c) ? c - '0' : c - 'a' + 10];
  }
  return spec;
}

std::vector<std::string> reference_names() {
  return {"mbv2-bench", "mobilenetv2",       "tiny-bench",       "resnet8",
          "dscnn",      "mobilenetv1-025",   "mobilenetv3-small", "mobilenetv3-large"};
}

namespace {

// "0.75", "1", "1.0": an integer, optionally a point and 1 to 6 digits.
double read_width(Reader& r) {
  const size_t at = r.pos();
  std::string text = std::to_string(r.integer("width"));
  if (r.next_is(".")) {
    r.expect(".");
    const std::string fraction = r.digits();
    if (fraction.empty() || fraction.size() > 6)
      r.fail("width needs 1 to 6 digits after the point", at);
    text += "." + fraction;
  }
  const double width = std::stod(text);
  if (!(width > 0 && width <= 4)) r.fail("width " + text + " not in (0, 4]", at);
  return width;
}

// width: the ",width=" option (mobilenetv3-small without it is its integer-expansion form).
ArchSpec reference_spec(std::string_view name, std::optional<double> width) {
  if (name == "tiny-bench") return tiny_bench();
  if (name == "resnet8") return resnet8();
  if (name == "dscnn") return dscnn();
  if (name == "mobilenetv1-025") return mobilenetv1_025();
  if (name == "mobilenetv3-small") return width ? mobilenetv3_small(*width) : mobilenetv3_small();
  if (name == "mobilenetv3-large") return mobilenetv3_large(width.value_or(1.0));
  return expand_mbv2(name == "mbv2-bench" ? mbv2_bench() : mobilenetv2_standard());
}

}  // namespace

std::string reference_text(std::string_view text) {
  const std::string_view name = text.substr(0, text.find(','));
  const auto names = reference_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown architecture name '" + std::string(name) + "' (known: " + known +
                "; or a text starting with 'blocks:' or 'mbv2:')");
  }
  if (name.size() == text.size()) {  // the mbv2 networks keep their mbv2 form
    if (name == "mbv2-bench") return to_text(mbv2_bench());
    if (name == "mobilenetv2") return to_text(mobilenetv2_standard());
    return to_text(reference_spec(name, std::nullopt));
  }
  // Options: ",in=CxHxW", ",classes=N", ",width=W" (the mobilenetv3 networks), each at most once,
  // in this order.
  Reader r(text);
  r.expect(std::string(name));
  std::optional<Shape3> input;
  std::optional<int> classes;
  std::optional<double> width;
  if (r.next_is(",in=")) {
    r.expect(",in=");
    Shape3 in;
    in.c = r.integer("input channels");
    r.expect("x");
    in.h = r.integer("input height");
    r.expect("x");
    in.w = r.integer("input width");
    input = in;
  }
  if (r.next_is(",classes=")) {
    r.expect(",classes=");
    classes = r.integer("classes");
  }
  if (r.next_is(",width=")) {
    if (name != "mobilenetv3-large" && name != "mobilenetv3-small")
      r.fail("only mobilenetv3-small and mobilenetv3-large take a width option", r.pos() + 1);
    r.expect(",width=");
    width = read_width(r);
  }
  if (!r.at_end())
    r.fail("unexpected " + r.token(r.pos()) +
               " (a reference name takes the options, in this order: ,in=CxHxW ,classes=N "
               ",width=W)",
           r.pos());
  ArchSpec spec = reference_spec(name, width);
  if (input) spec.input = *input;
  if (classes) spec.num_classes = *classes;
  return to_text(spec);
}

namespace {

enum class TextKind { Name, Blocks, Mbv2 };

TextKind text_kind(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return TextKind::Name;
  const std::string_view space = text.substr(0, colon);
  if (space == "blocks") return TextKind::Blocks;
  if (space == "mbv2") return TextKind::Mbv2;
  throw Error("architecture text: unknown search space '" + std::string(space) +
              "' (known: blocks, mbv2) at position 0 in \"" + std::string(text) + "\"");
}

}  // namespace

std::string canonical_text(std::string_view text) {
  if (is_graph_text(text)) return to_graph_json(parse_graph(text));
  switch (text_kind(text)) {
    case TextKind::Name:
      return reference_text(text);
    case TextKind::Blocks:
      return to_text(parse_blocks(text));
    case TextKind::Mbv2:
      return to_text(parse_mbv2(text));
  }
  throw Error("canonical_text: unreachable text kind");
}

ArchSpec parse_arch(std::string_view text) {
  if (is_graph_text(text)) return parse_graph(text);
  switch (text_kind(text)) {
    case TextKind::Name:
      return parse_arch(reference_text(text));
    case TextKind::Blocks: {
      ArchSpec spec = parse_blocks(text);
      check_arch(spec);
      return spec;
    }
    case TextKind::Mbv2: {
      const Mbv2Spec m = parse_mbv2(text);
      check_mbv2(m);
      return expand_mbv2(m);
    }
  }
  throw Error("parse_arch: unreachable text kind");
}

Activation parse_activation(std::string_view text, const std::string& what) {
  Reader r(text, what);
  const Activation act = read_activation(r);
  r.expect_end();
  return act;
}

StemSpec parse_stem(std::string_view text, const std::string& what) {
  Reader r(text, what);
  const StemSpec stem = read_stem(r);
  r.expect_end();
  return stem;
}

}  // namespace piconas::nas
