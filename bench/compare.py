"""nnfast vs PyTorch, scikit-learn and NumPy on the workloads W1-W7 of BENCHMARKS.md.

    python bench/compare.py [--quick] [--threads 2] [--passes 3] [--only WORKLOAD ...]
                            [--isa NAME] [--update-committed]

One process, every library pinned to the same thread count, synthetic data of the real
shapes from a fixed seed, medians of side-by-side repeats. The whole set runs --passes
times (3; 1 with --quick) and each row reports its median pass: on this shared VM a
whole phase of a run can be 20-40% slower for every library alike, which the repeats
within one workload (seconds apart) cannot see. The I rows run nnfast on every other
instruction set this CPU has, raced against the run's own. Prints the Markdown table and
writes RESULTS.md and results.png into bench/.results/ (untracked); --update-committed
writes them over the committed bench/RESULTS.md and bench/results.png instead (what the
README cites: for a run meant to replace them). W7 (memory) runs each fit in a fresh
subprocess of this script (``--rss-child``). --quick shrinks the sizes for a smoke run
(the ratios are then only indicative).
"""

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from common import (GEMM_SHAPES, NOISY, W1_LAYERS, W2_LAYERS, W6_LAYERS, OtherLoad,
                    classification_data, core, forward_flops, pinned_threads, quiet_race,
                    regression_data, sgemm_peak_gflops, torch, train_flops,
                    wait_until_quiet)
from peers import (TorchMLP, epoch_cases, estimator, fit_case, fit_quietly, gemm_cases,
                   nnfast_api, predict_cases, same_network_models)
from busy import busy_machine
from report import Row, machine_info, markdown_table, notes_list, plot, write_results

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Config:
    quick: bool
    threads: int

    @property
    def rows(self):
        """Rows of the training / inference sets (W1, W2, W7 / W3 / W6)."""
        return dict(train=10_000, infer=10_000, reg=10_000) if self.quick else dict(
            train=60_000, infer=100_000, reg=100_000)

    @property
    def patience(self):
        """Seconds to wait for other processes to go idle before a measurement."""
        return 0 if self.quick else 30

    def rounds(self, fast=5, slow=3):
        """Repeats: (for nnfast and its _core twin, for the peers, which are slower)."""
        return (2, 1) if self.quick else (fast, slow)


# Data is made once per shape and shared by every workload.
mnist_like = functools.lru_cache(maxsize=None)(classification_data)


def measure(cfg, cases, rounds, number=1):
    """(times, noise) of quiet_race, patient in a full run, not in a quick one."""
    return quiet_race(cases, rounds, number, patience=cfg.patience)


def fast_first(cfg, cases):
    """Repeats per case: more for nnfast (and its _core twin), fewer for slow peers."""
    fast, slow = cfg.rounds()
    return {name: fast if name in ("nnfast", "_core") else slow for name in cases}


def overhead_note(times, label, scale=1.0, unit="s"):
    """Pops the "_core" time and says how much the estimator adds around it."""
    alone = times.pop("_core")
    return (f"{label} alone: {alone / scale:.3g} {unit} "
            f"(estimator minus that: {(times['nnfast'] - alone) / scale:.3g} {unit})")


# --- workloads ---------------------------------------------------------------------------
def w1_train_epoch(cfg):
    X, y = mnist_like(cfg.rows["train"])
    rows = []
    for batch, min_ratio, min_peak in ((64, 6, 0.70), (256, 3, 0.80)):
        cases = epoch_cases("classification", W1_LAYERS, X, y, batch)
        times, noise = measure(cfg, cases, fast_first(cfg, cases))
        note = overhead_note(times, "_core.train_epoch")
        rows.append(Row("W1", f"train epoch b={batch}, {len(X):,} rows", times, noise=noise,
                        flops=train_flops(W1_LAYERS) * len(X),
                        min_ratio={"PyTorch": min_ratio}, min_peak=min_peak,
                        notes=[note, f"{train_flops(W1_LAYERS):,} FLOP per sample"]))
    return rows


