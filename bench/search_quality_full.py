#!/usr/bin/env python3
"""Do two rules' picks keep their order after the full training? (issue 14)

bench/search_quality.py ranks rules by G, the test accuracy after a short training (the issue's
2 epochs on 20,000 images). This script takes two groups of its variants that differ only in the
rule (e.g. w0..w5 and m0..m5, paired by search seed, bench/search_quality_groups.py), and trains
each pair's two picks the way `piconas run`'s train stage trains its winner (8 epochs on the
whole train split, its flags, --threads 1), when the picks differ. It reports F, the test
accuracy after that training, per pair, and the paired difference second - first with its
standard error, over the pairs whose picks differ and over all pairs (a shared pick counts 0).
Trainings are cached by architecture and training seed under <study>/seed<N>/full_training/,
so a rerun or a larger --train-seeds list trains only what is missing; a killed run resumes (an unfinished training is trained again).
The trainings run pair by pair, the seeds interleaved; --finished-only trains nothing and
reports the pairs trained so far.
Only the Python standard library is used.
Example: python3 bench/search_quality_full.py --out runs/sq40x7 --out runs/sq40h6 --groups w,m --runs 6
"""
import argparse
import concurrent.futures
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search_quality_groups import load_with_folder as load  # noqa: E402


def training_folder(out, seed, arch, train_seed):
    digest = hashlib.sha1(arch.encode()).hexdigest()[:16]
    return os.path.join(out, "seed%d" % seed, "full_training", "%s_s%d" % (digest, train_seed))


def finished_accuracy(folder):
    path = os.path.join(folder, "summary.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        summary = json.load(f)
    return summary["test"]["accuracy"] if summary.get("completed") else None


def train(args, folder, arch, train_seed):
    """F of arch trained like the run's winner; cached in folder."""
    accuracy = finished_accuracy(folder)
    if accuracy is not None:
        return accuracy
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    command = [args.piconas, "train", "--arch", arch, "--data", args.data, "--epochs", str(args.epochs),
               "--batch", "128", "--lr", "0.1", "--warmup", "1", "--seed", str(train_seed),
               "--threads", str(args.threads), "--out", folder]
    with open(folder + ".log", "w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True)
    accuracy = finished_accuracy(folder)
    if accuracy is None:
        sys.exit("search_quality_full: %s finished without a test accuracy" % folder)
    return accuracy


def mean_se(values):
    if not values:
        return math.nan, math.nan
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return statistics.fmean(values), se


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", action="append", required=True, help="a study folder; repeatable")
    p.add_argument("--groups", required=True, help="two group prefixes: first,second")
    p.add_argument("--runs", type=int, default=6, help="variants per group: PREFIX0 .. PREFIX<runs-1>")
    p.add_argument("--train-seeds", default="1", help="comma-separated training seeds of every network")
    p.add_argument("--finished-only", action="store_true", help="train nothing: report the pairs trained so far")
    p.add_argument("--epochs", type=int, default=8, help="the run's train stage: epochs")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2, help="trainings at once")
    p.add_argument("--piconas", default="build/bin/piconas")
    p.add_argument("--report", help="also write the report (Markdown) and REPORT.json")
    args = p.parse_args()
    first, second = args.groups.split(",")
    train_seeds = [int(s) for s in args.train_seeds.split(",")]

    pairs = []  # (seed, run, study folder, first pick, second pick, their G in %)
    for run in range(args.runs):
        a, b = load(args.out, "%s%d" % (first, run)), load(args.out, "%s%d" % (second, run))
        for seed in sorted(set(a) & set(b)):
            pairs.append((seed, run, a[seed][0], a[seed][1]["run"]["arch"], b[seed][1]["run"]["arch"],
                          (100 * a[seed][1]["picks"]["run"], 100 * b[seed][1]["picks"]["run"])))
    pairs.sort(key=lambda pair: (pair[1], pair[0]))  # run by run, the seeds interleaved
    jobs = {}  # (seed, arch, training seed) -> folder, in training order
    for seed, _, out, arch_a, arch_b, _ in pairs:
        for arch in ((arch_a, arch_b) if arch_a != arch_b else ()):
            for ts in train_seeds:
                jobs.setdefault((seed, arch, ts), training_folder(out, seed, arch, ts))
    accuracy = {key: finished_accuracy(folder) for key, folder in jobs.items()}
    missing = [key for key, value in accuracy.items() if value is None]
    print("%d pairs, %d trainings, %d to train" % (len(pairs), len(jobs), 0 if args.finished_only else len(missing)),
          flush=True)
    if not args.finished_only:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(train, args, jobs[key], key[1], key[2]): key for key in missing}
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                accuracy[futures[future]] = future.result()
                print("trained %d / %d" % (done, len(futures)), flush=True)

    def f(seed, arch):
        """Mean F over the training seeds; None while one is missing."""
        values = [accuracy[(seed, arch, ts)] for ts in train_seeds]
        return None if None in values else 100 * statistics.fmean(values)

    lines = ["# Full-training check of %s against %s" % (first, second), "",
             "F: test accuracy after `piconas train --epochs %d --batch 128 --lr 0.1 --warmup 1` (the run's "
             "train stage) on %s, mean over training seeds %s; G: the study's short training." % (
                 args.epochs, args.data, args.train_seeds), "",
             "| seed | run | %s: F (G) | %s: F (G) | %s - %s in F | in G |" % (first, second, second, first),
             "|---|---|---|---|---|---|"]
    diffs_f, diffs_g, rows = [], [], []
    pairs.sort()
    for seed, run, _, arch_a, arch_b, (ga, gb) in pairs:
        if arch_a == arch_b:
            lines.append("| %d | %d | same pick | | 0 | 0 |" % (seed, run))
            rows.append({"seed": seed, "run": run, "same_pick": True})
            continue
        fa, fb = f(seed, arch_a), f(seed, arch_b)
        if fa is None or fb is None:
            lines.append("| %d | %d | not trained | | | |" % (seed, run))
            continue
        diffs_f.append(fb - fa)
        diffs_g.append(gb - ga)
        lines.append("| %d | %d | %.2f (%.2f) | %.2f (%.2f) | %+.2f | %+.2f |" % (
            seed, run, fa, ga, fb, gb, fb - fa, gb - ga))
        rows.append({"seed": seed, "run": run, "same_pick": False, "F": [fa, fb], "G": [ga, gb]})
    mf, sf = mean_se(diffs_f)
    mg, sg = mean_se(diffs_g)
    zeros = sum(row["same_pick"] for row in rows)
    ma, sa = mean_se(diffs_f + [0.0] * zeros)
    better = sum(d > 0 for d in diffs_f)
    lines += ["", "%s - %s over the %d trained pairs whose picks differ: F %+.2f +- %.2f points (%d better, %d worse), "
              "G %+.2f +- %.2f; with the %d pairs that share their pick (0 each) F %+.2f +- %.2f (mean +- "
              "standard error)." % (second, first, len(diffs_f), mf, sf, better, len(diffs_f) - better, mg, sg,
                                    zeros, ma, sa)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.report:
        with open(args.report + ".tmp", "w") as out_file:
            out_file.write(text)
        os.replace(args.report + ".tmp", args.report)
        with open(args.report + ".json.tmp", "w") as out_file:
            json.dump({"pairs": rows, "difference_F": [mf, sf], "difference_G": [mg, sg],
                       "difference_F_all_pairs": [ma, sa]}, out_file, indent=1)
        os.replace(args.report + ".json.tmp", args.report + ".json")


if __name__ == "__main__":
    main()
