"""The network as plain NumPy arrays: the codes _core expects, the
forward pass, and the flat parameter vector L-BFGS works on.

The estimator owns every array (of its dtype, float32 or float64, C-contiguous); _core only
gets views of them
and updates them in place. Nothing here knows about scikit-learn's estimator API.

X reaches _core as it is wherever _core can read it: a float32/float64 array with
contiguous rows, or a canonical CSR matrix, whose three arrays _core reads in place
(the first layer is then a sparse x dense product; X is never densified).
"""

import numbers

import numpy as np
import scipy.sparse as sp

from . import _core
from ._activations import ACTIVATIONS, hidden_activations

# `out_activation_` (scikit-learn's name) -> the _core head: output activation + loss,
# always the canonical-link pair, so the output delta is f(z) - y as in scikit-learn.
OUTPUT_HEADS = {
    "softmax": _core.Loss.softmax_cross_entropy,
    "logistic": _core.Loss.logistic_cross_entropy,
    "identity": _core.Loss.squared_error,
    "exp": _core.Loss.poisson,
}

def hidden_dropout(dropout, n_hidden):
    """The dropout rate of each of ``n_hidden`` hidden layers: one rate for all, or one
    per hidden layer; ValueError naming ``dropout`` otherwise."""
    if isinstance(dropout, (tuple, list)):
        rates = list(dropout)
        if len(rates) != n_hidden:
            raise ValueError(f"dropout has {len(rates)} rates, but the network has {n_hidden} "
                             "hidden layers: give one rate, or one per hidden layer")
    else:
        if n_hidden == 0 and isinstance(dropout, numbers.Real) and dropout > 0:
            raise ValueError(f"dropout={dropout!r}, but the network has no hidden layer to "
                             "drop units of (hidden_layer_sizes=())")
        rates = [dropout] * n_hidden
    for rate in rates:
        # np.float32(rate) < 1: the kernels' float32 rate (1 - 1e-9 is 1 there)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not (
                0 <= rate and np.float32(rate) < 1):
            raise ValueError(f"dropout rates must be numbers in [0, 1) (as float32), got {rate!r}")
    return [float(r) for r in rates]


def hidden_codes(activation, n_layers):
    """One _core.Activation per hidden layer (n_layers - 2 of them); ``activation`` one
    name or one per hidden layer (ValueError otherwise: hidden_activations)."""
    return [ACTIVATIONS[name].code for name in hidden_activations(activation, n_layers - 2)]


def as_core_input(X):
    """X itself when _core can read it (dense with contiguous rows, or canonical CSR),
    else a converted copy.

    Row slices of a bigger C array pass through without a copy; Fortran-ordered or
    misaligned input is converted once, here (_core never converts silently). Sparse
    input: see as_csr.
    """
    if sp.issparse(X):
        return as_csr(X)
    if not X.flags.aligned:  # a view at an odd byte offset: _core reads whole items
        return np.array(X, order="C")
    if X.ndim == 2 and X.shape[1] > 1 and X.strides[1] != X.itemsize:
        return np.ascontiguousarray(X)
    if X.ndim == 2 and X.shape[0] > 1 and X.strides[0] <= 0:
        return np.ascontiguousarray(X)
    return X


def as_csr(X):
    """A sparse X as the CSR matrix _core reads in place: X itself when it is a CSR
    matrix or array in canonical format (sorted, unique indices per row), float32 or
    float64, with contiguous arrays; otherwise one sparse copy (never a dense one).

    CSC, COO and other formats are converted to CSR (a copy of the nonzeros). A CSR
    with unsorted or duplicate indices is canonicalised in a copy (X is not modified):
    the first layer then sums in the dense GEMM's order, so sparse and dense input
    give bitwise the same model. float32 data stays float32; int32 or int64 indices
    are read as they are.
    """
    csr = X.tocsr()  # X itself if it already is CSR
    if csr.dtype not in (np.float32, np.float64):
        csr = csr.astype(np.float64)
    parts = (csr.data, csr.indices, csr.indptr)
    if not csr.has_canonical_format or not all(a.flags.c_contiguous and a.flags.aligned
                                               for a in parts):
        csr = csr.copy() if csr is X else csr
        csr.sum_duplicates()  # sorts the indices, merges duplicates
        csr.data, csr.indices, csr.indptr = (np.ascontiguousarray(a) for a in
                                             (csr.data, csr.indices, csr.indptr))
    return csr


# The estimators' dtype= values: the precision of the parameters and of training.
TRAINING_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# Parameter values already resolved by training_dtype (valid ones only): predict asks on
# every call, and np.dtype() would cost ~0.35 us of a ~4.5 us one-row predict.
_RESOLVED_DTYPES: dict = {}


def training_dtype(dtype):
    """The np.dtype that ``dtype`` names (np.float32, np.float64, their names or dtype
    objects); ValueError for any other."""
    try:
        return _RESOLVED_DTYPES[dtype]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    try:
        # (np.dtype(None) is float64: None is refused, not taken for it)
        resolved = None if dtype is None else np.dtype(dtype)
    except Exception:  # TypeError, and SyntaxError for a malformed string ("i4,(")
        resolved = None
    if resolved is None or resolved not in TRAINING_DTYPES:
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
    _RESOLVED_DTYPES[dtype] = resolved
    return resolved


def as_dtype(a, dtype):
    """A C-contiguous, aligned array of ``dtype`` (no copy when it already is one)."""
    return np.require(a, dtype=dtype, requirements=["C", "A"])


def as_float32(a):
    """A float32 C-contiguous, aligned array (no copy when it already is one)."""
    return as_dtype(a, np.float32)


def predictor(activation, out_activation, n_layers):
    """A _core.Predictor of this architecture: called as ``p(X, coefs, intercepts)``, it
    returns the network's output after the head's activation, (n, n_outputs), in X's
    float dtype. It converts the activations once, and re-checks the parameter arrays
    only when the lists or the arrays in them are not those of its previous call.

    X: a float32/float64 array with contiguous rows, or CSR (see as_core_input); a
    sparse X's first layer reads the nonzeros.
    """
    return _core.Predictor(hidden_codes(activation, n_layers), OUTPUT_HEADS[out_activation])


def all_finite(arrays):
    """No NaN or infinity in a list of float32 or float64 C-contiguous arrays (one pass
    in _core, no temporary: it runs after every epoch)."""
    return _core.all_finite(arrays)


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
        """Copy the vector into the existing arrays, in their dtype (they stay the same
        objects, so views held elsewhere stay valid)."""
        for i, param in enumerate(list(coefs) + list(intercepts)):
            start, stop = self.offsets[i], self.offsets[i + 1]
            param[...] = packed[start:stop].reshape(self.shapes[i])
