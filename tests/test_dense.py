"""Dense layer kernels (cpp/dense.*) against NumPy float64: forward with the fused
bias + activation epilogue, backward (dx, dw, db)."""

import numpy as np
import pytest

import _reference as ref
from nnfast import _core, ops

SHAPES = [(1, 1, 1), (5, 7, 6), (6, 16, 17), (7, 33, 15), (64, 20, 10), (130, 9, 33)]


@pytest.fixture(params=["default", "small"])
def blocking(request):
    """Default blocking, or kc=8, mc=12 so the epilogue must wait for the last K block."""
    saved = _core.get_gemm_blocking()
    if request.param == "small":
        _core.set_gemm_blocking(8, 12)
    yield request.param
    _core.set_gemm_blocking(*saved)


def layer(rng, n, n_in, n_out):
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    w = rng.standard_normal((n_in, n_out)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    return x, w, b


def assert_close_to_gemm(actual, expected, bound):
    error = np.abs(actual - expected)
    assert np.all(error <= bound), f"max error {error.max()}, worst excess {(error - bound).max()}"


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
@pytest.mark.parametrize("n, n_in, n_out", SHAPES)
def test_dense_forward_matches_reference(isa, blocking, activation, n, n_in, n_out):
    x, w, b = layer(np.random.default_rng(n * n_in + n_out), n, n_in, n_out)
    out = np.full((n, n_out), np.nan, dtype=np.float32)
    _core.dense_forward(x, w, b, _core.Activation.__members__[activation], out)
    expected = ref.activation(ref.f64(x) @ ref.f64(w) + b, activation)
    # Every activation is 1-Lipschitz, so the GEMM bound carries over, plus its own rounding.
    bound = ref.gemm_error_bound(x, w) + 4 * ref.EPS32 * (np.abs(expected) + np.abs(b))
    assert_close_to_gemm(out, expected, bound)
    np.testing.assert_array_equal(ops.dense_forward(x, w, b, activation), out)


@pytest.mark.parametrize("n, n_in, n_out", SHAPES)
def test_dense_backward_matches_reference(isa, blocking, n, n_in, n_out):
    rng = np.random.default_rng(n + n_in * n_out)
    x, w, _ = layer(rng, n, n_in, n_out)
    dz = rng.standard_normal((n, n_out)).astype(np.float32)
    dx, dw, db = ops.dense_backward(dz, x, w)
    assert_close_to_gemm(dx, ref.gemm(dz, w, trans_b=True), ref.gemm_error_bound(dz, w, trans_b=True))
    assert_close_to_gemm(dw, ref.gemm(x, dz, trans_a=True), ref.gemm_error_bound(x, dz, trans_a=True))
    assert_close_to_gemm(db, ref.f64(dz).sum(axis=0),
                         2 * (n + 2) * ref.EPS32 * np.abs(ref.f64(dz)).sum(axis=0))


def test_dense_backward_without_dx():
    x, w, _ = layer(np.random.default_rng(7), 9, 5, 4)
    dz = np.ones((9, 4), np.float32)
    dx, dw, db = ops.dense_backward(dz, x, w, need_dx=False)
    assert dx is None
    dw_core, db_core = np.empty_like(w), np.empty(4, np.float32)
    _core.dense_backward(dz, x, w, dw_core, db_core)  # dx defaults to None
    np.testing.assert_array_equal(dw, dw_core)
    np.testing.assert_array_equal(db, db_core)
    np.testing.assert_allclose(db, np.full(4, 9.0))


def test_ops_dense_forward_writes_out():
    x, w, b = layer(np.random.default_rng(8), 3, 4, 5)
    out = np.empty((3, 5), np.float32)
    assert ops.dense_forward(x, w, b, "identity", out=out) is out
    np.testing.assert_allclose(out, ref.f64(x) @ w + b, rtol=1e-5, atol=1e-5)


def test_dense_forward_rejects_bad_shapes():
    x, w, b = layer(np.random.default_rng(9), 3, 4, 5)
    relu = _core.Activation.relu
    with pytest.raises(ValueError, match=r"\[dense_forward\] w"):
        ops.dense_forward(x, w[:3].copy(), b)
    with pytest.raises(ValueError, match=r"\[dense_forward\] b"):
        ops.dense_forward(x, w, b[:4].copy())
    with pytest.raises(ValueError, match=r"\[dense_forward\]"):
        _core.dense_forward(x, w[:3].copy(), b, relu, np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[dense_forward\]"):
        _core.dense_forward(x, w, b[:4].copy(), relu, np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[dense_forward\]"):
        _core.dense_forward(x, w, b, relu, np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="allowed: identity, logistic, tanh, relu, leaky_relu"):
        ops.dense_forward(x, w, b, "swish")


def test_dense_forward_rejects_wrong_dtype_and_layout():
    x, w, b = layer(np.random.default_rng(10), 3, 4, 5)
    with pytest.raises(TypeError, match=r"\[dense_forward\] w must have dtype float64"):
        ops.dense_forward(x.astype(np.float64), w, b)
    with pytest.raises(ValueError, match=r"\[dense_forward\] w.*contiguous"):
        ops.dense_forward(x, np.asfortranarray(w), b)
    with pytest.raises(TypeError, match=r"\[dense_forward\] w must be float64"):
        _core.dense_forward(x.astype(np.float64), w, b, _core.Activation.relu,
                            np.empty((3, 5), np.float32))


def test_dense_backward_rejects_bad_shapes():
    x, w, _ = layer(np.random.default_rng(11), 3, 4, 5)
    dz = np.ones((3, 5), np.float32)
    dw, db = np.empty_like(w), np.empty(5, np.float32)
    with pytest.raises(ValueError, match=r"\[dense_backward\] dz"):
        ops.dense_backward(dz[:2].copy(), x, w)
    with pytest.raises(ValueError, match=r"\[dense_backward\]"):
        _core.dense_backward(dz[:2].copy(), x, w, dw, db)
    with pytest.raises(ValueError, match=r"\[dense_backward\]"):
        _core.dense_backward(dz, x, w, dw, np.empty(4, np.float32))
    with pytest.raises(ValueError, match=r"\[dense_backward\]"):
        _core.dense_backward(dz, x, w, np.empty((5, 4), np.float32), db)
    with pytest.raises(ValueError, match=r"\[dense_backward\]"):
        _core.dense_backward(dz, x, w, dw, db, np.empty((3, 5), np.float32))