def w2_sklearn_defaults(cfg):
    X, y = mnist_like(cfg.rows["train"])
    models = {}
    cases = {impl: fit_case(impl, "classification", W2_LAYERS[1:-1], X, y, max_iter=5,
                            keep=models) for impl in ("nnfast", "sklearn")}
    times, noise = measure(cfg, cases, cfg.rounds(3, 3)[1])
    losses = {impl: model.loss_ for impl, model in models.items()}
    gap = abs(losses["nnfast"] - losses["sklearn"]) / losses["sklearn"]
    return [Row("W2", f"MLPClassifier defaults (100,), 5 epochs, {len(X):,} rows", times,
                flops=train_flops(W2_LAYERS) * len(X) * 5, min_ratio={"sklearn": 3}, noise=noise,
                extra_checks=[("loss within 2%", f"loss gap {gap:.2%}", gap <= 0.02)],
                notes=[f"final training loss nnfast {losses['nnfast']:.4f}, "
                       f"sklearn {losses['sklearn']:.4f}"])]


def agreement_note(cases):
    """Largest difference of the peers' probabilities from nnfast's (same weights)."""
    outputs = {impl: np.asarray(fn(), dtype=np.float64) for impl, fn in cases.items()}
    diff = max(np.abs(out - outputs["nnfast"]).max() for out in outputs.values())
    return f"same weights in every library: max |p - p_nnfast| = {diff:.1e}"


def w3_w4_inference(cfg):
    models = same_network_models(W1_LAYERS, *mnist_like(2_000))
    X = classification_data(cfg.rows["infer"], seed=1)[0]
    cases = predict_cases(models, X)
    notes = [agreement_note(cases)]
    times, noise = measure(cfg, cases, fast_first(cfg, cases))
    notes.insert(0, overhead_note(times, "_core.Predictor"))
    w3 = Row("W3", f"predict_proba {len(X):,} rows", times, noise=noise,
             flops=forward_flops(W1_LAYERS) * len(X), min_peak=0.85,
             min_ratio={"PyTorch": 1.5}, notes=notes)

    calls = 500 if cfg.quick else 3000
    times, noise = measure(cfg, predict_cases(models, X[:1]), calls // 100, number=100)
    w4 = Row("W4", "predict_proba one row", times, max_value=20e-6, noise=noise,
             notes=[overhead_note(times, "_core.Predictor", 1e-6, "us"),
                    f"median over {calls} calls per library, in runs of 100"])
    return [w3, w4]


def w5_gemm(cfg):
    rows = []
    for label, shape in GEMM_SHAPES.items():
        m, k, n = shape[:3]
        number = max(3, int(0.1 / (2 * m * k * n / 100e9)))  # ~0.1 s per timed block
        times, noise = measure(cfg, gemm_cases(*shape), 3 if cfg.quick else 9, number)
        rows.append(Row("W5", label, times, flops=2 * m * k * n, noise=noise,
                        min_ratio={"NumPy": 0.9 if label == "gemm 1024^3" else 1.1}))
    return rows


def w6_regression(cfg):
    X, y = regression_data(cfg.rows["reg"])
    cases = epoch_cases("regression", W6_LAYERS, X, y, 128)
    times, noise = measure(cfg, cases, fast_first(cfg, cases))
    note = overhead_note(times, "_core.train_epoch")
    return [Row("W6", f"regression epoch b=128, {len(X):,} rows", times, noise=noise,
                flops=train_flops(W6_LAYERS) * len(X),
                min_ratio={"PyTorch": 15, "sklearn": 8}, notes=[note])]


def w7_memory(cfg):
    impls = ("nnfast", "sklearn", "PyTorch") if torch else ("nnfast", "sklearn")
    rows = []
    for dtype in ("float32", "float64"):
        mib = {impl: rss_in_subprocess(impl, dtype, cfg) for impl in impls}
        rows.append(Row("W7", f"peak RSS of fit above the data, {dtype} X, "
                              f"{cfg.rows['train']:,} rows", mib, kind="memory",
                        max_value=64))
    return rows


def rss_in_subprocess(impl, dtype, cfg):
    command = [sys.executable, os.path.abspath(__file__), "--rss-child", impl, dtype,
               "--threads", str(cfg.threads)] + (["--quick"] if cfg.quick else [])
    env = dict(os.environ, **({} if impl == "PyTorch" else {"NNFAST_BENCH_NO_TORCH": "1"}))
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])["mib"]


