"""Checks beyond scikit-learn's validation, for what float32 training cannot hold.

nnfast trains in float32 by default (dtype=np.float32): a float64 value beyond float32's
range would turn into infinity, a hyperparameter below its smallest number into 0, and an
overflowing optimizer state would freeze weights without a word. Each is a ValueError
here that names the argument, raised before anything is modified. With dtype=np.float64
the float32 checks do not apply (the caller skips them).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight

from ._network import all_finite

FLOAT32_MAX = float(np.finfo(np.float32).max)

# Hyperparameters the core holds in float32 (beta_1 and beta_2 are kept in double: the
# core computes 1 - beta and Adam's bias correction from them in double).
# batch_norm_epsilon is held in double, but 1 / sqrt(var + eps) of a unit with no variance
# must stay within float32.
_FLOAT32_HYPERPARAMETERS = ("alpha", "learning_rate_init", "epsilon", "batch_norm_epsilon")


def check_float32_hyperparameters(estimator):
    """ValueError when float32 turns a hyperparameter into 0 or infinity."""
    for name in _FLOAT32_HYPERPARAMETERS:
        value = float(getattr(estimator, name))
        held = float(np.float32(value)) if abs(value) <= FLOAT32_MAX else np.inf
        if not np.isfinite(held) or (value != 0.0 and held == 0.0):
            raise ValueError(
                f"{name}={value!r} cannot be held in float32 (nnfast's training precision: "
                f"nonzero magnitudes from {float(np.finfo(np.float32).smallest_subnormal):.3g}"
                f" to {FLOAT32_MAX:.3g}); it would become {held}."
            )


def largest_magnitude(a):
    """max |a| over a dense array or the stored values of a sparse matrix (0 if empty)."""
    values = a.data if sp.issparse(a) else a
    if values.size == 0:
        return 0.0
    # min and max, not np.abs (a temporary as large as X: W7's float64 fit took 366 MiB);
    # + 0.0 turns the -0.0 of an all-zero X into 0.0.
    return float(max(-values.min(), values.max())) + 0.0


def scaling_hint(X, Y, sample_weight):
    """"scale the features (...)", naming also the targets and the sample weights when
    their magnitudes are far from 1: what to try when float32 training overflowed."""
    parts = [f"the features (the largest |X| is {largest_magnitude(X):.3g})"]
    y_max = largest_magnitude(Y)
    if y_max > 1e4:
        parts.append(f"the targets (the largest |y| is {y_max:.3g})")
    if sample_weight is not None:
        w_max = largest_magnitude(sample_weight)
        w_min = float(sample_weight[sample_weight > 0].min())
        if w_max > 1e4 or w_min < 1e-20:
            parts.append(f"the sample weights (from {w_min:.3g} to {w_max:.3g}; only their "
                         "ratios matter)")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return f"scale {listed}, for example with sklearn.preprocessing.StandardScaler"


def check_float32_range(name, a):
    """ValueError when a float64 array (dense or sparse) holds a finite value that
    float32 cannot: it would become infinity inside training or prediction."""
    values = a.data if sp.issparse(a) else a
    if values.dtype != np.float64 or values.size == 0:
        return
    biggest = largest_magnitude(values)
    if biggest > FLOAT32_MAX:
        raise ValueError(
            f"{name} has a value of magnitude {biggest:.3g}, beyond float32's range "
            f"(|x| <= {FLOAT32_MAX:.7g}): nnfast computes in float32. Scale {name} "
            "(for example with sklearn.preprocessing.StandardScaler)."
        )


def check_sample_weight(sample_weight, X, dtype=np.float32):
    """scikit-learn's sample_weight checks (shape, finite, not all zero) plus: no
    negative weight (scikit-learn trains on one silently) and, for float32 training,
    float32's range. Returns a C-contiguous array of ``dtype`` (the training dtype).

    Only the weights' ratios matter (each batch is divided by its total weight), so in
    float32 weights far from 1 (above 1e4 or below 1e-20), whose float32 products would
    overflow or underflow, are divided by their mean first (in float64).
    """
    sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    if np.dtype(dtype) == np.float32:
        check_float32_range("sample_weight", sample_weight)
        positive = sample_weight[sample_weight > 0]
        if positive.size and (positive.max() > 1e4 or positive.min() < 1e-20):
            sample_weight = sample_weight.astype(np.float64) / positive.astype(np.float64).mean()
    sample_weight = np.require(sample_weight, dtype=dtype, requirements=["C", "A"])
    if not sample_weight.any():
        raise ValueError("Sample weights must contain at least one non-zero number: "
                         "sample_weight is all zero in float32 (nonzero weights below "
                         "1.4e-45 round to 0), so no sample carries any weight.")
    return sample_weight


def as_parameter_list(name, arrays, dtype=np.float32):
    """coefs_ or intercepts_ as a list of C-contiguous arrays of ``dtype`` (a tuple, or
    arrays of another dtype or byte order, as a user or an old pickle may assign, are
    converted). TypeError when it is not a sequence of numeric arrays."""
    if isinstance(arrays, (str, bytes)) or not hasattr(arrays, "__len__"):
        raise TypeError(f"{name} must be a list of arrays, got {type(arrays).__name__}")
    out = []
    for i, a in enumerate(arrays):
        try:
            out.append(np.require(np.asarray(a, dtype=dtype), requirements=["C", "A", "W"]))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name}[{i}] must be a numeric array: {e}") from None
    return out


def check_parameters(estimator, require_finite=True, dtype=np.float32):
    """The fitted parameters chain (coefs_[i] is (fan_in, fan_out), intercepts_[i] is
    (fan_out,), from n_features_in_ to n_outputs_) and, to continue training, are finite.
    Converts them to lists of ``dtype`` in place (see as_parameter_list): assigned weights
    of another dtype (scikit-learn's float64 coefs_) are converted once. ValueError naming
    the array."""
    coefs = as_parameter_list("coefs_", estimator.coefs_, dtype)
    intercepts = as_parameter_list("intercepts_", estimator.intercepts_, dtype)
    if len(coefs) != len(intercepts) or not coefs:
        raise ValueError(f"coefs_ and intercepts_ must be non-empty lists of equal length, "
                         f"got {len(coefs)} and {len(intercepts)}")
    fan_in = getattr(estimator, "n_features_in_", coefs[0].shape[0] if coefs[0].ndim else 0)
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        if w.ndim != 2 or w.shape[0] != fan_in:
            raise ValueError(f"coefs_[{i}] has shape {w.shape}, expected ({fan_in}, *)")
        if b.shape != (w.shape[1],):
            raise ValueError(f"intercepts_[{i}] has shape {b.shape}, expected ({w.shape[1]},)")
        fan_in = w.shape[1]
    n_outputs = getattr(estimator, "n_outputs_", fan_in)
    if fan_in != n_outputs:
        raise ValueError(f"coefs_[-1] has {fan_in} outputs, expected n_outputs_={n_outputs}")
    for name, arrays in (("coefs_", coefs), ("intercepts_", intercepts)):
        for i, a in enumerate(arrays if require_finite else ()):
            if not all_finite([a]):
                raise ValueError(f"{name}[{i}] contains NaN or infinity: this model cannot "
                                 "continue training; refit it with warm_start=False.")
    estimator.coefs_, estimator.intercepts_ = coefs, intercepts
    from . import _batch_norm  # it imports this module
    _batch_norm.check(estimator, require_finite, dtype)
