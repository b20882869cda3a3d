"""The bad-input table: each case is a call a user could make, with the outcome it must
have. Run by tests/test_bad_input.py in a child process, so that a crash fails a test
instead of killing the suite: `python tests/_bad_input_cases.py FIRST` runs the cases from
index FIRST on and prints one JSON line per case.

An outcome is ("ok",) or (exception class, regex the message must match). Every
rejection must name the argument: the regexes say which words.
"""

import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError

from nnfast import MLPClassifier, MLPRegressor, ops, set_num_threads

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
RNG = np.random.default_rng(0)
F = np.float32


def f32(*shape):
    return RNG.standard_normal(shape).astype(F)


def clf(**kw):
    return MLPClassifier(**{"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0, **kw})


def reg(**kw):
    return MLPRegressor(**{"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0, **kw})


def fitted():
    return clf().fit(X_IRIS, Y_IRIS)


def with_value(value, at=(3, 1), dtype=np.float64):
    X = X_IRIS.astype(dtype)
    X[at] = value
    return X


def misaligned(a):
    buf = np.empty(a.nbytes + 1, np.uint8)
    view = buf[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


def read_only(a):
    a.flags.writeable = False
    return a


def first_partial_fit_without_classes():
    clf().partial_fit(X_IRIS, Y_IRIS)


def partial_fit_with_unseen_label():
    est = clf()
    est.partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])
    est.partial_fit(X_IRIS[:3], [0, 1, 7])


def warm_start_with(X, y):
    est = clf(warm_start=True).fit(X_IRIS, Y_IRIS)
    est.fit(X, y)


def predict_with_tuple_coefs():
    est = fitted()
    est.coefs_ = tuple(est.coefs_)
    assert (est.predict(X_IRIS) == fitted().predict(X_IRIS)).all()


def set_coefs_then_predict(coefs):
    est = fitted()
    est.coefs_ = coefs
    est.predict(X_IRIS)


VE, TE = ValueError, TypeError
a64, b64 = f32(64, 64), f32(64, 64)
p16, g16, m16, v16 = f32(16), f32(16), f32(16), np.abs(f32(16))
z32, y32 = f32(3, 2), np.abs(f32(3, 2))

CASES = [
    # --- estimator input: X ---------------------------------------------------------------
    ("fit X with NaN", lambda: clf().fit(with_value(np.nan), Y_IRIS), (VE, "Input X contains NaN")),
    ("fit X with inf", lambda: clf().fit(with_value(np.inf), Y_IRIS), (VE, "Input X contains infinity")),
    ("fit float32 X with -inf", lambda: clf().fit(with_value(-np.inf, dtype=F), Y_IRIS), (VE, "infinity")),
    ("fit X float64 1e39", lambda: clf(solver="lbfgs").fit(with_value(1e39), Y_IRIS),
     (VE, "X has a value of magnitude 1e\\+39, beyond float32's range")),
    ("fit sparse X 1e39", lambda: clf().fit(sp.csr_matrix(with_value(1e39)), Y_IRIS),
     (VE, "X has a value .*beyond float32")),
    ("fit sparse X with NaN", lambda: clf().fit(sp.csr_matrix(with_value(np.nan)), Y_IRIS), (VE, "NaN")),
    ("fit empty X", lambda: clf().fit(np.empty((0, 4)), []), (VE, "0 sample")),
    ("fit X with no features", lambda: clf().fit(np.empty((150, 0)), Y_IRIS), (VE, "0 feature")),
    ("fit 1-D X", lambda: clf().fit(X_IRIS[:, 0], Y_IRIS), (VE, "Expected 2D array, got 1D array")),
    ("fit 3-D X", lambda: clf().fit(X_IRIS.reshape(150, 2, 2), Y_IRIS), (VE, "dim 3")),
    ("fit complex X", lambda: clf().fit(X_IRIS + 1j, Y_IRIS), (VE, "[Cc]omplex")),
    ("fit string X", lambda: clf().fit(X_IRIS.astype(str).astype(object) + "x", Y_IRIS),
     (VE, "could not convert string to float")),
    ("fit object X with None", lambda: clf().fit(np.array([[1.0, None]] * 10, dtype=object),
                                                  [0, 1] * 5), (VE, "Input X contains NaN")),
    ("fit float16 X", lambda: clf().fit(X_IRIS.astype(np.float16), Y_IRIS), ("ok",)),
    ("fit int X", lambda: clf().fit(X_IRIS.astype(int), Y_IRIS), ("ok",)),
    ("fit misaligned X", lambda: clf().fit(misaligned(X_IRIS.astype(F)), Y_IRIS), ("ok",)),
    ("fit X list of lists", lambda: clf().fit(X_IRIS.tolist(), Y_IRIS), ("ok",)),
    ("fit ragged X", lambda: clf().fit([[1.0, 2.0], [1.0]], [0, 1]), (VE, "inhomogeneous|sequence")),
    # --- y -----------------------------------------------------------------------------------
    ("fit y too short", lambda: clf().fit(X_IRIS, Y_IRIS[:-1]), (VE, "inconsistent numbers of samples")),
    ("fit regressor y with NaN", lambda: reg().fit(X_IRIS, with_value(np.nan, at=(3, 0))[:, 0]), (VE, "Input y contains NaN")),
    ("fit regressor y 1e39", lambda: reg().fit(X_IRIS, with_value(1e39, at=(3, 0))[:, 0]),
     (VE, "y has a value of magnitude 1e\\+39")),
    ("fit 3-D y", lambda: reg().fit(X_IRIS, np.ones((150, 2, 2))), (VE, "y")),
    ("fit regressor string y", lambda: reg().fit(X_IRIS, Y_IRIS.astype(str).astype(object) + "a"),
     (VE, "could not convert|numeric")),
    ("fit continuous y to classifier", lambda: clf().fit(X_IRIS, X_IRIS[:, 0]), (VE, "Unknown label type")),
    ("poisson with y < 0", lambda: reg(loss="poisson").fit(X_IRIS, X_IRIS[:, 0] - 6),
     (VE, "loss='poisson' requires y >= 0")),
    ("partial_fit unseen label", partial_fit_with_unseen_label, (VE, "`y` has classes not in `self.classes_`")),
    ("partial_fit first call without classes", first_partial_fit_without_classes,
     (VE, "classes must be passed on the first call")),
    ("warm_start new classes", lambda: warm_start_with(X_IRIS, Y_IRIS % 2),
     (VE, "warm_start can only be used where `y` has the same classes")),
    ("warm_start new width", lambda: warm_start_with(X_IRIS[:, :3], Y_IRIS), (VE, "3 features")),
    # --- sample_weight ---------------------------------------------------------------------
    ("sample_weight negative", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=-np.ones(150)),
     (VE, "Negative values in data passed to `sample_weight`")),
    ("sample_weight all zero", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=np.zeros(150)),
     (VE, "non-zero")),
    ("sample_weight wrong length", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=np.ones(3)),
     (VE, "sample_weight.shape")),
    ("sample_weight 2-D", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=np.ones((150, 1))),
     (VE, "Sample weights must be 1D")),
    ("sample_weight NaN", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=with_value(np.nan)[:, 1]),
     (VE, "sample_weight contains NaN|Input sample_weight contains NaN")),
    ("sample_weight 1e39", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=with_value(1e39)[:, 1]),
     (VE, "sample_weight has a value of magnitude")),
    ("sample_weight strings", lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=["a"] * 150),
     (VE, "could not convert string")),
    # --- hyperparameters ------------------------------------------------------------------
    ("hidden_layer_sizes 0", lambda: clf().set_params(hidden_layer_sizes=0).fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes")),
    ("hidden_layer_sizes negative", lambda: clf().set_params(hidden_layer_sizes=(5, -1)).fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes")),
    ("hidden_layer_sizes float", lambda: clf().set_params(hidden_layer_sizes=[5.0]).fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes must be > 0 \\(positive integers\\)")),
    ("hidden_layer_sizes None inside", lambda: clf().set_params(hidden_layer_sizes=[5, None]).fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes must be > 0")),
    ("hidden_layer_sizes bool", lambda: clf().set_params(hidden_layer_sizes=[True]).fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes must be > 0")),
    ("sample_weight 1e37 (only ratios matter)",
     lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=np.full(150, 1e37)), ("ok",)),
    ("sample_weight 1e-40 (only ratios matter)",
     lambda: clf().fit(X_IRIS, Y_IRIS, sample_weight=np.full(150, 1e-40)), ("ok",)),
    ("hidden_layer_sizes string", lambda: clf().set_params(hidden_layer_sizes="abc").fit(X_IRIS, Y_IRIS),
     (VE, "hidden_layer_sizes")),
    ("activation unknown", lambda: clf(activation="swish").fit(X_IRIS, Y_IRIS), (VE, "'activation' parameter")),
    ("solver unknown", lambda: clf(solver="rmsprop").fit(X_IRIS, Y_IRIS), (VE, "'solver' parameter")),
    ("alpha negative", lambda: clf(alpha=-1).fit(X_IRIS, Y_IRIS), (VE, "'alpha' parameter")),
    ("learning_rate_init 0", lambda: clf(learning_rate_init=0).fit(X_IRIS, Y_IRIS), (VE, "'learning_rate_init'")),
    ("learning_rate_init 1e-50", lambda: clf(learning_rate_init=1e-50).fit(X_IRIS, Y_IRIS),
     (VE, "learning_rate_init=1e-50 cannot be held in float32")),
    ("epsilon 1e-60", lambda: clf(epsilon=1e-60).fit(X_IRIS, Y_IRIS), (VE, "epsilon=1e-60 cannot be held")),
    ("beta_2 1", lambda: clf(beta_2=1.0).fit(X_IRIS, Y_IRIS), (VE, "'beta_2' parameter")),
    ("beta_1 string", lambda: clf(beta_1="0.9").fit(X_IRIS, Y_IRIS), (VE, "'beta_1' parameter")),
    ("batch_size 0", lambda: clf(batch_size=0).fit(X_IRIS, Y_IRIS), (VE, "'batch_size' parameter")),
    ("max_iter 0", lambda: clf().set_params(max_iter=0).fit(X_IRIS, Y_IRIS), (VE, "'max_iter' parameter")),
    ("momentum 2", lambda: clf(momentum=2.0).fit(X_IRIS, Y_IRIS), (VE, "'momentum' parameter")),
    ("validation_fraction 1", lambda: clf(validation_fraction=1.0).fit(X_IRIS, Y_IRIS),
     (VE, "'validation_fraction' parameter")),
    ("n_iter_no_change 0", lambda: clf(n_iter_no_change=0).fit(X_IRIS, Y_IRIS), (VE, "'n_iter_no_change'")),
    ("loss unknown", lambda: reg().set_params(loss="hinge").fit(X_IRIS, Y_IRIS), (VE, "'loss' parameter")),
    ("early_stopping too few rows", lambda: reg(early_stopping=True).fit(X_IRIS[:10], X_IRIS[:10, 0]),
     (VE, "validation set is too small")),
    ("partial_fit with early_stopping", lambda: clf(early_stopping=True).partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2]),
     (VE, "early_stopping")),
    ("divergence", lambda: reg(solver="sgd", learning_rate_init=1e3, max_iter=20).fit(X_IRIS, X_IRIS[:, 0] * 100),
     (VE, "diverged in epoch")),
    # --- predict -----------------------------------------------------------------------------
    ("predict before fit", lambda: clf().predict(X_IRIS), (NotFittedError, "not fitted yet")),
    ("predict_proba before fit", lambda: clf().predict_proba(X_IRIS), (NotFittedError, "not fitted yet")),
    ("predict wrong width", lambda: fitted().predict(X_IRIS[:, :3]), (VE, "3 features")),
    ("predict 1-D", lambda: fitted().predict(X_IRIS[0]), (VE, "Expected 2D array, got 1D array")),
    ("predict NaN", lambda: fitted().predict(with_value(np.nan)), (VE, "NaN")),
    ("predict 1e300", lambda: fitted().predict(with_value(1e300)), (VE, "beyond float32's range")),
    ("predict empty", lambda: fitted().predict(np.empty((0, 4))), (VE, "0 sample")),
    ("predict tuple coefs", predict_with_tuple_coefs, ("ok",)),
    ("predict coefs of strings", lambda: set_coefs_then_predict([np.array([["a"]])]),
     (TE, r"coefs_\[0\] must be a numeric array")),
    ("predict coefs wrong shape", lambda: set_coefs_then_predict([np.ones((3, 5), F), np.ones((5, 3), F)]),
     (VE, r"X has 4 features, the network expects 3")),
    # --- nnfast.ops ----------------------------------------------------------------------------
    ("gemm float64 with float32", lambda: ops.gemm(a64.astype(np.float64), b64),
     (TE, r"\[gemm\] b must have dtype float64, got float32")),
    ("gemm list", lambda: ops.gemm([[1.0]], b64), (TE, r"\[gemm\] a must be a numpy.ndarray")),
    ("gemm inner mismatch", lambda: ops.gemm(a64, b64[:3]), (VE, r"\[gemm\] inner dimensions differ")),
    ("gemm 1-D", lambda: ops.gemm(a64[0], b64), (VE, r"\[gemm\] a must be 2-D")),
    ("gemm 3-D", lambda: ops.gemm(a64.reshape(4, 16, 64), b64), (VE, r"\[gemm\] a must be 2-D")),
    ("gemm Fortran", lambda: ops.gemm(np.asfortranarray(a64), b64), (VE, r"\[gemm\] a must be C-contiguous")),
    ("gemm strided", lambda: ops.gemm(a64[:, ::2], b64[:32]), (VE, r"\[gemm\] a must be C-contiguous")),
    ("gemm out read-only", lambda: ops.gemm(a64, b64, out=read_only(f32(64, 64))), (VE, r"\[gemm\] out is read-only")),
    ("gemm out wrong shape", lambda: ops.gemm(a64, b64, out=f32(64, 3)), (VE, r"\[gemm\] out has shape")),
    ("gemm out is a", lambda: ops.gemm(a64, b64, out=a64), (VE, r"\[gemm\] out shares memory with a")),
    ("gemm misaligned", lambda: ops.gemm(misaligned(a64), b64), (VE, r"\[gemm\] a is not aligned")),
    ("gemm alpha string", lambda: ops.gemm(a64, b64, alpha="2"), (TE, r"\[gemm\] alpha must be a real number")),
    ("gemm trans_a string", lambda: ops.gemm(a64, b64, trans_a="yes"), (TE, r"\[gemm\] trans_a must be True or False")),
    ("gemm complex", lambda: ops.gemm(a64.astype(np.complex64), b64), (TE, "dtype float32")),
    ("gemm float16", lambda: ops.gemm(a64.astype(np.float16), b64), (TE, "dtype float32")),
    ("gemm object", lambda: ops.gemm(a64.astype(object), b64), (TE, "dtype float32")),
    ("gemm empty k", lambda: ops.gemm(f32(3, 0), f32(0, 4)), ("ok",)),
    ("dense_forward bad activation", lambda: ops.dense_forward(a64, b64, f32(64), "swish"),
     (VE, r"\[dense_forward\] unknown activation 'swish'")),
    ("dense_forward bias length", lambda: ops.dense_forward(a64, b64, f32(3)), (VE, r"\[dense_forward\] b has shape")),
    ("dense_backward dz shape", lambda: ops.dense_backward(f32(64, 3), a64, b64), (VE, r"\[dense_backward\] dz has shape")),
    ("dense_backward need_dx string", lambda: ops.dense_backward(a64, a64, b64, need_dx="no"),
     (TE, r"need_dx must be True or False")),
    ("activation_forward int", lambda: ops.activation_forward(np.ones(3, int), "relu"), (TE, "dtype float32")),
    ("activation_backward mismatch", lambda: ops.activation_backward(f32(3), f32(4), "tanh"), (VE, "shape")),
    ("output_activation no columns", lambda: ops.output_activation(np.ones((4, 0), F)), (VE, "z has no columns")),
    ("output_loss unknown", lambda: ops.output_loss(z32, y32, "hinge"), (VE, r"unknown loss 'hinge'")),
    ("output_loss zero weights", lambda: ops.output_loss(z32, y32, sample_weight=np.zeros(3, F)),
     (VE, "sample_weight sums to 0")),
    ("output_loss y shape", lambda: ops.output_loss(z32, f32(3, 3)), (VE, r"y has shape")),
    ("softmax_cross_entropy no rows", lambda: ops.softmax_cross_entropy(np.ones((0, 2), F), np.ones((0, 2), F)),
     (VE, "no rows")),
    ("adam step 0", lambda: ops.adam_update(p16, g16, m16, v16, step=0), (VE, "step must be >= 1")),
    ("adam step float", lambda: ops.adam_update(p16, g16, m16, v16, step=1.5), (TE, "step must be an integer")),
    ("adam beta1 string", lambda: ops.adam_update(p16, g16, m16, v16, step=1, beta1="a"), (TE, "beta1 must be a real")),
    ("adam beta2 1", lambda: ops.adam_update(p16, g16, m16, v16, step=1, beta2=1.0), (VE, r"beta2 must be in \[0, 1\)")),
    ("adam m shape", lambda: ops.adam_update(p16, g16, f32(15), v16, step=1), (VE, r"\] m has shape")),
    ("adam epsilon 0", lambda: ops.adam_update(p16, g16, m16, v16, step=1, epsilon=0.0),
     (VE, "epsilon must be > 0")),
    ("adam learning_rate 1e39", lambda: ops.adam_update(p16, g16, m16, v16, step=1, learning_rate=1e39),
     (VE, "learning_rate is beyond float32's range")),
    ("gemm alpha longdouble 1e4000", lambda: ops.gemm(a64, b64, alpha=np.longdouble("1e4000")),
     (VE, "alpha is too large for a float")),
    ("adam v is m", lambda: ops.adam_update(p16, g16, m16, m16, step=1), (VE, "shares memory")),
    ("sgd velocity read-only", lambda: ops.sgd_update(p16, g16, read_only(f32(16))), (VE, "velocity is read-only")),
    ("sgd nesterov string", lambda: ops.sgd_update(p16, g16, f32(16), nesterov="yes"), (TE, "nesterov must be True or False")),
    ("sgd momentum None", lambda: ops.sgd_update(p16, g16, f32(16), momentum=None), (TE, "momentum must be a real")),
    ("set_num_threads 0", lambda: set_num_threads(0), (VE, "1")),
    ("set_num_threads string", lambda: set_num_threads("2"), (TE, "integer")),
]


def run(first):
    """Run CASES[first:], printing one JSON line per case (flushed: a crash keeps them)."""
    warnings.simplefilter("ignore")
    for i in range(first, len(CASES)):
        name, call, _ = CASES[i]
        try:
            call()
            result = {"i": i, "outcome": "ok"}
        except Exception as e:  # noqa: BLE001 - the outcome is what is checked
            result = {"i": i, "outcome": "raised", "type": type(e).__name__,
                      "mro": [c.__name__ for c in type(e).__mro__], "message": str(e)}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    run(int(sys.argv[1]))
