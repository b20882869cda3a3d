"""The busy-machine block of compare.py: nnfast while other processes keep cores busy,
the thread controls, and the idle cost of the thread runtime.

- B1 / B2: the bench starts one, then two spinning processes (each pinned to one CPU where
  the OS allows), measures W1 (batch 256, one epoch) and W2 (scikit-learn's defaults,
  5 epochs) for nnfast and, under the same load, scikit-learn and PyTorch, then ends
  them. Target: at most 1.3x (one core busy) and 2.5x (two) nnfast's quiet one-thread
  time, measured in the same round.
- BI: the idle machine's cost of the thread runtime against the OpenMP regions it
  replaced (the core built at BASELINE_REF, bench/baseline.py), epochs interleaved in one
  process: at most 3% slower on W1, W2 and W6.
- BC: threadpoolctl's limit holds inside its block only, after a fit; a threading-backend
  GridSearchCV(n_jobs=2) over nnfast is not slower than n_jobs=1, and finds the same.
"""

import contextlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from baseline import BaselineUnavailable, baseline_core
from common import (W1_LAYERS, W2_LAYERS, W6_LAYERS, core, paired_ratio, pinned_threads,
                    quiet_convergence, torch)
from peers import CoreEstimator, TorchMLP, fit_case
from report import Row

# The last commit whose steps ran as OpenMP parallel regions with barriers (libgomp's
# wait policy): what the thread runtime replaced.
BASELINE_REF = "17d50d2"
SPIN = "import os, sys\nif hasattr(os, 'sched_setaffinity'):\n    os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"


@contextlib.contextmanager
def spinning_processes(n):
    """n processes each spinning on one CPU (CPU i for the i-th, where pinning works)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    procs = [subprocess.Popen([sys.executable, "-c", SPIN, str(cpus[i % len(cpus)])])
             for i in range(n)]
    time.sleep(0.5)  # started and scheduled
    try:
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def busy_cases(X, y):
    """{workload: {impl: callable}}: W1 b=256 one epoch and W2 (5 epochs), as users run them."""
    w1 = {"nnfast": fit_case("nnfast", "classification", W1_LAYERS[1:-1], X, y, 256),
          "sklearn": fit_case("sklearn", "classification", W1_LAYERS[1:-1], X, y, 256)}
    if torch:
        w1["PyTorch"] = TorchMLP(W1_LAYERS, "classification", 256, X, y).epoch
    w2 = {impl: fit_case(impl, "classification", W2_LAYERS[1:-1], X, y, max_iter=5)
          for impl in ("nnfast", "sklearn")}
    return {"W1 b=256 epoch": w1, "W2 defaults, 5 epochs": w2}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def busy_rows(cfg, X, y):
    """Per round, per workload: nnfast quiet on one thread, then with one and with two
    spinning processes (and the peers, in the first rounds). Each busy time is divided by
    its round's quiet time, and the row reports the median of those ratios: a quiet time
    measured minutes apart would carry this VM's phases (+-30%) into the ratio."""
    fast, slow = cfg.rounds()
    rows = []
    for label, impls in busy_cases(X, y).items():
        for fn in impls.values():
            fn()  # warm-up
        quiet, busy = [], {1: {name: [] for name in impls}, 2: {name: [] for name in impls}}
        for r in range(fast):
            time.sleep(0.2)
            with pinned_threads(1):
                quiet.append(timed(impls["nnfast"]))
            for spinners in (1, 2):
                with spinning_processes(spinners):
                    for name, fn in impls.items():
                        if name == "nnfast" or r < slow:
                            busy[spinners][name].append(timed(fn))
        for spinners, bound in ((1, 1.3), (2, 2.5)):
            ratios = [b / q for b, q in zip(busy[spinners]["nnfast"], quiet)]
            ratio = statistics.median(ratios)
            what = "one core" if spinners == 1 else "both cores"
            rows.append(Row(f"B{spinners}", f"{label}, {what} busy",
                            {name: statistics.median(t) for name, t in busy[spinners].items()},
                            extra_checks=[(f"<={bound}x quiet 1 thread", f"{ratio:.2f}x",
                                           ratio <= bound)],
                            notes=[f"nnfast quiet on 1 thread: {statistics.median(quiet):.3f} s "
                                   f"(per-round ratios {' '.join(f'{x:.2f}' for x in ratios)}); "
                                   f"every library at {cfg.threads} threads with {spinners} "
                                   f"spinning process(es)"]))
    return rows