def peak_rss_kib():
    """The process's peak RSS (VmHWM). Same quantity as getrusage's ru_maxrss, except
    that ru_maxrss also keeps the peak recorded whenever a thread exits, so the reset
    below (clear_refs) would not always take; /proc/self/status has no such memory."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))


def rss_child(impl, dtype, cfg):
    """In a fresh process: make X, reset the peak RSS to the current RSS, fit one W1
    epoch (batch 256) the way a user of ``impl`` would, print the peak growth in MiB."""
    X, y = mnist_like(cfg.rows["train"], dtype=np.dtype(dtype))
    if impl == "PyTorch":
        def fit():  # a plain user loop: one conversion of X, a gather per batch
            model = TorchMLP(W1_LAYERS, "classification")
            X_t, y_t = torch.from_numpy(X).float(), torch.from_numpy(y)
            for idx in torch.randperm(len(X)).split(256):
                model.optimizer.zero_grad(set_to_none=True)
                model.loss_fn(model.net(X_t[idx]), y_t[idx]).backward()
                model.optimizer.step()
    else:
        fit = fit_case(impl, "classification", W1_LAYERS[1:-1], X, y, 256)
    with open("/proc/self/clear_refs", "w") as f:  # peak RSS := current RSS (Linux >= 4.0)
        f.write("5")
    before = peak_rss_kib()
    fit()
    print(json.dumps({"mib": (peak_rss_kib() - before) / 1024}))


def thread_scaling(cfg):
    """1 -> n threads at batch 256, and epoch time vs rows (half the rows, then all)."""
    X, y = mnist_like(cfg.rows["train"])
    fit_all = fit_case("nnfast", "classification", W1_LAYERS[1:-1], X, y, 256)
    half = len(X) // 2
    fit_half = fit_case("nnfast", "classification", W1_LAYERS[1:-1], X[:half], y[:half], 256)

    def one_thread():
        with pinned_threads(1):
            fit_all()

    times, noise = measure(cfg, {"all": fit_all, "half": fit_half, "1 thread": one_thread},
                              cfg.rounds()[0])
    speedup, growth = times["1 thread"] / times["all"], times["all"] / times["half"]
    checks = [("rows x2 -> time x1.8-2.2", f"time x{growth:.2f}", 1.8 <= growth <= 2.2)]
    if cfg.threads >= 2:
        checks.append((f"1->{cfg.threads} threads >=1.8x", f"{speedup:.2f}x",
                       speedup >= 1.8))
    return [Row("S", "scaling, W1 b=256", {"nnfast": times["all"]}, extra_checks=checks,
                noise=noise, notes=[f"1 thread {times['1 thread']:.3f} s, {half:,} rows "
                       f"{times['half']:.3f} s"])]


def determinism(cfg):
    X, y = mnist_like(10_000)
    coefs = {}
    for threads in (1, cfg.threads):
        with pinned_threads(threads):
            model = fit_quietly(estimator("nnfast", "classification", W1_LAYERS[1:-1], 256),
                                X, y)
        coefs[threads] = model.coefs_ + model.intercepts_
    same = all(np.array_equal(a, b) for a, b in zip(coefs[1], coefs[cfg.threads]))
    return [Row("D", f"coefs_ at 1 vs {cfg.threads} threads, 10,000 rows",
                {"nnfast": None}, extra_checks=[("bitwise identical",
                                                 "identical" if same else "differ", same)])]


def on_isa(isa, fn):
    """fn run with nnfast's kernels of `isa`, the run's own set restored after."""
    def run():
        default = core.isa()
        core.set_isa(isa)
        try:
            return fn()
        finally:
            core.set_isa(default)
    return run


def isa_block(cfg):
    """I: nnfast on every other instruction set this CPU runs (the rows above use the
    run's one), each raced against its peers and against the run's set; and the fits of
    the sets with fused multiply-add compared bit for bit."""
    X, y = mnist_like(cfg.rows["train"])
    run_isa, rows = core.isa(), []
    m, k, n = GEMM_SHAPES["gemm 1024^3"][:3]
    suites = (("W1", "train epoch b=64", train_flops(W1_LAYERS) * len(X), lambda: (
                  {name: fn for name, fn in epoch_cases("classification", W1_LAYERS, X, y, 64)
                   .items() if name in ("nnfast", "PyTorch")}), 1),
              ("W5", "gemm 1024^3", 2 * m * k * n, lambda: gemm_cases(m, k, n), 5))
    for isa in core.available_isas():
        if isa == run_isa:
            continue
        for wid, label, flops, make, number in suites:
            cases = make()
            cases[run_isa] = cases["nnfast"]
            cases["nnfast"] = on_isa(isa, cases["nnfast"])
            times, noise = measure(cfg, cases, cfg.rounds(3, 3)[1], number)
            own = times.pop(run_isa)
            rows.append(Row("I", f"{wid} {label} on {isa}", times, flops=flops, noise=noise,
                            notes=[f"nnfast on {isa}: {times['nnfast'] / own:.2f}x its time on "
                                   f"{run_isa} (raced side by side)"]))
    fma_isas = [isa for isa in core.available_isas() if isa != "generic"]
    if len(fma_isas) >= 2:
        Xs, ys = mnist_like(10_000)
        coefs = {isa: on_isa(isa, lambda: fit_quietly(
            estimator("nnfast", "classification", W1_LAYERS[1:-1], 256), Xs, ys))()
            for isa in fma_isas}
        same = all(np.array_equal(a, b) for isa in fma_isas[1:] for a, b in zip(
            coefs[fma_isas[0]].coefs_, coefs[isa].coefs_))
        rows.append(Row("D", f"coefs_ on {' vs '.join(fma_isas)}, 10,000 rows",
                        {"nnfast": None}, extra_checks=[(
                            "bitwise identical", "identical" if same else "differ", same)]))
    return rows


def busy_machine_block(cfg):
    """B1, B2 (other processes busy), BI (idle cost of the thread runtime), BC (controls)."""
    X, y = mnist_like(cfg.rows["train"])
    Xr, yr = regression_data(cfg.rows["reg"])
    return busy_machine(cfg, X, y, Xr, yr)


def median_pass_rows(passes):
    """Per row, the pass whose nnfast value is the median: its peers were measured side
    by side with it, so its ratios stay those of one moment. Rows without an nnfast
    value (pass/fail checks) take the first pass that failed, if any."""
    if len(passes) == 1:
        return passes[0]
    merged = []
    for versions in zip(*passes):
        timed = [row for row in versions if row.values.get("nnfast") is not None]
        if not timed:
            failed = [row for row in versions if not all(ok for *_, ok in row.checks(1.0))]
            merged.append((failed or list(versions))[0])
            continue
        timed.sort(key=lambda row: row.values["nnfast"])
        row = timed[(len(timed) - 1) // 2]
        spread = [r.values["nnfast"] for r in timed]
        row.notes = row.notes + [f"nnfast over {len(spread)} passes: min / median / max "
                                 f"{row.fmt(min(spread))} / {row.fmt(row.values['nnfast'])} / "
                                 f"{row.fmt(max(spread))}"]
        merged.append(row)
    return merged


WORKLOADS = (w1_train_epoch, w2_sklearn_defaults, w3_w4_inference, w5_gemm, w6_regression,
             w7_memory, thread_scaling, determinism, isa_block, busy_machine_block)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=None,
                        help="runs of the whole set; each row reports its median pass "
                             "(default 3, --quick 1)")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD",
                        choices=[w.__name__ for w in WORKLOADS],
                        help="run these workloads only (default: all)")
    parser.add_argument("--isa", choices=core.available_isas(),
                        help="nnfast's instruction set for the run (default: the widest this "
                             "CPU runs); the I rows (isa_block) race it against every other")
    parser.add_argument("--update-committed", action="store_true",
                        help="write bench/RESULTS.md and bench/results.png (the committed "
                             "results) instead of bench/.results/")
    parser.add_argument("--rss-child", nargs=2, metavar=("IMPL", "DTYPE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    cfg = Config(args.quick, args.threads)
    if args.isa:
        core.set_isa(args.isa)
        os.environ["NNFAST_ISA"] = args.isa  # for the W7 subprocesses too
    if args.passes is None:
        args.passes = 1 if args.quick else 3
    if args.passes < 1:
        parser.error("--passes must be >= 1")
    with pinned_threads(cfg.threads):
        if args.rss_child:
            return rss_child(*args.rss_child, cfg)
        if cfg.patience and wait_until_quiet(cfg.patience) > NOISY:
            print("warning: other processes keep the CPU busy; "
                  f"{cfg.threads}-thread timings will be noisy", file=sys.stderr)
        load, start = OtherLoad(), time.perf_counter()
        passes, peaks = [], []
        for number in range(args.passes):
            rows = []
            for workload in (w for w in WORKLOADS if not args.only or w.__name__ in args.only):
                peaks.append(sgemm_peak_gflops(patience=cfg.patience))  # ~0.3 s each
                print(f"[{time.perf_counter() - start:6.1f} s] pass {number + 1}: "
                      f"{workload.__name__}", file=sys.stderr, flush=True)
                rows += workload(cfg)
            passes.append(rows)
        peaks.append(sgemm_peak_gflops(patience=cfg.patience))
        rows = median_pass_rows(passes)
    # The median of the samples: this shared VM's clock drifts by +-20% within a run.
    peak = statistics.median(peaks)
    command = ("python bench/compare.py" + " --quick" * cfg.quick + f" --threads {cfg.threads}"
               + f" --passes {args.passes}" + (f" --only {' '.join(args.only)}" if args.only else "")
               + (f" --isa {args.isa}" if args.isa else ""))
    table, notes = markdown_table(rows, peak), notes_list(rows)
    info = machine_info(cfg.threads, peak, nnfast_api()) + (
        f"\n- sgemm peak sampled before each workload and at the end: min / median / max "
        f"{min(peaks):.1f} / {peak:.1f} / {max(peaks):.1f} GF/s (the median is the peak)"
        f"\n- wall time of the run: {time.perf_counter() - start:.0f} s, waits for a quiet "
        f"machine included; CPU used by other processes over it: {load.cores():.2f} cores "
        f"on average (each row measured while others used > {NOISY} cores is marked noisy)")
    print(f"\n{table}\n\n{notes}\n\n{info}\n\nCommand: {command}")
    folder = HERE if args.update_committed else os.path.join(HERE, ".results")
    os.makedirs(folder, exist_ok=True)
    write_results(os.path.join(folder, "RESULTS.md"), table, notes, info, command)
    plot(rows, os.path.join(folder, "results.png"),
         f"nnfast speedup, {cfg.threads} threads" + (" (quick)" if cfg.quick else ""))
    print(f"Wrote {os.path.join(folder, 'RESULTS.md')} and results.png", file=sys.stderr)


if __name__ == "__main__":
    main()
