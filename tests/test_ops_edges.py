"""Edge inputs of nnfast.ops that once crashed or fooled a kernel: empty shapes, weights
that leave no mean, and arrays that are not aligned to their items (a view one byte
into a buffer). Each is a ValueError naming the argument, or (the estimators, which
may copy) the same result as an aligned copy."""

import numpy as np
import pytest
import scipy.sparse as sp

from nnfast import MLPClassifier, ops

RNG = np.random.default_rng(0)


def misaligned(a):
    """A copy of float32 ``a`` whose data starts one byte into a buffer."""
    buf = np.empty(a.nbytes + 1, np.uint8)
    view = buf[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned
    return view


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "logistic_cross_entropy",
                                  "squared_error", "poisson"])
def test_output_loss_rejects_weights_without_a_mean(loss):
    z = RNG.standard_normal((3, 2)).astype(np.float32)
    y = np.abs(z)
    with pytest.raises(ValueError, match="sample_weight sums to 0"):
        ops.output_loss(z, y, loss, sample_weight=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        ops.output_loss(z, y, loss, sample_weight=-np.ones(3, np.float32))
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        ops.output_loss(z, y, loss, sample_weight=np.array([1, np.nan, 1], np.float32))


def test_softmax_cross_entropy_rejects_zero_weights_and_no_rows():
    with pytest.raises(ValueError, match="sample_weight sums to 0"):
        ops.softmax_cross_entropy(np.ones((3, 2), np.float32), np.ones((3, 2), np.float32),
                                  sample_weight=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[softmax_cross_entropy\] logits has no rows"):
        ops.softmax_cross_entropy(np.ones((0, 2), np.float32), np.ones((0, 2), np.float32))


@pytest.mark.parametrize("call", [
    lambda z: ops.output_loss(z, z.copy(), "softmax_cross_entropy"),
    lambda z: ops.output_activation(z, "softmax_cross_entropy"),
    lambda z: ops.output_activation(z, "squared_error"),
])
def test_heads_reject_zero_columns(call):
    # Once a heap-buffer-overflow under AddressSanitizer (the row max read z[0]).
    with pytest.raises(ValueError, match="z has no columns"):
        call(np.ones((4, 0), np.float32))


def test_output_loss_weighted_mean_matches_numpy():
    z = RNG.standard_normal((5, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    w = np.array([0, 1, 2, 0, 3], np.float32)
    loss, grad = ops.output_loss(z, y, "softmax_cross_entropy", sample_weight=w)
    zd = z.astype(np.float64)
    p = np.exp(zd - zd.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    want = -(w * np.log((p * y).sum(1))).sum() / w.sum()
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    np.testing.assert_allclose(grad, w[:, None] * (p - y) / w.sum(), atol=1e-6)


@pytest.mark.parametrize("scale", [3e38, 1e-45])
def test_output_loss_weights_near_float32_limits(scale):
    # The gradient was all 0 (weights summing beyond float32) or wrong (products
    # underflowing); only the weights' ratios matter.
    z = RNG.standard_normal((2, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 2]]
    want_loss, want_grad = ops.output_loss(z, y)
    loss, grad = ops.output_loss(z, y, sample_weight=np.full(2, scale, np.float32))
    np.testing.assert_allclose(loss, want_loss, rtol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-6, atol=1e-7)


def misaligned_calls():
    a, b = RNG.standard_normal((2, 8, 8)).astype(np.float32)
    bias = np.zeros(8, np.float32)
    p, g, m, v = RNG.standard_normal((4, 16)).astype(np.float32)
    return [
        ("gemm a", lambda: ops.gemm(misaligned(a), b), "a"),
        ("gemm out", lambda: ops.gemm(a, b, out=misaligned(a)), "out"),
        ("dense_forward w", lambda: ops.dense_forward(a, misaligned(b), bias), "w"),
        ("dense_forward b", lambda: ops.dense_forward(a, b, misaligned(bias)), "b"),
        ("dense_backward dz", lambda: ops.dense_backward(misaligned(a), a, b), "dz"),
        ("activation_forward", lambda: ops.activation_forward(misaligned(a), "tanh"), "x"),
        ("activation_backward", lambda: ops.activation_backward(a, misaligned(b), "tanh"), "y"),
        ("output_activation", lambda: ops.output_activation(misaligned(a)), "z"),
        ("output_loss y", lambda: ops.output_loss(a, misaligned(np.abs(b))), "y"),
        ("adam_update v", lambda: ops.adam_update(p, g, m, misaligned(np.abs(v)), step=1), "v"),
        ("sgd_update velocity", lambda: ops.sgd_update(p, g, misaligned(v)), "velocity"),
    ]


@pytest.mark.parametrize("label,call,name", misaligned_calls(),
                         ids=[c[0] for c in misaligned_calls()])
def test_ops_reject_misaligned_arrays(label, call, name):
    with pytest.raises(ValueError, match=rf"\] {name} is not aligned to its 4-byte items"):
        call()


def test_estimator_takes_misaligned_input_as_a_copy():
    X = RNG.standard_normal((60, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    w = RNG.uniform(0.5, 2, 60).astype(np.float32)
    kw = dict(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    want = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    got = MLPClassifier(**kw).fit(misaligned(X), y, sample_weight=misaligned(w))
    for c_want, c_got in zip(want.coefs_, got.coefs_):
        np.testing.assert_array_equal(c_got, c_want)
    np.testing.assert_array_equal(got.predict_proba(misaligned(X)), want.predict_proba(X))

    Xs = sp.random(60, 5, density=0.5, format="csr", dtype=np.float32, random_state=0)
    Xs_odd = sp.csr_matrix((misaligned(Xs.data), Xs.indices, Xs.indptr), shape=Xs.shape)
    Xs_odd.data = misaligned(Xs.data)  # the constructor may have copied it
    want = MLPClassifier(**kw).fit(Xs, y)
    got = MLPClassifier(**kw).fit(Xs_odd, y)
    for c_want, c_got in zip(want.coefs_, got.coefs_):
        np.testing.assert_array_equal(c_got, c_want)
