"""Stubs of ``nnfast._core``, the C++ extension (cpp/bindings/).

Conventions for every function here:
- Arrays are float32 and C-contiguous unless said otherwise. The kernels of nnfast.ops
  (gemm, dense_forward, dense_backward, activation_forward, activation_backward,
  output_activation, loss_forward_backward, adam_update, sgd_update) also take float64:
  the first array's dtype, which every other array of the call must have. A wrong dtype,
  layout or shape raises TypeError/ValueError; nothing is silently converted or copied.
- Outputs are passed in (``out=``-style) and written in place; the GIL is released
  while C++ computes.
- Shapes are row-major: x (n, in), w (in, out), y (n, out).
- A shape mismatch raises ValueError("[function] what is wrong").
- Sparse X (``CsrLike`` below) is a scipy.sparse CSR matrix or array, read in place: its
  ``data`` (float32 or float64; values become float32 as they are used), ``indices`` and
  ``indptr`` (int32 or int64 each, as scipy chose) must be 1-D contiguous arrays; nothing
  is copied. indptr must start at 0, never decrease and end within data, and every index
  must be a column: otherwise ValueError("[function] X.indptr ..." / "X.indices[k] = ...").
  A wrong dtype is a TypeError naming the attribute. Any row order is summed correctly;
  with sorted, unique indices per row (scipy's canonical format) the first layer is summed
  in exactly the dense GEMM's order, so sparse and dense X give bitwise equal results.
"""

import enum
from typing import List, Optional, Sequence, Union

import numpy as np
import scipy.sparse

CsrLike = Union[scipy.sparse.csr_matrix, scipy.sparse.csr_array]

class Activation(enum.IntEnum):
    identity = 0
    logistic = 1
    tanh = 2
    relu = 3
    leaky_relu = 4
    elu = 5
    gelu = 6
    gelu_tanh = 7
    silu = 8

class Loss(enum.IntEnum):
    """The output head: output activation + loss. The first four are canonical-link
    pairs, whose gradient w.r.t. the pre-activation z is ``(f(z) - y) * sample_weight``;
    the robust regression losses (identity output) take a parameter, `loss_parameter`
    where a call takes a head: huber's delta (> 0), quantile's q (in (0, 1))."""

    softmax_cross_entropy = 0  # softmax + categorical log-loss (multiclass)
    logistic_cross_entropy = 1  # sigmoid + binary log-loss per column (binary, multilabel)
    squared_error = 2  # identity + 0.5 * sum over outputs of (z - y)^2
    poisson = 3  # exp + half Poisson deviance: exp(z) - y*z (+ const)
    absolute_error = 4  # identity + sum |z - y|
    huber = 5  # identity + Huber: d^2/2 for |d| <= delta, else delta (|d| - delta/2)
    quantile = 6  # identity + pinball: q max(y - z, 0) + (1 - q) max(z - y, 0)

# --- machine -----------------------------------------------------------------------
def isa() -> str: ...  # the active kernel table: "generic" or "avx2"
def available_isas() -> List[str]: ...  # the tables this build has and this CPU runs
def isa_request_problem() -> str: ...  # why NNFAST_ISA was not followed ("" if it was)
def set_isa(name: str) -> None: ...  # tests and benchmarks: ValueError if unavailable
def cpu_supports_avx2() -> bool: ...
# Threads (cpp/threads.hpp): the count a call on this thread would use, and its source.
MAX_THREADS: int  # 1024: set_num_threads rejects more
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...  # 1 <= n <= MAX_THREADS, else ValueError
def reset_num_threads() -> None: ...  # forget set_num_threads (tests)
def thread_setting() -> tuple[int, str]: ...  # (threads, "set_num_threads" | "OpenMP setting
                                              # (...)" | "OMP_NUM_THREADS" | "CPU count")
