"""nnfast.ops on float64 arrays (KernelTable's f64 kernels: the float64 GEMM tiles and
polynomials of vector_math.hpp): against NumPy / SciPy float64 and central differences, on
every instruction set this CPU runs, and the dtype rules of a call. (The float64 GEMM's
shape sweeps are test_gemm.py's, parametrized over the dtype.)"""

import numpy as np
import pytest

import _reference as ref
from nnfast import ops
from test_dense import blocking  # noqa: F401  (a fixture: default and small GEMM blocking)

EPS64 = float(np.finfo(np.float64).eps)
HEADS = ref.LOSSES + tuple(ref.ROBUST_LOSSES)


def values(shape, seed=0, scale=6.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def forward_reference(x, activation):
    """f(x) in float64 as the float64 kernels define it (leaky_relu's slope is the
    double 0.01, as PyTorch's float64 LeakyReLU; the float32 reference uses float32's)."""
    if activation == "leaky_relu":
        return np.where(x > 0, x, 0.01 * x)
    return ref.activation(x, activation)


def forward_bound(x, activation):
    """A few float64 ulps of f(x) per unit of f's condition number (as the float32 bound,
    ref.activation_error_bound), plus 1e-300."""
    expected = forward_reference(x, activation)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cond = np.abs(x * ref.activation_derivative(x, activation) / expected)
    cond = np.where(np.isfinite(cond), np.maximum(cond, 1.0), 1.0)
    return ref.FORWARD_ULPS.get(activation, 4) * EPS64 * cond * np.abs(expected) + 1e-300


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_forward_float64_matches_reference(activation, isa):
    x = np.concatenate([values(4001), np.linspace(-40, 40, 8001), [0.0, -0.0, 1e-300, 700.0,
                                                                   -745.0, 1e300, -1e300]])
    y = ops.activation_forward(x, activation)
    assert y.dtype == np.float64 and y.shape == x.shape
    expected = forward_reference(x, activation)
    bad = ~(np.abs(y - expected) <= forward_bound(x, activation))
    assert not bad.any(), (x[bad][:5], y[bad][:5], expected[bad][:5])


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_float64_keeps_nan_and_infinities(activation, isa):
    x = np.array([np.nan, np.inf, -np.inf])
    y = ops.activation_forward(x, activation)
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:], forward_reference(x[1:], activation))


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_backward_float64_matches_central_differences(activation, isa):
    # Away from the kinks (relu, leaky_relu, elu at 0), where the derivative exists.
    x = values(2001, seed=3)
    x = x[np.abs(x) > 1e-3]
    dy = values(x.shape, seed=4, scale=1.0)
    y = ops.activation_forward(x, activation)
    dx = ops.activation_backward(dy, y, activation, x=x)
    assert dx.dtype == np.float64
    h = 1e-6
    numeric = (forward_reference(x + h, activation) - forward_reference(x - h, activation)) / (2 * h)
    np.testing.assert_allclose(dx, dy * numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_backward_float64_matches_reference(activation, isa):
    x = values(3001, seed=5)
    dy = values(x.shape, seed=6, scale=1.0)
    y = ops.activation_forward(x, activation)
    dx = ops.activation_backward(dy, y, activation, x=x)
    if activation in ref.READS_INPUT:
        expected = dy * ref.activation_derivative(x, activation)
    elif activation == "leaky_relu":
        expected = dy * np.where(y > 0, 1.0, 0.01)
    else:
        expected = dy * ref.activation_grad_from_output(y, activation)
    np.testing.assert_array_less(np.abs(dx - expected), 8 * EPS64 * (np.abs(expected) + np.abs(dy)))


def test_float64_is_more_precise_than_float32():
    # tanh'(x) through y near saturation: float32's y = 1 leaves nothing, float64 keeps it.
    x = np.array([10.0])
    y64 = ops.activation_forward(x, "tanh")
    d64 = ops.activation_backward(np.ones(1), y64, "tanh")
    np.testing.assert_allclose(d64, 1.0 / np.cosh(10.0) ** 2, rtol=1e-6)
    y32 = ops.activation_forward(x.astype(np.float32), "tanh")
    assert ops.activation_backward(np.ones(1, np.float32), y32, "tanh")[0] == 0.0


@pytest.mark.parametrize("loss", HEADS)
def test_output_loss_float64_matches_reference(loss, isa):
    rng = np.random.default_rng(7)
    n, k = 23, 4
    z = rng.standard_normal((n, k))
    y = ref.random_targets(loss, rng, n, k).astype(np.float64)
    sw = rng.uniform(0.1, 2.0, n)
    parameter = ref.ROBUST_LOSSES.get(loss, 0.0)
    kwargs = {"delta": parameter} if loss == "huber" else (
        {"quantile": parameter} if loss == "quantile" else {})
    mean, grad = ops.output_loss(z, y, loss, sw, **kwargs)
    assert grad.dtype == np.float64
    total, expected_grad = ref.loss_forward_backward(z, y, loss, sw / sw.sum(), parameter,
                                                     eps=EPS64)
    np.testing.assert_allclose(mean, total, rtol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-13, atol=1e-16)
    p = ops.output_activation(z, loss)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, ref.output_activation(z, loss), rtol=4 * EPS64, atol=1e-300)


