"""What nnfast's options beyond scikit-learn cost: one epoch of the W1 network
(784-128-64-10, Adam) with each option, against the same epoch without it, the two fits
interleaved in one process (common.paired_ratio):

    python bench/ab_options.py [--rounds 9] [--threads 2] [--batch 64] [--rows 20000]

Prints per option the median time ratio option / plain (A/A pairs scatter by about
+-5% on the reference VM, so smaller differences are noise).
"""

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import nnfast
from common import W1_LAYERS, classification_data, paired_ratio

OPTIONS = {  # name -> (MLPClassifier keyword arguments, use a validation set)
    "A/A (the plain fit again)": ({}, False),
    "activation='gelu'": ({"activation": "gelu"}, False),
    "activation='gelu_tanh'": ({"activation": "gelu_tanh"}, False),
    "activation='silu'": ({"activation": "silu"}, False),
    "activation='elu'": ({"activation": "elu"}, False),
    "activation='leaky_relu'": ({"activation": "leaky_relu"}, False),
    "dropout=0.2": ({"dropout": 0.2}, False),
    "batch_norm=True": ({"batch_norm": True}, False),
    "class_weight='balanced'": ({"class_weight": "balanced"}, False),
    "dtype=np.float64 (float64 end to end)": ({"dtype": np.float64}, False),
    "X_val (10% of the rows): validation_loss_curve_": ({}, True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    nnfast.set_num_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = classification_data(args.rows)
    X_val, y_val = X[: args.rows // 10], y[: args.rows // 10]  # its cost, not its meaning
    kw = dict(hidden_layer_sizes=W1_LAYERS[1:-1], batch_size=args.batch, max_iter=1,
              random_state=0)
    plain = nnfast.MLPClassifier(**kw)
    print(f"W1 network, {args.rows} rows, batch {args.batch}, {args.threads} threads, "
          f"{nnfast.ops.isa()}; one epoch each, {args.rounds} rounds")
    for name, (options, validation) in OPTIONS.items():
        est = nnfast.MLPClassifier(**kw, **options)
        fit_kw = dict(X_val=X_val, y_val=y_val) if validation else {}
        ratio, t_option, t_plain = paired_ratio(lambda: est.fit(X, y, **fit_kw),
                                                lambda: plain.fit(X, y), args.rounds,
                                                settle=0.05)
        print(f"{name}: {ratio:.3f}x the plain epoch ({t_option * 1e3:.0f} vs "
              f"{t_plain * 1e3:.0f} ms)", flush=True)


if __name__ == "__main__":
    main()
