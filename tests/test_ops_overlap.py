"""An output of a kernel may not share memory with any other argument: a blocked, threaded
kernel reads and writes in an order of its own, so an overlap gives a wrong number with no
error (ops.gemm(a, b, out=a) was off by 1e4 at 64 x 64). Every such call is a ValueError
naming both arguments; views of one buffer that do not overlap are fine."""

import numpy as np
import pytest
import scipy.sparse as sp

from nnfast import _core, ops

RNG = np.random.default_rng(0)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def overlap_cases():
    """(label, call, the two argument names the message must give)."""
    a, b = f32(64, 64), f32(64, 64)
    buf = f32(2 * 64 * 64)
    head, shifted = buf[: 64 * 64].reshape(64, 64), buf[64: 64 * 65].reshape(64, 64)
    x, w, bias = f32(64, 64), f32(64, 64), f32(64)
    p, g, m, v = f32(50), f32(50), f32(50), f32(50)
    z, y = f32(8, 3), f32(8, 3)
    csr = sp.random(64, 64, density=0.1, format="csr", dtype=np.float32, random_state=0)
    return [
        ("gemm out is a", lambda: ops.gemm(a, b, out=a), ("out", "a")),
        ("gemm out is b", lambda: ops.gemm(a, b, out=b), ("out", "b")),
        ("gemm out overlaps a, shifted by one row", lambda: ops.gemm(head, b, out=shifted),
         ("out", "a")),
        ("gemm out is a with beta", lambda: ops.gemm(a, b, beta=1.0, out=a), ("out", "a")),
        ("dense_forward out is x", lambda: ops.dense_forward(x, w, bias, out=x), ("out", "x")),
        ("dense_forward out is w", lambda: ops.dense_forward(x, w, bias, out=w), ("out", "w")),
        ("dense_forward out holds b", lambda: ops.dense_forward(
            x[:1], w, bias, out=bias.reshape(1, 64)), ("out", "b")),
        ("adam_update grad is param", lambda: ops.adam_update(p, p, m, v, step=1),
         ("param", "grad")),
        ("adam_update m is v", lambda: ops.adam_update(p, g, m, m, step=1), ("m", "v")),
        ("sgd_update velocity is param", lambda: ops.sgd_update(p, g, p), ("param", "velocity")),
        ("_core.activation_forward in place", lambda: _core.activation_forward(
            x, _core.Activation.relu, x), ("out", "x")),
        ("_core.activation_backward out is saved", lambda: _core.activation_backward(
            x, w, _core.Activation.tanh, w), ("out", "saved")),
        ("_core.output_activation in place", lambda: _core.output_activation(
            z, _core.Loss.squared_error, z), ("out", "z")),
        ("_core.loss_forward_backward grad is y", lambda: _core.loss_forward_backward(
            z, y, _core.Loss.squared_error, y), ("grad", "y")),
        ("_core.dense_backward dw is w", lambda: _core.dense_backward(
            x, x, w, w, bias), ("dw", "w")),
        ("_core.dense_backward dx is dz", lambda: _core.dense_backward(
            x, w, f32(64, 64), f32(64, 64), f32(64), x), ("dx", "dz")),
        ("_core.csr_dense_forward out is x.data", lambda: _core.csr_dense_forward(
            csr, w, bias, _core.Activation.relu, csr.data[:64].reshape(1, 64),
            np.array([0], np.int64)), ("out", "x")),
    ]


@pytest.mark.parametrize("label, call, names", overlap_cases(),
                         ids=[case[0] for case in overlap_cases()])
def test_an_output_overlapping_an_argument_is_a_value_error(label, call, names):
    out_name, other = names
    with pytest.raises(ValueError, match=rf"\] {out_name} shares memory with {other}"):
        call()


def test_disjoint_views_of_one_buffer_are_accepted_and_correct():
    buf = f32(3 * 64 * 64)
    a, b, out = (buf[i * 4096:(i + 1) * 4096].reshape(64, 64) for i in range(3))
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(ops.gemm(a, b, out=out), want, rtol=1e-4, atol=1e-4)


def test_gemm_of_an_array_with_itself_is_fine():
    """Only outputs must be disjoint: two inputs may be the same array."""
    a = f32(64, 64)
    want = a.astype(np.float64) @ a.astype(np.float64)
    np.testing.assert_allclose(ops.gemm(a, a), want, rtol=1e-4, atol=1e-4)