def test_log_loss_float64_clips_at_float64_eps():
    # scikit-learn clips probabilities at the eps of their dtype: float64's is 2**-52.
    z, y = np.array([[-800.0]]), np.array([[1.0]])
    mean, _ = ops.output_loss(z, y, "logistic_cross_entropy")
    assert mean == pytest.approx(-np.log(EPS64), rel=1e-14)
    mean32, _ = ops.output_loss(z.astype(np.float32), y.astype(np.float32),
                                "logistic_cross_entropy")
    assert mean32 == pytest.approx(-np.log(np.finfo(np.float32).eps), rel=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 1e-3])
def test_adam_update_float64_matches_reference(alpha, isa):
    rng = np.random.default_rng(8)
    param, grad, m = (rng.standard_normal(1003) for _ in range(3))
    v = rng.standard_normal(1003) ** 2
    expected = ref.adam_update(param, grad, m, v, step=4, learning_rate=1e-3, alpha=alpha,
                               grad_scale=0.25)
    ops.adam_update(param, grad, m, v, step=4, learning_rate=1e-3, alpha=alpha, grad_scale=0.25)
    for got, want in zip((param, m, v), expected):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_update_float64_matches_reference(nesterov, isa):
    rng = np.random.default_rng(9)
    param, grad, velocity = (rng.standard_normal(517) for _ in range(3))
    expected = ref.sgd_update(param, grad, velocity, learning_rate=0.1, momentum=0.9,
                              nesterov=nesterov, alpha=1e-4, grad_scale=0.5)
    ops.sgd_update(param, grad, velocity, learning_rate=0.1, momentum=0.9, nesterov=nesterov,
                   alpha=1e-4, grad_scale=0.5)
    np.testing.assert_allclose(param, expected[0], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(velocity, expected[1], rtol=1e-14, atol=1e-16)


def test_float64_scalars_beyond_float32_range_are_accepted():
    # A float32 update refuses 1e39 (it would become inf); a float64 one takes it.
    param, grad, velocity = np.ones(2), np.zeros(2), np.zeros(2)
    ops.sgd_update(param, grad, velocity, learning_rate=1e39, alpha=0.0)
    np.testing.assert_array_equal(param, 1.0)
    with pytest.raises(ValueError, match="float32's range"):
        ops.sgd_update(np.ones(2, np.float32), np.zeros(2, np.float32),
                       np.zeros(2, np.float32), learning_rate=1e39)


@pytest.mark.parametrize("call, argument", [
    (lambda: ops.activation_backward(np.ones(3), np.ones(3, np.float32), "relu"), "y"),
    (lambda: ops.activation_backward(np.ones(3), None, "gelu", x=np.ones(3, np.float32)), "x"),
    (lambda: ops.output_loss(np.ones((2, 2)), np.ones((2, 2), np.float32)), "y"),
    (lambda: ops.output_loss(np.ones((2, 2)), np.ones((2, 2)), "squared_error",
                             np.ones(2, np.float32)), "sample_weight"),
    (lambda: ops.adam_update(np.ones(2), np.ones(2), np.zeros(2, np.float32), np.zeros(2),
                             step=1), "m"),
    (lambda: ops.sgd_update(np.ones(2, np.float32), np.ones(2), np.zeros(2, np.float32)), "grad"),
])
def test_mixed_dtypes_are_a_type_error_naming_the_argument(call, argument):
    with pytest.raises(TypeError, match=rf"\] {argument} must have dtype float(32|64), got"):
        call()


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.complex128])
def test_other_dtypes_list_both_accepted(dtype):
    with pytest.raises(TypeError, match=r"x must have dtype float32 or float64, got"):
        ops.activation_forward(np.ones(3, dtype=dtype), "relu")