def idle_cost_rows(cfg, X, y, Xr, yr):
    """This core against the baseline build, epochs alternating, machine otherwise idle."""
    try:
        base = baseline_core(BASELINE_REF)
    except BaselineUnavailable as why:
        return [Row("BI", "idle cost of the thread runtime", {"nnfast": None},
                    notes=[f"skipped: no baseline core ({why})"])]
    base.set_num_threads(cfg.threads)
    workloads = {"W1 b=64": ("classification", W1_LAYERS, X, y, 64),
                 "W1 b=256": ("classification", W1_LAYERS, X, y, 256),
                 "W2 b=200": ("classification", W2_LAYERS, X, y, 200),
                 "W6 b=128": ("regression", W6_LAYERS, Xr, yr, 128)}
    def epoch(module, task, layers, data, target, batch):
        return lambda: CoreEstimator(task, layers[1:-1], batch, core_module=module).fit(data, target)

    rows = []
    for label, workload in workloads.items():
        ratio, new, old = paired_ratio(epoch(core, *workload), epoch(base, *workload),
                                       4 * cfg.rounds()[0] + 1)
        rows.append(Row("BI", f"{label} epoch, idle: pool vs OpenMP regions", {"nnfast": new},
                        extra_checks=[("<=1.03x the OpenMP build", f"{ratio:.3f}x",
                                       ratio <= 1.03)],
                        notes=[f"the OpenMP-region build ({base.commit[:12]}): {old:.4f} s; "
                               "ratio: median of per-round ratios, the two epochs back to "
                               "back in each round"]))
    return rows


def control_rows(X, y):
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    import nnfast

    default = core.default_num_threads()
    core.reset_num_threads()  # the controls as a user meets them
    nnfast.MLPClassifier(hidden_layer_sizes=(32,), max_iter=1).fit(X[:1000], y[:1000])
    with threadpool_limits(1):
        inside = nnfast.get_num_threads()
    after = nnfast.get_num_threads()
    limits_ok = inside == 1 and after == default
    rows = [Row("BC", "threadpool_limits(1) after a fit", {"nnfast": None},
                extra_checks=[(f"1 inside, {default} after", f"{inside} inside, {after} after",
                               limits_ok)])]

    search = {}

    def grid(n_jobs):
        def run():
            model = nnfast.MLPClassifier(hidden_layer_sizes=(128, 64), batch_size=256,
                                         max_iter=2, random_state=0)
            with parallel_backend("threading"):
                search[n_jobs] = GridSearchCV(model, {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]},
                                              cv=2, n_jobs=n_jobs).fit(X, y)
        return run

    with quiet_convergence():
        ratio, two, one = paired_ratio(grid(2), grid(1), 5)
    same = np.array_equal(search[1].cv_results_["mean_test_score"],
                          search[2].cv_results_["mean_test_score"])
    rows.append(Row("BC", f"GridSearchCV threading, 8 fits of {len(X):,} rows", {"nnfast": two},
                    extra_checks=[("n_jobs=2 <= n_jobs=1", f"{ratio:.2f}x", ratio <= 1.0),
                                  ("same scores", "same" if same else "differ", same)],
                    notes=[f"n_jobs=1 {one:.3f} s, n_jobs=2 {two:.3f} s (medians); the "
                           "ratio is the median of per-round ratios"]))
    return rows


def busy_machine(cfg, X, y, Xr, yr):
    """Every row of the block (see the module's docstring); X, y: W1's data, Xr, yr: W6's."""
    return (busy_rows(cfg, X, y) + idle_cost_rows(cfg, X, y, Xr, yr)
            + control_rows(X[:10_000], y[:10_000]))
