"""Sparse input (cpp/sparse_input.*, _network.as_csr): a CSR X is read in place and never
densified; the first layer is a sparse x dense product summed in the dense GEMM's order,
so sparse and dense X train bitwise the same model and predict the same values."""

import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from nnfast import MLPClassifier, MLPRegressor, _core

ESTIMATORS = [MLPClassifier, MLPRegressor]
SOLVERS = ["adam", "sgd", "lbfgs"]
FORMATS = ["csr", "csc", "coo", "csr_array", "csc_array", "coo_array"]


@pytest.fixture(autouse=True)
def quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def sparse_problem(n=120, d=60, density=0.1, seed=0):
    """A float64 CSR X (some empty rows and columns), class labels and regression targets."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed)
    X.data = rng.standard_normal(X.nnz)
    w = rng.standard_normal(d)
    target = X @ w
    return X, (target > np.median(target)).astype(int) + (target > 1.0), target


def with_index_dtype(X, index_dtype):
    """X with its index arrays cast after construction (scipy's constructors would pick
    int32 again for small matrices)."""
    X = X.copy()
    if X.format in ("csr", "csc"):
        X.indices = X.indices.astype(index_dtype)
        X.indptr = X.indptr.astype(index_dtype)
    else:
        X.row, X.col = X.row.astype(index_dtype), X.col.astype(index_dtype)
    return X


def as_format(X, fmt, dtype=np.float64, index_dtype=np.int32):
    kind, _, array = fmt.partition("_")
    converted = getattr(sp, f"{kind}_{'array' if array else 'matrix'}")(X.astype(dtype))
    return with_index_dtype(converted, index_dtype)


def fitted(estimator, X, y, **params):
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    return estimator(**params).fit(X, y)


def assert_same_model(a, b):
    for name in ("coefs_", "intercepts_"):
        for i, (p, q) in enumerate(zip(getattr(a, name), getattr(b, name))):
            assert p.dtype == q.dtype == np.float32
            assert_array_equal(p, q, err_msg=f"{name}[{i}]")
    assert a.n_iter_ == b.n_iter_
    assert getattr(a, "loss_curve_", None) == getattr(b, "loss_curve_", None)


def target_for(estimator, y_class, y_reg):
    return y_class if estimator is MLPClassifier else y_reg


# --- the estimators: sparse == dense ------------------------------------------------------
def assert_fit_and_predict_equal(estimator, Xs, Xd, y, **params):
    sparse = fitted(estimator, Xs, y, **params)
    dense = fitted(estimator, Xd, y, **params)
    assert_same_model(sparse, dense)
    # predict: the same values, in X's dtype (float64 out for float64 X).
    for method in ("predict", "predict_proba") if estimator is MLPClassifier else ("predict",):
        got, want = getattr(sparse, method)(Xs), getattr(dense, method)(Xd)
        assert_array_equal(got, want)
        if method != "predict" or estimator is MLPRegressor:
            assert got.dtype == Xd.dtype


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_and_predict_sparse_equal_dense(estimator, solver, dtype):
    X, y_class, y_reg = sparse_problem()
    y = target_for(estimator, y_class, y_reg)
    assert_fit_and_predict_equal(estimator, X.astype(dtype), X.toarray().astype(dtype), y,
                                 solver=solver)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_sparse_format_and_dtype_equals_dense(fmt, index_dtype, dtype):
    X, y, _ = sparse_problem()
    assert_fit_and_predict_equal(MLPClassifier, as_format(X, fmt, dtype, index_dtype),
                                 X.toarray().astype(dtype), y)


@pytest.mark.parametrize("solver", SOLVERS)
def test_empty_rows_and_an_all_zero_matrix_equal_dense(solver):
    X, y, _ = sparse_problem(n=60, d=12, density=0.1)
    X = sp.csr_matrix(sp.diags((np.arange(X.shape[0]) % 3 > 0).astype(float)) @ X)
    X.eliminate_zeros()  # a third of the rows empty
    assert np.sum(np.diff(X.indptr) == 0) >= 20
    for Xs in (X, sp.csr_matrix(X.shape)):
        assert_fit_and_predict_equal(MLPClassifier, Xs, Xs.toarray(), y, solver=solver)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver, batch_size", [("lbfgs", "auto"), ("adam", 300), ("sgd", 64)])
def test_many_k_blocks_and_gradient_chunks_equal_dense(estimator, solver, batch_size):
    # 600 features and batches of 300 rows: several K blocks of the GEMM both forward
    # (features) and backward (rows); lbfgs's 1100 rows: two chunks of the full gradient.
    X, y_class, y_reg = sparse_problem(n=1100, d=600, density=0.02, seed=1)
    y = target_for(estimator, y_class, y_reg)
    params = dict(solver=solver, batch_size=batch_size, max_iter=3)
    assert_same_model(fitted(estimator, X, y, **params),
                      fitted(estimator, X.toarray(), y, **params))


def test_single_row_predict_equals_dense():
    # A wide first layer (the GEMM's single-row kernel) over several K blocks.
    X, y, _ = sparse_problem(n=200, d=600, density=0.03, seed=6)
    model = fitted(MLPClassifier, X, y, hidden_layer_sizes=(100, 70))
    dense, Xd = model.predict_proba(X.toarray()), X.toarray()
    for i in range(0, 200, 17):
        assert_array_equal(model.predict_proba(X[i]), dense[i:i + 1])
        assert_array_equal(model.predict_proba(Xd[i:i + 1]), dense[i:i + 1])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_sample_weight_early_stopping_partial_fit_equal_dense(estimator):
    X, y_class, y_reg = sparse_problem(n=200, seed=2)
    y = target_for(estimator, y_class, y_reg)
    sw = np.random.default_rng(0).random(X.shape[0])
    assert_same_model(fitted(estimator, X, y, early_stopping=True),
                      fitted(estimator, X.toarray(), y, early_stopping=True))
    a = estimator(hidden_layer_sizes=(8,), random_state=0).fit(X, y, sample_weight=sw)
    b = estimator(hidden_layer_sizes=(8,), random_state=0).fit(X.toarray(), y, sample_weight=sw)
    assert_same_model(a, b)
    kwargs = {"classes": np.unique(y)} if estimator is MLPClassifier else {}
    a, b = estimator(random_state=0), estimator(random_state=0)
    for rows in (slice(0, 100), slice(100, 200)):
        a.partial_fit(X[rows], y[rows], **kwargs)
        b.partial_fit(X[rows].toarray(), y[rows], **kwargs)
    assert_same_model(a, b)


def test_unsorted_and_duplicate_indices_are_canonicalised_in_a_copy():
    X, y, _ = sparse_problem(n=60, d=20, density=0.3, seed=3)
    # Every row reversed, and each row's first nonzero split into two duplicates.
    data, indices = [], []
    for i in range(X.shape[0]):
        row = slice(X.indptr[i], X.indptr[i + 1])
        d, c = list(X.data[row][::-1]), list(X.indices[row][::-1])
        if d:
            d = [d[0] * 0.25, d[0] * 0.75] + d[1:]
            c = [c[0], c[0]] + c[1:]
        data += d
        indices += c
    indptr = np.concatenate([[0], np.cumsum(np.diff(X.indptr) + (np.diff(X.indptr) > 0))])
    messy = sp.csr_matrix((np.array(data), np.array(indices), indptr), shape=X.shape)
    assert not messy.has_canonical_format
    saved = messy.indices.copy(), messy.data.copy()
    model = fitted(MLPClassifier, messy, y)
    assert_same_model(model, fitted(MLPClassifier, messy.toarray(), y))
    assert_array_equal(model.predict_proba(messy), model.predict_proba(messy.toarray()))
    assert_array_equal(messy.indices, saved[0])  # the caller's matrix is untouched
    assert_array_equal(messy.data, saved[1])


def test_canonical_csr_reaches_core_without_a_copy(monkeypatch):
    """A canonical CSR (float32 data, int64 indices) is the very matrix _core reads."""
    from nnfast import _stochastic_solver

    X, y, _ = sparse_problem()
    X = with_index_dtype(X.astype(np.float32), np.int64)
    seen = []

    def spy(*args, **kwargs):
        seen.append(args[4])
        return train_epoch(*args, **kwargs)

    train_epoch = _core.train_epoch
    monkeypatch.setattr(_stochastic_solver._core, "train_epoch", spy)
    fitted(MLPClassifier, X, y)
    core_X = seen[0]
    assert sp.issparse(core_X) and core_X.format == "csr"
    assert core_X.data.dtype == np.float32 and core_X.indices.dtype == np.int64
    for part in ("data", "indices", "indptr"):
        assert np.shares_memory(getattr(core_X, part), getattr(X, part)), part


# --- thread count ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_sparse_fit_is_bitwise_identical_across_threads(solver):
    X, y, _ = sparse_problem(n=400, d=300, density=0.05, seed=4)
    models = []
    for n in (1, 2, 3):
        _core.set_num_threads(n)
        models.append(fitted(MLPClassifier, X, y, solver=solver, hidden_layer_sizes=(40,)))
    for other in models[1:]:
        assert_same_model(models[0], other)
        assert_array_equal(models[0].predict_proba(X), other.predict_proba(X))


# --- the kernels -----------------------------------------------------------------------------
def kernel_inputs(index_dtype, dtype, n_out=21):
    X, _, _ = sparse_problem(n=90, d=700, density=0.03, seed=5)
    X = with_index_dtype(X.astype(dtype), index_dtype)
    rng = np.random.default_rng(6)
    rows = rng.integers(0, X.shape[0], 300).astype(np.int64)  # a batch > kc, with repeats
    w = rng.standard_normal((X.shape[1], n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    dz = rng.standard_normal((rows.size, n_out)).astype(np.float32)
    return X, rows, w, b, dz


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_dense_forward(isa, index_dtype, dtype):
    X, rows, w, b, _ = kernel_inputs(index_dtype, dtype)
    x_rows = X[rows].toarray().astype(np.float32)
    for act in _core.Activation:
        out, ref, dense = (np.empty((rows.size, w.shape[1]), np.float32) for _ in range(3))
        _core.csr_dense_forward(X, w, b, act, out, rows)
        _core.csr_dense_forward_reference(X, w, b, act, ref, rows)
        _core.dense_forward(x_rows, w, b, act, dense)
        assert_array_equal(out, dense)  # the dense path's exact sums
        assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
        if act == _core.Activation.identity:
            assert_allclose(out, x_rows.astype(np.float64) @ w + b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accumulate", [False, True])
def test_csr_weight_gradient(isa, index_dtype, dtype, accumulate):
    X, rows, w, _, dz = kernel_inputs(index_dtype, dtype)
    x_rows = X[rows].toarray().astype(np.float32)
    start = np.random.default_rng(7).standard_normal(w.shape).astype(np.float32)
    dw, ref, dense = start.copy(), start.copy(), start.copy()
    _core.csr_weight_gradient(dz, X, dw, rows, accumulate=accumulate)
    _core.csr_weight_gradient_reference(dz, X, ref, rows, accumulate=accumulate)
    _core.gemm(x_rows, dz, dense, beta=1.0 if accumulate else 0.0, trans_a=True)
    assert_array_equal(dw, dense)
    assert_allclose(dw, ref, rtol=1e-5, atol=1e-5)
    oracle = x_rows.T.astype(np.float64) @ dz + (start if accumulate else 0)
    assert_allclose(dw, oracle, rtol=1e-5, atol=1e-5)


def test_csr_kernels_default_to_all_rows():
    X, _, w, b, _ = kernel_inputs(np.int32, np.float32)
    out = np.empty((X.shape[0], w.shape[1]), np.float32)
    _core.csr_dense_forward(X, w, b, _core.Activation.identity, out)
    assert_allclose(out, X.toarray() @ w + b, rtol=1e-5, atol=1e-5)


# --- malformed input --------------------------------------------------------------------------
def fake_csr(data, indices, indptr, shape):
    """Duck-typed CSR, as _core sees one (scipy would refuse to build some of these)."""
    return types.SimpleNamespace(format="csr", data=data, indices=indices, indptr=indptr,
                                 shape=shape)


def predict_on(model, X):
    return _core.predict(model.coefs_, model.intercepts_,
                         [_core.Activation.relu] * (model.n_layers_ - 2),
                         _core.Loss.softmax_cross_entropy, X)


@pytest.mark.parametrize("indices, indptr, match", [
    ([0, 9, 2], [0, 2, 3], r"X\.indices\[1\] = 9 is not a column of X \(9 columns\)"),
    ([0, -1, 2], [0, 2, 3], r"X\.indices\[1\] = -1 is not a column"),
    ([0, 1, 2], [0, 3, 2], r"X\.indptr must not decrease"),
    ([0, 1, 2], [1, 2, 3], r"X\.indptr\[0\] is 1, expected 0"),
    ([0, 1, 2], [0, 2, 4], r"X\.indptr\[-1\] is 4 but X\.data and X\.indices hold 3"),
    ([0, 1, 2], [0, 3], r"X\.indptr has 2 entries, expected rows \+ 1 = 3"),
])
def test_malformed_csr_raises_value_error(indices, indptr, match):
    X, y, _ = sparse_problem(n=50, d=9, density=0.3)
    model = fitted(MLPClassifier, X, y)
    bad = fake_csr(np.ones(3), np.array(indices, np.int32), np.array(indptr, np.int64), (2, 9))
    with pytest.raises(ValueError, match=r"\[predict\] " + match):
        predict_on(model, bad)
    Y = np.zeros((2, model.n_outputs_), np.float32)
    with pytest.raises(ValueError, match=r"\[loss_and_gradient\] " + match):
        _core.loss_and_gradient(model.coefs_, model.intercepts_, [_core.Activation.relu],
                                _core.Loss.softmax_cross_entropy, bad, Y, None, 0.0,
                                [np.empty_like(c) for c in model.coefs_],
                                [np.empty_like(b) for b in model.intercepts_])


def test_malformed_scipy_matrix_raises_value_error_in_the_estimator():
    X, y, _ = sparse_problem(n=50, d=9, density=0.3)
    model = fitted(MLPClassifier, X, y)
    X.indices[-1] = 1000  # scipy does not re-check a matrix modified in place
    with pytest.raises(ValueError, match=r"X\.indices\[\d+\] = 1000 is not a column"):
        model.predict(X)
    with pytest.raises(ValueError, match=r"X\.indices\[\d+\] = 1000 is not a column"):
        fitted(MLPClassifier, X, y)


@pytest.mark.parametrize("part, dtype, match", [
    ("data", np.int64, r"X\.data must be float32 or float64, got int64"),
    ("indices", np.int16, r"X\.indices must be int32 or int64, got int16"),
    ("indptr", np.float64, r"X\.indptr must be int32 or int64, got float64"),
])
def test_csr_with_a_wrong_dtype_is_a_type_error(part, dtype, match):
    X, y, _ = sparse_problem(n=50, d=9, density=0.3)
    model = fitted(MLPClassifier, X, y)
    parts = {"data": X.data, "indices": X.indices, "indptr": X.indptr}
    parts[part] = parts[part].astype(dtype)
    with pytest.raises(TypeError, match=match):
        predict_on(model, fake_csr(shape=X.shape, **parts))


def test_non_array_input_is_a_type_error():
    X, y, _ = sparse_problem(n=50, d=9, density=0.3)
    model = fitted(MLPClassifier, X, y)
    with pytest.raises(TypeError, match=r"\[predict\] X must be a numpy array or a scipy"):
        predict_on(model, X.tocsc())


def test_nan_in_sparse_predict_input_raises():
    X, y, _ = sparse_problem(n=50, d=9, density=0.3)
    model = fitted(MLPClassifier, X, y)
    X.data[5] = 1e300  # finite as float64, infinite as float32
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        model.predict(X)


# --- memory: a big, very sparse X is never densified ------------------------------------------
MEMORY_SCRIPT = textwrap.dedent("""
    import resource, warnings
    import numpy as np, scipy.sparse as sp
    from nnfast import MLPClassifier

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    n, d, per_row = 200_000, 50_000, 5  # density 1e-4: 40 GB as dense float32
    rng = np.random.default_rng(0)
    stripe = d // per_row  # one nonzero per stripe: sorted, unique indices
    cols = np.arange(per_row) * stripe + rng.integers(0, stripe, (n, per_row))
    X = sp.csr_matrix((rng.random(n * per_row), cols.ravel().astype(np.int32),
                       np.arange(0, n * per_row + 1, per_row, dtype=np.int32)), shape=(n, d))
    y = cols[:, 0] % 2
    before = peak_mib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=1, random_state=0).fit(X, y)
    clf.predict(X[:20_000])
    print(before, peak_mib())
""")


def test_fit_on_a_big_very_sparse_matrix_keeps_memory_small():
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    before, peak = map(float, result.stdout.split())
    # X's CSR arrays are ~13 MB, the first layer's weights, Adam moments and gradient
    # ~8 MB: the fit may add a few tens of MiB to the peak, never gigabytes.
    assert peak - before < 200, f"peak RSS grew from {before:.0f} to {peak:.0f} MiB"
