"""Output heads (cpp/kernels/losses.inc, through the kernel table): loss values and
gradients w.r.t. the pre-activation, clipping, extreme logits and sample weights, on every
instruction set, against NumPy float64."""

import numpy as np
import pytest

import _reference as ref
from nnfast import _core, ops

LOG_EPS = -np.log(ref.EPS32)  # the largest per-output log-loss after clipping




def problem(loss, n=13, k=5, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, (n, k)).astype(np.float32)
    sw = rng.uniform(0.1, 3.0, n).astype(np.float32) if weighted else None
    return z, ref.random_targets(loss, rng, n, k, poisson_rate=2.0), sw


def core_loss(z, y, loss, sw=None):
    grad = np.full_like(z, np.nan)
    total = _core.loss_forward_backward(z, y, _core.Loss.__members__[loss], grad, sw)
    return total, grad


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ref.LOSSES)
@pytest.mark.parametrize("k", [1, 3, 17])
def test_loss_and_grad_match_reference(loss, weighted, k, isa):
    if loss == "softmax_cross_entropy" and k == 1:
        pytest.skip("a softmax over one output is constant")
    z, y, sw = problem(loss, k=k, weighted=weighted)
    total, grad = core_loss(z, y, loss, sw)
    expected_total, expected_grad = ref.loss_forward_backward(z, y, loss, sw)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected_total, rtol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ref.LOSSES)
def test_ops_output_loss_is_weighted_mean(loss, weighted):
    z, y, sw = problem(loss, weighted=weighted)
    mean, grad = ops.output_loss(z, y, loss, sample_weight=sw)
    total, expected_grad = ref.loss_forward_backward(z, y, loss, sw)
    weight_sum = len(z) if sw is None else ref.f64(sw).sum()
    np.testing.assert_allclose(mean, total / weight_sum, rtol=1e-6)
    np.testing.assert_allclose(grad, expected_grad / weight_sum, rtol=1e-5, atol=1e-7)


def test_ops_softmax_cross_entropy_is_output_loss():
    z, y, sw = problem("softmax_cross_entropy", weighted=True)
    mean, grad = ops.softmax_cross_entropy(z, y, sw)
    mean2, grad2 = ops.output_loss(z, y, "softmax_cross_entropy", sw)
    assert mean == mean2
    np.testing.assert_array_equal(grad, grad2)


# --- clipping and extreme values -------------------------------------------------------------------
def test_softmax_log_loss_is_clipped_at_float32_eps(isa):
    z = np.array([[0.0, 100.0], [0.0, 100.0]], dtype=np.float32)
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    _, row0_grad = core_loss(z[:1], y[:1], "softmax_cross_entropy")
    total, _ = core_loss(z, y, "softmax_cross_entropy")
    # Row 0: p = e^-100 is clipped up to eps. Row 1: p = 1 is clipped down to 1 - eps.
    np.testing.assert_allclose(total, LOG_EPS - np.log1p(-ref.EPS32), rtol=1e-6)
    np.testing.assert_allclose(row0_grad, [[-1.0, 1.0]], atol=1e-7)  # the gradient is not clipped


def test_logistic_log_loss_is_clipped_at_float32_eps(isa):
    z = np.array([[100.0, -100.0, 100.0]], dtype=np.float32)
    y = np.array([[0.0, 1.0, 1.0]], dtype=np.float32)
    total, grad = core_loss(z, y, "logistic_cross_entropy")
    np.testing.assert_allclose(total, 2 * LOG_EPS - np.log1p(-ref.EPS32), rtol=1e-6)
    np.testing.assert_allclose(grad, [[1.0, -1.0, 0.0]], atol=1e-7)


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "logistic_cross_entropy"])
def test_log_losses_with_huge_logits_stay_finite(loss, isa):
    f32_max = np.finfo(np.float32).max
    z = np.array([[1e30, -1e30, 0.0], [f32_max, -f32_max, f32_max], [-1e30, -1e30, -1e30]],
                 dtype=np.float32)
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)
    total, grad = core_loss(z, y, loss)
    assert np.isfinite(total) and np.all(np.isfinite(grad))
    assert 0.0 <= total <= 3 * LOG_EPS * z.shape[1]
    expected_total, expected_grad = ref.loss_forward_backward(z, y, loss)
    np.testing.assert_allclose(total, expected_total, rtol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-6)


def test_poisson_loss_is_sklearn_half_deviance():
    z = np.log(np.array([[1.0, 2.0, 0.5]], dtype=np.float32))
    y = np.array([[1.0, 2.0, 0.0]], dtype=np.float32)
    total, grad = core_loss(z.astype(np.float32), y, "poisson")
    # The deviance is 0 where the prediction exp(z) equals y; y = 0 contributes exp(z).
    np.testing.assert_allclose(total, 0.5, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.5]], atol=1e-6)


# --- sample weights ---------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ref.LOSSES)
def test_integer_weights_equal_repeated_rows(loss):
    z, y, _ = problem(loss, n=6, seed=1)
    counts = np.array([0, 1, 2, 3, 1, 2])
    mean_weighted, grad_weighted = ops.output_loss(z, y, loss, counts.astype(np.float32))
    mean_repeated, _ = ops.output_loss(np.repeat(z, counts, 0), np.repeat(y, counts, 0), loss)
    np.testing.assert_allclose(mean_weighted, mean_repeated, rtol=1e-6)
    np.testing.assert_array_equal(grad_weighted[0], 0.0)  # a zero weight has no gradient


@pytest.mark.parametrize("loss", ref.LOSSES)
def test_unit_weights_equal_no_weights(loss):
    z, y, _ = problem(loss, seed=2)
    no_weights = core_loss(z, y, loss)
    unit_weights = core_loss(z, y, loss, np.ones(len(z), np.float32))
    assert no_weights[0] == unit_weights[0]
    np.testing.assert_array_equal(no_weights[1], unit_weights[1])


# --- errors -------------------------------------------------------------------------------------------
def test_loss_rejects_bad_arguments():
    z, y, _ = problem("squared_error")
    sq = _core.Loss.squared_error
    with pytest.raises(ValueError, match=r"\[output_loss\] y"):
        ops.output_loss(z, y[:, :3].copy(), "squared_error")
    with pytest.raises(ValueError, match=r"\[output_loss\] sample_weight"):
        ops.output_loss(z, y, "squared_error", np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"\[output_loss\] sample_weight.*float32"):
        ops.output_loss(z, y, "squared_error", np.ones(len(z)))
    with pytest.raises(ValueError, match="unknown loss 'hinge'; allowed: softmax_cross_entropy"):
        ops.output_loss(z, y, "hinge")
    with pytest.raises(ValueError, match=r"\[loss_forward_backward\]"):
        _core.loss_forward_backward(z, y[:, :3].copy(), sq, np.empty_like(z))
    with pytest.raises(ValueError, match=r"\[loss_forward_backward\]"):
        _core.loss_forward_backward(z, y, sq, np.empty_like(y[:5]))
    with pytest.raises(ValueError, match=r"\[loss_forward_backward\]"):
        _core.loss_forward_backward(z, y, sq, np.empty_like(z), np.ones(3, np.float32))
    with pytest.raises(TypeError):
        _core.loss_forward_backward(z.astype(np.float64), y, sq, np.empty_like(z))
