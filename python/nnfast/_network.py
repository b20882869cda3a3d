"""The network as plain NumPy arrays: weight init, the codes _core expects, the
forward pass, and the flat parameter vector L-BFGS works on.

The estimator owns every array (float32, C-contiguous); _core only gets views of them
and updates them in place. Nothing here knows about scikit-learn's estimator API.
"""

import numpy as np
import scipy.sparse as sp

from . import _core

HIDDEN_ACTIVATIONS = {
    "identity": _core.Activation.identity,
    "logistic": _core.Activation.logistic,
    "tanh": _core.Activation.tanh,
    "relu": _core.Activation.relu,
}

# `out_activation_` (scikit-learn's name) -> the _core head: output activation + loss,
# always the canonical-link pair, so the output delta is f(z) - y as in scikit-learn.
OUTPUT_HEADS = {
    "softmax": _core.Loss.softmax_cross_entropy,
    "logistic": _core.Loss.logistic_cross_entropy,
    "identity": _core.Loss.squared_error,
    "exp": _core.Loss.poisson,
}

# Rows of a sparse X densified at a time by `forward` (bounded memory for predict).
_SPARSE_CHUNK_ROWS = 4096


def init_layer(fan_in, fan_out, activation, random_state):
    """scikit-learn's `_init_coef`: Glorot-uniform weights *and* biases.

    Drawn in float64 from the same RandomState in the same order (coef, then
    intercept), then cast, so a random_state gives scikit-learn's starting point
    rounded to float32.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    bound = np.sqrt(factor / (fan_in + fan_out))
    coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
    intercept = random_state.uniform(-bound, bound, fan_out)
    return coef.astype(np.float32), intercept.astype(np.float32)


def hidden_codes(activation, n_layers):
    """One _core.Activation per hidden layer (n_layers - 2 of them)."""
    return [HIDDEN_ACTIVATIONS[activation]] * (n_layers - 2)


def as_rows_contiguous(X):
    """X itself when _core can read it (dense, each row contiguous), else a copy.

    Row slices of a bigger C array pass through without a copy; Fortran-ordered or
    sparse input is converted once, here (_core never converts silently).
    """
    if sp.issparse(X):
        return np.ascontiguousarray(X.toarray())
    if X.ndim == 2 and X.shape[1] > 1 and X.strides[1] != X.itemsize:
        return np.ascontiguousarray(X)
    if X.ndim == 2 and X.shape[0] > 1 and X.strides[0] <= 0:
        return np.ascontiguousarray(X)
    return X


def as_float32(a):
    """A float32 C-contiguous array (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=np.float32)


def forward(coefs, intercepts, activation, out_activation, X):
    """The network's output after the head's activation, float32 (n, n_outputs).

    A sparse X is densified by chunks of rows, so predict never holds it all dense.
    """
    hidden = hidden_codes(activation, len(coefs) + 1)
    head = OUTPUT_HEADS[out_activation]
    if not sp.issparse(X):
        return _core.predict(coefs, intercepts, hidden, head, as_rows_contiguous(X))
    X = X.tocsr()
    out = np.empty((X.shape[0], coefs[-1].shape[1]), dtype=np.float32)
    for start in range(0, X.shape[0], _SPARSE_CHUNK_ROWS):
        rows = slice(start, start + _SPARSE_CHUNK_ROWS)
        chunk = np.ascontiguousarray(X[rows].toarray())
        out[rows] = _core.predict(coefs, intercepts, hidden, head, chunk)
    return out


def all_finite(arrays):
    return all(np.isfinite(a).all() for a in arrays)


class ParameterPacking:
    """Flattens coefs + intercepts into one float64 vector for scipy, and back.

    Order as scikit-learn's `_pack`: every coef (row-major), then every intercept.
    """

    def __init__(self, coefs, intercepts):
        self.shapes = [c.shape for c in coefs] + [b.shape for b in intercepts]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])

    def pack(self, coefs, intercepts):
        return np.concatenate([a.ravel() for a in list(coefs) + list(intercepts)]).astype(
            np.float64
        )

    def unpack_into(self, packed, coefs, intercepts):
        """Copy the vector into the existing float32 arrays (they stay the same
        objects, so views held elsewhere stay valid)."""
        for i, param in enumerate(list(coefs) + list(intercepts)):
            start, stop = self.offsets[i], self.offsets[i + 1]
            param[...] = packed[start:stop].reshape(self.shapes[i])
