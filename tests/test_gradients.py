"""Whole-network kernels (cpp/mlp.*, cpp/predict.cpp) against NumPy float64 oracles.

- loss_and_gradient: its gradient against central finite differences of the float64
  objective sum(sw*l_i)/sum(sw) + 0.5*alpha*sum(||W||^2)/sum(sw), for every hidden
  activation x every output head, and its value against that objective.
- train_epoch: one epoch of Adam and of SGD (momentum, Nesterov) against a float64 loop
  over the same batches (tests/_reference.py: train_epoch documents the rule).
- predict and Predictor (the prepared network): against the float64 forward pass.
"""

import itertools
import signal
import time

import numpy as np
import pytest

import _reference as ref
from nnfast import _core

LAYER_SIZES = (5, 4, 3, 3)  # n_features -> hidden -> hidden -> n_outputs




def make_network(seed, sizes=LAYER_SIZES):
    rng = np.random.default_rng(seed)
    coefs = [rng.uniform(-0.8, 0.8, (a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    intercepts = [rng.uniform(-0.5, 0.5, b).astype(np.float32) for b in sizes[1:]]
    return coefs, intercepts


def make_data(loss, seed, n, n_features=LAYER_SIZES[0], n_outputs=LAYER_SIZES[-1],
              weighted=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features)).astype(np.float32)
    Y = ref.random_targets(loss, rng, n, n_outputs)
    sw = rng.uniform(0.2, 2.0, n).astype(np.float32) if weighted else None
    return X, Y, sw


def core_enums(activation, loss, n_hidden=len(LAYER_SIZES) - 2):
    return [_core.Activation.__members__[activation]] * n_hidden, _core.Loss.__members__[loss]


def core_loss_and_gradient(coefs, intercepts, activation, loss, X, Y, sw, alpha):
    acts, head = core_enums(activation, loss)
    grad_coefs = [np.full_like(w, np.nan) for w in coefs]
    grad_intercepts = [np.full_like(b, np.nan) for b in intercepts]
    value = _core.loss_and_gradient(coefs, intercepts, acts, head, X, Y, sw, alpha,
                                    grad_coefs, grad_intercepts)
    return value, grad_coefs, grad_intercepts


def finite_difference(coefs, intercepts, activation, loss, X, Y, sw, alpha):
    """Central differences of the float64 objective w.r.t. every weight and bias."""
    params = [ref.f64(p) for p in coefs + intercepts]
    n_layers = len(coefs)
    hidden = [activation] * (n_layers - 1)

    def objective():
        return ref.objective(params[:n_layers], params[n_layers:], hidden, loss, X, Y, sw, alpha)

    grads = ref.finite_difference_gradient(objective, params)
    return grads[:n_layers], grads[n_layers:]


def assert_gradients_close(actual, expected, rtol=1e-4, atol=1e-6):
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"parameter {i}")


ACTIVATION_LOSS_PAIRS = list(itertools.product(ref.ACTIVATIONS, ref.LOSSES))


@pytest.mark.parametrize("activation, loss", ACTIVATION_LOSS_PAIRS)
def test_loss_and_gradient_matches_finite_differences(activation, loss):
    coefs, intercepts = make_network(seed=1)
    X, Y, sw = make_data(loss, seed=2, n=7)
    alpha = 0.1
    value, grad_coefs, grad_intercepts = core_loss_and_gradient(
        coefs, intercepts, activation, loss, X, Y, sw, alpha)
    hidden = [activation] * (len(coefs) - 1)
    expected_value = ref.objective(coefs, intercepts, hidden, loss, X, Y, sw, alpha)
    np.testing.assert_allclose(value, expected_value, rtol=1e-5)
    fd_coefs, fd_intercepts = finite_difference(coefs, intercepts, activation, loss, X, Y, sw, alpha)
    assert_gradients_close(grad_coefs, fd_coefs)
    assert_gradients_close(grad_intercepts, fd_intercepts)


@pytest.mark.parametrize("loss", ref.LOSSES)
def test_loss_and_gradient_without_sample_weight_or_hidden_layer(loss):
    coefs, intercepts = make_network(seed=3, sizes=(5, 3))
    X, Y, _ = make_data(loss, seed=4, n=9, weighted=False)
    acts, head = [], _core.Loss.__members__[loss]
    grad_coefs, grad_intercepts = [np.empty_like(coefs[0])], [np.empty_like(intercepts[0])]
    value = _core.loss_and_gradient(coefs, intercepts, acts, head, X, Y, None, 0.0,
                                    grad_coefs, grad_intercepts)
    expected_value, expected_coefs, expected_intercepts = ref.loss_and_gradient(
        coefs, intercepts, [], loss, X, Y, None, 0.0)
    np.testing.assert_allclose(value, expected_value, rtol=1e-5)
    assert_gradients_close(grad_coefs, expected_coefs)
    assert_gradients_close(grad_intercepts, expected_intercepts)


@pytest.mark.parametrize("activation, loss", ACTIVATION_LOSS_PAIRS)
def test_reference_backprop_matches_finite_differences(activation, loss):
    """The oracle the train_epoch test relies on is itself checked here."""
    coefs, intercepts = make_network(seed=5)
    X, Y, sw = make_data(loss, seed=6, n=6)
    hidden = [activation] * (len(coefs) - 1)
    _, grad_coefs, grad_intercepts = ref.loss_and_gradient(
        coefs, intercepts, hidden, loss, X, Y, sw, 0.3)
    fd_coefs, fd_intercepts = finite_difference(coefs, intercepts, activation, loss, X, Y, sw, 0.3)
    assert_gradients_close(grad_coefs, fd_coefs, rtol=1e-6, atol=1e-8)
    assert_gradients_close(grad_intercepts, fd_intercepts, rtol=1e-6, atol=1e-8)


# --- train_epoch ------------------------------------------------------------------------------------
OPTIMIZERS = {
    "adam": dict(kind="adam", learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 momentum=0.0, nesterov=False),
    "sgd": dict(kind="sgd", learning_rate=0.05, beta1=0.9, beta2=0.999, epsilon=1e-8,
                momentum=0.0, nesterov=False),
    "sgd_momentum": dict(kind="sgd", learning_rate=0.05, beta1=0.9, beta2=0.999,
                         epsilon=1e-8, momentum=0.9, nesterov=False),
    "sgd_nesterov": dict(kind="sgd", learning_rate=0.05, beta1=0.9, beta2=0.999,
                         epsilon=1e-8, momentum=0.9, nesterov=True),
}


def optimizer_state(optimizer, params):
    """scikit-learn's order (coefs..., intercepts...): adam m and v; sgd velocities and []."""
    state1 = [np.zeros_like(p) for p in params]
    state2 = [np.zeros_like(p) for p in params] if optimizer["kind"] == "adam" else []
    return state1, state2


def run_core_epoch(coefs, intercepts, activation, loss, X, Y, sw, order, batch_size, alpha,
                   optimizer, state1, state2, step):
    acts, head = core_enums(activation, loss)
    config = _core.OptimizerConfig(**optimizer)
    return _core.train_epoch(coefs, intercepts, acts, head, X, Y, sw, order, batch_size,
                             alpha, config, state1, state2, step)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("activation, loss", [("relu", "softmax_cross_entropy"),
                                              ("tanh", "squared_error"),
                                              ("logistic", "logistic_cross_entropy"),
                                              ("tanh", "poisson")])
@pytest.mark.parametrize("weighted", [False, True])
def test_train_epoch_matches_reference_loop(optimizer, activation, loss, weighted):
    optimizer = OPTIMIZERS[optimizer]
    coefs, intercepts = make_network(seed=7)
    X, Y, sw = make_data(loss, seed=8, n=23, weighted=weighted)
    order = np.random.default_rng(9).permutation(23).astype(np.int64)
    alpha, batch_size = 0.01, 5  # the last batch has 3 rows
    state1, state2 = optimizer_state(optimizer, coefs + intercepts)
    step = np.array([4], dtype=np.int64)
    hidden = [activation] * (len(coefs) - 1)
    expected = ref.train_epoch(coefs, intercepts, hidden, loss, X, Y, sw, order, batch_size,
                               alpha, optimizer, state1, state2, int(step[0]))

    loss_sum = run_core_epoch(coefs, intercepts, activation, loss, X, Y, sw, order,
                              batch_size, alpha, optimizer, state1, state2, step)
    np.testing.assert_allclose(loss_sum, expected[5], rtol=1e-5)
    assert_gradients_close(coefs, expected[0], rtol=1e-4, atol=1e-5)
    assert_gradients_close(intercepts, expected[1], rtol=1e-4, atol=1e-5)
    assert_gradients_close(state1, expected[2], rtol=1e-3, atol=1e-5)
    assert_gradients_close(state2, expected[3], rtol=1e-3, atol=1e-7)
    if optimizer["kind"] == "adam":
        assert step[0] == expected[4] == 4 + 5  # one increment per batch


def test_train_epoch_on_subset_order_with_float64_strided_X():
    """X float64 with a row stride (a column slice) and an order that visits a subset."""
    optimizer = OPTIMIZERS["adam"]
    coefs, intercepts = make_network(seed=10)
    X32, Y, sw = make_data("squared_error", seed=11, n=20)
    wide = np.zeros((20, 9))
    wide[:, :5] = X32
    X = wide[:, :5]  # float64, contiguous rows, row stride 9 * 8 bytes
    order = np.array([3, 17, 0, 5, 5, 11, 2], dtype=np.int64)
    state1, state2 = optimizer_state(optimizer, coefs + intercepts)
    step = np.zeros(1, dtype=np.int64)
    expected = ref.train_epoch(coefs, intercepts, ["relu", "relu"], "squared_error", X32, Y,
                               sw, order, 3, 0.0, optimizer, state1, state2, 0)
    loss_sum = run_core_epoch(coefs, intercepts, "relu", "squared_error", X, Y, sw, order, 3,
                              0.0, optimizer, state1, state2, step)
    np.testing.assert_allclose(loss_sum, expected[5], rtol=1e-5)
    assert_gradients_close(coefs, expected[0], rtol=1e-4, atol=1e-5)
    assert step[0] == 3


def test_train_epoch_rejects_bad_arguments():
    coefs, intercepts = make_network(seed=12)
    X, Y, _ = make_data("squared_error", seed=13, n=6)
    optimizer = OPTIMIZERS["sgd"]
    state1, state2 = optimizer_state(optimizer, coefs + intercepts)
    before = [w.copy() for w in coefs]

    def epoch(order=np.arange(6), batch_size=2, activation="relu", X=X, Y=Y):
        return run_core_epoch(coefs, intercepts, activation, "squared_error", X, Y, None,
                              np.asarray(order, dtype=np.int64), batch_size, 0.0, optimizer,
                              state1, state2, np.zeros(1, np.int64))

    with pytest.raises(ValueError):  # an index past the end of X
        epoch(order=[0, 1, 6])
    with pytest.raises(ValueError):  # a negative index
        epoch(order=[0, -1])
    with pytest.raises(ValueError):
        epoch(batch_size=0)
    with pytest.raises(ValueError):  # Y has other rows than X
        epoch(Y=Y[:5].copy())
    with pytest.raises(ValueError):  # X has other columns than coefs[0] rows
        epoch(X=X[:, :4].copy())
    for w, w0 in zip(coefs, before):
        np.testing.assert_array_equal(w, w0)  # rejected before any update


def test_train_epoch_interrupt_keeps_the_last_full_batch():
    """_core.pyi: KeyboardInterrupt arrives between batches within about a second, and the
    parameters and state are those after the last full batch, so they equal a run over
    just the batches done (bitwise: the same kernels on the same batches)."""
    optimizer = OPTIMIZERS["adam"]
    coefs0, intercepts0 = make_network(seed=19, sizes=(5, 64, 64, 3))
    X, Y, _ = make_data("squared_error", seed=20, n=100, weighted=False)
    order = np.tile(np.arange(100, dtype=np.int64), 200_000)  # many seconds if not stopped
    batch_size = 10

    def fresh_run(order):
        coefs, intercepts = [w.copy() for w in coefs0], [b.copy() for b in intercepts0]
        state1, state2 = optimizer_state(optimizer, coefs + intercepts)
        step = np.zeros(1, np.int64)
        run = lambda: run_core_epoch(coefs, intercepts, "relu", "squared_error", X, Y, None,
                                     order, batch_size, 0.0, optimizer, state1, state2, step)
        return run, [*coefs, *intercepts, *state1, *state2], step

    run, interrupted, step = fresh_run(order)
    previous = signal.signal(signal.SIGALRM, raise_keyboard_interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        start = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            run()
        elapsed = time.perf_counter() - start
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert elapsed < 1.5
    batches_done = int(step[0])
    assert 1 <= batches_done < len(order) // batch_size
    replay, replayed, _ = fresh_run(order[:batches_done * batch_size])
    replay()
    for a, b in zip(interrupted, replayed):
        np.testing.assert_array_equal(a, b)


def raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


# --- predict ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation, loss", ACTIVATION_LOSS_PAIRS)
def test_predict_matches_reference_forward(activation, loss):
    coefs, intercepts = make_network(seed=14)
    X, _, _ = make_data(loss, seed=15, n=300)
    acts, head = core_enums(activation, loss)
    out = _core.predict(coefs, intercepts, acts, head, X)
    assert out.shape == (300, 3) and out.dtype == np.float32
    expected = ref.predict(coefs, intercepts, [activation] * 2, loss, X)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_predict_accepts_float64_rows_with_stride_and_out():
    coefs, intercepts = make_network(seed=16)
    X, _, _ = make_data("softmax_cross_entropy", seed=17, n=50)
    acts, head = core_enums("tanh", "softmax_cross_entropy")
    from_float32 = _core.predict(coefs, intercepts, acts, head, X)
    every_other_row = np.repeat(X.astype(np.float64), 2, axis=0)[::2]
    out = np.full((50, 3), np.nan, dtype=np.float32)
    result = _core.predict(coefs, intercepts, acts, head, every_other_row, out)
    assert result is out or np.shares_memory(result, out)
    np.testing.assert_allclose(out, from_float32, rtol=1e-6, atol=1e-7)
    expected = ref.predict(coefs, intercepts, ["tanh"] * 2, "softmax_cross_entropy", X)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_predict_of_zero_rows():
    coefs, intercepts = make_network(seed=21)
    acts, head = core_enums("relu", "squared_error")
    out = _core.predict(coefs, intercepts, acts, head, np.ones((0, 5), np.float32))
    assert out.shape == (0, 3) and out.dtype == np.float32


def test_predict_rejects_bad_shapes():
    coefs, intercepts = make_network(seed=18)
    acts, head = core_enums("relu", "squared_error")
    with pytest.raises(ValueError):
        _core.predict(coefs, intercepts, acts, head, np.ones((4, 6), np.float32))
    with pytest.raises(ValueError):
        _core.predict(coefs, intercepts, acts[:1], head, np.ones((4, 5), np.float32))
    with pytest.raises(ValueError):
        _core.predict(coefs, intercepts[:2], acts, head, np.ones((4, 5), np.float32))
    with pytest.raises(ValueError):
        _core.predict(coefs, intercepts, acts, head, np.ones((4, 5), np.float32),
                      np.empty((4, 2), np.float32))


# --- Predictor: the network prepared once, re-checked when its arrays change ---------------
def test_predictor_matches_predict_in_the_dtype_of_x():
    coefs, intercepts = make_network(seed=30)
    X, _, _ = make_data("softmax_cross_entropy", seed=31, n=40)
    acts, head = core_enums("tanh", "softmax_cross_entropy")
    expected = ref.predict(coefs, intercepts, ["tanh"] * 2, "softmax_cross_entropy", X)
    predictor = _core.Predictor(acts, head)
    for dtype in (np.float32, np.float64):
        out = predictor(X.astype(dtype), coefs, intercepts)
        assert out.dtype == dtype and out.shape == (40, 3)
        np.testing.assert_array_equal(out, _core.predict(coefs, intercepts, acts, head, X))
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_predictor_follows_changed_parameters():
    coefs, intercepts = make_network(seed=32)
    X, _, _ = make_data("squared_error", seed=33, n=20)
    acts, head = core_enums("relu", "squared_error")
    predictor = _core.Predictor(acts, head)

    def expected():
        return ref.predict(coefs, intercepts, ["relu"] * 2, "squared_error", X)

    np.testing.assert_allclose(predictor(X, coefs, intercepts), expected(), rtol=1e-5, atol=1e-6)
    coefs[0] *= 2  # in place: the same arrays, new values
    np.testing.assert_allclose(predictor(X, coefs, intercepts), expected(), rtol=1e-5, atol=1e-6)
    coefs[1] = coefs[1].copy() + 1  # a new array in the same list
    np.testing.assert_allclose(predictor(X, coefs, intercepts), expected(), rtol=1e-5, atol=1e-6)
    coefs, intercepts = make_network(seed=34)  # new lists
    np.testing.assert_allclose(predictor(X, coefs, intercepts), expected(), rtol=1e-5, atol=1e-6)


def primed_predictor(seed):
    """A Predictor that has cached a 4-4-4-4 network, that network and an X."""
    coefs, intercepts = make_network(seed=seed, sizes=(4, 4, 4, 4))
    X = np.ones((3, 4), np.float32)
    predictor = _core.Predictor(*core_enums("relu", "squared_error"))
    predictor(X, coefs, intercepts)
    return predictor, coefs, intercepts, X


def test_predictor_rechecks_arrays_reshaped_or_retyped_in_place():
    predictor, coefs, intercepts, X = primed_predictor(seed=35)
    coefs[1].shape = (2, 8)  # the same object and data, another shape
    with pytest.raises(ValueError, match="Predictor"):
        predictor(X, coefs, intercepts)
    coefs[1].shape = (4, 4)
    coefs[1].dtype = np.int32  # the same bytes, read as int32
    with pytest.raises(TypeError, match="coefs"):
        predictor(X, coefs, intercepts)
    coefs[1].dtype = np.float32
    coefs[1].dtype = coefs[1].dtype.newbyteorder()  # same type number, other byte order
    with pytest.raises(TypeError, match="coefs"):
        predictor(X, coefs, intercepts)
    with pytest.raises(ValueError, match="NaN or infinity"):
        predictor(np.full((1, 4), np.nan), *make_network(seed=36, sizes=(4, 4, 4, 4)))


def test_predictor_rechecks_lists_of_another_length():
    predictor, coefs, intercepts, X = primed_predictor(seed=38)
    coefs.append(intercepts.pop(0))  # the same objects in the same order, split elsewhere
    with pytest.raises(ValueError, match="equal length"):
        predictor(X, coefs, intercepts)


def test_predictor_keeps_replaced_arrays_alive_while_predicting():
    # Threads predict while another keeps replacing the arrays (each call then re-checks
    # and drops the previous ones): every result is one of the two networks' outputs.
    from concurrent.futures import ThreadPoolExecutor

    acts, head = core_enums("tanh", "squared_error")
    first, second = make_network(seed=40), make_network(seed=41)
    X = make_data("squared_error", seed=42, n=2000)[0]
    outputs = [_core.predict(c, i, acts, head, X) for c, i in (first, second)]
    coefs, intercepts = [c.copy() for c in first[0]], [b.copy() for b in first[1]]
    predictor = _core.Predictor(acts, head)

    def predict(_):
        return predictor(X, coefs, intercepts)

    def swap(n):
        source = second if n % 2 else first
        coefs[:] = [c.copy() for c in source[0]]
        intercepts[:] = [b.copy() for b in source[1]]

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(predict if n % 3 else swap, n) for n in range(60)]
        results = [f.result() for f in futures if f.result() is not None]
    for out in results:
        assert any(np.array_equal(out, expected) for expected in outputs)


def test_predictor_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    coefs, intercepts = make_network(seed=37)
    acts, head = core_enums("logistic", "logistic_cross_entropy")
    predictor = _core.Predictor(acts, head)
    inputs = [make_data("squared_error", seed=s, n=1 + 37 * s)[0] for s in range(16)]
    expected = [_core.predict(coefs, intercepts, acts, head, X) for X in inputs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            got = list(pool.map(lambda X: predictor(X, coefs, intercepts), inputs))
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
