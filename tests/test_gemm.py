"""GEMM (cpp/gemm.*, the micro-kernels) against a NumPy float64 oracle.

Shape sweeps cover 1, MR-1, MR, MR+1, NR-1, NR, NR+1 and beyond, every transpose, both
ISAs, and a shrunken blocking (kc=8, mc=12) so small matrices walk every packing path
(k > kc: several K blocks; m > mc: A is packed).
"""

import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _reference as ref
from nnfast import _core, ops

SIZES = (1, 5, 6, 7, 15, 16, 17, 33)
TRANSPOSES = list(itertools.product((False, True), repeat=2))
ISAS = _core.available_isas()  # for hypothesis draws; fixtures use conftest's `isa`
SMALL_BLOCKING = (8, 12, 24, 16384)  # B read in place when small (the default rule)
PACKED_BLOCKING = (8, 12, 0, 0)  # every B packed


@contextlib.contextmanager
def core_settings(isa=None, blocking=None):
    """Set the ISA and/or GEMM blocking for the block, restore them afterwards."""
    saved_isa, saved_blocking = _core.isa(), _core.get_gemm_blocking()
    try:
        if isa is not None:
            _core.set_isa(isa)
        if blocking is not None:
            _core.set_gemm_blocking(*blocking)
        yield
    finally:
        _core.set_isa(saved_isa)
        _core.set_gemm_blocking(*saved_blocking)


@pytest.fixture(params=["default", "small", "packed"])
def blocking(request):
    chosen = {"default": None, "small": SMALL_BLOCKING, "packed": PACKED_BLOCKING}
    with core_settings(blocking=chosen[request.param]):
        yield request.param


