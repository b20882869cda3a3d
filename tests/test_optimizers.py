"""Adam and SGD updates (cpp/optimizers.*) against NumPy float64 implementations of
scikit-learn's rules (sklearn/neural_network/_stochastic_optimizers.py):

Adam: g = (grad + alpha*param)*grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
      lr_t = lr*sqrt(1-b2^t)/(1-b1^t); param -= lr_t*m/(sqrt(v)+eps).
SGD:  velocity = momentum*velocity - lr*g;
      param += momentum*velocity - lr*g (nesterov) or velocity.
"""

import numpy as np
import pytest

import _reference as ref
from nnfast import _core, ops

SHAPES = [(1,), (37,), (7, 33)]


def state(shape, seed, n_arrays):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n_arrays)]


def assert_close(actual, expected, atol=0.0):
    """float32 rounding relative to the array's scale: sums like param + velocity may
    cancel, so a small entry carries the absolute error of the large terms."""
    atol = max(atol, 16 * ref.EPS32 * float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha, grad_scale", [(0.0, 1.0), (0.1, 1.0), (1e-4, 1 / 32)])
def test_adam_matches_reference_over_steps(isa, shape, alpha, grad_scale):
    param, m = state(shape, 0, 2)
    v = np.abs(state(shape, 1, 1)[0])
    expected = ref.f64(param), ref.f64(m), ref.f64(v)
    hyper = dict(learning_rate=1e-2, beta1=0.8, beta2=0.99, epsilon=1e-6, alpha=alpha,
                 grad_scale=grad_scale)
    for step in range(1, 6):
        grad = state(shape, 10 + step, 1)[0]
        _core.adam_update(param, grad, m, v, step=step, **hyper)
        expected = ref.adam_update(*expected[:1], grad, *expected[1:], step=step, **hyper)
        assert_close(param, expected[0])
        assert_close(m, expected[1])
        assert_close(v, expected[2])


def test_adam_first_step_moves_each_param_by_about_lr():
    param = np.zeros(10, np.float32)
    grad = np.linspace(-3, 3, 10).astype(np.float32)
    m, v = np.zeros(10, np.float32), np.zeros(10, np.float32)
    ops.adam_update(param, grad, m, v, step=1, learning_rate=0.01)
    # Bias correction makes the first step lr * g/|g| (up to epsilon).
    assert_close(param, -0.01 * np.sign(grad), atol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
@pytest.mark.parametrize("alpha, grad_scale", [(0.0, 1.0), (0.1, 0.25)])
def test_sgd_matches_reference_over_steps(isa, shape, momentum, nesterov, alpha, grad_scale):
    param, velocity = state(shape, 2, 2)
    expected = ref.f64(param), ref.f64(velocity)
    hyper = dict(learning_rate=0.05, momentum=momentum, nesterov=nesterov, alpha=alpha,
                 grad_scale=grad_scale)
    for step in range(5):
        grad = state(shape, 20 + step, 1)[0]
        _core.sgd_update(param, grad, velocity, **hyper)
        expected = ref.sgd_update(expected[0], grad, expected[1], **hyper)
        assert_close(param, expected[0])
        assert_close(velocity, expected[1])


def test_ops_updates_match_core_bitwise():
    param, grad, m, v = state((5, 6), 3, 4)
    v = np.abs(v)
    core = [a.copy() for a in (param, m, v)]
    ops.adam_update(param, grad, m, v, step=3, learning_rate=0.1, alpha=0.5, grad_scale=0.5)
    _core.adam_update(core[0], grad, core[1], core[2], step=3, learning_rate=0.1, alpha=0.5,
                      grad_scale=0.5)
    for a, b in zip((param, m, v), core):
        np.testing.assert_array_equal(a, b)
    velocity = m.copy()
    core = [param.copy(), velocity.copy()]
    ops.sgd_update(param, grad, velocity, learning_rate=0.1, momentum=0.9, nesterov=True)
    _core.sgd_update(core[0], grad, core[1], learning_rate=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_array_equal(param, core[0])
    np.testing.assert_array_equal(velocity, core[1])


def test_optimizers_reject_bad_arguments():
    param, grad, m, v = state((4, 3), 4, 4)
    with pytest.raises(ValueError, match=r"\[adam_update\] v"):
        ops.adam_update(param, grad, m, v[:2].copy(), step=1)
    with pytest.raises(TypeError, match=r"\[adam_update\] grad.*float32"):
        ops.adam_update(param, grad.astype(np.float64), m, v, step=1)
    with pytest.raises(ValueError, match=r"\[adam_update\] step"):
        ops.adam_update(param, grad, m, v, step=0)
    with pytest.raises(ValueError, match=r"\[sgd_update\] velocity.*contiguous"):
        ops.sgd_update(param, grad, np.asfortranarray(m), learning_rate=0.1)
    read_only = param.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"\[sgd_update\] param.*read-only"):
        ops.sgd_update(read_only, grad, m, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"\[adam_update\]"):
        _core.adam_update(param, grad, m, v[:2].copy(), step=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"\[sgd_update\]"):
        _core.sgd_update(param, grad[:2].copy(), m, learning_rate=0.1)
    with pytest.raises(TypeError):
        _core.sgd_update(param.astype(np.float64), grad, m, learning_rate=0.1)
