#include "nas/pipeline/report.h"

#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "nas/pipeline/svg_plots.h"

namespace piconas::nas::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A report is a list of blocks rendered twice, as Markdown and as HTML. Inline `code` spans in
// text become <code> in HTML.
struct Block {
  enum class Kind { Heading, Text, Command, Table, Svg } kind;
  std::string text;                             // heading / paragraph / command / svg file
  std::vector<std::vector<std::string>> table;  // first row: header
  std::string svg;                              // inline SVG
  int level = 2;
};

struct Doc {
  std::vector<Block> blocks;
  void heading(const std::string& t, int level = 2) { blocks.push_back({Block::Kind::Heading, t, {}, {}, level}); }
  void text(const std::string& t) { blocks.push_back({Block::Kind::Text, t, {}, {}}); }
  void command(const std::string& t) { blocks.push_back({Block::Kind::Command, t, {}, {}}); }
  void table(std::vector<std::vector<std::string>> rows) { blocks.push_back({Block::Kind::Table, "", std::move(rows), {}}); }
  void svg(const std::string& file, const std::string& content) {
    blocks.push_back({Block::Kind::Svg, file, {}, content});
  }
};

std::string fmt(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}
std::string pct(const json& v) { return v.is_number() ? fmt("%.2f%%", 100 * v.get<double>()) : "-"; }
std::string count(const json& v) { return v.is_number() ? std::to_string(v.get<int64_t>()) : "-"; }
std::string code(const std::string& s) { return "`" + s + "`"; }

std::string markdown(const Doc& doc) {
  std::string out;
  for (const Block& b : doc.blocks) {
    switch (b.kind) {
      case Block::Kind::Heading: out += std::string(static_cast<size_t>(b.level), '#') + " " + b.text + "\n\n"; break;
      case Block::Kind::Text: out += b.text + "\n\n"; break;
      case Block::Kind::Command: out += "```sh\n" + b.text + "\n```\n\n"; break;
      case Block::Kind::Svg: out += "![" + b.text + "](" + b.text + ")\n\n"; break;
      case Block::Kind::Table:
        for (size_t r = 0; r < b.table.size(); ++r) {
          out += "|";
          for (std::string cell : b.table[r]) {
            // A '|' inside a cell (architecture texts) would end it.
            for (size_t at = 0; (at = cell.find('|', at)) != std::string::npos; at += 2) cell.replace(at, 1, "\\|");
            out += " " + cell + " |";
          }
          out += "\n";
          if (r == 0) {
            out += "|";
            for (size_t c = 0; c < b.table[0].size(); ++c) out += "---|";
            out += "\n";
          }
        }
        out += "\n";
        break;
    }
  }
  return out;
}

// Escapes text and turns `spans` into <code>.
std::string inline_html(const std::string& text) {
  std::string out;
  bool in_code = false;
  for (char c : text) {
    if (c == '`') {
      out += in_code ? "</code>" : "<code>";
      in_code = !in_code;
    } else {
      out += xml_escape(std::string(1, c));
    }
  }
  return in_code ? out + "</code>" : out;
}

std::string html(const Doc& doc, const std::string& title) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + xml_escape(title) +
                    "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
                    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
                    "pre{background:#f4f4f4;padding:6px;white-space:pre-wrap;word-break:break-all}"
                    "code{font-size:12px}</style></head><body>\n";
  for (const Block& b : doc.blocks) {
    switch (b.kind) {
      case Block::Kind::Heading: {
        const std::string h = "h" + std::to_string(b.level);
        out += "<" + h + ">" + inline_html(b.text) + "</" + h + ">\n";
        break;
      }
      case Block::Kind::Text: out += "<p>" + inline_html(b.text) + "</p>\n"; break;
      case Block::Kind::Command: out += "<pre>" + xml_escape(b.text) + "</pre>\n"; break;
      case Block::Kind::Svg: out += "<div>" + b.svg + "</div>\n"; break;
      case Block::Kind::Table:
        out += "<table>\n";
        for (size_t r = 0; r < b.table.size(); ++r) {
          out += "<tr>";
          for (const std::string& cell : b.table[r])
            out += (r == 0 ? "<th>" : "<td>") + inline_html(cell) + (r == 0 ? "</th>" : "</td>");
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
    }
  }
  return out + "</body></html>\n";
}

