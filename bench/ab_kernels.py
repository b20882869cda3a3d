"""This checkout's elementwise kernels against another commit's, in one process
(bench/baseline.py), calls interleaved (common.paired_ratio):

    python bench/ab_kernels.py [REF] [--rounds 15] [--n 1000000]

activation_forward / activation_backward for every hidden activation and the Adam and
SGD updates, on float32 arrays of n elements (one thread: these kernels are called per
tile inside the training step). Prints, per kernel, the median time ratio new / old and
whether the two outputs are bitwise equal.
"""

import argparse

import numpy as np

import nnfast._core as new
from baseline import baseline_core
from common import paired_ratio


def cases(core, n):
    """{name: (callable, the array it writes)} over fresh arrays of one seed: after one call
    each, the arrays of two builds can be compared bit for bit."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    param, grad = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    out = {}
    for act in ("logistic", "tanh", "relu"):
        code = getattr(core.Activation, act)
        y, fy, dx = np.empty_like(x), np.empty_like(x), np.empty_like(x)
        core.activation_forward(x, code, y)
        out[f"{act} forward"] = (lambda c=code, o=fy: core.activation_forward(x, c, o), fy)
        out[f"{act} backward"] = (lambda c=code, yy=y, o=dx: core.activation_backward(x, yy, c, o),
                                  dx)
    p_adam, m, v = param.copy(), np.zeros_like(param), np.zeros_like(param)
    out["adam_update"] = (lambda: core.adam_update(p_adam, grad, m, v, step=3, learning_rate=1e-3),
                          p_adam)
    p_sgd, vel = param.copy(), np.zeros_like(param)
    out["sgd_update"] = (lambda: core.sgd_update(p_sgd, grad, vel, learning_rate=1e-3,
                                                 momentum=0.9, nesterov=True), p_sgd)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="the baseline commit (HEAD)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    old = baseline_core(args.ref)
    for core in (new, old):
        core.set_num_threads(1)
    print(f"new: this checkout ({new.isa()}); old: {old.commit[:12]} ({old.isa()}); "
          f"n = {args.n:,}, 1 thread")
    new_cases, old_cases = cases(new, args.n), cases(old, args.n)
    for name, (fn_new, out_new) in new_cases.items():
        fn_old, out_old = old_cases[name]
        fn_new(), fn_old()  # the first call of each, on the same fresh arrays
        same = np.array_equal(out_new, out_old)
        ratio, t_new, t_old = paired_ratio(fn_new, fn_old, args.rounds, settle=0.02)
        print(f"{name}: new/old time {ratio:.3f} ({t_new * 1e6:.0f} vs {t_old * 1e6:.0f} us), "
              f"{'bitwise equal' if same else 'outputs differ'}", flush=True)


if __name__ == "__main__":
    main()