def default_num_threads() -> int: ...  # OMP_NUM_THREADS, else the CPUs this process may use
def thread_budget() -> int: ...  # what concurrent calls share: set_num_threads's n, else default
def openmp_runtime() -> tuple[str, int]: ...  # (the OpenMP library's file, _OPENMP)
def get_gemm_blocking() -> tuple[int, int, int, int]: ...  # (kc, mc, small_m, in_place_b_bytes)
def set_gemm_blocking(kc: int, mc: int, small_m: int = 24,
                      in_place_b_bytes: int = 16384) -> None:
    """Tests shrink it to walk every packing path: K blocks of kc, A packed in blocks of
    mc rows (more rows than that), B read in place for fewer than small_m rows or when
    all of B has at most in_place_b_bytes (0, 0: B always packed)."""

# --- kernels (each has a naive twin named *_reference with the same signature) -------
def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, alpha: float = 1.0,
         beta: float = 0.0, trans_a: bool = False, trans_b: bool = False) -> None:
    """out := alpha * op(a) @ op(b) + beta * out. With beta == 0, out is never read."""

def gemm_reference(a: np.ndarray, b: np.ndarray, out: np.ndarray, alpha: float = 1.0,
                   beta: float = 0.0, trans_a: bool = False, trans_b: bool = False) -> None: ...

def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, activation: Activation,
                  out: np.ndarray) -> None:
    """out (n, out) := activation(x (n, in) @ w (in, out) + b (out,))."""

def dense_backward(dz: np.ndarray, x: np.ndarray, w: np.ndarray, dw: np.ndarray,
                   db: np.ndarray, dx: Optional[np.ndarray] = None) -> None:
    """dw := x.T @ dz; db := dz.sum(0); dx := dz @ w.T (skipped when dx is None).
    dz is the gradient w.r.t. the layer's pre-activation."""

def csr_dense_forward(x: CsrLike, w: np.ndarray, b: np.ndarray, activation: Activation,
                      out: np.ndarray, rows: Optional[np.ndarray] = None) -> None:
    """out (m, out) := activation(x[rows] (m, in) @ w (in, out) + b (out,)), x sparse CSR.
    rows: int64 row ids of x (any order, repeats allowed); None for all rows. Each
    nonzero x_ik adds x_ik * w[k, :]; threads split the rows."""

def csr_dense_forward_reference(x: CsrLike, w: np.ndarray, b: np.ndarray,
                                activation: Activation, out: np.ndarray,
                                rows: Optional[np.ndarray] = None) -> None: ...

def csr_weight_gradient(dz: np.ndarray, x: CsrLike, dw: np.ndarray,
                        rows: Optional[np.ndarray] = None, accumulate: bool = False) -> None:
    """dw (in, out) := x[rows].T @ dz (m, out), or dw += that when accumulate; x sparse CSR.
    Every row of dw is written. Threads split dw's rows; each element is summed by one
    thread over the batch rows in order (bitwise the same for any thread count)."""

def csr_weight_gradient_reference(dz: np.ndarray, x: CsrLike, dw: np.ndarray,
                                  rows: Optional[np.ndarray] = None,
                                  accumulate: bool = False) -> None: ...

def activation_forward(x: np.ndarray, activation: Activation, out: np.ndarray) -> None: ...
def activation_backward(dy: np.ndarray, saved: np.ndarray, activation: Activation,
                        out: np.ndarray) -> None:
    """out := dy * f'(x), f' written through `saved`: the forward output y = f(x), or the
    input x where derivative_reads_input(activation). Any shape (same for all)."""

def derivative_reads_input(activation: Activation) -> bool:
    """Whether activation_backward's `saved` is the forward's input (GELU, SiLU) rather
    than its output."""

def output_activation(z: np.ndarray, loss: Loss, out: np.ndarray) -> None:
    """out := f(z), f the head's output activation (softmax per row, sigmoid, identity, exp)."""

def loss_forward_backward(z: np.ndarray, y: np.ndarray, loss: Loss, grad: np.ndarray,
                          sample_weight: Optional[np.ndarray] = None) -> float:
    """Per row i: loss_i from the pre-activation z (n, k) and target y (n, k);
    grad := (f(z) - y) * sw_i. Returns sum_i sw_i * loss_i (float64; not divided by n).
    Log-losses clip probabilities to [eps, 1 - eps] (eps of z's dtype) as scikit-learn does."""

