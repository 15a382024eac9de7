#!/usr/bin/env python3
"""Search-quality study (issue 14): do the training-free proxies and the selection stages pick
networks that train well, compared with "the largest feasible network" and random picks?

For every seed:
  1. draw a fresh random sample of feasible networks of the default space under the default
     `piconas run` budgets (piconas search --strategy random, every metric recorded);
  2. short-train each of them (piconas train, --epochs/--limit): the ground truth G is the test
     accuracy after that training;
  3. train every sample network at the two fidelities of the `piconas run` shortlist (one epoch
     on --halving-images and on eta times as many images, as the rungs do);
  4. run `piconas run --stop-after shortlist` (search + successive-halving shortlist, default
     configuration plus --run-args) and train its pick like the sample (G);
  5. report the Spearman rank correlation with G of every metric, the freerea aggregate
     (naswot + logsynflow + skip, FreeREA max-|v| normalisation over the sample), the same with
     #params as a fourth column (aggregate_params), #params, MACs, and the rung-1 / rung-2
     validation (and test) accuracies: the shortlist's ranking;
  6. compare picks by their G:
       largest         the sample network with the most parameters (no training)
       largest_search  the network with the most parameters among the run's feasible search draws
       proxy           the aggregate's top-1 in the sample (no training)
       random_halving  the run's halving over top-k random sample networks (the same training
                       budget as the run's shortlist; mean over --subsets random subsets)
       run             the pick of `piconas run` (search + shortlist)
       size_aware_halving  the same halving over the sample's top k - m by the aggregate plus
                       its m largest by #params (--largest-m; `piconas run --shortlist-largest`)
     and, with --val-images V (default 5000), every sample network also trained at both rungs
     with one fixed validation set of V train-split images (`piconas train --val-images`, what
     `piconas run --halving-val-images V` ranks by; columns r1f_val, r2f_val), and replays on it:
       random_halving_fixed, aggregate_halving_fixed  as above, ranked on the fixed set
       fit_blend_halving_fixed   survivors of rung 1 by the mean of the measured accuracy and a
                       ridge fit of it on [log #params, log MACs] over the rung (fitted online)
       fit_expand_halving_fixed  rung 1 on k - k/eta random networks, a fit on them, then the
                       k/eta unmeasured sample networks the fit ranks best join rung 1
     with the median and mean G of the sample (the expected random pick without training).
     Rankings combined from those rung trainings (no training more, `combined_rankings`):
       r12f  mean rank of rung 1 and rung 2;  r1f_pair  mean rank of rung 1 and its seed + 1000
       retest (with --rung-repeat r1f);  r2f_extrap  rung 2 + (rung 2 - rung 1);
       r1f_blend, r2f_blend  the mean of the rung accuracy and its ridge fit on the size features.
  Noise: the run's pick and the largest network are trained again --repeat times, with seed +
  1000, seed + 2000, ... (the noise of G itself; the picks' `mean` G averages every training);
  and the standard deviation over seeds of each pick's margin over the median. From
  every such pair of a seed and G's spread over the sample: G's reliability (the expected
  Spearman of G with G trained again) and its square root, the noise ceiling of any ranking.
  Cost: CPU seconds of the run's search + shortlist against the estimated CPU seconds of the
  winner's full training (--full-epochs on --full-images, scaled from its G training).

Only the Python standard library is used. Everything is written to --out (one folder per seed,
study.json with every number, study.md with the tables, study.svg with G against the
aggregate, #params and the rung-2 validation accuracy); reruns reuse finished trainings.
A variant of the run (e.g. --run-name run_params --run-args "--metrics naswot,logsynflow,skip,params",
or in the same process --variant NAME=FLAGS, repeatable) reuses the sample's trainings and adds
its own run, pick training and study_<name>.* files; picks are trained once per architecture.
--rung-repeat r1f,r2f trains the fixed-validation rungs again with seed + 1000 and reports the
Spearman between the two rankings: the noise ceiling of a rung's ranking. A killed study resumes
(finished trainings and runs are kept, a killed training continues from its last.ckpt).
Example (the issue's full study is --networks 40 --epochs 2 --limit 20000):
  python3 bench/search_quality.py --piconas build/bin/piconas --seeds 1,2,3 --networks 20 \
      --epochs 2 --limit 10000 --jobs 2 --threads 1 --out runs/search_quality
"""
import argparse
import csv
import hashlib
import heapq
import json
import math
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading

PANELS = [("aggregate", "freerea aggregate"), ("params", "#params"),
          ("r2_val", "rung-2 validation accuracy")]
# With --val-images: the rungs ranked on their own hold-out against the fixed validation set.
FIXED_PANELS = [("aggregate", "freerea aggregate"), ("params", "#params"),
                ("r1f_val", "rung 1, fixed validation set"), ("r2f_val", "rung 2, fixed validation set")]
