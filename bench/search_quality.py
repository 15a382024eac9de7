#!/usr/bin/env python3
"""Search-quality study (issue 14): do the training-free proxies and the selection stages pick
networks that train well, compared with "the largest feasible network" and random picks?

For every seed:
  1. draw a fresh random sample of feasible networks of the default space under the default
     `piconas run` budgets (piconas search --strategy random, every metric recorded);
  2. short-train each of them (piconas train, --epochs/--limit): the ground truth G is the test
     accuracy after that training;
  3. report the Spearman rank correlation with G of every metric, the freerea aggregate
     (naswot + logsynflow + skip, FreeREA max-|v| normalisation over the sample), #params, MACs;
  4. compare picks by their G, each with its extra training cost in image-passes:
       largest    the feasible network with the most parameters (cost 0)
       random     the median and mean G over the sample (the expected random pick, cost 0)
       proxy      the aggregate's top-1 (cost 0)
       shortlist  the aggregate's top-k, each trained at low fidelity, best validation wins
       halving    successive halving over the whole sample (rungs of growing image budgets,
                  the better half by validation accuracy goes on) -- the multi-fidelity stage
  Seed-to-seed noise: the standard deviation over seeds of each pick's margin over the median.

Only the Python standard library is used. Everything is written to --out (one folder per seed,
study.json with every number, study.md with the tables, study.svg with G against the
aggregate and against #params); reruns reuse finished trainings.
Example (a small version; the issue's study is --networks 40 --epochs 2 --limit 20000):
  python3 bench/search_quality.py --piconas build/bin/piconas --seeds 1,2,3 --networks 12 \
      --epochs 1 --limit 2000 --out runs/search_quality
"""
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys

METRICS = ["naswot", "jacob_cov", "synflow", "logsynflow", "snip", "grad_norm", "skip"]


def run(cmd, log):
    with open(log, "w") as out:
        subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=True)


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):  # ties share their mean rank
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(x, y):
    pairs = [(a, b) for a, b in zip(x, y) if a is not None and math.isfinite(a)]
    if len(pairs) < 3:
        return float("nan")
    rx, ry = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def freerea_aggregate(rows, metrics=("naswot", "logsynflow", "skip")):
    total = [0.0] * len(rows)
    for m in metrics:
        column = [r[m] for r in rows]
        finite = [v for v in column if v is not None and math.isfinite(v)]
        low = min(finite) if finite else 0.0
        column = [v if v is not None and math.isfinite(v) else low for v in column]
        top = max(abs(v) for v in column)
        for i, v in enumerate(column):
            total[i] += v / (top + 1e-9)
    return total


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def train(args, arch, seed, epochs, limit, folder, test=True):
    """Best validation and (test=True) test accuracy of one training."""
    summary = os.path.join(folder, "summary.json")
    if not os.path.exists(summary):
        os.makedirs(folder, exist_ok=True)
        run([args.piconas, "train", "--arch", arch, "--epochs", str(epochs), "--limit", str(limit),
             "--seed", str(seed), "--threads", str(args.threads), "--out", folder] +
            ([] if test else ["--no-test"]), os.path.join(folder, "log.txt"))
    with open(summary) as f:
        s = json.load(f)
    return {"val": s["best_accuracy"], "test": s["test"]["accuracy"] if test else None}


