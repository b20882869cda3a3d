"""The thread count follows the standard controls (cpp/threads.hpp): threadpoolctl inside
its block only, set_num_threads (validated, visible to threadpool_info), OMP_NUM_THREADS,
nested use from a thread pool, and forked children."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import nnfast
from nnfast import MLPClassifier, _core, ops

DEFAULT = _core.default_num_threads()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run_python(code, **env):
    """Runs code in a fresh interpreter (first use of nnfast included); returns stdout."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def nnfast_openmp_threads():
    """num_threads threadpoolctl reports for the OpenMP library nnfast is linked with."""
    ours = os.path.realpath(_core.openmp_runtime()[0])
    return [pool["num_threads"] for pool in threadpool_info()
            if os.path.realpath(pool["filepath"]) == ours]


def small_fit(X, y):
    return MLPClassifier(hidden_layer_sizes=(32,), max_iter=2, random_state=0).fit(X, y)


def test_threadpool_limits_hold_inside_the_block_only(digits):
    small_fit(*digits)  # nnfast has been used: nothing may be cached
    with threadpool_limits(1):
        assert nnfast.get_num_threads() == 1
        assert _core.thread_setting()[1].startswith("OpenMP setting")
    assert nnfast.get_num_threads() == DEFAULT
    with threadpool_limits(1, user_api="openmp"):
        assert nnfast.get_num_threads() == 1
    with threadpool_limits(1, user_api="blas"):  # BLAS limits are not ours
        assert nnfast.get_num_threads() == DEFAULT


def test_a_limit_active_at_first_use_is_lifted_after_its_block():
    # threadpoolctl limits the libraries loaded when its block starts: import first.
    out = run_python("""
        import warnings
        import nnfast
        from sklearn.datasets import load_digits
        from threadpoolctl import threadpool_limits
        warnings.simplefilter("ignore")
        X, y = load_digits(return_X_y=True)
        with threadpool_limits(1):
            nnfast.MLPClassifier(max_iter=1).fit(X, y)
            print(nnfast.get_num_threads())
        print(nnfast.get_num_threads())
    """)
    assert out.split() == ["1", str(DEFAULT)]


def test_set_num_threads_is_what_threadpool_info_reports():
    nnfast.set_num_threads(1)
    assert nnfast_openmp_threads() == [1]
    assert _core.thread_setting() == (1, "set_num_threads")
    nnfast.set_num_threads(3)
    assert nnfast_openmp_threads() == [3]
    assert nnfast.get_num_threads() == 3


def test_set_num_threads_holds_in_other_threads_and_limits_lower_it():
    from concurrent.futures import ThreadPoolExecutor

    nnfast.set_num_threads(3)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(nnfast.get_num_threads).result() == 3
    with threadpool_limits(2):
        assert nnfast.get_num_threads() == 2  # a limit below the setting lowers it
    with threadpool_limits(5):
        assert nnfast.get_num_threads() == 3  # and a limit above leaves it


@pytest.mark.parametrize("bad", [2.5, "2", None, True, np.float64(2.0)])
def test_set_num_threads_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="n must be an integer"):
        nnfast.set_num_threads(bad)


@pytest.mark.parametrize("bad", [0, -1, nnfast.MAX_THREADS + 1, 100_000, 2**31 - 1, 2**63])
def test_set_num_threads_rejects_counts_it_cannot_serve(bad):
    before = nnfast.get_num_threads()
    with pytest.raises(ValueError, match=f"between 1 and {nnfast.MAX_THREADS}"):
        nnfast.set_num_threads(bad)
    assert nnfast.get_num_threads() == before


def test_one_set_num_threads_everywhere():
    assert ops.set_num_threads is nnfast.set_num_threads
    assert ops.get_num_threads is nnfast.get_num_threads
    nnfast.set_num_threads(np.int64(2))
    assert nnfast.get_num_threads() == 2


def test_many_threads_on_few_cores_still_compute():
    """More threads than cores (up to the maximum) is slow, never a crash."""
    a = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    want = ops.gemm(a, a)
    nnfast.set_num_threads(64)
    np.testing.assert_array_equal(ops.gemm(a, a), want)
    big = np.random.default_rng(1).standard_normal((300, 300)).astype(np.float32)
    nnfast.set_num_threads(1)
    want = ops.gemm(big, big)
    nnfast.set_num_threads(64)
    np.testing.assert_array_equal(ops.gemm(big, big), want)


def test_omp_num_threads_sets_the_default():
    out = run_python("""
        import nnfast
        from nnfast import _core
        print(nnfast.get_num_threads(), _core.thread_setting()[1])
    """, OMP_NUM_THREADS="3")
    assert out.split(maxsplit=1) == ["3", "OMP_NUM_THREADS\n"]


def test_concurrent_fits_from_a_thread_pool_equal_sequential_ones(digits):
    """Two fits at once (a threading backend) share the threads; results do not change."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = digits
    seeds = (0, 1)

    def fit(seed):
        clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=seed)
        return clf.fit(X, y).coefs_

    sequential = [fit(seed) for seed in seeds]
    with ThreadPoolExecutor(2) as pool:
        concurrent = list(pool.map(fit, seeds))
    for one, other in zip(sequential, concurrent):
        for a, b in zip(one, other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_child_uses_several_threads_without_hanging():
    out = run_python("""
        import os, numpy as np
        import nnfast
        from nnfast import ops
        a = np.random.default_rng(0).standard_normal((400, 400)).astype(np.float32)
        want = ops.gemm(a, a)  # the parent's workers exist now
        pid = os.fork()
        if pid == 0:
            nnfast.set_num_threads(2)
            ok = np.array_equal(ops.gemm(a, a), want) and nnfast.get_num_threads() == 2
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    assert out.strip() == "0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_child_that_never_uses_nnfast_exits_normally():
    """sys.exit runs the child's exit handlers: the pool copied from the parent, whose
    workers do not exist in the child, must be left alone."""
    out = run_python("""
        import os, sys, numpy as np
        from nnfast import ops
        a = np.ones((400, 400), np.float32)
        ops.gemm(a, a)  # the parent's workers exist now
        pid = os.fork()
        if pid == 0:
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    assert out.strip() == "0"


def test_info_names_the_runtime_the_count_and_its_source():
    result = subprocess.run([sys.executable, "-m", "nnfast", "info"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "threads:           1 (from OMP_NUM_THREADS)" in out
    assert os.path.basename(_core.openmp_runtime()[0]) in out
    assert "threadpool_info()" in out and "<- nnfast's" in out
