#!/usr/bin/env python3
"""Several runs per seed and rule (issue 14): summarises the study_<variant>.json files that
bench/search_quality.py wrote for variants that differ only in the search seed (e.g. d0, d1, d2
for --search-seed unset, 10{seed}, 20{seed}), grouped by the name without its last character.

Per seed and group: each run's pick G with its margins over the sample's largest network and
median (points), the mean and standard deviation of G over the group's runs, how many runs beat
the largest and the median by more than --noise points, and the search + shortlist CPU seconds
over the winner's estimated full training. Only the Python standard library is used.
Example: python3 bench/search_quality_groups.py --out runs/sq20c --groups d,u,v
"""
import argparse
import json
import os
import statistics


def load(out, name):
    path = os.path.join(out, "study_%s.json" % name)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {r["seed"]: r for r in json.load(f)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="the study folder (bench/search_quality.py --out)")
    p.add_argument("--groups", required=True, help="comma-separated group prefixes, e.g. d,u")
    p.add_argument("--runs", type=int, default=3, help="variants per group: PREFIX0 .. PREFIX<runs-1>")
    p.add_argument("--noise", type=float, default=0.47,
                   help="a margin counts above this many points (RMS of repeated G differences)")
    args = p.parse_args()
    lines = ["| seed | rule | median | largest | runs: G (margin over largest / median) | mean G | "
             "std over runs | runs beating both by > %.2f | CPU ratio |" % args.noise,
             "|---|---|---|---|---|---|---|---|---|"]
    overall, per_run = {}, {}
    for group in args.groups.split(","):
        studies = [load(args.out, "%s%d" % (group, k)) for k in range(args.runs)]
        seeds = sorted(set().union(*[s.keys() for s in studies]))
        for seed in seeds:
            runs = [s[seed] for s in studies if seed in s]
            for k, s in enumerate(studies):
                if seed in s:
                    per_run[(group, seed, k)] = 100 * s[seed]["picks"]["run"]
            median, largest = 100 * runs[0]["median_G"], 100 * runs[0]["picks"]["largest"]
            G = [100 * r["picks"]["run"] for r in runs]
            wins = sum(g - largest > args.noise and g - median > args.noise for g in G)
            ratios = [r["run"]["cpu_seconds"] / r["run"]["full_training_cpu_estimate"] for r in runs]
            overall.setdefault(group, []).extend(g - largest for g in G)
            lines.append("| %d | %s | %.2f | %.2f | %s | %.2f | %.2f | %d / %d | %.2f-%.2f |" % (
                seed, group, median, largest,
                ", ".join("%.2f (%+.2f / %+.2f)" % (g, g - largest, g - median) for g in G),
                statistics.fmean(G), statistics.stdev(G) if len(G) > 1 else float("nan"),
                wins, len(G), min(ratios), max(ratios)))
    lines += ["", "Mean margin over the sample's largest network, all seeds and runs (points): " +
              ", ".join("%s %+.2f (%d runs)" % (g, statistics.fmean(m), len(m))
                        for g, m in overall.items())]
    # Paired: each group against the first, run by run with the same search seed (the same
    # search draws; only the shortlist rule differs).
    groups = args.groups.split(",")
    for group in groups[1:]:
        pairs = [per_run[(group, seed, k)] - g for (first, seed, k), g in per_run.items()
                 if first == groups[0] and (group, seed, k) in per_run]
        if len(pairs) > 1:
            lines.append("Paired %s - %s (same seed and search seed): mean %+.2f, std %.2f, "
                         "standard error %.2f points over %d pairs; %d better, %d worse" % (
                             group, groups[0], statistics.fmean(pairs), statistics.stdev(pairs),
                             statistics.stdev(pairs) / len(pairs) ** 0.5, len(pairs),
                             sum(d > 0 for d in pairs), sum(d < 0 for d in pairs)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