METRICS = ["naswot", "jacob_cov", "synflow", "logsynflow", "snip", "grad_norm", "skip"]


def run(cmd, log):
    """Runs cmd with its output in log; returns its CPU seconds (user + sys)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError("failed (status %d): %s; see %s" % (status, " ".join(cmd), log))
    return usage.ru_utime + usage.ru_stime


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
    pairs = [(a, b) for a, b in zip(x, y)
             if a is not None and math.isfinite(a) and b is not None and math.isfinite(b)]
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


def train(args, arch, seed, epochs, limit, folder, warmup=1.0, val_images=0):
    """Best validation accuracy, test accuracy and CPU seconds of one training (reused if done).
    val_images > 0: validated on that fixed set (`piconas train --val-images`), the training
    set is `limit` images, and no test evaluation (test None)."""
    summary = os.path.join(folder, "summary.json")
    cpu_file = os.path.join(folder, "cpu_seconds.txt")
    if not os.path.exists(cpu_file) and args.finished_only:
        return None
    if not os.path.exists(cpu_file):
        os.makedirs(folder, exist_ok=True)
        extra = ["--val-images", str(val_images), "--no-test"] if val_images > 0 else []
        if os.path.exists(os.path.join(folder, "last.ckpt")):  # killed: continue it
            extra.append("--resume")
        cpu = run([args.piconas, "train", "--arch", arch, "--epochs", str(epochs), "--limit",
                   str(limit), "--warmup", str(warmup), "--seed", str(seed), "--threads",
                   str(args.threads), "--out", folder] + extra, os.path.join(folder, "log.txt"))
        with open(cpu_file, "w") as f:
            f.write("%.3f\n" % cpu)
    with open(summary) as f:
        s = json.load(f)
    with open(cpu_file) as f:
        cpu = float(f.read())
    return {"val": s["best_accuracy"], "test": s["test"]["accuracy"] if "test" in s else None,
            "cpu": cpu}


class Scheduler:
    """Runs jobs on `workers` threads, always the pending job of lowest priority first (ties in
    submission order); a job may submit more. So a study stopped early has its most useful
    trainings (the runs' picks, then the sample's ground truth) done first."""

    def __init__(self, workers):
        self.workers, self.heap, self.results, self.running, self.count = workers, [], {}, 0, 0
        self.cv = threading.Condition()
        self.error = None

    def submit(self, priority, key, fn, *fn_args):
        with self.cv:
            if key not in self.results:
                heapq.heappush(self.heap, (priority, self.count, key, fn, fn_args))
                self.count += 1
                self.results[key] = None
                self.cv.notify()

    def _work(self):
        while True:
            with self.cv:
                while not self.heap and self.running and self.error is None:
                    self.cv.wait()
                if not self.heap or self.error is not None:
                    self.cv.notify_all()
                    return
                _, _, key, fn, fn_args = heapq.heappop(self.heap)
                self.running += 1
            try:
                value = fn(*fn_args)
            except Exception as e:  # stop every worker, report the first failure
                with self.cv:
                    self.error = self.error or e
                    self.running -= 1
                    self.cv.notify_all()
                return
            with self.cv:
                self.results[key] = value
                self.running -= 1
                self.cv.notify_all()

    def run(self):
        threads = [threading.Thread(target=self._work) for _ in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.error is not None:
            raise self.error
        return self.results


def feasible_rows(history):
    rows, seen = [], set()
    with open(history) as f:
        for r in csv.DictReader(f):
            if r["feasible"] not in ("1", "true") or r["text"] in seen:
                continue
            seen.add(r["text"])
            rows.append({"text": r["text"], "params": float(r["params"]),
                         "macs": float(r["macs"]),
                         **{m: number(r[m]) for m in METRICS if m in r}})
    return rows


def halving_pick(candidates, rung1, rung2, keep):
    """The pick of a two-rung successive halving (the `piconas run` defaults with keep =
    ceil(n / eta)): the best `keep` by rung-1 validation accuracy, ties to the earlier candidate,
    then the best rung-2 one)."""
    alive = sorted(candidates, key=lambda i: (-rung1[i], candidates.index(i)))[:keep]
    return max(alive, key=lambda i: (rung2[i], -alive.index(i)))


def size_features(rows):
    """Per network [log #params, log MACs], each standardised over the sample."""
    columns = [[math.log(r["params"]) for r in rows], [math.log(r["macs"]) for r in rows]]
    out = []
    for c in columns:
        m, sd = statistics.fmean(c), statistics.pstdev(c) or 1.0
        out.append([(v - m) / sd for v in c])
    return [list(x) for x in zip(*out)]


def ridge_predict(train_x, train_y, test_x, lam=0.1):
    """Ridge regression (intercept unpenalised, the features centred on the training points):
    predictions for test_x."""
    k = len(train_x[0])
    mx = [statistics.fmean(x[j] for x in train_x) for j in range(k)]
    my = statistics.fmean(train_y)
    xs = [[x[j] - mx[j] for j in range(k)] for x in train_x]
    a = [[sum(x[i] * x[j] for x in xs) + (lam if i == j else 0.0) for j in range(k)]
         for i in range(k)]
    b = [sum(x[i] * (y - my) for x, y in zip(xs, train_y)) for i in range(k)]
    for i in range(k):  # Gauss-Jordan; a is symmetric positive definite
        for r in range(k):
            if r != i:
                f = a[r][i] / a[i][i]
                a[r] = [u - f * v for u, v in zip(a[r], a[i])]
                b[r] -= f * b[i]
    w = [b[i] / a[i][i] for i in range(k)]
    return [my + sum(w[j] * (x[j] - mx[j]) for j in range(k)) for x in test_x]


def fit_pick(rule, subset, features, rung1, rung2, keep, eta):
    """Successive halving with a fitted ranking at equal training budget (replay):
    blend   rung 1 on the subset; the survivors are the best by the mean of the measured rung-1
            accuracy and a ridge fit of it on [log params, log MACs] over the subset;
    expand  rung 1 on the first len - keep of the subset, a fit on them, then rung 1 on the
            keep sample networks outside the subset with the best fitted accuracy (as many
            trainings as the plain rung 1); the survivors by measured rung-1 accuracy.
    Then the best rung-2 one."""
    subset = list(subset)
    if rule == "blend":
        fitted = ridge_predict([features[i] for i in subset], [rung1[i] for i in subset],
                               [features[i] for i in subset])
        score = {i: (rung1[i] + f) / 2 for i, f in zip(subset, fitted)}
        alive = sorted(subset, key=lambda i: (-score[i], subset.index(i)))[:keep]
        return max(alive, key=lambda i: (rung2[i], -alive.index(i)))
    first = subset[:len(subset) - keep]
    others = [i for i in range(len(features)) if i not in first]
    fitted = ridge_predict([features[i] for i in first], [rung1[i] for i in first],
                           [features[i] for i in others])
    added = [i for _, i in sorted(zip(fitted, others), key=lambda t: (-t[0], t[1]))][:keep]
    return halving_pick(first + added, rung1, rung2, keep)


def mean_ranks(rows, keys):
    """Per row the mean of its ranks in the columns `keys` (None where one is missing)."""
    present = [i for i, r in enumerate(rows) if all(r.get(k) is not None for k in keys)]
    out = [None] * len(rows)
    if not present:
        return out
    columns = [ranks([rows[i][k] for i in present]) for k in keys]
    for j, i in enumerate(present):
        out[i] = statistics.fmean(c[j] for c in columns)
    return out


def combined_rankings(rows):
    """Rankings built from the fixed-set rung trainings already done (no training more), added to
    every row; returns their column names. r12f: mean rank of rung 1 and rung 2; r1f_pair: mean
    rank of rung 1 and its seed + 1000 retest (twice rung 1's cost); r2f_extrap: rung 2 plus its
    gain over rung 1 (a learning curve linear in log images, one rung further: 3 x 13,500 images,
    about G's fidelity); r2f_blend / r1f_blend: the mean of the rung accuracy and its ridge fit on
    [log #params, log MACs] over the sample (the fit needs no G, so a run could do it online)."""
    names = []
    for name, keys in (("r12f", ("r1f_val", "r2f_val")),
                       ("r1f_pair", ("r1f_val", "r1f_retest_val"))):
        if all(k in rows[0] for k in keys):
            for r, v in zip(rows, mean_ranks(rows, keys)):
                r[name] = v
            names.append(name)
    if "r2f_val" not in rows[0]:
        return names
    for r in rows:
        r["r2f_extrap"] = (2 * r["r2f_val"] - r["r1f_val"]
                           if r["r1f_val"] is not None and r["r2f_val"] is not None else None)
    names.append("r2f_extrap")
    features = size_features(rows)
    for rung in ("r1f", "r2f"):
        present = [i for i, r in enumerate(rows) if r[rung + "_val"] is not None]
        if len(present) < 3:
            continue
        fitted = ridge_predict([features[i] for i in present],
                               [rows[i][rung + "_val"] for i in present],
                               [features[i] for i in present])
        for r in rows:
            r[rung + "_blend"] = None
        for i, f in zip(present, fitted):
            rows[i][rung + "_blend"] = (rows[i][rung + "_val"] + f) / 2
        names.append(rung + "_blend")
    return names


def g_reliability(rows_G, repeat_diffs):
    """The noise ceiling of any ranking's Spearman with G: G's reliability 1 - var(noise) /
    var(G over the sample), with var(noise) = mean squared difference of two trainings / 2 (the
    expected correlation of G with G trained again), and its square root (the correlation of a
    noise-free ranking of the true accuracies with G)."""
    if len(rows_G) < 3 or not repeat_diffs:
        return None
    noise = statistics.fmean(d * d for d in repeat_diffs) / 2
    spread = statistics.pvariance(rows_G)
    reliability = 1 - noise / spread
    return {"g_std": math.sqrt(spread), "noise_std": math.sqrt(noise), "pairs": len(repeat_diffs),
            "reliability": reliability,
            "ceiling": math.sqrt(reliability) if reliability > 0 else 0.0}


def run_pick(args, seed, base, name, run_args):
    """`piconas run --stop-after shortlist` with the default configuration plus run_args, in
    folder `name`: its pick, the largest feasible network of its search, and the CPU seconds of
    search + shortlist."""
    folder = os.path.join(base, name)
    cpu_file = os.path.join(base, name + "_cpu_seconds.txt")
    if not os.path.exists(cpu_file) and args.finished_only:
        return None
    if not os.path.exists(cpu_file):
        cpu = run([args.piconas, "run", "--out", folder, "--seed", str(seed), "--threads",
                   str(args.threads), "--stop-after", "shortlist"] +
                  run_args.replace("{seed}", str(seed)).split(),
                  os.path.join(base, name + "_log.txt"))
        with open(cpu_file, "w") as f:
            f.write("%.3f\n" % cpu)
    with open(cpu_file) as f:
        cpu = float(f.read())
    with open(os.path.join(folder, "shortlist", "halving.json")) as f:
        halving = json.load(f)
    winner = next(r["arch"] for r in halving["rows"] if r["rank"] == halving["winner_rank"])
    searched = feasible_rows(os.path.join(folder, "search", "history.csv"))
    largest = max(searched, key=lambda r: r["params"])
    return {"arch": winner, "largest_arch": largest["text"], "largest_params": largest["params"],
            "cpu_seconds": cpu, "shortlist_images": halving["total_images"],
            "searched": len(searched), "args": run_args}


def variants(args):
    """[(name, run_args)]: --run-name/--run-args, then every --variant NAME=ARGS."""
    out = [(args.run_name, args.run_args)]
    for text in args.variant:
        name, _, run_args = text.partition("=")
        out.append((name, run_args))
    return out


def pick_folder(base, kind, arch):
    """Trainings of a run's pick live under full/ (repeat/ for seed + 1000, repeat<k>/ for seed +
    k * 1000), named by the architecture, so variants that pick the same network share one
    training."""
    return os.path.join(base, kind, "pick_" + hashlib.sha1(arch.encode()).hexdigest()[:12])


def repeat_kinds(args):
    """[(folder kind, seed offset)] of the --repeat extra trainings of a pick."""
    return [("repeat" if k == 1 else "repeat%d" % k, 1000 * k) for k in range(1, args.repeat + 1)]


def study_seed(args, seed):
    """{variant name: result} for one seed; every training and run is cached in its folder."""
    base = os.path.join(args.out, "seed%d" % seed)
    sample = os.path.join(base, "sample")
    if not os.path.exists(os.path.join(sample, "history.csv")):
        os.makedirs(base, exist_ok=True)
        run([args.piconas, "search", "--strategy", "random", "--steps", str(args.networks),
             "--metrics", ",".join(METRICS + ["params", "macs"]), "--max-sram", str(args.max_sram),
             "--max-flash", str(args.max_flash), "--max-macs", str(args.max_macs),
             "--seed", str(seed), "--threads", str(args.threads), "--output", sample],
            os.path.join(base, "search_log.txt"))
    rows = feasible_rows(os.path.join(sample, "history.csv"))
    r1, r2 = args.halving_images, args.halving_images * args.halving_eta
    jobs = {}
    for i, r in enumerate(rows):
        jobs[("G", i)] = (r["text"], seed, args.epochs, args.limit,
                          os.path.join(base, "full", str(i)), 1.0)
        if args.hold_out_rungs:
            jobs[("r1", i)] = (r["text"], seed, 1, r1, os.path.join(base, "r%d" % r1, str(i)), 0.2)
            jobs[("r2", i)] = (r["text"], seed, 1, r2, os.path.join(base, "r%d" % r2, str(i)), 0.2)
        if args.val_images > 0:  # the rungs with one fixed validation set (halving_val_images)
            for rung, images in (("r1f", r1), ("r2f", r2)):
                jobs[(rung, i)] = (r["text"], seed, 1, images, os.path.join(
                    base, "r%d_val%d" % (images, args.val_images), str(i)), 0.2, args.val_images)
        for rung, images in (("r1f", r1), ("r2f", r2)):  # the same rung with seed + 1000
            if args.val_images > 0 and rung in args.rung_repeat.split(","):
                jobs[(rung + "_retest", i)] = (r["text"], seed + 1000, 1, images, os.path.join(
                    base, "r%d_val%d_seed%d" % (images, args.val_images, seed + 1000), str(i)), 0.2,
                    args.val_images)
    largest = max(range(len(rows)), key=lambda i: rows[i]["params"])
    for kind, offset in repeat_kinds(args):  # keyed by architecture: a larger sample may
        arch = rows[largest]["text"]           # have another largest network
        jobs[(kind, arch)] = (arch, seed + offset, args.epochs, args.limit,
                              pick_folder(base, kind, arch), 1.0)
    # Order: the runs, the trainings of their picks as soon as a run is done (with the sample's
    # largest network), then network by network of the sample its ground truth, rungs and rung
    # retests (so a study stopped early has whole rows for its first networks), then the
    # seed + 1000 repeats.
    def priority(key):
        if key == ("G", largest):
            return 1
        return 6 if key[0].startswith("repeat") else 2 + key[1] / (len(rows) + 1)
    scheduler = Scheduler(args.jobs)

    def run_then_picks(name, run_args):
        p = run_pick(args, seed, base, name, run_args)
        if p is None:
            return None
        wanted = [("full", seed, p["arch"]), ("full", seed, p["largest_arch"])]
        wanted += [(kind, seed + offset, p["arch"]) for kind, offset in repeat_kinds(args)]
        for kind, train_seed, arch in wanted:
            scheduler.submit(1 if kind == "full" else 6, (kind, arch), train, args, arch,
                             train_seed, args.epochs, args.limit, pick_folder(base, kind, arch), 1.0)
        return p

    for name, run_args in variants(args):
        scheduler.submit(0, ("run", name), run_then_picks, name, run_args)
    for key, job in jobs.items():
        scheduler.submit(priority(key), key, train, args, *job)
    done = scheduler.run()
    picked = {name: done[("run", name)] for name, _ in variants(args)
              if done[("run", name)] is not None}
    value = lambda key, field: done[key][field] if done.get(key) is not None else None
    for i, r in enumerate(rows):
        r["G"] = value(("G", i), "test")
        for rung in (("r1", "r2") if args.hold_out_rungs else ()):
            r[rung + "_val"] = value((rung, i), "val")
            r[rung + "_test"] = value((rung, i), "test")
        for rung in (("r1f", "r2f") if args.val_images > 0 else ()):
            r[rung + "_val"] = value((rung, i), "val")
            if (rung + "_retest", i) in done:
                r[rung + "_retest_val"] = value((rung + "_retest", i), "val")
    # --finished-only: the networks whose ground truth is done (the others are left out).
    done_rows = rows
    rows = [r for r in rows if r["G"] is not None]
    if len(rows) < 3:  # --finished-only, too early
        return {}
    largest = max(range(len(rows)), key=lambda i: rows[i]["params"])
    G = [r["G"] for r in rows]
    for r, a in zip(rows, freerea_aggregate(rows)):
        r["aggregate"] = a
    for r, a in zip(rows, freerea_aggregate(rows, ("naswot", "logsynflow", "skip", "params"))):
        r["aggregate_params"] = a
    keys = METRICS + ["aggregate", "aggregate_params", "params", "macs"]
    if args.hold_out_rungs:
        keys += ["r1_val", "r1_test", "r2_val", "r2_test"]
    if args.val_images > 0:
        keys += ["r1f_val", "r2f_val"]
    if args.val_images > 0:
        keys += combined_rankings(rows)
    correlation = {k: spearman([r[k] for r in rows], G) for k in keys}
    # Reliability of a rung's ranking (its ceiling): the Spearman between the rung trained with
    # seed and with seed + 1000 (another subset, validation set, initialisation and order), and
    # the retest's own correlation with G.
    retest = {}
    for rung in ("r1f", "r2f"):
        if rung + "_retest_val" in rows[0]:
            retest[rung] = {"retest": spearman([r[rung + "_val"] for r in rows],
                                               [r[rung + "_retest_val"] for r in rows]),
                            "retest_vs_G": spearman([r[rung + "_retest_val"] for r in rows], G)}

    n = len(rows)
    rng = random.Random(seed)
    subsets = [rng.sample(range(n), min(args.top_k, n)) for _ in range(args.subsets)]
    keep = -(-args.top_k // args.halving_eta)
    proxy = max(range(n), key=lambda i: rows[i]["aggregate"])
    picks = {"largest": rows[largest]["G"], "proxy": rows[proxy]["G"]}
    # The run's halving over random top-k subsets of the sample (random search at the same
    # training budget), over the sample's top-k by another ranking (no extra training: every
    # sample network has both rungs), and over the whole sample keeping top-k / eta by rung 1.
    rung1 = [r.get("r1_val") for r in rows]
    rung2 = [r.get("r2_val") for r in rows]
    if args.hold_out_rungs:
        picks["random_halving"] = statistics.fmean(
            G[halving_pick(s, rung1, rung2, keep)] for s in subsets)
    for key in (("aggregate", "aggregate_params", "params") if args.hold_out_rungs else ()):
        top = sorted(range(n), key=lambda i: -rows[i][key])[:args.top_k]
        picks[key + "_halving"] = G[halving_pick(top, rung1, rung2, keep)]
    if args.hold_out_rungs:
        picks["sample_halving"] = G[halving_pick(list(range(n)), rung1, rung2, keep)]
        # Size-aware shortlist (`piconas run --shortlist-largest`): the aggregate's top k - m,
        # then the m largest by #params outside them (m = --largest-m).
        top = sorted(range(n), key=lambda i: -rows[i]["aggregate"])[:args.top_k - args.largest_m]
        top += sorted((i for i in range(n) if i not in top), key=lambda i: -rows[i]["params"])[
            :args.largest_m]
        picks["size_aware_halving"] = G[halving_pick(top, rung1, rung2, keep)]
    if args.val_images > 0 and all(r["r1f_val"] is not None and r["r2f_val"] is not None
                                   for r in rows):
        # The same replays with the rungs ranked on the fixed validation set, and the fitted
        # re-rankings (fit_pick) on it.
        rung1f = [r["r1f_val"] for r in rows]
        rung2f = [r["r2f_val"] for r in rows]
        picks["random_halving_fixed"] = statistics.fmean(
            G[halving_pick(s, rung1f, rung2f, keep)] for s in subsets)
        top = sorted(range(n), key=lambda i: -rows[i]["aggregate"])[:args.top_k]
        picks["aggregate_halving_fixed"] = G[halving_pick(top, rung1f, rung2f, keep)]
        features = size_features(rows)
        for rule in ("blend", "expand"):
            picks["fit_%s_halving_fixed" % rule] = statistics.fmean(
                G[fit_pick(rule, s, features, rung1f, rung2f, keep, args.halving_eta)]
                for s in subsets)
    # Rung noise against the gaps being ranked: the sampling standard error of one validation
    # accuracy (binomial, at the sample's mean accuracy) on the hold-out and on the fixed set,
    # and the median gap between neighbouring rung accuracies of the sample.
    noise = {}
    for rung, images in (("r1", r1), ("r2", r2)):
        for key, count in ((rung + "_val", round(0.1 * images)),
                           (rung + "f_val", args.val_images)):
            if count <= 0 or key not in rows[0]:
                continue
            values = sorted(r[key] for r in rows if r[key] is not None)
            if len(values) < 2:
                continue
            p = statistics.fmean(values)
            noise[key] = {"images": count, "se": math.sqrt(p * (1 - p) / count),
                          "median_gap": statistics.median(b - a for a, b in zip(values, values[1:])),
                          "std": statistics.pstdev(values)}
    # Noise of G: every training repeated with seed + 1000 (the picks, the largest network)
    # against its first training.
    repeat_diffs = []
    for key, value in done.items():
        if key[0] != "repeat" or value is None:
            continue
        first = (done.get(("full", key[1])) or {}).get("test")
        if first is None:
            first = next((r["G"] for r in done_rows if r["text"] == key[1]), None)
        if first is not None:
            repeat_diffs.append(value["test"] - first)

    def trainings(arch, first):
        """G of every training of arch: the first, then the --repeat ones that are done."""
        return [first] + [done[(kind, arch)]["test"] for kind, _ in repeat_kinds(args)
                          if done.get((kind, arch)) is not None]
    common = {"seed": seed, "networks": n, "correlation": correlation, "rung_noise": noise,
              "rung_retest": retest, "g_noise": g_reliability(G, repeat_diffs),
              "median_G": statistics.median(G), "mean_G": statistics.fmean(G),
              "largest_arch": rows[largest]["text"], "rows": rows}
    out = {}
    nan = {"test": math.nan}
    for name, p in picked.items():
        trained = done.get(("full", p["arch"]))
        if trained is None:  # --finished-only and the pick not trained yet
            continue
        full_cpu = trained["cpu"] / (args.epochs * args.limit) * args.full_epochs * args.full_images
        repeat = {k: done[key]["test"] for k, key in (("run", ("repeat", p["arch"])),
                                                      ("largest", ("repeat", rows[largest]["text"])))
                  if done.get(key) is not None}
        every = {"run": trainings(p["arch"], trained["test"]),
                 "largest": trainings(rows[largest]["text"], picks["largest"])}
        out[name] = {**common, "variant": name,
                     "picks": {"largest": picks["largest"],
                               "largest_search": (done.get(("full", p["largest_arch"])) or nan)["test"],
                               "proxy": picks["proxy"], "run": trained["test"],
                               **{k: v for k, v in picks.items() if k not in ("largest", "proxy")}},
                     "repeat": repeat, "trainings": every,
                     "run": {**p, "params": next((r["params"] for r in rows
                                                  if r["text"] == p["arch"]), None),
                             "full_training_cpu_estimate": full_cpu}}
    return out


def write_plot(path, results, panels=PANELS):
    """study.svg: G against each panel's column (the freerea aggregate, #params, the halving's
    rung validation accuracies), one colour per seed."""
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    w, h, pad = 360, 280, 45
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="11">' % (len(panels) * w, h + 20)]
    every = [(k, r) for k, res in enumerate(results) for r in res["rows"]]
    ys = [r["G"] for _, r in every]
    y0, y1 = min(ys), max(ys) + 1e-9
    for panel, (key, label) in enumerate(panels):
        rows = [(k, r) for k, r in every if r.get(key) is not None]
        xs = [r[key] for _, r in rows]
        if not xs:
            continue
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


def write_report(args, results, name):
    keys = list(results[0]["correlation"])
    lines = ["# Search-quality study", "",
             "Command: `python3 bench/search_quality.py %s`" % shlex.join(sys.argv[1:]), "",
             "Variant `%s`: `piconas run --stop-after shortlist %s`" % (name, results[0]["run"]["args"]),
             "", "Ground truth G: test accuracy after %d epoch(s) on %d training images." %
             (args.epochs, args.limit), "",
             "## Spearman rank correlation with G", "",
             "| seed | n | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for r in results:
        lines.append("| %d | %d | " % (r["seed"], r["networks"]) +
                     " | ".join("%.2f" % r["correlation"][k] for k in keys) + " |")
    lines.append("| mean | | " + " | ".join(
        "%.2f" % statistics.fmean(r["correlation"][k] for r in results) for k in keys) + " |")
    picks = list(results[0]["picks"])
    lines += ["", "## Picks (G in %; margin = G - median G of the sample)", "",
              "| seed | median | mean | " + " | ".join(picks) + " |", "|---" * (len(picks) + 3) + "|"]
    for r in results:
        lines.append("| %d | %.2f | %.2f | %s |" % (
            r["seed"], 100 * r["median_G"], 100 * r["mean_G"], " | ".join(
                "%.2f (%+.2f)" % (100 * r["picks"].get(k, math.nan),
                                  100 * (r["picks"].get(k, math.nan) - r["median_G"]))
                for k in picks)))
    lines += ["", "## Rung noise (points): validation sampling SE of one accuracy / median gap "
              "between neighbouring sample networks / std over the sample", ""]
    for r in results:
        lines.append("- seed %d: " % r["seed"] + "; ".join(
            "%s on %d images: %.2f / %.2f / %.2f" % (k, v["images"], 100 * v["se"],
                                                     100 * v["median_gap"], 100 * v["std"])
            for k, v in r["rung_noise"].items()))
    if any(r["rung_retest"] for r in results):
        lines += ["", "## Rung ranking noise: Spearman between a rung trained with seed and with "
                  "seed + 1000 (the ceiling of its ranking) / of the seed + 1000 rung with G", ""]
        for r in results:
            lines.append("- seed %d: " % r["seed"] + "; ".join(
                "%s %.2f / %.2f" % (k, v["retest"], v["retest_vs_G"])
                for k, v in r["rung_retest"].items()))
    if any(r.get("g_noise") for r in results):
        lines += ["", "## Noise ceiling of the ranking: G's spread over the sample / its training "
                  "noise (std of one G, from the seed + 1000 repeats) / reliability (the expected "
                  "Spearman of G with G trained again) / its square root (a noise-free ranking's "
                  "expected correlation with G)", ""]
        for r in results:
            g = r.get("g_noise")
            if g:
                lines.append("- seed %d: %.2f / %.2f (%d pairs) / %.2f / %.2f" % (
                    r["seed"], 100 * g["g_std"], 100 * g["noise_std"], g["pairs"],
                    g["reliability"], g["ceiling"]))
    keep = -(-args.top_k // args.halving_eta)
    r1, r2 = args.halving_images, args.halving_images * args.halving_eta
    lines += ["", "Training images of the selection: run, random_halving and *_halving %d "
              "(%d x %d + %d x %d); sample_halving %d x %d + %d x %d = %d (per seed's n = %s); "
              "largest, proxy, median: none." % (
                  args.top_k * r1 + keep * r2, args.top_k, r1, keep, r2, results[0]["networks"], r1,
                  keep, r2, results[0]["networks"] * r1 + keep * r2,
                  ",".join(str(r["networks"]) for r in results))]
    diffs = [r["repeat"][k] - G for r in results
             for k, G in (("run", r["picks"]["run"]), ("largest", r["picks"]["largest"]))
             if k in r["repeat"]]
    noise = math.sqrt(statistics.fmean(d * d for d in diffs)) if diffs else float("nan")
    lines += ["", "Training-seed noise: the run's pick and the sample's largest network trained "
              "again with seed + 1000: differences %s points; RMS %.2f points (the noise of a "
              "difference of two G)." % (", ".join("%+.2f" % (100 * d) for d in diffs), 100 * noise)]
    if len(results) > 1:
        lines += ["", "Seed-to-seed noise (std over seeds of margin over the median, points): " +
                  ", ".join("%s %.2f" % (k, 100 * statistics.stdev(
                      r["picks"].get(k, math.nan) - r["median_G"] for r in results)) for k in picks)]
    lines += ["", "## Goal per seed", "",
              "| seed | run - largest | run - largest_search | run - median | run - random_halving "
              "| search + shortlist CPU s | winner's full training CPU s (est.) | ratio |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results:
        p, run = r["picks"], r["run"]
        lines.append("| %d | %+.2f | %+.2f | %+.2f | %+.2f | %.0f | %.0f | %.2f |" % (
            r["seed"], 100 * (p["run"] - p["largest"]), 100 * (p["run"] - p["largest_search"]),
            100 * (p["run"] - r["median_G"]),
            100 * (p["run"] - p.get("random_halving", p.get("random_halving_fixed", math.nan))),
            run["cpu_seconds"], run["full_training_cpu_estimate"],
            run["cpu_seconds"] / run["full_training_cpu_estimate"]))
    stem = os.path.join(args.out, "study" + ("" if name == "run" else "_" + name))
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=1)
    write_plot(stem + ".svg", results, FIXED_PANELS if args.val_images > 0 else PANELS)
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--piconas", default="build/bin/piconas")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--networks", type=int, default=40, help="random draws per seed")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=20000, help="training images of the ground truth")
    p.add_argument("--top-k", type=int, default=9, help="the run's shortlist size")
    p.add_argument("--halving-eta", type=int, default=3, help="the run's halving_eta")
    p.add_argument("--halving-images", type=int, default=1500, help="the run's halving_images")
    p.add_argument("--largest-m", type=int, default=3,
                   help="size_aware_halving: the m largest of the sample join the aggregate's top k - m")
    p.add_argument("--val-images", type=int, default=5000,
                   help="also train every sample network at the rungs with this fixed validation "
                        "set (halving_val_images; 0: no)")
    p.add_argument("--hold-out-rungs", type=int, default=1,
                   help="1: also train the sample at the rungs with the 10 %% hold-out (the default "
                        "shortlist's ranking, columns r1_*, r2_*); 0: skip them")
    p.add_argument("--repeat", type=int, default=1,
                   help="N: train the run's pick and the largest network N times more, with seed + "
                        "1000, ..., seed + N * 1000 (noise of G; the groups' mean G); 0: skip")
    p.add_argument("--rung-repeat", default="",
                   help="with --val-images: rungs (r1f, r2f, comma-separated) trained again with "
                        "seed + 1000 to measure the noise of their ranking")
    p.add_argument("--subsets", type=int, default=500,
                   help="random top-k subsets of the sample for random + halving")
    p.add_argument("--full-epochs", type=int, default=8, help="the run's winner training: epochs")
    p.add_argument("--full-images", type=int, default=54000, help="... and training images")
    p.add_argument("--run-args", default="", help="extra `piconas run` flags (a variant)")
    p.add_argument("--run-name", default="run",
                   help="folder of the run per seed; another name studies a variant (--run-args) "
                        "on the same sample and writes study_<name>.*")
    p.add_argument("--variant", action="append", default=[],
                   help="NAME=FLAGS: one more `piconas run` variant on the same sample, in folder "
                        "NAME, reported in study_NAME.* (repeatable); {seed} in FLAGS becomes the "
                        "study's seed (e.g. --search-seed 10{seed}: another search per seed)")
    p.add_argument("--finished-only", action="store_true",
                   help="start no training or run: report what is finished (networks without "
                        "their ground truth are left out)")
    p.add_argument("--jobs", type=int, default=2, help="trainings at once")
    p.add_argument("--max-sram", type=int, default=65536)
    p.add_argument("--max-flash", type=int, default=262144)
    p.add_argument("--max-macs", type=int, default=2000000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = [study_seed(args, int(s)) for s in args.seeds.split(",")]
    for name, _ in variants(args):
        done = [r[name] for r in results if name in r]
        if done:
            write_report(args, done, name)


if __name__ == "__main__":
    main()