def adam_update(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, *,
                step: int, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999,
                epsilon: float = 1e-8, alpha: float = 0.0, grad_scale: float = 1.0) -> None:
    """scikit-learn's Adam, one pass. g = (grad + alpha * param) * grad_scale;
    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    param -= lr * sqrt(1-b2^step)/(1-b1^step) * m / (sqrt(v) + eps). step >= 1 is t after
    this update's increment. The constants are computed in double from the double
    learning_rate, beta1, beta2 (1 - beta kept exactly: beta2 = 1 - 1e-8 is 1.0f)."""

def sgd_update(param: np.ndarray, grad: np.ndarray, velocity: np.ndarray, *,
               learning_rate: float, momentum: float = 0.0, nesterov: bool = False,
               alpha: float = 0.0, grad_scale: float = 1.0) -> None:
    """scikit-learn's SGD. g as in adam_update; velocity = momentum*velocity - lr*g;
    param += momentum*velocity - lr*g if nesterov else velocity."""

def all_finite(arrays: Sequence[np.ndarray]) -> bool:
    """No NaN or infinity in any of the float32 or float64 C-contiguous arrays (one pass
    each)."""

# --- whole network ----------------------------------------------------------------------
# Each call runs in the dtype of coefs[0], float32 or float64 (the estimators' dtype=):
# every parameter, optimizer-state, batch-norm and target array (Y, sample_weight) of the
# call must be of that dtype ("float32" below means it), each a NumPy array (a TypeError
# names a list given instead). X may be float32 or float64 either way (converted per row).
class OptimizerConfig:
    """kind: "adam" or "sgd"; the other fields as in adam_update / sgd_update."""

    def __init__(self, kind: str, learning_rate: float, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8, momentum: float = 0.0,
                 nesterov: bool = False) -> None: ...

def train_epoch(coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray],
                activations: Sequence[Activation], loss: Loss, X: Union[np.ndarray, CsrLike],
                Y: np.ndarray, sample_weight: Optional[np.ndarray], order: np.ndarray,
                batch_size: int, alpha: float, optimizer: OptimizerConfig,
                state1: Sequence[np.ndarray], state2: Sequence[np.ndarray],
                step: np.ndarray, dropout: Sequence[float] = (), dropout_seed: int = 0,
                epoch: int = 0, loss_parameter: float = 0.0,
                batch_norm_scales: Sequence[np.ndarray] = (),
                batch_norm_shifts: Sequence[np.ndarray] = (),
                running_means: Sequence[np.ndarray] = (),
                running_vars: Sequence[np.ndarray] = (), batch_norm_momentum: float = 0.1,
                batch_norm_epsilon: float = 1e-5) -> float:
    """One pass of mini-batch training, scikit-learn's update rule, all in C++.

    coefs[i] (fan_in, fan_out), intercepts[i] (fan_out,): float32, updated in place.
    activations: one per hidden layer (len(coefs) - 1); the output follows `loss`.
    X: (n, n_features) float32 or float64 with contiguous rows (any row stride); it is never
       copied whole: each batch's rows are gathered (and converted) into a small buffer.
       Or a sparse CSR X (see the top): never densified nor gathered; the first layer's
       forward and weight gradient read the batch's nonzeros in place.
    Y: (n, n_outputs) float32 targets (one-hot / indicator for classifiers).
    sample_weight: (n,) float32 or None.
    order: (m,) int64 row indices of X in the order to visit (a permutation for shuffling,
       or a subset: early stopping's training rows). Batches are order[i:i+batch_size].
    state1/state2: optimizer state, one array per parameter in scikit-learn's order
       (coefs..., intercepts...), then batch norm's (scales..., shifts...): adam m and v;
       sgd velocities and [] .
    step: int64 array of shape (1,): adam's t, incremented in place per batch.
    Per batch: loss_b = sum(sw*loss_i)/sum(sw) + 0.5*alpha*sum(||W||^2)/sum(sw) (weights
    before the update); grads (dW + alpha*W)/sum(sw), db/sum(sw); then the update.
    Returns sum over batches of loss_b * sum(sw of the batch) (float64) — divide by the
    total weight of `order` to get scikit-learn's epoch loss.
    A batch whose loss is not finite ends the epoch before its update and returns NaN
    (the caller restores the parameters it saved).
    KeyboardInterrupt (or any exception from a signal handler) is raised between batches,
    within about a second; parameters and state are then those after the last full batch.
    dropout: () or one rate in [0, 1) per hidden layer: inverted dropout on its output
       (kept with probability 1 - rate, scaled by 1 / (1 - rate)), the draw for unit j of
       the sample in row i of X being SplitMix64's, keyed by (dropout_seed, epoch, layer, i,
       j) (cpp/dropout.hpp): the same for any batch split or thread count. `epoch` must
       differ between epochs.
    loss_parameter: huber's delta, quantile's q (the heads without one ignore it).
    batch_norm_*, running_*: () or one float32 (fan_out,) array per hidden layer each:
       batch normalization of every hidden layer between its dense product and its
       activation (cpp/batch_norm.hpp; torch.nn.BatchNorm1d in training, with its momentum
       and eps): scales and shifts trained (state after the layers'), running statistics
       updated in place. A one-row batch counts its loss and updates nothing.
    """

