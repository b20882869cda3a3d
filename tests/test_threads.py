"""Results are bitwise identical for 1, 2 and 3 threads, and with a core kept busy by
another process: work is split over output tiles and chunks, never along a reduction,
and a tile computes the same whichever thread takes it (cpp/thread_pool.hpp)."""

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest

from nnfast import _core, ops

THREAD_COUNTS = (1, 2, 3)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@contextlib.contextmanager
def busy_core():
    """Another process spinning on CPU 0: a team's thread that the OS deschedules leaves
    its tiles to the others, which changes which thread computes what."""
    code = "import os\nif hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {0})\nwhile True: pass"
    spinner = subprocess.Popen([sys.executable, "-c", code])
    yield
    spinner.kill()
    spinner.wait()


def results_per_thread_count(compute):
    """compute() -> list of arrays, once per thread count (fresh inputs each time)."""
    results = []
    for n in THREAD_COUNTS:
        _core.set_num_threads(n)
        results.append(compute())
    return results


def assert_bitwise_identical(results):
    first = results[0]
    for n, other in zip(THREAD_COUNTS[1:], results[1:]):
        for i, (a, b) in enumerate(zip(first, other)):
            np.testing.assert_array_equal(a, b, err_msg=f"output {i}, 1 vs {n} threads")


def random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True),
                                              (True, True)])
@pytest.mark.parametrize("m, n, k", [(97, 83, 301), (256, 16, 64), (13, 200, 129), (64, 64, 600)])
def test_gemm_is_bitwise_identical_across_threads(m, n, k, trans_a, trans_b):
    a = random((k, m) if trans_a else (m, k), 0)
    b = random((n, k) if trans_b else (k, n), 1)
    c = random((m, n), 2)

    def compute():
        out = c.copy()
        _core.gemm(a, b, out, alpha=0.5, beta=0.25, trans_a=trans_a, trans_b=trans_b)
        return [out]

    assert_bitwise_identical(results_per_thread_count(compute))


def test_dense_kernels_are_bitwise_identical_across_threads():
    x, w, b = random((300, 70), 3), random((70, 50), 4), random(50, 5)
    dz = random((300, 50), 6)

    def compute():
        y = ops.dense_forward(x, w, b, "tanh")
        return [y, *ops.dense_backward(dz, x, w)]

    assert_bitwise_identical(results_per_thread_count(compute))


def network(n=2500):
    """Big enough for several gradient chunks (1024 rows) and predict chunks (128 rows)."""
    sizes = (20, 32, 16, 4)
    coefs = [random((a, b), 10 + i) * 0.3 for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    intercepts = [random(b, 20 + i) * 0.1 for i, b in enumerate(sizes[1:])]
    X = random((n, 20), 30)
    Y = np.eye(4, dtype=np.float32)[np.random.default_rng(31).integers(0, 4, n)]
    sw = np.random.default_rng(32).uniform(0.5, 2.0, n).astype(np.float32)
    acts = [_core.Activation.relu, _core.Activation.tanh]
    return coefs, intercepts, acts, _core.Loss.softmax_cross_entropy, X, Y, sw


def test_loss_and_gradient_is_bitwise_identical_across_threads():
    coefs, intercepts, acts, head, X, Y, sw = network()

    def compute():
        gc, gi = [np.empty_like(w) for w in coefs], [np.empty_like(b) for b in intercepts]
        value = _core.loss_and_gradient(coefs, intercepts, acts, head, X, Y, sw, 1e-3, gc, gi)
        return [np.array(value), *gc, *gi]

    assert_bitwise_identical(results_per_thread_count(compute))


def train_epochs(kind):
    """Per thread count: the parameters, optimizer state and loss after one epoch."""
    coefs0, intercepts0, acts, head, X, Y, sw = network()
    order = np.random.default_rng(33).permutation(len(X)).astype(np.int64)
    config = _core.OptimizerConfig(kind, 0.01, momentum=0.9, nesterov=True)

    def compute():
        coefs, intercepts = [w.copy() for w in coefs0], [b.copy() for b in intercepts0]
        params = coefs + intercepts
        state1 = [np.zeros_like(p) for p in params]
        state2 = [np.zeros_like(p) for p in params] if kind == "adam" else []
        step = np.zeros(1, np.int64)
        # Batches of 1024 rows (7.5 MFLOP per step) are above the size under which a step
        # runs on one thread (mlp.cpp: kMinStepFlopsForThreads), so threads really split it.
        loss_sum = _core.train_epoch(coefs, intercepts, acts, head, X, Y, sw, order, 1024,
                                     1e-3, config, state1, state2, step)
        return [np.array(loss_sum), *params, *state1, *state2]

    return results_per_thread_count(compute)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_train_epoch_is_bitwise_identical_across_threads(kind):
    assert_bitwise_identical(train_epochs(kind))


def test_train_epoch_is_bitwise_identical_with_a_busy_core():
    quiet = train_epochs("adam")[0]
    with busy_core():
        busy = train_epochs("adam")
    for n, result in zip(THREAD_COUNTS, busy):
        for i, (a, b) in enumerate(zip(quiet, result)):
            np.testing.assert_array_equal(a, b, err_msg=f"output {i}, quiet vs busy {n} threads")


def test_a_deep_network_trains_alike_on_any_thread_count():
    """20 hidden layers: more parts than one stage holds (the dW stage splits)."""
    rng = np.random.default_rng(40)
    X = rng.standard_normal((1500, 30)).astype(np.float32)
    y = X[:, :3].sum(axis=1)

    def compute():
        from nnfast import MLPRegressor

        model = MLPRegressor(hidden_layer_sizes=(48,) * 20, batch_size=500, max_iter=3,
                             random_state=0, tol=0.0).fit(X, y)
        return [np.array(model.loss_), *model.coefs_, *model.intercepts_]

    results = results_per_thread_count(compute)
    assert np.isfinite(results[0][0])
    assert_bitwise_identical(results)


def test_predict_is_bitwise_identical_across_threads():
    coefs, intercepts, acts, head, X, _, _ = network()

    def compute():
        return [_core.predict(coefs, intercepts, acts, head, X)]

    assert_bitwise_identical(results_per_thread_count(compute))


@pytest.mark.parametrize("value, expected", [("generic", "generic"), ("avx2", None)])
def test_nnfast_isa_environment_variable_is_honoured(value, expected):
    """NNFAST_ISA picks the kernels at import; asking for avx2 without it falls back."""
    import subprocess
    import sys

    env = dict(os.environ, NNFAST_ISA=value)
    out = subprocess.run([sys.executable, "-c", "import nnfast; print(nnfast.ops.isa())"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    if expected is None:
        expected = "avx2" if _core.cpu_supports_avx2() else "generic"
    assert out == expected
