"""Command line: ``python -m nnfast demo | info | bench``.

demo  fits MLPClassifier on scikit-learn's digits and exits non-zero if the test
      accuracy is below 0.95 (a smoke test of an installed wheel).
info  prints the version, the active instruction set and those available, the thread count and what
      set it, the OpenMP runtime, and threadpoolctl's view of the process's thread pools.
bench runs bench/compare.py from a source checkout, when it is there (extra
      arguments are passed on to it).
"""

import argparse
import os
import pathlib
import subprocess
import sys
import time
import warnings

from sklearn.exceptions import ConvergenceWarning

from . import MLPClassifier, __version__, _core, get_num_threads
from ._threads import thread_info

DEMO_MIN_ACCURACY = 0.95


def demo():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=0
    )
    clf = MLPClassifier(hidden_layer_sizes=(128,), max_iter=200, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Reaching max_iter is expected here: the score is what the demo checks.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    accuracy = clf.score(X_test, y_test)

    print(f"nnfast {__version__} demo: MLPClassifier on digits "
          f"({X_train.shape[0]} train / {X_test.shape[0]} test samples)")
    print(f"test accuracy: {accuracy:.4f}")
    print(f"fit time:      {fit_seconds:.3f} s ({clf.n_iter_} epochs)")
    print(f"ISA:           {_core.isa()}")
    print(f"threads:       {get_num_threads()}")
    if accuracy < DEMO_MIN_ACCURACY:
        print(f"FAILED: accuracy below {DEMO_MIN_ACCURACY}", file=sys.stderr)
        return 1
    return 0


def info():
    threads = thread_info()
    print(f"nnfast version:    {__version__}")
    print(f"ISA (kernels):     {_core.isa()} (available: {', '.join(_core.available_isas())};"
          " NNFAST_ISA selects)")
    print(f"threads:           {threads['threads']} (from {threads['source']})")
    print(f"thread budget:     {threads['budget']} (shared by calls running at once)")
    print(f"OpenMP runtime:    {threads['openmp_runtime']} (OpenMP {threads['openmp_version']})")
    pools = threads["threadpool_info"]
    if pools is None:
        print("threadpoolctl:     not installed")
        return 0
    print("threadpoolctl.threadpool_info():")
    ours = os.path.realpath(threads["openmp_runtime"])
    for pool in pools:
        mark = "  <- nnfast's" if os.path.realpath(pool["filepath"]) == ours else ""
        print(f"  {pool['user_api']:6} {pool['internal_api']:9} {pool['num_threads']:3} threads  "
              f"{pool.get('version') or '':14} {pool['filepath']}{mark}")
    return 0


def bench(extra_args=()):
    # The benchmark lives in the source tree (bench/compare.py), not in the installed
    # package; it runs as its own process, next to its helpers.
    candidates = [pathlib.Path.cwd() / "bench" / "compare.py",
                  pathlib.Path(__file__).resolve().parents[2] / "bench" / "compare.py"]
    script = next((c for c in candidates if c.is_file()), None)
    if script is None:
        print("The benchmark is bench/compare.py in a source checkout of nnfast (it "
              "is not installed with the package); run this from the repository root "
              "of a clone.", file=sys.stderr)
        return 2
    print(f"running {script} {' '.join(extra_args)}", flush=True)
    return subprocess.call([sys.executable, str(script), *extra_args], cwd=script.parent)


COMMANDS = {"demo": demo, "info": info, "bench": bench}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnfast", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        return bench(extra)  # e.g. `python -m nnfast bench --quick`
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return COMMANDS[args.command]()


if __name__ == "__main__":
    sys.exit(main())
