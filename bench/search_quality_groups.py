#!/usr/bin/env python3
"""Several runs per seed and rule (issue 14): summarises the study_<variant>.json files that
bench/search_quality.py wrote for variants that differ only in the search seed (e.g. d0, d1, d2
for --search-seed unset, 10{seed}, 20{seed}), grouped by the name without its last character.

Per seed and group: each run's pick G with its margins over the sample's largest network and
median (points), the mean and standard deviation of G over the group's runs, how many runs beat
the largest and the median by more than --noise points, and the search + shortlist CPU seconds
over the winner's estimated full training. Only the Python standard library is used.

With --mean (studies run with --repeat N): each pick and the sample's largest network are
compared by their mean G over all their trainings (seed, seed + 1000, ...), and a margin counts
above its own noise: sigma * sqrt(1 / k_pick + 1 / k_largest) against the largest and
sigma * sqrt(1 / k_pick + (pi / 2) / n) against the median of n single trainings, sigma being the
standard deviation of one G pooled over every network trained more than once (each seed's
picks and largest network, counted once per architecture).
Example: python3 bench/search_quality_groups.py --out runs/sq20c --groups d,u,v
"""
import argparse
import json
import math
import os
import statistics


def load_with_folder(outs, name):
    """(study folder, record) by seed from study_<name>.json of every folder of outs (a seed found
    in several folders is taken from the first)."""
    records = {}
    for out in outs:
        path = os.path.join(out, "study_%s.json" % name)
        if os.path.exists(path):
            with open(path) as f:
                for r in json.load(f):
                    records.setdefault(r["seed"], (out, r))
    return records


def load(outs, name):
    """study_<name>.json's records by seed (load_with_folder without the folders)."""
    return {seed: r for seed, (_, r) in load_with_folder(outs, name).items()}


def pooled_sigma(studies):
    """Standard deviation of one G pooled over every (seed, architecture) trained more than once,
    and the number of such networks."""
    seen = {}
    for study in studies:
        for seed, r in study.items():
            for key, arch in (("run", r["run"]["arch"]), ("largest", r["largest_arch"])):
                values = r.get("trainings", {}).get(key, [])
                if len(values) > len(seen.get((seed, arch), [])):
                    seen[(seed, arch)] = values
    groups = [v for v in seen.values() if len(v) > 1]
    dof = sum(len(v) - 1 for v in groups)
    if not dof:
        return math.nan, 0
    ss = sum((x - statistics.fmean(v)) ** 2 for v in groups for x in v)
    return 100 * math.sqrt(ss / dof), len(groups)


def mean_rows(all_studies):
    """[(seed, group, median, n, largest mean G, k_largest, [(pick mean G, k_pick, run)])] by mean
    G over every training, in points; run is the variant's index in its group."""
    out = []
    for group, studies in all_studies.items():
        for seed in sorted(set().union(*[s.keys() for s in studies])):
            runs = [(k, s[seed]) for k, s in enumerate(studies)
                    if seed in s and "trainings" in s[seed]]
            if runs:
                first = runs[0][1]
                largest = [100 * g for g in first["trainings"]["largest"]]
                picks = [([100 * g for g in r["trainings"]["run"]], k) for k, r in runs]
                out.append((seed, group, 100 * first["median_G"], first["networks"],
                            statistics.fmean(largest), len(largest),
                            [(statistics.fmean(p), len(p), k) for p, k in picks]))
    return out


def bars(sigma, k_pick, k_largest, n):
    """The noise of a margin over the largest network's and over the median's G."""
    return (sigma * math.sqrt(1 / k_pick + 1 / k_largest),
            sigma * math.sqrt(1 / k_pick + math.pi / 2 / n))


