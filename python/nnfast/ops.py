"""The kernel API: nnfast's C++ kernels on NumPy arrays.

These are the building blocks the estimators run on, exposed for users who want to build
or benchmark their own networks. Each function is a thin, checked wrapper over one call
into the C++ extension (``nnfast._core``); the GIL is released while it computes.

Conventions
-----------
- **float32 or float64, C-contiguous, no silent copies.** Every array argument must be
  a ``numpy.ndarray`` in C order, of dtype float32 or float64 (the first array of a call
  chooses; every other array of the call must have the same dtype). Each kernel computes
  in that precision: float64 runs each instruction set's float64 vectors, GEMM tiles and
  polynomials. A wrong type or dtype raises
  ``TypeError``; a non-contiguous layout, a read-only output or a wrong shape raises
  ``ValueError``. Messages read ``"[function] argument: problem"``. Convert once with
  ``np.ascontiguousarray(x, dtype=np.float32)`` if needed.
- **Row-major shapes.** A batch of ``n`` samples is ``x (n, in)``; a layer's weights are
  ``w (in, out)`` and its bias ``b (out,)``, so a dense layer is ``x @ w + b``, as in
  scikit-learn's ``coefs_`` / ``intercepts_``.
- **Outputs.** Functions return new arrays unless an ``out=`` array is given, which is
  written in place and returned. Optimizer updates work in place and return ``None``.
  An array a function writes (``out``, ``param``, ``m``, ``v``, ``velocity``) must not
  share memory with any other argument: that is a ``ValueError`` naming both (a blocked,
  threaded kernel would read what it has already overwritten).
- **Alignment.** An array's data must start at a multiple of its item size (4 bytes for
  float32, 8 for float64; a view at an odd byte offset of a byte buffer does not):
  ``ValueError``; ``np.array(x)`` copies it aligned.
- **Scalars.** ``alpha``, ``learning_rate`` and the like must be real numbers, flags
  (``trans_a``, ``nesterov``, ``need_dx``) ``True``/``False``, ``step`` an integer:
  ``TypeError`` naming the argument otherwise.
- **Names.** Activations are ``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"``,
  ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"gelu_tanh"`` and ``"silu"`` (the
  estimators' ``activation=`` values; formulas in :func:`activation_forward`).
  Output heads (activation + loss, always the canonical-link pair, so the gradient with
  respect to the pre-activation ``z`` is ``f(z) - y``) are ``"softmax_cross_entropy"``,
  ``"logistic_cross_entropy"``, ``"squared_error"`` and ``"poisson"``.
- **Threads.** Kernels run on :func:`get_num_threads` threads (OpenMP's setting, see the
  README's "Threads"). Work is never split along a reduction dimension, so results are
  bitwise identical for any count.

Examples
--------
>>> import numpy as np
>>> from nnfast import ops
>>> x = np.ones((4, 3), dtype=np.float32)
>>> w = np.full((3, 2), 0.5, dtype=np.float32)
>>> b = np.zeros(2, dtype=np.float32)
>>> ops.dense_forward(x, w, b, "relu")
array([[1.5, 1.5],
       [1.5, 1.5],
       [1.5, 1.5],
       [1.5, 1.5]], dtype=float32)
"""

from __future__ import annotations

import numbers
from typing import Optional, TypeVar, Union

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._checks import FLOAT32_MAX
from ._threads import get_num_threads, set_num_threads

__all__ = [
    "gemm",
    "dense_forward",
    "dense_backward",
    "activation_forward",
    "activation_backward",
    "output_activation",
    "output_loss",
    "softmax_cross_entropy",
    "adam_update",
    "sgd_update",
    "set_num_threads",
    "get_num_threads",
    "isa",
    "available_isas",
]


# The dtypes of the elementwise kernels (the first array of a call chooses).
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# A kernel's array: float32 or float64, its result of the same dtype.
Floats = TypeVar("Floats", NDArray[np.float32], NDArray[np.float64])
AnyFloats = Union[NDArray[np.float32], NDArray[np.float64]]