def operands(rng, m, n, k, trans_a, trans_b, dtype=np.float32):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def check_gemm(gemm_fn, rng, m, n, k, trans_a, trans_b, alpha, beta, dtype=np.float32):
    """Run gemm_fn (a _core-style gemm) once on float32 or float64 operands and compare it
    with the float64 oracle, within that dtype's rounding bound."""
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    if beta == 0.0:
        c0 = np.full((m, n), np.nan, dtype=dtype)  # must never be read
    else:
        c0 = rng.standard_normal((m, n)).astype(dtype)
    out = c0.copy()
    gemm_fn(a, b, out, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    kw = dict(alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    expected = ref.gemm(a, b, c0, **kw)
    bound = ref.gemm_error_bound(a, b, c0, **kw, eps=float(np.finfo(dtype).eps))
    error = np.abs(out - expected)
    assert np.all(error <= bound), (
        f"m={m} n={n} k={k} {kw}: max error {np.nanmax(error)}, "
        f"worst excess {np.nanmax(error - bound)}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_gemm_shape_sweep(isa, blocking, trans_a, trans_b, dtype):
    rng = np.random.default_rng(0)
    for m, n, k in itertools.product(SIZES, repeat=3):
        check_gemm(_core.gemm, rng, m, n, k, trans_a, trans_b, alpha=1.0, beta=0.0, dtype=dtype)
        check_gemm(_core.gemm, rng, m, n, k, trans_a, trans_b, alpha=-0.5, beta=0.75, dtype=dtype)


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
@pytest.mark.parametrize("m, n, k", [
    (7, 17, 255), (7, 17, 256), (7, 17, 257), (13, 40, 600),  # around the default KC
    (145, 17, 20), (150, 33, 300), (301, 5, 3),  # above the default MC: A is packed
])
def test_gemm_default_blocking_edges(isa, m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        check_gemm(_core.gemm, rng, m, n, k, trans_a, trans_b, alpha=1.0, beta=0.0, dtype=dtype)
        check_gemm(_core.gemm, rng, m, n, k, trans_a, trans_b, alpha=2.0, beta=-1.0, dtype=dtype)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(m=st.integers(1, 70), n=st.integers(1, 70), k=st.integers(1, 70),
       trans_a=st.booleans(), trans_b=st.booleans(),
       alpha=st.sampled_from([1.0, -1.5, 0.25]), beta=st.sampled_from([0.0, 1.0, -0.5]),
       kc=st.integers(1, 40), mc=st.integers(1, 40), isa=st.sampled_from(ISAS),
       b_in_place=st.sampled_from([(24, 16384), (0, 0), (1000, 0)]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_gemm_random_shapes_and_blocking(m, n, k, trans_a, trans_b, alpha, beta, kc, mc, isa,
                                         b_in_place, dtype):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    with core_settings(isa=isa, blocking=(kc, mc, *b_in_place)):
        check_gemm(_core.gemm, rng, m, n, k, trans_a, trans_b, alpha, beta, dtype)


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_gemm_reference_matches_numpy(trans_a, trans_b):
    rng = np.random.default_rng(2)
    for m, n, k in [(1, 1, 1), (5, 7, 3), (17, 16, 33), (6, 33, 15)]:
        check_gemm(_core.gemm_reference, rng, m, n, k, trans_a, trans_b, 1.0, 0.0)
        check_gemm(_core.gemm_reference, rng, m, n, k, trans_a, trans_b, -0.5, 0.75)


def test_gemm_alpha_zero_beta_one_leaves_out_unchanged(isa):
    rng = np.random.default_rng(3)
    a, b = operands(rng, 9, 18, 7, False, False)
    out = rng.standard_normal((9, 18)).astype(np.float32)
    before = out.copy()
    _core.gemm(a, b, out, alpha=0.0, beta=1.0)
    np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("m, n, k", [(0, 4, 3), (4, 0, 3), (4, 5, 0)])
def test_gemm_empty_dimensions(m, n, k):
    rng = np.random.default_rng(4)
    a, b = operands(rng, m, n, k, False, False)
    out = np.full((m, n), np.nan, dtype=np.float32)
    _core.gemm(a, b, out)
    np.testing.assert_array_equal(out, np.zeros((m, n), dtype=np.float32))
    out = np.ones((m, n), dtype=np.float32)
    _core.gemm(a, b, out, beta=2.0)
    np.testing.assert_array_equal(out, np.full((m, n), 2.0, dtype=np.float32))


def test_isa_switching():
    assert _core.isa() in _core.available_isas()
    assert ops.isa() == _core.isa()
    with core_settings(isa="generic"):
        assert _core.isa() == "generic"
    with pytest.raises(ValueError):
        _core.set_isa("sse9")
    if not _core.cpu_supports_avx2():
        with pytest.raises(ValueError):
            _core.set_isa("avx2")


def test_gemm_blocking_roundtrip():
    with core_settings(blocking=SMALL_BLOCKING):
        assert _core.get_gemm_blocking() == SMALL_BLOCKING
    with pytest.raises(ValueError):
        _core.set_gemm_blocking(0, 12)
    with pytest.raises(ValueError, match="in_place_b_bytes"):
        _core.set_gemm_blocking(8, 12, 24, -1)


# --- nnfast.ops.gemm ---------------------------------------------------------------------------
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_ops_gemm_allocates_out(trans_a, trans_b):
    rng = np.random.default_rng(5)
    a, b = operands(rng, 7, 17, 9, trans_a, trans_b)
    out = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, alpha=2.0)
    assert out.shape == (7, 17) and out.dtype == np.float32
    kw = dict(alpha=2.0, trans_a=trans_a, trans_b=trans_b)
    assert np.all(np.abs(out - ref.gemm(a, b, **kw)) <= ref.gemm_error_bound(a, b, **kw))


def test_ops_gemm_writes_given_out_with_beta():
    rng = np.random.default_rng(6)
    a, b = operands(rng, 4, 5, 3, False, False)
    out = np.ones((4, 5), dtype=np.float32)
    result = ops.gemm(a, b, beta=1.0, out=out)
    assert result is out
    np.testing.assert_allclose(out, ref.gemm(a, b) + 1.0, rtol=1e-5, atol=1e-5)


def test_ops_gemm_beta_requires_out():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="out"):
        ops.gemm(a, a.T.copy(), beta=1.0)


# --- errors: nothing is converted, nothing crashes ----------------------------------------------
def test_gemm_rejects_wrong_dtype():
    a64 = np.ones((3, 4))
    b = np.ones((4, 2), np.float32)
    out = np.empty((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"\[gemm\] a must have dtype float32 or float64, got int64"):
        ops.gemm(a64.astype(np.int64), b)
    with pytest.raises(TypeError, match=r"\[gemm\] b must have dtype float64, got float32"):
        ops.gemm(a64, b)  # one dtype per call
    with pytest.raises(TypeError, match=r"\[gemm\] b must be float64"):
        _core.gemm(a64, b, out)
    with pytest.raises(TypeError, match=r"\[gemm\] out must be float32"):
        _core.gemm(a64.astype(np.float32), b, out.astype(np.float64))  # float64 out
    with pytest.raises(TypeError, match=r"\[gemm\] out must have dtype float64"):
        ops.gemm(a64, b.astype(np.float64), out=out)
    with pytest.raises(TypeError):
        ops.gemm([[1.0]], [[1.0]])


def test_gemm_rejects_non_contiguous():
    a = np.ones((3, 8), np.float32)[:, ::2]
    b = np.ones((4, 2), np.float32)
    out = np.empty((3, 2), np.float32)
    with pytest.raises(ValueError, match="a.*contiguous"):
        ops.gemm(a, b)
    with pytest.raises((TypeError, ValueError)):
        _core.gemm(a, b, out)
    with pytest.raises((TypeError, ValueError)):
        _core.gemm(np.asfortranarray(np.ones((3, 4), np.float32)), b, out)
    with pytest.raises((TypeError, ValueError)):
        _core.gemm(np.ones((3, 4), np.float32), b, np.empty((2, 3), np.float32).T)


def test_gemm_rejects_shape_mismatch():
    a = np.ones((3, 4), np.float32)
    b = np.ones((5, 2), np.float32)
    with pytest.raises(ValueError, match=r"\[gemm\]"):
        ops.gemm(a, b)
    with pytest.raises(ValueError, match=r"\[gemm\]"):
        _core.gemm(a, b, np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[gemm\]"):
        _core.gemm(a, b, np.empty((3, 2), np.float32), trans_b=True)  # op(b) is 2x5
    with pytest.raises(ValueError, match=r"\[gemm\]"):  # out has the wrong shape
        _core.gemm(a, np.ones((4, 2), np.float32), np.empty((3, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[gemm\].*out"):
        ops.gemm(a, np.ones((4, 2), np.float32), out=np.empty((2, 3), np.float32))
    with pytest.raises((TypeError, ValueError)):
        _core.gemm(np.ones(4, np.float32), b, np.empty((3, 2), np.float32))


def test_gemm_rejects_read_only_out():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 2), np.float32)
    out = np.zeros((3, 2), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.gemm(a, b, out=out)
    with pytest.raises((TypeError, ValueError)):
        _core.gemm(a, b, out)
    np.testing.assert_array_equal(out, 0.0)
