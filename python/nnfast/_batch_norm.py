"""batch_norm=True on the estimators: the fitted arrays, and the network predict runs.

Every hidden layer is dense -> batch norm -> activation (Ioffe & Szegedy, 2015; PyTorch's
``nn.Linear`` -> ``nn.BatchNorm1d`` -> activation). Training (_core.train_epoch) normalizes
with the batch's statistics and keeps running ones; predict uses the running statistics,
which make batch norm an affine map per unit: ``z * factor + offset`` with z = x W, which
the Predictor applies in its GEMM's store (``for_predict``: O(units) per call, nothing
copied), and which ``fold`` writes into W and b for the full-batch validation loss.
"""

import numpy as np

from ._checks import as_parameter_list
from ._network import all_finite

# The fitted arrays, one (fan_out,) array per hidden layer each, of the training dtype
# (float32 by default): scale (gamma,
# PyTorch's weight), shift (beta, PyTorch's bias), PyTorch's running_mean and running_var.
ATTRIBUTES = ("batch_norm_scales_", "batch_norm_shifts_", "running_means_", "running_vars_")
# Their starting values (PyTorch's): the identity transform, unit statistics.
_INITIAL = {"batch_norm_scales_": 1.0, "batch_norm_shifts_": 0.0, "running_means_": 0.0,
            "running_vars_": 1.0}


def initialize(estimator, hidden_widths, dtype=np.float32):
    """Fresh arrays (of dtype) on the estimator when its batch_norm is set, else none."""
    for name in ATTRIBUTES:
        if estimator.batch_norm:
            setattr(estimator, name, [np.full(w, _INITIAL[name], dtype)
                                      for w in hidden_widths])
        else:
            estimator.__dict__.pop(name, None)


def is_fitted_with(estimator):
    """Whether the fitted model normalizes (has any of the arrays: check() then requires
    all of them). A set operation on the instance's attributes: predict asks it on every
    call (a hasattr per name cost one-row predict ~1.5 us)."""
    return not estimator.__dict__.keys().isdisjoint(ATTRIBUTES)


def arrays(estimator):
    """The four lists, in ATTRIBUTES' order."""
    return [getattr(estimator, name) for name in ATTRIBUTES]


def trained(estimator):
    """The arrays the optimizer trains (scales..., shifts...), after coefs_ and
    intercepts_ in its state; [] without batch norm."""
    if not is_fitted_with(estimator):
        return []
    return list(estimator.batch_norm_scales_) + list(estimator.batch_norm_shifts_)


def core_arguments(estimator):
    """_core.train_epoch's batch-norm keywords ({} without batch norm)."""
    if not is_fitted_with(estimator):
        return {}
    scales, shifts, means, variances = arrays(estimator)
    return dict(batch_norm_scales=scales, batch_norm_shifts=shifts, running_means=means,
                running_vars=variances, batch_norm_momentum=float(estimator.batch_norm_momentum),
                batch_norm_epsilon=float(estimator.batch_norm_epsilon))


def snapshot(estimator):
    """Copies of the four lists (early stopping's best epoch), or None."""
    if not is_fitted_with(estimator):
        return None
    return [[a.copy() for a in group] for group in arrays(estimator)]


def restore(estimator, saved):
    """Puts copies of a snapshot back (nothing for None)."""
    if saved is None:
        return
    for name, group in zip(ATTRIBUTES, saved):
        setattr(estimator, name, [a.copy() for a in group])