def predict(coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray],
            activations: Sequence[Activation], loss: Loss, X: Union[np.ndarray, CsrLike],
            out: Optional[np.ndarray] = None) -> np.ndarray:
    """The network's output after the head's activation, (n, n_outputs) of the parameters'
    dtype.
    X float32 or float64 with contiguous rows, or sparse CSR (read in place, the first
    layer a sparse x dense product). Rows are processed in cache-sized chunks,
    in parallel over chunks. A NaN or infinity in X (or a float64 beyond float32's range)
    raises ValueError naming NaN, infinity (and, for float64 X, float32's range)."""

class Predictor:
    """predict's network prepared once, for repeated calls (the estimators keep one from
    fit): the activations and head are converted here, and a call re-checks the
    parameter arrays only when the lists (object, length) or the arrays in them (object,
    data, shape, dtype with byte order, layout) differ from its previous call's. It holds
    references to the lists and arrays it last checked, and each call keeps what it reads
    alive until it returns, so several threads may call one Predictor while others
    replace the arrays. (Those references make ndarray.resize of a held array refuse.)"""

    def __init__(self, activations: Sequence[Activation], loss: Loss) -> None: ...
    def __call__(self, X: Union[np.ndarray, CsrLike], coefs: Sequence[np.ndarray],
                 intercepts: Sequence[np.ndarray],
                 column_scales: Sequence[np.ndarray] = ()) -> np.ndarray:
        """As predict(coefs, intercepts, activations, loss, X), but the result is float64
        for float64 parameters, and otherwise has X's float dtype: float64 for float64 X
        (dense, or CSR data), else float32.
        column_scales: () or one float32 (fan_out,) array per hidden layer, whose z is then
        (x W) * column_scales[i] + intercepts[i] (batch norm at inference, folded per unit)."""

def loss_and_gradient(coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray],
                      activations: Sequence[Activation], loss: Loss,
                      X: Union[np.ndarray, CsrLike],
                      Y: np.ndarray, sample_weight: Optional[np.ndarray], alpha: float,
                      grad_coefs: Sequence[np.ndarray],
                      grad_intercepts: Sequence[np.ndarray]) -> float:
    """Full-batch objective and gradient (for L-BFGS and gradient checks):
    returns sum(sw*loss_i)/sum(sw) + 0.5*alpha*sum(||W||^2)/sum(sw) (float64) and writes
    its exact gradient into grad_coefs / grad_intercepts (same shapes as the parameters).
    X as in train_epoch (dense or sparse CSR).
    Rows are processed in fixed-size chunks, so the result does not depend on threads."""