# --- validation (the one helper every wrapper uses) ------------------------------------
def _check(fn, name, arr, shape=None, *, ndim=None, writeable=False, dtype=np.float32):
    """Return ``arr`` unchanged if it is a C-contiguous ndarray of ``dtype`` (one dtype, or
    the tuple ``_FLOATS``: either) and of the expected shape.

    ``shape`` is a tuple whose entries are ints (must match) or None (any size);
    ``ndim`` alone checks only the number of dimensions. Raises TypeError for a wrong
    type or dtype and ValueError for a wrong layout, shape or a read-only output.
    """
    where = f"[{fn}] {name}"
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{where} must be a numpy.ndarray, got {type(arr).__name__}")
    allowed = dtype if isinstance(dtype, tuple) else (np.dtype(dtype),)
    if arr.dtype not in allowed:
        names = " or ".join(str(d) for d in allowed)
        raise TypeError(f"{where} must have dtype {names}, got {arr.dtype} "
                        f"(nnfast.ops never converts; use arr.astype(np.{allowed[0]}))")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{where} must be C-contiguous (use np.ascontiguousarray)")
    if not arr.flags.aligned:
        raise ValueError(f"{where} is not aligned to its {arr.itemsize}-byte items (a view at "
                         "an odd offset of a buffer?): pass a copy")
    if writeable and not arr.flags.writeable:
        raise ValueError(f"{where} is read-only but is written in place")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{where} must be {ndim}-D, got shape {arr.shape}")
    if shape is not None and any(e is not None and e != s for e, s in zip(shape, arr.shape)):
        expected = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")"
        raise ValueError(f"{where} has shape {arr.shape}, expected {expected}")
    return arr


