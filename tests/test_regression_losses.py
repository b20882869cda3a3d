"""MLPRegressor(loss='absolute_error' | 'huber' | 'quantile') (issue 11): the robust
heads against float64 NumPy references (the kernels, and a whole network's gradient by
backpropagation), PyTorch's autograd where it has the loss, and what each estimates."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import _reference as ref
import nnfast
from nnfast import MLPRegressor, _core, ops

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ROBUST = list(ref.ROBUST_LOSSES)


def data(seed, n=40, k=3):
    rng = np.random.default_rng(seed)
    z = (2 * rng.standard_normal((n, k))).astype(np.float32)
    y = rng.standard_normal((n, k)).astype(np.float32)
    sw = rng.uniform(0.5, 2.0, n).astype(np.float32)
    return z, y, sw


@pytest.mark.parametrize("loss", ROBUST)
def test_head_matches_its_float64_reference(loss):
    z, y, sw = data(0)
    parameter = ref.ROBUST_LOSSES[loss]
    grad = np.empty_like(z)
    total = _core.loss_forward_backward(z, y, _core.Loss[loss], grad, sw, parameter)
    want_total, want_grad = ref.loss_forward_backward(z, y, loss, sw, parameter)
    np.testing.assert_allclose(total, want_total, rtol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-6, atol=1e-7)
    kw = {"delta": parameter} if loss == "huber" else {"quantile": parameter} if loss == "quantile" else {}
    mean, mean_grad = ops.output_loss(z, y, loss, sw, **kw)
    np.testing.assert_allclose(mean, want_total / sw.sum(), rtol=1e-6)
    np.testing.assert_allclose(mean_grad, want_grad / sw.sum(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", ROBUST)
def test_network_gradient_matches_backpropagation(loss):
    rng = np.random.default_rng(1)
    sizes = (5, 7, 2)
    Ws = [(rng.standard_normal((a, b)) * 0.5).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    bs = [(rng.standard_normal(b) * 0.1).astype(np.float32) for b in sizes[1:]]
    X = rng.standard_normal((30, sizes[0])).astype(np.float32)
    Y = (3 * rng.standard_normal((30, sizes[-1]))).astype(np.float32)
    sw = rng.uniform(0.5, 2.0, 30).astype(np.float32)
    parameter = ref.ROBUST_LOSSES[loss]
    gW, gb = [np.empty_like(W) for W in Ws], [np.empty_like(b) for b in bs]
    value = _core.loss_and_gradient(Ws, bs, [_core.Activation.tanh], _core.Loss[loss], X, Y, sw,
                                    0.01, gW, gb, loss_parameter=parameter)
    want, want_W, want_b = ref.loss_and_gradient(Ws, bs, ["tanh"], loss, X, Y, sw, 0.01, parameter)
    np.testing.assert_allclose(value, want, rtol=1e-5)
    for ours, theirs in zip(gW + gb, want_W + want_b):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_heads_match_torch(loss):
    torch = pytest.importorskip("torch")
    z, y, _ = data(2)
    tz = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64)
    if loss == "huber":
        value = torch.nn.functional.huber_loss(tz, ty, delta=0.7, reduction="sum")
    else:
        value = torch.nn.functional.l1_loss(tz, ty, reduction="sum")
    value.backward()
    grad = np.empty_like(z)
    total = _core.loss_forward_backward(z, y, _core.Loss[loss], grad, None, 0.7)
    np.testing.assert_allclose(total, value.item(), rtol=1e-6)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-6, atol=1e-7)


def skewed(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.exponential(1.0, n)


@pytest.mark.parametrize("loss, kw, below", [
    ("absolute_error", {}, 0.5), ("quantile", {"quantile": 0.9}, 0.9),
    ("quantile", {"quantile": 0.25}, 0.25),
])
def test_each_loss_estimates_its_quantile(loss, kw, below):
    X, y = skewed()
    reg = MLPRegressor(loss=loss, hidden_layer_sizes=(32, 32), max_iter=200,
                       learning_rate_init=0.01, random_state=0, **kw).fit(X, y)
    assert abs(np.mean(y <= reg.predict(X)) - below) < 0.05


def test_huber_resists_outliers_that_pull_squared_error():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, (2000, 1))
    clean = 2 * X[:, 0]
    y = clean + 0.1 * rng.standard_normal(2000)
    y[rng.random(2000) < 0.05] += 30.0  # 5% gross outliers, all upwards
    err = {}
    for loss in ("squared_error", "huber"):
        reg = MLPRegressor(loss=loss, hidden_layer_sizes=(16,), max_iter=100,
                           learning_rate_init=0.01, random_state=0).fit(X, y)
        err[loss] = np.abs(reg.predict(X) - clean).mean()
    assert err["huber"] < 0.5 * err["squared_error"]


@pytest.mark.parametrize("params", [dict(loss="huber", delta=0.0), dict(loss="quantile", quantile=1.0),
                                    dict(loss="quantile", quantile=0.0), dict(loss="hinge")])
def test_bad_loss_parameters_are_named(diabetes, params):
    with pytest.raises(InvalidParameterError):
        MLPRegressor(hidden_layer_sizes=(4,), **params).fit(*diabetes)


def test_core_checks_the_loss_parameter():
    z, y, _ = data(4)
    with pytest.raises(ValueError, match="huber's delta must be finite and > 0"):
        _core.loss_forward_backward(z, y, _core.Loss.huber, np.empty_like(z), None, 0.0)
    with pytest.raises(ValueError, match=r"the quantile must be in \(0, 1\)"):
        ops.output_loss(z, y, "quantile", quantile=1.5)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_quantile_regressor_survives_the_model_file_and_solvers(tmp_path, diabetes, solver):
    X, y = diabetes
    reg = MLPRegressor(loss="quantile", quantile=0.8, hidden_layer_sizes=(8,), solver=solver,
                       max_iter=30, random_state=0).fit(X, y)
    nnfast.save(reg, tmp_path / "m.safetensors")
    loaded = nnfast.load(tmp_path / "m.safetensors")
    assert (loaded.loss, loaded.quantile) == ("quantile", 0.8)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