def test_gemm_and_dense_take_one_dtype_per_call():
    a = np.ones((2, 2))
    with pytest.raises(TypeError, match=r"\[gemm\] b must have dtype float64, got float32"):
        ops.gemm(a, a.astype(np.float32))
    with pytest.raises(TypeError, match=r"\[dense_backward\] dz must have dtype float64"):
        ops.dense_backward(a.astype(np.float32), a, a)


DENSE_SHAPES = [(1, 1, 1), (5, 7, 6), (6, 16, 17), (7, 33, 15), (64, 20, 10), (130, 9, 33)]


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
@pytest.mark.parametrize("n, n_in, n_out", DENSE_SHAPES)
def test_dense_forward_float64_matches_reference(isa, blocking, activation, n, n_in, n_out):
    # The float64 GEMM tiles with the float64 bias + activation epilogue fused in.
    rng = np.random.default_rng(n * n_in + n_out)
    x, w, b = rng.standard_normal((n, n_in)), rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
    out = ops.dense_forward(x, w, b, activation)
    assert out.dtype == np.float64
    z = x @ w + b
    expected = forward_reference(z, activation)
    slope = np.maximum(np.abs(ref.activation_derivative(z, activation)), 1.0)
    bound = slope * ref.gemm_error_bound(x, w, eps=EPS64) + forward_bound(z, activation) + \
        4 * EPS64 * np.abs(b)
    assert np.all(np.abs(out - expected) <= bound)


@pytest.mark.parametrize("n, n_in, n_out", DENSE_SHAPES)
def test_dense_backward_float64_matches_reference(isa, blocking, n, n_in, n_out):
    rng = np.random.default_rng(n + n_in * n_out)
    x, w, dz = rng.standard_normal((n, n_in)), rng.standard_normal((n_in, n_out)), rng.standard_normal((n, n_out))
    dx, dw, db = ops.dense_backward(dz, x, w)
    assert dx.dtype == dw.dtype == db.dtype == np.float64
    np.testing.assert_array_less(np.abs(dx - dz @ w.T), ref.gemm_error_bound(dz, w, trans_b=True, eps=EPS64))
    np.testing.assert_array_less(np.abs(dw - x.T @ dz), ref.gemm_error_bound(x, dz, trans_a=True, eps=EPS64))
    np.testing.assert_array_less(np.abs(db - dz.sum(axis=0)), 2 * (n + 2) * EPS64 * np.abs(dz).sum(axis=0) + 1e-300)


def test_float64_gemm_is_float64_accurate():
    # A product whose float32 rounding shows: float64 keeps 1 + 2^-30 exactly.
    a = np.array([[1.0 + 2.0**-30, 1.0]])
    b = np.array([[1.0], [2.0**-40]])
    assert ops.gemm(a, b)[0, 0] == 1.0 + 2.0**-30 + 2.0**-40
    assert ops.gemm(a.astype(np.float32), b.astype(np.float32))[0, 0] == np.float32(1.0)
