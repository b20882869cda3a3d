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
    """{name: callable} over arrays of one seed."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    y = np.empty_like(x)
    param, grad = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    m, v = np.zeros_like(param), np.zeros_like(param)
    out_cases = {}
    for act in ("logistic", "tanh", "relu"):
        code = getattr(core.Activation, act)
        out_cases[f"{act} forward"] = (
            lambda c=code, o=np.empty_like(x): core.activation_forward(x, c, o))
        core.activation_forward(x, code, y)
        out_cases[f"{act} backward"] = (
            lambda c=code, yy=y.copy(), o=np.empty_like(x): core.activation_backward(x, yy, c, o))
    vel = np.zeros_like(param)
    out_cases["adam_update"] = lambda: core.adam_update(param, grad, m, v, step=3,
                                                        learning_rate=1e-3)
    out_cases["sgd_update"] = lambda: core.sgd_update(param, grad, vel, learning_rate=1e-3,
                                                      momentum=0.9, nesterov=True)
    return out_cases


def output_of(core, n, name):
    """The output of one call of `name` on fresh arrays (for the bitwise comparison)."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    if name.endswith("forward") or name.endswith("backward"):
        act = getattr(core.Activation, name.split()[0])
        y = np.empty_like(x)
        core.activation_forward(x, act, y)
        if name.endswith("forward"):
            return y
        out = np.empty_like(x)
        core.activation_backward(x, y, act, out)
        return out
    param, grad = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    if name == "adam_update":
        core.adam_update(param, grad, np.zeros_like(param), np.zeros_like(param), step=3,
                         learning_rate=1e-3)
    else:
        core.sgd_update(param, grad, np.zeros_like(param), learning_rate=1e-3, momentum=0.9,
                        nesterov=True)
    return param


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
    for name, fn_new in new_cases.items():
        ratio, t_new, t_old = paired_ratio(fn_new, old_cases[name], args.rounds, settle=0.02)
        same = np.array_equal(output_of(new, args.n, name), output_of(old, args.n, name))
        print(f"{name}: new/old time {ratio:.3f} ({t_new * 1e6:.0f} vs {t_old * 1e6:.0f} us), "
              f"{'bitwise equal' if same else 'outputs differ'}", flush=True)


if __name__ == "__main__":
    main()
