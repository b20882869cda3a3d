"""This checkout's GEMM against another commit's, in one process (bench/baseline.py),
calls interleaved (common.paired_ratio), on the shapes the training step uses:

    python bench/ab_gemm.py [REF] [--rounds 15]

Prints, per shape, the median time ratio new / old (A/A noise on the reference VM is
about 1.02) and both GF/s, and checks that the two results are bitwise equal.
"""

import argparse

import numpy as np

import nnfast._core as new
from baseline import baseline_core
from common import paired_ratio

SHAPES = [(1024, 1024, 1024), (64, 784, 128), (784, 64, 128), (1, 784, 128), (200, 64, 100)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="the baseline commit (HEAD)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    old = baseline_core(args.ref)
    rng = np.random.default_rng(0)
    print(f"new: this checkout ({new.isa()}); old: {old.commit[:12]} ({old.isa()})")
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        out_new, out_old = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
        reps = max(1, int(2e8 / (2 * m * k * n)))  # ~0.1 s per call at 2 GF/s

        def run_new():
            for _ in range(reps):
                new.gemm(a, b, out_new)

        def run_old():
            for _ in range(reps):
                old.gemm(a, b, out_old)

        ratio, t_new, t_old = paired_ratio(run_new, run_old, args.rounds, settle=0.05)
        flop = 2 * m * k * n * reps
        same = "bitwise equal" if np.array_equal(out_new, out_old) else "RESULTS DIFFER"
        print(f"{m}x{k}x{n}: new/old time {ratio:.3f} ({flop / t_new / 1e9:.1f} vs "
              f"{flop / t_old / 1e9:.1f} GF/s), {same}")


if __name__ == "__main__":
    main()
