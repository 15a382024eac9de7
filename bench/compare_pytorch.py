#!/usr/bin/env python3
"""piconas vs PyTorch, side by side in one run: prints markdown ratio tables.

    python3 bench/compare_pytorch.py [--build build] [--threads 2] [--reps 3] [--quick]
                                     [--no-scoring] [--torch-wait-policy passive|active]
                                     [--torch-isa avx2]

Optional and never used by the tests or CI: it needs Debian's python3-torch
(`apt-get install -y python3-torch`; run Debian's python3 if another one comes first in PATH)
and the bench programs of a Release build (build/bin/bench_conv2d, bench_depthwise_conv2d,
bench_train, bench_metrics).

Every measurement alternates: piconas (one bench_* process per case, Google Benchmark JSON;
the scoring rows time warm passes after one untimed pass, as PyTorch's worker is warm), then
PyTorch (one long-lived worker process), `--reps` times; each side keeps its best
(highest throughput, lowest latency), and the machine's load average is recorded with every
case. Ratio = piconas / PyTorch throughput (> 1: piconas ahead); for latency and scoring, PyTorch time /
piconas time. FLOPs: 2 x MACs; forward+backward counts 3 x the forward FLOPs (forward, dx, dw).
Both sides use the same thread count. PyTorch runs in its strongest CPU configuration:
default oneDNN convolutions, and glibc malloc tunables that keep freed activation buffers
(no mmap/munmap per tensor); its OpenMP waits by the OpenMP default unless
--torch-wait-policy sets OMP_WAIT_POLICY for it (on a loaded machine the default spinning
collapses; piconas needs no such setting).
--torch-isa avx2 caps PyTorch at AVX2 (oneDNN's DNNL_MAX_CPU_ISA, ATen's ATEN_CPU_CAPABILITY,
OpenBLAS's OPENBLAS_CORETYPE=Haswell): what PyTorch runs on an AVX2-only machine, the like-for-like
peer of an AVX2 build of piconas (-march=x86-64-v3) measured on an AVX-512 machine.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

CONV_LAYERS = [  # name in bench_conv2d, in_channels, size, out_channels, kernel, stride, pad
    ("stem 3->16 3x3 s2 @96", "stem_3x3s2_96", 3, 96, 16, 3, 2, 1),
    ("pointwise 16->96 @48", "pw16_96_48", 16, 48, 96, 1, 1, 0),
    ("pointwise 144->32 @24", "pw144_32_24", 144, 24, 32, 1, 1, 0),
    ("conv 32->32 3x3 @24", "conv32_3x3_24", 32, 24, 32, 3, 1, 1),
    ("conv 64->64 3x3 @56", "conv64_3x3_56", 64, 56, 64, 3, 1, 1),
]
DW_LAYERS = [  # name in bench_depthwise_conv2d, channels, size, kernel, stride
    ("depthwise 96ch 3x3 s1 @48", "96ch_3x3_s1_48", 96, 48, 3, 1),
    ("depthwise 144ch 3x3 s1 @24", "144ch_3x3_s1_24", 144, 24, 3, 1),
    ("depthwise 144ch 3x3 s2 @24", "144ch_3x3_s2_24", 144, 24, 3, 2),
    ("depthwise 144ch 5x5 s1 @24", "144ch_5x5_s1_24", 144, 24, 5, 1),
    ("depthwise 144ch 7x7 s1 @24", "144ch_7x7_s1_24", 144, 24, 7, 1),
]

# The reference networks of nas/arch/arch_spec.cpp (docs/architecture_text.md): conv (no bias)
# -> BatchNorm -> activation; blocks "ds" (depthwise kxk, pointwise) and "ir" (expand 1x1 if
# expansion > 1, depthwise kxk, project 1x1 without activation, residual when stride 1 and
# in == out channels); global average pool and a linear classifier.
TINY_BENCH = dict(input=(1, 28, 28), classes=10, act="relu", stem=(8, 3, 1),
                  blocks=[("ds", 3, 1, 1, 16), ("ds", 3, 1, 2, 32), ("ds", 3, 1, 1, 32),
                          ("ds", 3, 1, 2, 64)])
MBV2_BENCH = dict(input=(3, 96, 96), classes=2, act="relu6", stem=(16, 3, 2),
                  blocks=[("ir", 3, 6, stride if d == 0 else 1, ch)
                          for depth, ch, stride in [(1, 16, 1), (2, 24, 2), (3, 32, 2), (4, 64, 2),
                                                    (3, 96, 1), (3, 160, 2), (1, 320, 1)]
                          for d in range(depth)])
NETS = {"tiny-bench": TINY_BENCH, "mbv2-bench": MBV2_BENCH}


def load():
    return os.getloadavg()[0]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def isa():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")),
                         [])
    except OSError:
        flags = []
    return "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "baseline"


# ---------------------------------------------------------------- PyTorch worker process
def torch_worker(threads):
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    torch.manual_seed(1)

    def timed(step, min_time):
        for _ in range(3):
            step()
        iters, start = 0, time.perf_counter()
        while True:
            step()
            iters += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time and iters >= 3:
                return elapsed / iters

    def conv_case(job):
        b, c, size, o, k, s, p, groups = (job[key] for key in
                                          ("batch", "in", "size", "out", "k", "stride", "pad",
                                           "groups"))
        conv = nn.Conv2d(c, o, k, s, p, groups=groups, bias=True)
        x = torch.randn(b, c, size, size, requires_grad=job["backward"])
        out = conv(x).detach()
        dy = torch.randn_like(out)
        if job["backward"]:
            def step():
                conv(x).backward(dy)
        else:
            def step():
                with torch.no_grad():
                    conv(x)
        return timed(step, job["min_time"])

    def make_net(spec):
        act = nn.ReLU if spec["act"] == "relu" else nn.ReLU6

        def conv_bn(cin, cout, k, s, groups=1, activation=True):
            layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
                      nn.BatchNorm2d(cout)]
            return layers + ([act()] if activation else [])

        class Residual(nn.Module):
            def __init__(self, body):
                super().__init__()
                self.body = body

            def forward(self, x):
                return x + self.body(x)

        c_in, _, _ = spec["input"]
        stem_c, stem_k, stem_s = spec["stem"]
        layers = conv_bn(c_in, stem_c, stem_k, stem_s)
        ch = stem_c
        for kind, k, e, s, out in spec["blocks"]:
            if kind == "ds":
                body = conv_bn(ch, ch, k, s, ch) + conv_bn(ch, out, 1, 1)
                layers.append(nn.Sequential(*body))
            else:
                hidden = ch * e
                body = (conv_bn(ch, hidden, 1, 1) if e != 1 else []) + \
                    conv_bn(hidden, hidden, k, s, hidden) + conv_bn(hidden, out, 1, 1, 1, False)
                block = nn.Sequential(*body)
                layers.append(Residual(block) if s == 1 and ch == out else block)
            ch = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, spec["classes"])]
        return nn.Sequential(*layers)

    def net_case(job):
        spec = NETS[job["net"]]
        net = make_net(spec)
        x = torch.randn(job["batch"], *spec["input"])
        if job["kind"] == "train":
            net.train()
            labels = torch.randint(0, spec["classes"], (job["batch"],))
            opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                  weight_decay=5e-4)
            loss_fn = nn.CrossEntropyLoss()

            def step():
                opt.zero_grad()
                loss_fn(net(x), labels).backward()
                opt.step()
        else:
            net.eval()

            def step():
                with torch.no_grad():
                    net(x)
        return timed(step, job["min_time"])

    def score_case(job):
        """One trial of the four metrics of `piconas score` (nas/metrics/score.h) on a batch
        of 64: re-initialisation, one train-mode forward with activation hooks (naswot), the
        input gradient of the summed logits (jacob_cov), the weight gradients of the mean
        cross-entropy (snip), and a float64 batch-1 pass on |weights| with BatchNorm as
        identity (synflow)."""
        import copy
        spec = dict(NETS[job["net"]], input=tuple(job["input"]))
        net = make_net(spec)
        x = torch.randn(64, *spec["input"])
        labels = torch.randint(0, spec["classes"], (64,))
        activations = [m for m in net.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]

        def scored(model):
            return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

        def step():
            with torch.no_grad():
                for m in net.modules():
                    if isinstance(m, (nn.Conv2d, nn.Linear)):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out")
                        if m.bias is not None:
                            m.bias.zero_()
                    elif isinstance(m, nn.BatchNorm2d):
                        m.weight.fill_(1)
                        m.bias.zero_()
            net.train()
            # NASWOT's K = c c^T + (1 - c)(1 - c)^T per activation, as one GEMM:
            # 2 c c^T - s_i - s_j + units (s: row sums); exact integers in float32.
            kernel = torch.zeros(64, 64)

            def add_codes(_module, _inputs, out):
                c = (out > 0).flatten(1).float()
                s = c.sum(1)
                kernel.add_(2 * (c @ c.t()) - s[:, None] - s[None, :] + c.shape[1])

            hooks = [m.register_forward_hook(add_codes) for m in activations]
            xg = x.clone().requires_grad_(True)
            logits = net(xg)
            for h in hooks:
                h.remove()
            torch.slogdet(kernel.double())
            (jac,) = torch.autograd.grad(logits.sum(), xg, retain_graph=True)
            v = torch.linalg.eigvalsh(torch.corrcoef(jac.flatten(1).double()))
            -(torch.log(v + 1e-5) + 1 / (v + 1e-5)).sum().item()
            weights = scored(net)
            grads = torch.autograd.grad(nn.functional.cross_entropy(logits, labels), weights)
            sum((w * g).abs().sum() for w, g in zip(weights, grads)).item()
            net64 = copy.deepcopy(net).double()
            with torch.no_grad():
                for t in list(net64.parameters()) + list(net64.buffers()):
                    t.abs_()
            for m in net64.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
                    m.running_mean.zero_()
                    m.running_var.fill_(1)
                    m.eps = 0.0
            weights64 = scored(net64)
            out = net64(torch.ones(1, *spec["input"], dtype=torch.float64)).sum()
            grads64 = torch.autograd.grad(out, weights64)
            sum((w * g).abs().sum() for w, g in zip(weights64, grads64)).item()

        return timed(step, job["min_time"])

    print(json.dumps({"ready": torch.__version__}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        cases = {"conv": conv_case, "net": net_case, "score": score_case}
        seconds = cases[job["type"]](job)
        print(json.dumps({"seconds": seconds}), flush=True)


TORCH_ISA_CAPS = {"avx2": {"DNNL_MAX_CPU_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                            "ATEN_CPU_CAPABILITY": "avx2", "OPENBLAS_CORETYPE": "Haswell"}}


class Torch:
    def __init__(self, threads, wait_policy, isa_cap):
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if wait_policy:
            env["OMP_WAIT_POLICY"] = wait_policy
        env.update(TORCH_ISA_CAPS.get(isa_cap, {}))
        # Keep freed activation buffers in the heap (no mmap/munmap + page faults per tensor).
        env["GLIBC_TUNABLES"] = "glibc.malloc.mmap_threshold=33554432:" \
                                "glibc.malloc.trim_threshold=4294967296"
        self.proc = subprocess.Popen([sys.executable, __file__, "--torch-worker",
                                      "--threads", str(threads)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.version = json.loads(self.proc.stdout.readline())["ready"]

    def seconds(self, job):
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["seconds"]


# ---------------------------------------------------------------- piconas side
def piconas(build, program, name, min_time):
    out = subprocess.run([os.path.join(build, "bin", program), "--benchmark_filter=^" + name + "/",
                          "--benchmark_min_time=%g" % min_time, "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if len(runs) != 1:
        sys.exit("compare_pytorch: %s matched %d benchmarks in %s" % (name, len(runs), program))
    return runs[0]


def seconds_per_iter(run):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[run["time_unit"]]
    return run["real_time"] * scale


def alternate(reps, ours, theirs):
    """Best of reps alternating runs: (our seconds, their seconds, min load, max load)."""
    best_ours = best_theirs = float("inf")
    loads = []
    for _ in range(reps):
        loads.append(load())
        best_ours = min(best_ours, ours())
        best_theirs = min(best_theirs, theirs())
    loads.append(load())
    return best_ours, best_theirs, min(loads), max(loads)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.4, help="seconds per measurement")
    ap.add_argument("--quick", action="store_true", help="batch 32 only, no batch 1 rows")
    ap.add_argument("--no-scoring", dest="scoring", action="store_false",
                    help="skip the four-metric scoring rows (bench_metrics)")
    ap.add_argument("--torch-wait-policy", choices=["passive", "active"],
                    help="OMP_WAIT_POLICY for PyTorch (default: unset, OpenMP's default)")
    ap.add_argument("--torch-isa", choices=sorted(TORCH_ISA_CAPS),
                    help="cap PyTorch's ISA (default: PyTorch's own choice, the machine's best)")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        return torch_worker(a.threads)
    if a.threads < 1 or a.reps < 1 or a.min_time <= 0:
        sys.exit("compare_pytorch: --threads, --reps and --min-time must be positive")
    torch = Torch(a.threads, a.torch_wait_policy, a.torch_isa)
    t = a.threads
    print("# piconas vs PyTorch %s, %d threads, %s UTC" %
          (torch.version, t, time.strftime("%Y-%m-%d %H:%M", time.gmtime())))
    print("\nMachine: %s, %d CPUs, ISA %s; PyTorch OMP_WAIT_POLICY: %s; PyTorch ISA: %s." %
          (cpu_model(), os.cpu_count(), isa(), a.torch_wait_policy or "unset (default)",
           "capped at " + a.torch_isa.upper() if a.torch_isa else "its own choice"))
    print("\nMeasured under load: the load column is the 1-minute load average during the case "
          "(min-max); best of %d alternating runs per side.\n" % a.reps)
    print("| shape | batch | fwd GFLOP/s piconas / PyTorch | fwd ratio | fwd+bwd GFLOP/s piconas / "
          "PyTorch | fwd+bwd ratio | load |")
    print("|---|---|---|---|---|---|---|")
    cases = [(label, "bench_conv2d", "BM_conv_%s/" + name, dict(type="conv", **{
        "in": c, "size": size, "out": o, "k": k, "stride": s, "pad": p, "groups": 1}),
        c * o * k * k * ((size + 2 * p - k) // s + 1) ** 2)
        for label, name, c, size, o, k, s, p in CONV_LAYERS]
    cases += [(label, "bench_depthwise_conv2d", "BM_dw_%s/" + name, dict(type="conv", **{
        "in": c, "size": size, "out": c, "k": k, "stride": s, "pad": k // 2, "groups": c}),
        c * k * k * ((size + 2 * (k // 2) - k) // s + 1) ** 2)
        for label, name, c, size, k, s in DW_LAYERS]
    for batch in ([32] if a.quick else [32, 1]):
        for label, program, pattern, job, macs in cases:
            cells, loads = [], []
            for backward in (False, True):
                name = pattern % ("fwdbwd" if backward else "fwd") + \
                    "/batch:%d/threads:%d" % (batch, t)
                flop = 2.0 * macs * batch * (3 if backward else 1)
                ours, theirs, lo, hi = alternate(
                    a.reps, lambda: seconds_per_iter(piconas(a.build, program, name, a.min_time)),
                    lambda: torch.seconds(dict(job, batch=batch, backward=backward,
                                               min_time=a.min_time)))
                loads += [lo, hi]
                cells += ["%.0f / %.0f" % (flop / ours / 1e9, flop / theirs / 1e9),
                          "**%.2f**" % (theirs / ours) if theirs < ours else "%.2f" % (theirs / ours)]
            print("| %s | %d | %s | %s | %s | %s | %.1f-%.1f |" %
                  (label, batch, *cells, min(loads), max(loads)), flush=True)

    print("\n| workload | piconas | PyTorch | ratio | load |")
    print("|---|---|---|---|---|")
    nets = [("training tiny-bench, batch 64 (img/s)", "BM_train_step/tiny-bench/batch:64", "train",
             "tiny-bench", 64),
            ("training mbv2-bench, batch 32 (img/s)", "BM_train_step/mbv2-bench/batch:32", "train",
             "mbv2-bench", 32),
            ("inference mbv2-bench, batch 1 (ms)", "BM_infer/mbv2-bench/batch:1", "infer",
             "mbv2-bench", 1)]
    if a.scoring:
        nets += [("four-metric scoring mbv2-bench @%d, batch 64 (ms)" % size,
                  "BM_score/%s/all4" % bench_net, "score", "mbv2-bench", size)
                 for size, bench_net in ((96, "mbv2_96"), (32, "mbv2_32"))]
    for label, name, kind, net, batch in nets:
        if kind == "score":  # batch is the input size here
            job = dict(type="score", net=net, input=[3, batch, batch], min_time=a.min_time * 3)
        else:
            job = dict(type="net", net=net, kind=kind, batch=batch, min_time=a.min_time * 3)
        program = "bench_metrics" if kind == "score" else "bench_train"
        ours, theirs, lo, hi = alternate(
            a.reps, lambda: seconds_per_iter(piconas(a.build, program,
                                                     name + "/threads:%d" % t, a.min_time * 3)),
            lambda: torch.seconds(job))
        if kind == "train":
            values = "%.0f | %.0f" % (batch / ours, batch / theirs)
        else:
            values = "%.2f | %.2f" % (ours * 1e3, theirs * 1e3)
        ratio = theirs / ours
        print("| %s | %s | %s | %.1f-%.1f |" %
              (label, values, "**%.2f**" % ratio if ratio < 1 else "%.2f" % ratio, lo, hi),
              flush=True)


if __name__ == "__main__":
    main()
