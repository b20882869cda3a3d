"""Elementwise activations (cpp/activations.*) and the output heads' activations."""

import numpy as np
import pytest

import _reference as ref
from nnfast import _core, ops

F32_MAX = float(np.finfo(np.float32).max)
EXTREMES = np.array([-F32_MAX, -1e30, -1e4, -104.0, -89.0, -88.0, -20.0, -1e-30, 0.0,
                     1e-30, 20.0, 88.0, 89.0, 104.0, 1e4, 1e30, F32_MAX], dtype=np.float32)


def random_values(shape, seed=0, scale=4.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def assert_close_f32(actual, x, activation):
    """Within ref.activation_error_bound of f(x) in float64 (NaN where it is NaN)."""
    assert actual.dtype == np.float32
    expected = ref.activation(x, activation)
    ok = (ref.f64(actual) == expected) | (np.isnan(actual) & np.isnan(expected)) | (
        np.abs(ref.f64(actual) - expected) <= ref.activation_error_bound(x, activation))
    assert np.all(ok), (activation, x[~ok], actual[~ok], expected[~ok])


def backward_inputs(activation, shape, seed=1):
    """(x, y = f(x), what activation_backward reads: y, or x for GELU and SiLU)."""
    x = random_values(shape, seed=seed)
    y = ops.activation_forward(x, activation)
    return x, y, x if activation in ref.READS_INPUT else y


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
@pytest.mark.parametrize("shape", [(0,), (1,), (37,), (7, 33), (2, 3, 5)])
def test_activation_forward_matches_reference(activation, shape, isa):
    x = random_values(shape)
    out = np.full(shape, np.nan, dtype=np.float32)
    _core.activation_forward(x, _core.Activation.__members__[activation], out)
    assert_close_f32(out, x, activation)
    np.testing.assert_array_equal(ops.activation_forward(x, activation), out)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
@pytest.mark.parametrize("shape", [(1,), (37,), (7, 33), (2, 3, 5)])
def test_activation_backward_matches_reference(activation, shape, isa):
    x, y, saved = backward_inputs(activation, shape)
    dy = random_values(shape, seed=2)
    out = np.full(shape, np.nan, dtype=np.float32)
    _core.activation_backward(dy, saved, _core.Activation.__members__[activation], out)
    if activation in ref.READS_INPUT:
        expected = ref.f64(dy) * ref.activation_derivative(x, activation)
    else:  # through the float32 y the kernel reads
        expected = ref.f64(dy) * ref.activation_grad_from_output(y, activation)
    # A derivative that sums terms of size ~1 loses relative precision where it crosses
    # zero (GELU near -0.75, SiLU near -1.28): an absolute error of a few eps * |dy| is
    # inherent, not a kernel defect.
    bound = 4 * ref.EPS32 * (np.abs(expected) + np.abs(dy))
    assert np.all(np.abs(out - expected) <= bound)
    np.testing.assert_array_equal(ops.activation_backward(dy, y, activation, x=x), out)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_forward_extreme_inputs_stay_finite(activation, isa):
    y = ops.activation_forward(EXTREMES, activation)
    assert np.all(np.isfinite(y))
    assert_close_f32(y, EXTREMES, activation)
    dx = ops.activation_backward(np.ones_like(y), y, activation, x=EXTREMES)
    assert np.all(np.isfinite(dx))
    if activation in ref.READS_INPUT:
        np.testing.assert_allclose(dx, ref.activation_derivative(EXTREMES, activation),
                                   rtol=4 * ref.EPS32, atol=1e-37)


@pytest.mark.parametrize("activation", ref.ACTIVATIONS)
def test_activation_derivative_matches_finite_differences(activation):
    """activation_backward against central differences of activation_forward's float64
    twin (away from relu's and leaky_relu's kink at 0)."""
    x = np.concatenate([np.linspace(-6, -0.05, 60), np.linspace(0.05, 6, 60)]).astype(np.float32)
    y = ops.activation_forward(x, activation)
    dx = ops.activation_backward(np.ones_like(x), y, activation, x=x)
    h = 1e-6
    numeric = (ref.activation(ref.f64(x) + h, activation)
               - ref.activation(ref.f64(x) - h, activation)) / (2 * h)
    # Through the output, f' is evaluated at the rounded y: logistic's y(1 - y) near
    # y = 1 is as exact as y (a few eps of 1 absolutely).
    np.testing.assert_allclose(dx, numeric, rtol=2e-5, atol=4e-7)


def ulps_apart(a, b):
    """Distance in float32 ulps (a, b float32 of the same sign class; 0 for equal)."""
    def ordered(v):
        i = v.view(np.int32).astype(np.int64)
        return np.where(i < 0, np.int64(np.iinfo(np.int32).min) - i, i)
    return np.abs(ordered(a) - ordered(b))


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_exp_based_activations_within_two_ulps_of_float64(activation, isa):
    # The kernels' own polynomials (cpp/vector_math.hpp, Cephes' expf / tanhf), over the
    # whole range they meet: both branches of tanh, subnormal and saturated logistic.
    x = np.concatenate([np.linspace(-120, 120, 200_001, dtype=np.float32),
                        np.float32([0.625, -0.625, np.nextafter(np.float32(0.625), 0),
                                    1e-30, -1e-30, 1e-40, -87.34, -103.9])])
    y = ops.activation_forward(x, activation)
    expected = ref.activation(x, activation).astype(np.float32)  # float64, rounded once
    assert ulps_apart(y, expected).max() <= 2


def test_activations_keep_nan_and_negative_zero(isa):
    x = np.float32([np.nan, -0.0, np.inf, -np.inf])
    for activation, want in (("logistic", [np.nan, 0.5, 1.0, 0.0]),
                             ("tanh", [np.nan, -0.0, 1.0, -1.0]),
                             ("relu", [np.nan, 0.0, np.inf, 0.0]),
                             ("leaky_relu", [np.nan, -0.0, np.inf, -np.inf]),
                             ("elu", [np.nan, -0.0, np.inf, -1.0]),
                             ("gelu", [np.nan, -0.0, np.inf, 0.0]),
                             ("gelu_tanh", [np.nan, -0.0, np.inf, 0.0]),
                             ("silu", [np.nan, -0.0, np.inf, 0.0])):
        y = ops.activation_forward(x, activation)
        np.testing.assert_array_equal(y, np.float32(want))
        assert np.signbit(y[1]) == (activation not in ("logistic", "relu")), activation
    # The derivatives' limits at +-inf (the formulas would give inf * 0), NaN kept.
    for activation in ref.READS_INPUT:
        dx = ops.activation_backward(np.ones_like(x), None, activation, x=x)
        np.testing.assert_array_equal(dx, np.float32([np.nan, 0.5, 1.0, 0.0]))


def test_logistic_and_tanh_saturate_exactly():
    big = np.array([-1e30, 1e30], dtype=np.float32)
    np.testing.assert_array_equal(ops.activation_forward(big, "logistic"), [0.0, 1.0])
    np.testing.assert_array_equal(ops.activation_forward(big, "tanh"), [-1.0, 1.0])


def test_relu_gradient_is_zero_at_zero():
    y = np.array([0.0, 0.0, 2.0], dtype=np.float32)
    dy = np.array([5.0, -5.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(ops.activation_backward(dy, y, "relu"), [0.0, 0.0, 3.0])


# --- output activations --------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ref.LOSSES)
def test_output_activation_matches_reference(loss):
    z = random_values((9, 7), seed=3, scale=2.0)
    out = np.full_like(z, np.nan)
    _core.output_activation(z, _core.Loss.__members__[loss], out)
    np.testing.assert_allclose(out, ref.output_activation(z, loss), rtol=8 * ref.EPS32,
                               atol=1e-37)
    np.testing.assert_array_equal(ops.output_activation(z, loss), out)


def test_softmax_of_huge_logits_is_finite_and_normalized():
    z = np.array([[1e30, -1e30, 0.0], [F32_MAX, F32_MAX, -F32_MAX], [-1e4, -1e4, -1e4]],
                 dtype=np.float32)
    p = ops.output_activation(z, "softmax_cross_entropy")
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


# --- errors ----------------------------------------------------------------------------------------
def test_unknown_activation_lists_allowed_names():
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"\[activation_forward\].*'swish'.*identity, logistic, "
                                         r"tanh, relu, leaky_relu, elu, gelu, gelu_tanh, silu"):
        ops.activation_forward(x, "swish")
    with pytest.raises(ValueError, match="allowed: softmax_cross_entropy, logistic_cross_entropy"):
        ops.output_activation(x.reshape(1, 3), "hinge")


def test_activation_rejects_bad_arguments():
    x = np.ones((3, 4), np.float32)
    relu = _core.Activation.relu
    with pytest.raises(TypeError, match=r"\[activation_forward\] x.*float32 or float64"):
        ops.activation_forward(x.astype(np.int32), "relu")
    with pytest.raises(ValueError, match=r"\[activation_forward\] x.*contiguous"):
        ops.activation_forward(x[:, ::2], "relu")
    with pytest.raises(ValueError, match=r"\[activation_backward\] y"):
        ops.activation_backward(x, x[:2].copy(), "relu")
    with pytest.raises(ValueError, match=r"\[activation_backward\] x: gelu's derivative.*pass x="):
        ops.activation_backward(x, x, "gelu")
    with pytest.raises(ValueError, match=r"\[activation_backward\] x"):
        ops.activation_backward(x, None, "silu", x=x[:2].copy())
    with pytest.raises(ValueError, match=r"\[activation_backward\] y: relu's.*None"):
        ops.activation_backward(x, None, "relu", x=x)
    with pytest.raises(TypeError, match=r"\[activation_forward\] out must be float64"):
        _core.activation_forward(x.astype(np.float64), relu, np.empty_like(x))
    with pytest.raises((TypeError, ValueError)):
        _core.activation_forward(x.T, relu, np.empty((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[activation_forward\]"):
        _core.activation_forward(x, relu, np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[activation_backward\]"):
        _core.activation_backward(x, x[:2].copy(), relu, np.empty_like(x))


def test_core_activation_rejects_same_size_other_shape():
    """_core.pyi: activation_backward takes "any shape (same for all)"."""
    x = np.ones((3, 4), np.float32)
    relu = _core.Activation.relu
    with pytest.raises(ValueError, match=r"\[activation_backward\]"):
        _core.activation_backward(x, np.ones((4, 3), np.float32), relu, np.empty_like(x))
    with pytest.raises(ValueError, match=r"\[activation_forward\]"):
        _core.activation_forward(x, relu, np.empty((4, 3), np.float32))


# --- the enums, as _core.pyi declares them ----------------------------------------------------------
def test_enums_are_int_enums_as_declared():
    import enum

    assert [(a.name, int(a)) for a in _core.Activation.__members__.values()] == [
        ("identity", 0), ("logistic", 1), ("tanh", 2), ("relu", 3), ("leaky_relu", 4),
        ("elu", 5), ("gelu", 6), ("gelu_tanh", 7), ("silu", 8)]
    assert [(h.name, int(h)) for h in _core.Loss.__members__.values()] == [
        ("softmax_cross_entropy", 0), ("logistic_cross_entropy", 1), ("squared_error", 2),
        ("poisson", 3), ("absolute_error", 4), ("huber", 5), ("quantile", 6)]
    # _core.pyi: class Activation(enum.IntEnum), class Loss(enum.IntEnum).
    assert issubclass(_core.Activation, enum.IntEnum)
    assert issubclass(_core.Loss, enum.IntEnum)


def test_activation_registry_is_the_one_list():
    # The C++ enum (NNFAST_ACTIVATIONS), the Python registry, the estimators' constraint
    # and docstring all come from one list each side, and the two sides agree.
    from nnfast import MLPClassifier, MLPRegressor
    from nnfast._activations import ACTIVATIONS

    assert list(ACTIVATIONS) == list(_core.Activation.__members__) == list(ref.ACTIVATIONS)
    for name, spec in ACTIVATIONS.items():
        assert spec.code.name == name and spec.code == _core.Activation[name]
        assert spec.derivative_reads_input == (name in ref.READS_INPUT)
        assert _core.derivative_reads_input(spec.code) == spec.derivative_reads_input
    for est in (MLPClassifier, MLPRegressor):
        assert est._parameter_constraints["activation"][0].options == set(ACTIVATIONS)
        assert "{" + ", ".join(f"'{n}'" for n in ACTIVATIONS) + "}" in est.__doc__