def _affine(estimator, intercepts):
    """Per hidden layer, (factor, offset) in float64: batch norm at inference on z = x W,
    ``z * factor + offset``; ValueError naming an array that is missing, misshapen or a
    negative variance (assigned by a user: predict must not broadcast it silently)."""
    groups = []
    for name in ATTRIBUTES:
        group = getattr(estimator, name, None)
        if not isinstance(group, (list, tuple)) or len(group) != len(intercepts) - 1:
            raise ValueError(f"{name} must be a list of one array per hidden layer "
                             f"({len(intercepts) - 1}), got {type(group).__name__}"
                             + (f" of {len(group)}" if isinstance(group, (list, tuple)) else ""))
        groups.append(group)
    eps = float(estimator.batch_norm_epsilon)
    out = []
    for i, (scale, shift, mean, var) in enumerate(zip(*groups)):
        width = np.shape(intercepts[i])
        arrays = [np.asarray(a, np.float64) for a in (scale, shift, mean, var)]
        for name, a in zip(ATTRIBUTES, arrays):
            if a.shape != width:
                raise ValueError(f"{name}[{i}] has shape {a.shape}, expected {width}")
        if (arrays[3] < 0).any():
            raise ValueError(f"running_vars_[{i}] has a negative variance")
        factor = arrays[0] / np.sqrt(arrays[3] + eps)
        out.append((factor, (np.asarray(intercepts[i], np.float64) - arrays[2]) * factor
                    + arrays[1]))
    return out


def for_predict(coefs, intercepts, estimator):
    """(coefs, intercepts, column_scales) for the Predictor: without batch norm the first
    two as they are and no scales; with it, each hidden layer's intercept replaced by its
    offset and its factor as the column scale (of the coefs' dtype; _affine's
    ValueErrors)."""
    if not is_fitted_with(estimator):
        return coefs, intercepts, []
    dtype = _dtype_of(coefs)
    intercepts = list(intercepts)
    scales = []
    for i, (factor, offset) in enumerate(_affine(estimator, intercepts)):
        scales.append(factor.astype(dtype))
        intercepts[i] = offset.astype(dtype)
    return coefs, intercepts, scales


def _dtype_of(coefs):
    """The parameters' dtype: float64 for float64 coefs, else float32 (what _core runs)."""
    return np.float64 if np.asarray(coefs[0]).dtype == np.float64 else np.float32


def fold(coefs, intercepts, estimator):
    """The plain network (coefs, intercepts; lists of the coefs' dtype) that the
    batch-normalized one
    computes at predict: hidden layer i's W and b scaled per unit by
    ``scale / sqrt(running_var + epsilon)``, b then shifted by
    ``shift - running_mean * that factor`` (computed in float64). Without batch norm,
    coefs and intercepts themselves."""
    if not is_fitted_with(estimator):
        return coefs, intercepts
    dtype = _dtype_of(coefs)
    coefs, intercepts = list(coefs), list(intercepts)
    for i, (factor, offset) in enumerate(_affine(estimator, intercepts)):
        coefs[i] = np.ascontiguousarray(np.asarray(coefs[i], np.float64) * factor, dtype=dtype)
        intercepts[i] = offset.astype(dtype)
    return coefs, intercepts


def check(estimator, require_finite=True, dtype=np.float32):
    """The arrays (when the model has them) as lists of dtype, one per hidden layer of its
    width, running variances >= 0; converted in place. ValueError naming the array."""
    if not is_fitted_with(estimator):
        return
    widths = [np.shape(c)[1] for c in estimator.coefs_[:-1]]
    for name in ATTRIBUTES:
        if not hasattr(estimator, name):
            raise ValueError(f"{name} is missing: a batch-normalized model has all of "
                             f"{', '.join(ATTRIBUTES)}")
        group = as_parameter_list(name, getattr(estimator, name), dtype)
        if [a.shape for a in group] != [(w,) for w in widths]:
            raise ValueError(f"{name} has shapes {[a.shape for a in group]}, expected one "
                             f"per hidden layer: {[(w,) for w in widths]}")
        for i, a in enumerate(group):
            if require_finite and not all_finite([a]):
                raise ValueError(f"{name}[{i}] contains NaN or infinity")
            if name == "running_vars_" and (a < 0).any():
                raise ValueError(f"{name}[{i}] has a negative variance")
        setattr(estimator, name, group)