def study_seed(args, seed):
    base = os.path.join(args.out, "seed%d" % seed)
    sample = os.path.join(base, "sample")
    if not os.path.exists(os.path.join(sample, "history.csv")):
        os.makedirs(base, exist_ok=True)
        run([args.piconas, "search", "--strategy", "random", "--steps", str(args.networks),
             "--metrics", ",".join(METRICS + ["params", "macs"]), "--max-sram", str(args.max_sram),
             "--max-flash", str(args.max_flash), "--max-macs", str(args.max_macs),
             "--seed", str(seed), "--threads", str(args.threads), "--output", sample],
            os.path.join(base, "search_log.txt"))
    rows, seen = [], set()
    with open(os.path.join(sample, "history.csv")) as f:
        for r in csv.DictReader(f):
            if r["feasible"] not in ("1", "true") or r["text"] in seen:
                continue
            seen.add(r["text"])
            rows.append({"text": r["text"], "params": float(r["params"]),
                         "macs": float(r["macs"]), **{m: number(r[m]) for m in METRICS}})
    for i, r in enumerate(rows):
        r["G"] = train(args, r["text"], seed, args.epochs, args.limit,
                       os.path.join(base, "full", str(i)))["test"]
    G = [r["G"] for r in rows]
    aggregate = freerea_aggregate(rows)
    for r, a in zip(rows, aggregate):
        r["aggregate"] = a
    correlation = {m: spearman([r[m] for r in rows], G)
                   for m in METRICS + ["aggregate", "params", "macs"]}

    picks = {}
    picks["largest"] = (max(range(len(rows)), key=lambda i: rows[i]["params"]), 0)
    top = sorted(range(len(rows)), key=lambda i: -aggregate[i])
    picks["proxy"] = (top[0], 0)
    low = max(1, args.limit // args.low_fidelity)
    val = {i: train(args, rows[i]["text"], seed, 1, low,
                    os.path.join(base, "low", str(i)), test=False)["val"]
           for i in top[:args.shortlist]}
    picks["shortlist"] = (max(val, key=lambda i: val[i]), args.shortlist * low)
    alive, budget, cost = list(range(len(rows))), max(1, args.limit // args.halving_start), 0
    while len(alive) > 1:
        scores = {i: train(args, rows[i]["text"], seed, 1, budget,
                           os.path.join(base, "sh%d" % budget, str(i)), test=False)["val"]
                  for i in alive}
        cost += budget * len(alive)
        alive = sorted(alive, key=lambda i: -scores[i])[:max(1, len(alive) // 2)]
        budget *= 2
    picks["halving"] = (alive[0], cost)
    result = {"seed": seed, "networks": len(rows), "correlation": correlation,
              "median_G": statistics.median(G), "mean_G": statistics.fmean(G),
              "picks": {k: {"arch": rows[i]["text"], "G": rows[i]["G"], "params": rows[i]["params"],
                            "extra_image_passes": c} for k, (i, c) in picks.items()},
              "rows": rows}
    return result


def write_plot(path, results):
    """study.svg: G against the freerea aggregate and against #params, one colour per seed."""
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    w, h, pad = 360, 280, 45
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="11">' % (2 * w, h + 20)]
    rows = [(k, r) for k, res in enumerate(results) for r in res["rows"]]
    ys = [r["G"] for _, r in rows]
    y0, y1 = min(ys), max(ys) + 1e-9
    for panel, (key, label) in enumerate([("aggregate", "freerea aggregate"),
                                          ("params", "#params")]):
        xs = [r[key] for _, r in rows]
        x0, x1 = min(xs), max(xs) + 1e-9
        ox = panel * w
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' %
                     (ox + pad, 10, w - pad - 10, h - pad))
        parts.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' %
                     (ox + (w + pad) // 2, h + 5, label))
        parts.append('<text x="%d" y="%d" transform="rotate(-90 %d %d)" text-anchor="middle">'
                     'test accuracy</text>' % (ox + 12, h // 2, ox + 12, h // 2))
        for (k, r), x in zip(rows, xs):
            px = ox + pad + (x - x0) / (x1 - x0) * (w - pad - 20) + 5
            py = 10 + h - pad - 5 - (r["G"] - y0) / (y1 - y0) * (h - pad - 20)
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' %
                         (px, py, colours[k % len(colours)]))
    for k, res in enumerate(results):
        parts.append('<text x="%d" y="%d" fill="%s">seed %d</text>' %
                     (pad + 5 + 55 * k, 24, colours[k % len(colours)], res["seed"]))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def write_report(args, results):
    keys = METRICS + ["aggregate", "params", "macs"]
    lines = ["# Search-quality study", "",
             "Command: `python3 bench/search_quality.py %s`" % " ".join(sys.argv[1:]), "",
             "Ground truth G: test accuracy after %d epoch(s) on %d training images." %
             (args.epochs, args.limit), "",
             "## Spearman rank correlation with G", "",
             "| seed | n | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for r in results:
        lines.append("| %d | %d | " % (r["seed"], r["networks"]) +
                     " | ".join("%.2f" % r["correlation"][k] for k in keys) + " |")
    lines += ["", "## Picks (G in %; margin = G - median G of the sample)", "",
              "| seed | median | mean | largest | proxy top-1 | shortlist | halving |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        p = r["picks"]
        lines.append("| %d | %.2f | %.2f | %s |" % (
            r["seed"], 100 * r["median_G"], 100 * r["mean_G"], " | ".join(
                "%.2f (%+.2f)" % (100 * p[k]["G"], 100 * (p[k]["G"] - r["median_G"]))
                for k in ("largest", "proxy", "shortlist", "halving"))))
    lines += ["", "Extra training cost (image-passes) per seed: shortlist %s, halving %s." % (
        results[0]["picks"]["shortlist"]["extra_image_passes"],
        results[0]["picks"]["halving"]["extra_image_passes"])]
    if len(results) > 1:
        lines += ["", "Seed noise (std over seeds of margin over the median, points): " + ", ".join(
            "%s %.2f" % (k, 100 * statistics.stdev(r["picks"][k]["G"] - r["median_G"]
                                                   for r in results))
            for k in ("largest", "proxy", "shortlist", "halving"))]
    with open(os.path.join(args.out, "study.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_plot(os.path.join(args.out, "study.svg"), results)
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--piconas", default="build/bin/piconas")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--networks", type=int, default=40, help="random draws per seed")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=20000, help="training images of the ground truth")
    p.add_argument("--shortlist", type=int, default=3, help="top-k of the aggregate")
    p.add_argument("--low-fidelity", type=int, default=4,
                   help="shortlist trainings use limit / this many images, one epoch")
    p.add_argument("--halving-start", type=int, default=8,
                   help="successive halving starts at limit / this many images, then doubles")
    p.add_argument("--max-sram", type=int, default=65536)
    p.add_argument("--max-flash", type=int, default=262144)
    p.add_argument("--max-macs", type=int, default=2000000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = [study_seed(args, int(s)) for s in args.seeds.split(",")]
    write_report(args, results)


if __name__ == "__main__":
    main()