std::vector<std::pair<double, double>> curve(const json& history, const char* key, double scale) {
  std::vector<std::pair<double, double>> points;
  for (const json& e : history)
    if (e.at(key).is_number()) points.emplace_back(e.at("epoch").get<double>(), scale * e.at(key).get<double>());
  return points;
}

}  // namespace

json write_run_report(const PipelineConfig& c, const std::map<Stage, json>& results) {
  const json& search = results.at(Stage::Search);
  const json& shortlist = results.at(Stage::Shortlist);
  const json& train = results.at(Stage::Train);
  const json& exp = results.at(Stage::Export);
  const json& verify = results.at(Stage::Verify);
  const fs::path out(c.out);
  Doc d;
  d.heading("piconas run: " + c.out, 1);
  d.text("Data " + code(data::dataset_kind_name(c.shared.data)) + "; budgets: peak SRAM " + code(std::to_string(c.search.constraints.max_peak_sram) + " B") +
         ", flash " + code(std::to_string(c.search.constraints.max_flash) + " B") + ", MACs " + code(std::to_string(c.search.constraints.max_macs)) +
         " per image. Resolved configuration: " + code((out / "config.json").string()) +
         ". Every number below comes with the command that reproduces it (run from the directory `piconas run` "
         "ran in; the `repro/` output directories keep the originals untouched). The whole run:");
  d.command("piconas run --config " + shell_word((out / "config.json").string()) + " --out " +
            shell_word((out / "repro/run").string()));

  d.heading("1. Training-free search");
  size_t by_aggregate = 0;
  for (const json& e : search["candidates"]) by_aggregate += e.value("chosen_by", "aggregate") == "aggregate";
  const size_t by_size = search["candidates"].size() - by_aggregate;
  d.text(count(search["history"]) + " candidates drawn, " + count(search["feasible"]) + " scored, " +
         count(search["infeasible"]) + " refused by the budgets, on " + search["scoring"].get<std::string>() +
         ". Top " + std::to_string(by_aggregate) +
         (c.shortlist_per_family > 0
              ? " with at most " + std::to_string(c.shortlist_per_family) + " per family (shortlist_per_family)"
              : std::string()) +
         (by_size > 0 ? ", then the " + std::to_string(by_size) + " largest feasible " +
                            (c.shortlist_largest_from == "initial" ? "initial (uniform) draws" : "draws") +
                            " by " + c.shortlist_largest_by + " (shortlist_largest)"
                      : std::string()) +
         " (history.csv and best.json in the search directory are byte-identical to the command's):");
  std::vector<std::vector<std::string>> rows{{"rank", "aggregate", "params", "MACs", "peak SRAM B", "flash B", "architecture"}};
  for (const json& e : search["candidates"])
    rows.push_back({count(e["rank"]), fmt("%.6g", e["aggregate"].get<double>()), count(e["params"]), count(e["macs"]),
                    count(e["peak_sram"]), count(e["flash"]), code(e["arch"].get<std::string>())});
  d.table(rows);
  d.command(search["command"].get<std::string>());
  const std::string pareto = read_file((out / "search" / "pareto.svg").string());
  d.svg("search/pareto.svg", pareto);

  d.heading("2. Shortlist");
  if (shortlist.contains("halving")) {
    const json& h = shortlist["halving"];
    d.text("Successive halving over the top " + std::to_string(search["candidates"].size()) +
           " search candidates: every rung trains each candidate one epoch on a seeded subset of its images, "
           "keeps the best 1/" + count(h["eta"]) + " by validation accuracy (" +
           (h.contains("val_images") ? "on one fixed set of " + count(h["val_images"]) + " train-split images; "
                                     : std::string()) +
           "ties to the better search rank) and multiplies the images by " + count(h["eta"]) + "; " + count(h["total_images"]) +
           " training images in all. Winner: rank " + count(h["winner_rank"]) +
           ". Rungs (shortlist/halving.csv, shortlist/halving.json):");
    rows = {{"rung", "rank", "images", "val accuracy", "command"}};
    for (const json& e : shortlist["trainings"])
      rows.push_back({count(e["rung"]), count(e["rank"]), count(e["images"]), pct(e["val_accuracy"]),
                      code(e["command"].get<std::string>())});
    d.table(rows);
  } else if (shortlist["candidates"].empty()) {
    d.text("One candidate: no shortlist training.");
  } else {
    d.text("Each candidate trained " + std::to_string(c.shortlist_epochs) + " epoch(s) on " +
           (c.shortlist_limit > 0 ? std::to_string(c.shortlist_limit) : std::string("all")) +
           " training images; the best validation accuracy wins: rank " +
           std::to_string(shortlist["winner"].get<int64_t>() + 1) + ".");
    rows = {{"rank", "val accuracy", "command"}};
    for (const json& e : shortlist["candidates"])
      rows.push_back({count(e["rank"]), pct(e["val_accuracy"]), code(e["command"].get<std::string>())});
    d.table(rows);
  }

  d.heading("3. Training of the winner");
  d.text("Architecture " + code(train["arch"].get<std::string>()) + ": " + count(train["params"]) + " parameters, " +
         count(train["macs"]) + " MACs per image:");
  d.command(train["info_command"].get<std::string>());
  rows = {{"epoch", "train loss", "train accuracy", "val loss", "val accuracy"}};
  for (const json& e : train["history"])
    rows.push_back({count(e["epoch"]), e["train_loss"].is_number() ? fmt("%.4f", e["train_loss"].get<double>()) : "-",
                    pct(e["train_accuracy"]),
                    e["val_loss"].is_number() ? fmt("%.4f", e["val_loss"].get<double>()) : "-", pct(e["val_accuracy"])});
  d.table(rows);
  d.text("Per-epoch numbers (metrics.csv, summary.json; identical for the same thread count):");
  d.command(train["command"].get<std::string>());
  d.text("Best epoch " + count(train["best_epoch"]) + " (val accuracy " + pct(train["best_val_accuracy"]) +
         "). **Test accuracy (float) of best.ckpt: " + pct(train["test_accuracy"]) + "** on " +
         count(train["test_images"]) + " test images:");
  d.command(train["eval_command"].get<std::string>());
  std::vector<LineSeries> loss{{"winner train loss", "#1f77b4", curve(train["history"], "train_loss", 1), false},
                               {"winner val loss", "#ff7f0e", curve(train["history"], "val_loss", 1), false}};
  std::vector<LineSeries> acc{{"winner train", "#1f77b4", curve(train["history"], "train_accuracy", 100), false},
                              {"winner val", "#ff7f0e", curve(train["history"], "val_accuracy", 100), false}};
  const std::string loss_svg = line_plot_svg("Winner: loss per epoch", "epoch", "cross-entropy", loss);
  std::string acc_svg = line_plot_svg("Winner: accuracy per epoch", "epoch", "accuracy %", acc);
  const std::string curves = loss_svg + acc_svg;
  acc_svg.insert(4, " x=\"480\"");  // "<svg" -> "<svg x=\"480\"": side by side in one file
  write_file_atomic((out / "training_curves.svg").string(),
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"960\" height=\"300\">\n" +
                        loss_svg + acc_svg + "</svg>\n");
  d.svg("training_curves.svg", curves);

  d.heading("4. int8 export");
  const bool sram_ok = c.search.constraints.max_peak_sram == 0 || exp["peak_sram"].get<int64_t>() <= c.search.constraints.max_peak_sram;
  const bool flash_ok = c.search.constraints.max_flash == 0 || exp["flash_bytes"].get<int64_t>() <= c.search.constraints.max_flash;
  const std::string without_in_place =
      exp.contains("peak_sram_without_in_place") ? ", " + count(exp["peak_sram_without_in_place"]) + " B without in-place depthwise" : "";
  const bool patched = exp.contains("patch_layers") && exp["patch_layers"].get<int64_t>() > 0;
  const std::string patching =
      patched ? "; first " + count(exp["patch_layers"]) + " layers in " + exp["patch_grid"].get<std::string>() +
                    " patches, " + count(exp["patch_extra_macs"]) + " extra MACs, " +
                    count(exp["peak_sram_without_patching"]) + " B without patching"
              : "";
  d.text("PEAK_SRAM " + count(exp["peak_sram"]) + " B (" + exp["plan"].get<std::string>() + " plan; " +
         count(exp["naive_sram"]) + " B without reuse" + without_in_place + patching + ") " + (sram_ok ? "within" : "OVER") + " the SRAM budget; FLASH_BYTES " +
         count(exp["flash_bytes"]) + " B of constants " + (flash_ok ? "within" : "OVER") +
         " the flash budget. **Accuracy on " + count(exp["eval_images"]) + " test images: float " +
         pct(exp["float_accuracy"]) + ", int8 " + pct(exp["int8_accuracy"]) + "** (same prediction on " +
         pct(exp["agreement"]) + "):");
  d.command(exp["command"].get<std::string>());
  std::vector<std::string> labels;
  std::vector<double> sram, flash;
  rows = {{"#", "layer", "kind", "live SRAM B", "flash B"}};
  for (const json& l : exp["layers"]) {
    const std::string kind = l["kind"].get<std::string>();
    const std::string short_kind = kind == "depthwise"         ? "dw"
                                   : kind == "global_avg_pool" ? "pool"
                                   : kind == "fully_connected" ? "fc"
                                                               : kind;
    labels.push_back(std::to_string(labels.size()) + " " + short_kind);
    sram.push_back(l["live_sram"].get<double>());
    flash.push_back(l["flash"].get<double>());
    rows.push_back({std::to_string(labels.size() - 1), l["name"].get<std::string>(), l["kind"].get<std::string>(),
                    count(l["live_sram"]), count(l["flash"])});
  }
  d.text("Per layer (live SRAM: buffers alive while the layer runs; flash: its constants, " + count(exp["constant_bytes"]) +
         " B in all, plus the 256 B-per-channel input table):");
  d.table(rows);
  d.command(exp["info_command"].get<std::string>());
  const std::string sram_svg = bar_plot_svg("Live SRAM per layer (arena " + count(exp["peak_sram"]) + " B)", "bytes",
                                            labels, sram, "#2ca02c");
  const std::string flash_svg = bar_plot_svg("Flash per layer", "bytes", labels, flash, "#9467bd");
  write_file_atomic((out / "layer_sram.svg").string(), sram_svg);
  write_file_atomic((out / "layer_flash.svg").string(), flash_svg);
  d.svg("layer_sram.svg", sram_svg);
  d.svg("layer_flash.svg", flash_svg);

  d.heading("5. Verification of the emitted C");
  for (const char* key : {"host", "mcu"}) {
    const json& t = verify[key];
    std::string line = "**" + t["target"].get<std::string>() + "**: ";
    if (!t["ran"].get<bool>()) {
      line += "skipped (" + t["skipped"].get<std::string>() + ").";
    } else {
      line += count(t["matching"]) + " of " + count(t["images"]) + " test images byte-identical to the host executor";
      if (std::string(key) == "mcu")
        line += "; arm-none-eabi-size flash " + count(t["flash_bytes"]) + " B, RAM " + count(t["ram_bytes"]) + " B; " +
                fmt("%.0f", t["instructions_per_inference"].get<double>()) + " instructions per inference";
      line += ".";
    }
    d.text(line);
  }
  if (verify.contains("layer_instructions") && !verify["layer_instructions"].empty()) {
    const double total = verify["mcu"]["instructions_per_inference"].get<double>();
    d.text("Instructions per layer on " + verify["mcu"]["target"].get<std::string>() + " (QEMU -icount, SysTick read "
           "around each layer, mean over the images):");
    rows = {{"#", "layer", "kind", "input", "output", "MACs", "instructions", "share"}};
    for (const json& l : verify["layer_instructions"]) {
      const double ins = l["instructions"].get<double>();
      rows.push_back({count(l["index"]), l["name"].get<std::string>(), l["kind"].get<std::string>(),
                      l["input"].get<std::string>(), l["output"].get<std::string>(), count(l["macs"]),
                      fmt("%.0f", ins), fmt("%.1f%%", total > 0 ? 100.0 * ins / total : 0.0)});
    }
    d.table(rows);
  }
  d.command(verify["command"].get<std::string>());

  d.heading("Wall time (not reproducible)");
  rows = {{"stage", "wall time this run (s)"}};
  for (const auto& [stage, r] : results)
    if (r.contains("wall_seconds")) rows.push_back({stage_name(stage), fmt("%.1f", r["wall_seconds"].get<double>())});
  d.table(rows);

  write_file_atomic((out / "report.md").string(), markdown(d));
  write_file_atomic((out / "report.html").string(), html(d, "piconas run " + c.out));
  return {{"files",
           {(out / "report.md").string(), (out / "report.html").string(), (out / "training_curves.svg").string(),
            (out / "layer_sram.svg").string(), (out / "layer_flash.svg").string()}}};
}

}  // namespace piconas::nas::pipeline