def mean_table(all_studies, sigma, networks):
    """The runs compared by mean G over their trainings, each margin against its own noise."""
    lines = ["", "Mean G over every training (seed, seed + 1000, ...); sigma of one G pooled over "
             "%d networks: %.2f points; a margin counts above sigma * sqrt(1/k_pick + 1/k_largest) "
             "(largest) and sigma * sqrt(1/k_pick + (pi/2)/n) (median)" % (networks, sigma), "",
             "| seed | rule | median (n) | largest: mean G (k) | runs: mean G (k) | mean over runs | "
             "std over runs | mean margin over largest / median | bars at k | runs beating both |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for seed, group, median, n, largest, kl, picks in mean_rows(all_studies):
        wins = 0
        for g, kp, _ in picks:
            bar_l, bar_m = bars(sigma, kp, kl, n)
            wins += g - largest > bar_l and g - median > bar_m
        means = [g for g, _, _ in picks]
        kmax = max(k for _, k, _ in picks)
        lines.append("| %d | %s | %.2f (%d) | %.2f (%d) | %s | %.2f | %.2f | %+.2f / %+.2f | "
                     "%.2f / %.2f | %d / %d |" % (
                         seed, group, median, n, largest, kl,
                         ", ".join("%.2f (%d)" % p[:2] for p in picks), statistics.fmean(means),
                         statistics.stdev(means) if len(means) > 1 else math.nan,
                         statistics.fmean(means) - largest, statistics.fmean(means) - median,
                         *bars(sigma, kmax, kl, n), wins, len(picks)))
    return lines


def write_plot(path, all_studies, sigma):
    """SVG, one panel per seed: each run's mean G per rule (dots), the sample's largest network
    (red) and median (grey), each with its bar at the runs' training count (dashed)."""
    rows = mean_rows(all_studies)
    seeds = sorted({r[0] for r in rows})
    groups = list(all_studies)
    values = [g for r in rows for g, _, _ in r[6]] + [r[4] for r in rows] + [r[2] for r in rows]
    y0, y1 = min(values) - 0.2, max(values) + 0.6
    w, h, pad = 300, 300, 45
    scale = lambda v: 10 + (h - pad) * (1 - (v - y0) / (y1 - y0))
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="11">' % (len(seeds) * w, h + 25)]
    for panel, seed in enumerate(seeds):
        ox = panel * w
        mine = [r for r in rows if r[0] == seed]
        parts.append('<rect x="%d" y="10" width="%d" height="%d" fill="none" stroke="#888"/>' %
                     (ox + pad, w - pad - 10, h - pad))
        parts.append('<text x="%d" y="%d" text-anchor="middle">seed %d: mean G (%%) per run'
                     '</text>' % (ox + (w + pad) // 2, h + 20, seed))
        for tick in range(math.ceil(y0), math.floor(y1) + 1):
            parts.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' %
                         (ox + pad - 4, scale(tick) + 4, tick))
        _, _, median, n, largest, kl, picks = mine[0]
        bar_l, bar_m = bars(sigma, max(k for _, k, _ in picks), kl, n)
        for value, colour, dash in ((largest, "#d62728", ""), (largest + bar_l, "#d62728", "4,3"),
                                    (median, "#777", ""), (median + bar_m, "#777", "4,3")):
            parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"%s/>' % (
                ox + pad, ox + w - 10, scale(value), scale(value), colour,
                ' stroke-dasharray="%s"' % dash if dash else ""))
        step = (w - pad - 10) / (len(groups) + 1)
        for r in mine:
            x = ox + pad + step * (groups.index(r[1]) + 1)
            parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, h - pad + 24, r[1]))
            for k, (g, _, _) in enumerate(r[6]):
                parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="#1f77b4" fill-opacity="0.7"/>'
                             % (x + (k - len(r[6]) / 2) * 2.5, scale(g)))
    parts.append('<text x="%d" y="24" fill="#d62728">largest (dashed: + bar)</text>' % (pad + 5))
    parts.append('<text x="%d" y="38" fill="#777">median (dashed: + bar)</text>' % (pad + 5))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, action="append",
                   help="a study folder (bench/search_quality.py --out); repeatable: the seeds of "
                        "several studies side by side")
    p.add_argument("--groups", required=True, help="comma-separated group prefixes, e.g. d,u")
    p.add_argument("--runs", type=int, default=3, help="variants per group: PREFIX0 .. PREFIX<runs-1>")
    p.add_argument("--noise", type=float, default=0.47,
                   help="a margin counts above this many points (RMS of repeated G differences)")
    p.add_argument("--mean", action="store_true",
                   help="also compare by mean G over every training of a pick (--repeat N studies)")
    p.add_argument("--plot", default="", help="with --mean: write this SVG of the runs' mean G")
    args = p.parse_args()
    lines = ["| seed | rule | median | largest | runs: G (margin over largest / median) | mean G | "
             "std over runs | runs beating both by > %.2f | CPU ratio |" % args.noise,
             "|---|---|---|---|---|---|---|---|---|"]
    overall, per_run, all_studies = {}, {}, {}
    for group in args.groups.split(","):
        studies = [load(args.out, "%s%d" % (group, k)) for k in range(args.runs)]
        all_studies[group] = studies
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
    if args.mean:
        sigma, networks = pooled_sigma([s for group in all_studies.values() for s in group])
        lines += mean_table(all_studies, sigma, networks)
        means = {(group, seed, k): g for seed, group, *_, picks in mean_rows(all_studies)
                 for g, _, k in picks}
        for group in groups[1:]:
            diffs = [g - means[(groups[0], seed, k)] for (other, seed, k), g in means.items()
                     if other == group and (groups[0], seed, k) in means]
            if len(diffs) > 1:
                lines.append("Paired by mean G, %s - %s: mean %+.2f, standard error %.2f points over "
                             "%d pairs" % (group, groups[0], statistics.fmean(diffs),
                                           statistics.stdev(diffs) / len(diffs) ** 0.5, len(diffs)))
        if args.plot:
            write_plot(args.plot, all_studies, sigma)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
