"""This checkout's training epoch (and batch inference, W3) against another commit's, in
one process (bench/baseline.py), calls interleaved (common.paired_ratio), with a bitwise
check of the fitted coefficients (of the predicted probabilities, W3):

    python bench/ab_epoch.py [REF] [--rounds 9] [--threads 2] [--only W1b64 W2 ...]

Both builds train through ``_core`` (peers.CoreEstimator: the same initial weights and
shuffles), on the workloads' shapes. Prints, per workload, the median time ratio
new / old (on the reference VM, A/A pairs scatter by about +-5%) and whether the two
fits are bitwise equal.
"""

import argparse

import numpy as np

import nnfast._core as new
from baseline import baseline_core
from common import (W1_LAYERS, W2_LAYERS, W6_LAYERS, classification_data, paired_ratio,
                    regression_data)
from peers import CoreEstimator

WORKLOADS = {  # name -> (task, layers, batch size)
    "W1b64": ("classification", W1_LAYERS, 64),
    "W1b256": ("classification", W1_LAYERS, 256),
    "W2": ("classification", W2_LAYERS, 200),
    "W6": ("regression", W6_LAYERS, 128),
    "W3": ("inference", W1_LAYERS, 256),  # predict_proba of 100,000 rows on W1's network
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="the baseline commit (HEAD)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    args = parser.parse_args()
    old = baseline_core(args.ref)
    for core in (new, old):
        core.set_num_threads(args.threads)
    print(f"new: this checkout ({new.isa()}); old: {old.commit[:12]} ({old.isa()}); "
          f"{args.threads} threads")
    data = {"classification": classification_data(60_000), "regression": regression_data(100_000)}
    if "W3" in args.only:
        data["inference"] = classification_data(100_000)
    for name in args.only:
        task, layers, batch = WORKLOADS[name]
        X, y = data[task]
        fits = [CoreEstimator("classification" if task == "inference" else task, layers[1:-1],
                              batch, core_module=core) for core in (new, old)]
        for fit in fits:
            fit.fit(X, y)
        if task == "inference":  # both predict with the new build's weights
            fits[1].coefs_, fits[1].intercepts_ = fits[0].coefs_, fits[0].intercepts_
            same = np.array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
            calls = [lambda fit=fit: fit.predict_proba(X) for fit in fits]
        else:
            same = all(np.array_equal(a, b)
                       for a, b in zip(fits[0].coefs_ + fits[0].intercepts_,
                                       fits[1].coefs_ + fits[1].intercepts_))
            calls = [lambda fit=fit: fit.fit(X, y) for fit in fits]
        ratio, t_new, t_old = paired_ratio(calls[0], calls[1], args.rounds, settle=0.05)
        print(f"{name}: new/old time {ratio:.3f} ({t_new * 1e3:.0f} vs {t_old * 1e3:.0f} ms), "
              f"{'bitwise equal' if same else 'results DIFFER'}", flush=True)


if __name__ == "__main__":
    main()