def _real(fn, name, value, float32=False):
    """``value`` as a float: a Python or NumPy real number (not bool), else TypeError;
    ValueError when it is finite but beyond float's range, or (``float32``: the kernel
    takes it as a float32) beyond float32's, where it would silently become infinite."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{fn}] {name} must be a real number, got {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        as_float = np.inf
    if np.isinf(as_float) and not (isinstance(value, (float, np.floating)) and np.isinf(value)):
        raise ValueError(f"[{fn}] {name} is too large for a float")  # 2**1100, longdouble
    value = as_float
    if float32 and np.isfinite(value) and abs(value) > FLOAT32_MAX:
        raise ValueError(f"[{fn}] {name} is beyond float32's range ({value!r}; |x| <= "
                         f"{FLOAT32_MAX:.7g}): it would become infinite")
    return value


def _flag(fn, name, value):
    """``value`` as a bool: only True/False (or NumPy's), else TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"[{fn}] {name} must be True or False, got {type(value).__name__}")
    return bool(value)


def _integer(fn, name, value):
    """``value`` as an int: a Python or NumPy integer (not bool), else TypeError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"[{fn}] {name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"[{fn}] {name} does not fit a 64-bit integer (got {value})")
    return value


def _out(fn, out, shape, dtype=np.float32):
    """A new array of ``shape`` and ``dtype`` when ``out`` is None, else the checked ``out``."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    return _check(fn, "out", out, shape, writeable=True, dtype=dtype)


def _enum(fn, kind, value):
    """Map a name such as ``"relu"`` (or an enum member) to the ``_core`` enum ``kind``."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in kind.__members__:
        return kind.__members__[value]
    raise ValueError(f"[{fn}] unknown {kind.__name__.lower()} {value!r}; "
                     f"allowed: {', '.join(kind.__members__)}")


# --- GEMM and dense layers ----------------------------------------------------------------
def gemm(
    a: Floats,
    b: Floats,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    out: Optional[Floats] = None,
) -> Floats:
    """General matrix product ``out := alpha * op(a) @ op(b) + beta * out``.

    ``op(a)`` is ``a.T`` when ``trans_a`` else ``a`` (likewise for ``b``); the transpose is
    read through strides, never materialized.

    Parameters
    ----------
    a : ndarray, float32 or float64, shape (m, k), or (k, m) with ``trans_a=True``
    b : ndarray, dtype of ``a``, shape (k, n), or (n, k) with ``trans_b=True``
    trans_a, trans_b : bool
    alpha, beta : float
        With ``beta == 0`` the previous content of ``out`` is never read (it may hold NaN).
        A nonzero ``beta`` requires ``out``.
    out : ndarray, dtype of ``a``, shape (m, n), optional
        Written in place. Allocated when None.

    Returns
    -------
    out : ndarray, dtype of ``a``, shape (m, n)

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> b = np.ones((3, 2), dtype=np.float32)
    >>> ops.gemm(a, b)
    array([[ 3.,  3.],
           [12., 12.]], dtype=float32)
    >>> ops.gemm(a, a, trans_b=True)  # a @ a.T, the transpose read in place
    array([[ 5., 14.],
           [14., 50.]], dtype=float32)

    float64 operands are multiplied in float64:

    >>> ops.gemm(a.astype(np.float64), b.astype(np.float64))
    array([[ 3.,  3.],
           [12., 12.]])
    """
    a = _check("gemm", "a", a, ndim=2, dtype=_FLOATS)
    b = _check("gemm", "b", b, ndim=2, dtype=a.dtype)
    trans_a, trans_b = _flag("gemm", "trans_a", trans_a), _flag("gemm", "trans_b", trans_b)
    alpha = _real("gemm", "alpha", alpha, float32=a.dtype == np.float32)
    beta = _real("gemm", "beta", beta, float32=a.dtype == np.float32)
    m, k = a.shape[::-1] if trans_a else a.shape
    k_b, n = b.shape[::-1] if trans_b else b.shape
    if k != k_b:
        raise ValueError(f"[gemm] inner dimensions differ: op(a) is {m}x{k}, "
                         f"op(b) is {k_b}x{n}")
    if out is None and beta != 0.0:
        raise ValueError("[gemm] beta != 0 reads out, so out must be given")
    out = _out("gemm", out, (m, n), a.dtype)
    _core.gemm(a, b, out, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    return out


def dense_forward(
    x: Floats,
    w: Floats,
    b: Floats,
    activation: str = "relu",
    out: Optional[Floats] = None,
) -> Floats:
    """Forward pass of a dense layer: ``out = f(x @ w + b)``.

    The bias and the activation are applied while each output tile is still in cache.

    Parameters
    ----------
    x : ndarray, float32 or float64, shape (n, in)
    w : ndarray, dtype of ``x``, shape (in, out)
    b : ndarray, dtype of ``x``, shape (out,)
    activation : str
        ``f``, applied elementwise: any of :func:`activation_forward`'s (the same
        kernels). To back-propagate through ``"gelu"``, ``"gelu_tanh"`` or ``"silu"``,
        keep ``x @ w + b`` as well: :func:`activation_backward` reads it (``x=``).
    out : ndarray, dtype of ``x``, shape (n, out), optional

    Returns
    -------
    out : ndarray, dtype of ``x``, shape (n, out)

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> x = np.array([[1.0, -2.0], [0.5, 1.0]], dtype=np.float32)
    >>> w = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, 0.0]], dtype=np.float32)
    >>> b = np.array([0.0, 0.5, 0.0], dtype=np.float32)
    >>> ops.dense_forward(x, w, b, "relu")
    array([[0. , 0. , 0. ],
           [1.5, 1.5, 0. ]], dtype=float32)
    """
    act = _enum("dense_forward", _core.Activation, activation)
    x = _check("dense_forward", "x", x, ndim=2, dtype=_FLOATS)
    w = _check("dense_forward", "w", w, (x.shape[1], None), dtype=x.dtype)
    b = _check("dense_forward", "b", b, (w.shape[1],), dtype=x.dtype)
    out = _out("dense_forward", out, (x.shape[0], w.shape[1]), x.dtype)
    _core.dense_forward(x, w, b, act, out)
    return out


def dense_backward(
    dz: Floats,
    x: Floats,
    w: Floats,
    *,
    need_dx: bool = True,
) -> tuple[Optional[Floats], Floats, Floats]:
    """Backward pass of a dense layer ``z = x @ w + b``.

    Parameters
    ----------
    dz : ndarray, dtype of ``x``, shape (n, out)
        Gradient of the objective with respect to the pre-activation ``z``. To go through
        an activation first, use :func:`activation_backward`.
    x : ndarray, float32 or float64, shape (n, in)
        The layer's input.
    w : ndarray, dtype of ``x``, shape (in, out)
    need_dx : bool
        Compute ``dx`` (False for the first layer, whose input needs no gradient).

    Returns
    -------
    dx : ndarray, dtype of ``x``, shape (n, in), or None when ``need_dx`` is False
        ``dz @ w.T``
    dw : ndarray, dtype of ``x``, shape (in, out)
        ``x.T @ dz``
    db : ndarray, dtype of ``x``, shape (out,)
        ``dz.sum(axis=0)``

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> x = np.array([[1.0, -2.0], [0.5, 1.0]], dtype=np.float32)
    >>> w = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, 0.0]], dtype=np.float32)
    >>> dz = np.ones((2, 3), dtype=np.float32)
    >>> dx, dw, db = ops.dense_backward(dz, x, w)
    >>> dw
    array([[ 1.5,  1.5,  1.5],
           [-1. , -1. , -1. ]], dtype=float32)
    >>> db
    array([2., 2., 2.], dtype=float32)
    >>> dx.shape
    (2, 2)
    >>> ops.dense_backward(dz, x, w, need_dx=False)[0] is None
    True
    """
    x = _check("dense_backward", "x", x, ndim=2, dtype=_FLOATS)
    w = _check("dense_backward", "w", w, (x.shape[1], None), dtype=x.dtype)
    dz = _check("dense_backward", "dz", dz, (x.shape[0], w.shape[1]), dtype=x.dtype)
    dw = np.empty_like(w)
    db = np.empty(w.shape[1], dtype=x.dtype)
    dx = np.empty_like(x) if _flag("dense_backward", "need_dx", need_dx) else None
    _core.dense_backward(dz, x, w, dw, db, dx)
    return dx, dw, db


# --- activations ----------------------------------------------------------------------------
def activation_forward(x: Floats, activation: str) -> Floats:
    """Elementwise activation ``y = f(x)``, any shape, in float32 or float64.

    Parameters
    ----------
    x : ndarray, float32 or float64
    activation : str
        One of (in x's precision, each within a few ulp of a wider libm: float32 of
        float64, float64 of long double; NaN stays NaN):

        - ``"identity"``: ``x``
        - ``"logistic"``: ``1 / (1 + exp(-x))``, without overflow for any ``|x|``
        - ``"tanh"``: ``tanh(x)``
        - ``"relu"``: ``max(x, 0)``
        - ``"leaky_relu"``: ``x`` if ``x > 0`` else ``0.01 * x`` (PyTorch's
          ``LeakyReLU()``)
        - ``"elu"``: ``x`` if ``x > 0`` else ``exp(x) - 1`` (``ELU(alpha=1.0)``;
          Clevert et al., 2016)
        - ``"gelu"``: ``x * Phi(x)``, ``Phi`` the standard normal CDF (``GELU()``;
          Hendrycks & Gimpel, 2016), through Cephes' erf / erfc polynomials
        - ``"gelu_tanh"``: ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``
          (``GELU(approximate="tanh")``), computed as the equal ``x * logistic(2u)``
        - ``"silu"``: ``x * logistic(x)`` (``SiLU()``; Elfwing et al., 2018)

    Returns
    -------
    y : ndarray, same dtype and shape as ``x``

    Raises
    ------
    TypeError
        ``x`` not a float32 or float64 ndarray.
    ValueError
        An unknown ``activation``, or ``x`` not C-contiguous.

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    >>> ops.activation_forward(x, "relu")
    array([0., 0., 2.], dtype=float32)
    >>> ops.activation_forward(x, "logistic").round(4)
    array([0.2689, 0.5   , 0.8808], dtype=float32)
    """
    act = _enum("activation_forward", _core.Activation, activation)
    x = _check("activation_forward", "x", x, dtype=_FLOATS)
    out = np.empty_like(x)
    _core.activation_forward(x, act, out)
    return out


def activation_backward(
    dy: Floats,
    y: Optional[Floats],
    activation: str,
    *,
    x: Optional[Floats] = None,
) -> Floats:
    """Gradient through an activation: ``dx = dy * f'(x)``.

    ``f'`` is written through the forward output ``y = f(x)`` where it can be, so that a
    network keeps only ``y``: identity 1, logistic ``y * (1 - y)``, tanh
    ``(1 - y) * (1 + y)``, relu ``1 if y > 0 else 0``, leaky_relu ``1 if y > 0 else
    0.01``, elu ``1 if y > 0 else y + 1``. GELU and SiLU's derivatives are no function of
    ``y``: for ``"gelu"``, ``"gelu_tanh"`` and ``"silu"`` it is written through the input
    ``x`` (``Phi(x) + x * phi(x)``; ``s + x s (1 - s) k'(x)``, ``s = logistic(k)``,
    ``k = 2 sqrt(2/pi) (x + 0.044715 x^3)``; ``s (1 + x (1 - s))``, ``s = logistic(x)``),
    and ``y`` is not read.

    Parameters
    ----------
    dy : ndarray, float32 or float64
        Gradient with respect to the activation's output.
    y : ndarray, dtype and shape of ``dy``, or None
        The forward output ``f(x)``; may be None for gelu, gelu_tanh and silu.
    activation : str
        As :func:`activation_forward`.
    x : ndarray, dtype and shape of ``dy``, optional (keyword)
        The forward input: required for gelu, gelu_tanh and silu, ignored otherwise.

    Returns
    -------
    dx : ndarray, dtype and shape of ``dy``

    Raises
    ------
    TypeError
        An array that is not a float32 or float64 ndarray, or not of ``dy``'s dtype.
    ValueError
        An unknown ``activation``; shapes that differ; ``x`` missing for gelu,
        gelu_tanh or silu (or ``y`` missing for the others).

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    >>> dy = np.ones(3, dtype=np.float32)
    >>> y = ops.activation_forward(x, "relu")
    >>> ops.activation_backward(dy, y, "relu")
    array([0., 0., 1.], dtype=float32)

    SiLU's derivative reads the forward input instead:

    >>> ops.activation_backward(dy, None, "silu", x=x).round(4)
    array([0.0723, 0.5   , 1.0908], dtype=float32)
    """
    fn = "activation_backward"
    act = _enum(fn, _core.Activation, activation)
    dy = _check(fn, "dy", dy, dtype=_FLOATS)
    if _core.derivative_reads_input(act):
        if x is None:
            raise ValueError(f"[{fn}] x: {act.name}'s derivative is computed from the "
                             "forward input x (not from y): pass x=")
        saved = _check(fn, "x", x, dy.shape, dtype=dy.dtype)
    else:
        if y is None:
            raise ValueError(f"[{fn}] y: {act.name}'s derivative is computed from the "
                             "forward output y; it is None")
        saved = _check(fn, "y", y, dy.shape, dtype=dy.dtype)
    out = np.empty_like(dy)
    _core.activation_backward(dy, saved, act, out)
    return out


# --- output heads and losses ------------------------------------------------------------------
def output_activation(z: Floats, loss: str = "softmax_cross_entropy") -> Floats:
    """The output of a head: softmax per row, sigmoid, identity or exp of ``z``.

    Parameters
    ----------
    z : ndarray, float32 or float64, shape (n, k)
        Pre-activations of the output layer.
    loss : {"softmax_cross_entropy", "logistic_cross_entropy", "squared_error", "poisson"}
        The head, whose output activation is applied.

    Returns
    -------
    p : ndarray, dtype and shape of ``z``

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> z = np.array([[0.0, 0.0], [0.0, np.log(3.0)]], dtype=np.float32)
    >>> ops.output_activation(z, "softmax_cross_entropy").round(4)
    array([[0.5 , 0.5 ],
           [0.25, 0.75]], dtype=float32)
    """
    head = _enum("output_activation", _core.Loss, loss)
    z = _check("output_activation", "z", z, ndim=2, dtype=_FLOATS)
    out = np.empty_like(z)
    _core.output_activation(z, head, out)
    return out


def output_loss(
    z: Floats,
    y: Floats,
    loss: str = "softmax_cross_entropy",
    sample_weight: Optional[Floats] = None,
    *,
    delta: float = 1.0,
    quantile: float = 0.5,
) -> tuple[float, Floats]:
    """Mean loss of an output head and its gradient with respect to the pre-activation.

    With ``p = f(z)`` the head's output and ``s`` the sample weights (ones by default),
    per row ``i``:

    - ``softmax_cross_entropy``: ``p = softmax(z_i)``, ``l_i = -sum_j y_ij log p_ij``
    - ``logistic_cross_entropy``: ``p = sigmoid(z)``,
      ``l_i = -sum_j [y_ij log p_ij + (1 - y_ij) log(1 - p_ij)]``
    - ``squared_error``: ``p = z``, ``l_i = 0.5 * sum_j (z_ij - y_ij)**2``
    - ``poisson``: ``p = exp(z)``, half the Poisson deviance as scikit-learn writes it,
      ``l_i = sum_j [y_ij log(y_ij / p_ij) - y_ij + p_ij]`` (``0 log 0 = 0``; targets
      ``y >= 0``)
    - ``absolute_error``: ``p = z``, ``l_i = sum_j |z_ij - y_ij|``, ``dl/dz = sign(z - y)``
    - ``huber`` (Huber, 1964; PyTorch's ``HuberLoss(delta=delta)``): ``p = z``,
      ``l_i = sum_j h(z_ij - y_ij)``, ``h(d) = d**2 / 2`` for ``|d| <= delta``, else
      ``delta * (|d| - delta / 2)``; ``dl/dz = clip(z - y, -delta, delta)``
    - ``quantile`` (the pinball loss of scikit-learn's ``mean_pinball_loss``): ``p = z``,
      ``l_i = sum_j [q * max(y - z, 0) + (1 - q) * max(z - y, 0)]``, ``q = quantile``;
      ``dl/dz = 1 - q`` where ``z > y``, ``-q`` where ``z < y``

    (The subgradient at a kink, ``z == y``, is 0.)

    The log-losses clip ``p`` to ``[eps, 1 - eps]``, ``eps`` the machine epsilon of
    ``z``'s dtype, as scikit-learn does. The returned value is
    ``L = sum_i s_i l_i / sum_i s_i`` and its gradient is
    ``dL/dz_i = s_i (p_i - y_i) / sum_i s_i`` for the first four (the canonical-link
    shortcut), ``s_i dl/dz_i / sum_i s_i`` for the others.

    Parameters
    ----------
    z : ndarray, float32 or float64, shape (n, k)
    y : ndarray, dtype and shape of ``z``
        Targets: one-hot rows, 0/1 indicators, real values or counts.
    loss : {"softmax_cross_entropy", "logistic_cross_entropy", "squared_error", "poisson", \
"absolute_error", "huber", "quantile"}
    sample_weight : ndarray, dtype of ``z``, shape (n,), optional
    delta : float, default=1.0
        ``huber``'s threshold, > 0 (ignored by the other heads).
    quantile : float, default=0.5
        ``quantile``'s q, in (0, 1) (ignored by the other heads).

    Returns
    -------
    loss : float
        The weighted mean loss ``L``.
    grad : ndarray, dtype and shape of ``z``
        ``dL/dz``.

    Raises
    ------
    TypeError
        An array that is not a float32 or float64 ndarray, or not of ``z``'s dtype.
    ValueError
        For ``n == 0`` or ``k == 0``, a ``delta`` <= 0 or a ``quantile`` outside (0, 1)
        (for those heads), or sample weights that are negative, not finite or
        sum to 0 (the mean is then undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> z = np.array([[1.0], [3.0]], dtype=np.float32)
    >>> y = np.array([[0.0], [1.0]], dtype=np.float32)
    >>> loss, grad = ops.output_loss(z, y, "squared_error")
    >>> loss  # (0.5 * 1**2 + 0.5 * 2**2) / 2
    1.25
    >>> grad  # (z - y) / n
    array([[0.5],
           [1. ]], dtype=float32)
    >>> ops.output_loss(z, y, "huber", delta=1.0)[0]
    1.0
    """
    parameter = {"huber": delta, "quantile": quantile}.get(
        loss.name if isinstance(loss, _core.Loss) else loss, 0.0)
    return _output_loss("output_loss", "z", z, y, loss, sample_weight, parameter)


def _output_loss(fn, z_name, z, y, loss, sample_weight, parameter=0.0):
    """output_loss, with errors in the words of the public function ``fn`` that called it
    (softmax_cross_entropy calls ``z`` ``logits``)."""
    head = _enum(fn, _core.Loss, loss)
    z = _check(fn, z_name, z, ndim=2, dtype=_FLOATS)
    y = _check(fn, "y", y, z.shape, dtype=z.dtype)
    if z.shape[0] == 0:
        raise ValueError(f"[{fn}] {z_name} has no rows: the mean loss of no sample is undefined")
    if z.shape[1] == 0:
        raise ValueError(f"[{fn}] {z_name} has no columns: a head needs at least one output")
    if sample_weight is None:  # the mean: every row weighs 1 / n
        sample_weight = np.full(z.shape[0], 1.0 / z.shape[0], dtype=z.dtype)
    else:
        _check(fn, "sample_weight", sample_weight, (z.shape[0],), dtype=z.dtype)
        if not np.isfinite(sample_weight).all() or (sample_weight < 0).any():
            raise ValueError(f"[{fn}] sample_weight must be finite and >= 0")
        weight_sum = float(sample_weight.sum(dtype=np.float64))
        if not weight_sum > 0:
            raise ValueError(f"[{fn}] sample_weight sums to {weight_sum}: the weighted mean "
                             "needs a positive total")
        # Normalized in float64 first: weights near float32's limits (3e38, 1e-45) would
        # overflow or underflow in the products s_i * (p - y) of the kernel.
        sample_weight = (sample_weight.astype(np.float64) / weight_sum).astype(z.dtype)
    grad = np.empty_like(z)
    mean = _core.loss_forward_backward(z, y, head, grad, sample_weight, parameter)
    return mean, grad


def softmax_cross_entropy(
    logits: Floats,
    y: Floats,
    sample_weight: Optional[Floats] = None,
) -> tuple[float, Floats]:
    """Softmax + categorical cross-entropy, fused: ``output_loss(logits, y,
    "softmax_cross_entropy", sample_weight)``.

    ``p_i = softmax(logits_i)`` (computed stably, finite for any finite logits), loss
    ``L = sum_i s_i * (-sum_j y_ij log p_ij) / sum_i s_i`` with ``p`` clipped to
    ``[eps, 1 - eps]``, gradient ``dL/dlogits_i = s_i (p_i - y_i) / sum_i s_i``.

    Parameters
    ----------
    logits : ndarray, float32 or float64, shape (n, k)
    y : ndarray, dtype and shape of ``logits``
        One-hot (or soft) targets; rows sum to 1.
    sample_weight : ndarray, dtype of ``logits``, shape (n,), optional

    Returns
    -------
    loss : float
    grad : ndarray, dtype and shape of ``logits``

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> logits = np.zeros((2, 2), dtype=np.float32)
    >>> y = np.eye(2, dtype=np.float32)
    >>> loss, grad = ops.softmax_cross_entropy(logits, y)
    >>> round(loss, 4)  # log(2)
    0.6931
    >>> grad
    array([[-0.25,  0.25],
           [ 0.25, -0.25]], dtype=float32)
    """
    return _output_loss("softmax_cross_entropy", "logits", logits, y, "softmax_cross_entropy",
                        sample_weight)


# --- optimizers ---------------------------------------------------------------------------------
def _check_state(fn, param, **arrays):
    """The optimizer's arrays: float32 or float64 as ``param``, all of ``param``'s shape.
    Returns whether they are float32 (whose scalars must then fit float32)."""
    _check(fn, "param", param, writeable=True, dtype=_FLOATS)
    for name, arr in arrays.items():
        _check(fn, name, arr, param.shape, writeable=name != "grad", dtype=param.dtype)
    return param.dtype == np.float32


def adam_update(
    param: AnyFloats,
    grad: AnyFloats,
    m: AnyFloats,
    v: AnyFloats,
    *,
    step: int,
    learning_rate: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    alpha: float = 0.0,
    grad_scale: float = 1.0,
) -> None:
    """One Adam step in place, scikit-learn's rule, in one pass over memory.

    ::

        g     = (grad + alpha * param) * grad_scale
        m     = beta1 * m + (1 - beta1) * g
        v     = beta2 * v + (1 - beta2) * g**2
        lr_t  = learning_rate * sqrt(1 - beta2**step) / (1 - beta1**step)
        param = param - lr_t * m / (sqrt(v) + epsilon)

    ``epsilon`` is added to the uncorrected ``sqrt(v)`` (as scikit-learn and Keras do).
    ``alpha`` is an L2 penalty coupled into the gradient; ``grad_scale`` is typically
    ``1 / batch_size``.

    Parameters
    ----------
    param, grad, m, v : ndarray, float32 or float64, all of the same dtype and shape
        ``param``, ``m`` and ``v`` are updated in place.
    step : int
        ``t >= 1``, the number of this update (1 for the first).
    learning_rate, beta1, beta2, epsilon, alpha, grad_scale : float
        The step size and bias correction are computed in float64 from these, so a
        ``beta2`` such as ``1 - 1e-8`` (1.0 in float32) still gives a nonzero step.

    Raises
    ------
    TypeError
        An array that is not a float32 or float64 ndarray, or not of ``param``'s dtype,
        or a scalar of the wrong type.
    ValueError
        Shapes that differ, a non-contiguous, misaligned or read-only array, arrays that
        share memory, ``step < 1``, a ``beta`` outside [0, 1), ``epsilon <= 0``, or a
        scalar beyond float32's range (float32 arrays).

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> param = np.ones(2, dtype=np.float32)
    >>> grad = np.ones(2, dtype=np.float32)
    >>> m, v = np.zeros(2, dtype=np.float32), np.zeros(2, dtype=np.float32)
    >>> ops.adam_update(param, grad, m, v, step=1, learning_rate=0.1)
    >>> param.round(4)  # the first step moves each weight by about learning_rate
    array([0.9, 0.9], dtype=float32)
    >>> m, v
    (array([0.1, 0.1], dtype=float32), array([0.001, 0.001], dtype=float32))
    """
    fn = "adam_update"
    single = _check_state(fn, param, grad=grad, m=m, v=v)
    step = _integer(fn, "step", step)
    if step < 1:
        raise ValueError(f"[{fn}] step must be >= 1 (the first update is 1), got {step}")
    scalars = {name: _real(fn, name, value, float32=single and name not in ("beta1", "beta2"))
               for name, value in (("learning_rate", learning_rate), ("beta1", beta1),
                                   ("beta2", beta2), ("epsilon", epsilon), ("alpha", alpha),
                                   ("grad_scale", grad_scale))}
    for name in ("beta1", "beta2"):
        if not 0.0 <= scalars[name] < 1.0:
            raise ValueError(f"[{fn}] {name} must be in [0, 1), got {scalars[name]}")
    if not param.dtype.type(scalars["epsilon"]) > 0:  # 0 (or below the dtype's smallest): 0/0
        raise ValueError(f"[{fn}] epsilon must be > 0 in {param.dtype}, got "
                         f"{scalars['epsilon']}")
    _core.adam_update(param, grad, m, v, step=step, **scalars)


def sgd_update(
    param: AnyFloats,
    grad: AnyFloats,
    velocity: AnyFloats,
    *,
    learning_rate: float = 1e-3,
    momentum: float = 0.0,
    nesterov: bool = False,
    alpha: float = 0.0,
    grad_scale: float = 1.0,
) -> None:
    """One SGD step with (Nesterov) momentum in place, scikit-learn's rule.

    ::

        g        = (grad + alpha * param) * grad_scale
        velocity = momentum * velocity - learning_rate * g
        param    = param + momentum * velocity - learning_rate * g   if nesterov
        param    = param + velocity                                  otherwise

    Parameters
    ----------
    param, grad, velocity : ndarray, float32 or float64, all of the same dtype and shape
        ``param`` and ``velocity`` are updated in place.
    learning_rate, momentum, alpha, grad_scale : float
    nesterov : bool

    Examples
    --------
    >>> import numpy as np
    >>> from nnfast import ops
    >>> param = np.ones(2, dtype=np.float32)
    >>> grad = np.full(2, 2.0, dtype=np.float32)
    >>> velocity = np.zeros(2, dtype=np.float32)
    >>> ops.sgd_update(param, grad, velocity, learning_rate=0.1)
    >>> param, velocity
    (array([0.8, 0.8], dtype=float32), array([-0.2, -0.2], dtype=float32))
    """
    fn = "sgd_update"
    single = _check_state(fn, param, grad=grad, velocity=velocity)
    scalars = {name: _real(fn, name, value, float32=single)
               for name, value in (("learning_rate", learning_rate), ("momentum", momentum),
                                   ("alpha", alpha), ("grad_scale", grad_scale))}
    _core.sgd_update(param, grad, velocity, nesterov=_flag(fn, "nesterov", nesterov), **scalars)


# --- machine ------------------------------------------------------------------------------------
def isa() -> str:
    """The instruction set whose kernels are active: one of :func:`available_isas`.

    Chosen once, at import: ``NNFAST_ISA`` if set (and this CPU runs it; otherwise a
    ``RuntimeWarning`` says why not), else the widest this CPU runs.

    Returns
    -------
    name : str
        ``"generic"`` (portable C++, no FMA), ``"avx2"`` (AVX2 + FMA) or ``"avx512"``
        (AVX-512 F/BW/DQ/VL + FMA: x86-64-v4).

    Examples
    --------
    >>> from nnfast import ops
    >>> ops.isa() in ops.available_isas()
    True
    """
    return _core.isa()


def available_isas() -> list[str]:
    """The instruction sets this build has and this CPU runs, narrowest first.

    Returns
    -------
    names : list of str
        Always starts with ``"generic"``; ``"avx2"`` follows on x86-64 CPUs with AVX2 and
        FMA, then ``"avx512"`` on those with AVX-512 F/BW/DQ/VL whose OS saves the zmm
        and mask registers. ``NNFAST_ISA=<name>`` (set before importing nnfast) selects one.

    Examples
    --------
    >>> from nnfast import ops
    >>> ops.available_isas()[0]
    'generic'
    """
    return list(_core.available_isas())
