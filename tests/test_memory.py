"""No memory growth over a long fit/predict loop: the C++ core and the bindings free what
they allocate, on success and on error.

What is measured. The resident set size (RSS, /proc/self/statm) of this process: it
sees every allocation, the C++ kernels' and OpenMP's as well as Python's (tracemalloc
would see only Python's). One *iteration* of the loop does, in this process:

- ``MLPClassifier(hidden_layer_sizes=(32,), max_iter=2)`` fit on load_digits (scaled
  to [0, 1]) and ``predict_proba``; a ``partial_fit`` on 200 rows; a fit and
  ``predict_proba`` on the same data as a scipy.sparse CSR matrix (the sparse path);
- failing calls, each a ValueError: ``predict`` of a row with NaN, ``fit`` of X with
  inf, an SGD regressor that diverges inside the C++ epoch loop (the core stops at a
  non-finite batch loss, the estimator raises and rolls back), and ``nnfast.ops.gemm``
  with ``out`` overlapping an input (rejected in the binding, after its array
  conversions);
- the nnfast.ops kernels: gemm, dense_forward, dense_backward, activation_forward and
  _backward, output_activation, output_loss, adam_update and sgd_update.

After WARMUP iterations (allocator pools, OpenMP's thread pool, scikit-learn's and
NumPy's caches reach their steady state; the first iterations grow RSS by megabytes),
RSS is sampled (after ``gc.collect()``) every SAMPLE_EVERY of ITERATIONS more.

The bound. A real leak grows RSS linearly with the iterations; noise does not. The
smallest buffer the loop makes is the 64 x 32 float32 output of dense_forward, 8 KiB;
a training batch is 200 x 64 float32, 50 KiB (200 x 32 for the hidden layer, 25 KiB).
Leaking one of those per iteration would grow RSS by 2 MiB (8 KiB x 250) to 12.5 MiB
over ITERATIONS. Observed on a 2-core Linux machine (glibc malloc, Python 3.11): 0 to
24 KiB over the 250 iterations, in pytest after test_ops_fuzz or alone, with another
job loading the machine or not (a few pages: Python's and glibc's caches settling).
BOUND = 1 MiB is therefore 40x the noise observed, and below any leak of one buffer of
4 KiB or more per iteration (4 KiB x 250 = 1 MiB), half the smallest buffer above. test_the_measurement_sees_a_leak_of_one_batch_per_iteration
checks that the measurement catches a deliberate leak of one batch per iteration (a
Python-held NumPy buffer: its pages come from the same malloc as the core's).

A slow leak of a few bytes per call (a reference count, a small std::string) stays below
this bound; it is the large per-batch and per-call buffers that this test guards.
"""

import ctypes
import gc
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from nnfast import MLPClassifier, MLPRegressor, ops

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="needs /proc/self/statm (Linux) for the resident set size")

WARMUP = 25
ITERATIONS = 250
SAMPLE_EVERY = 25
BOUND = 1 << 20  # bytes; see the module docstring
F = np.float32


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def release_free_heap():
    """Return malloc's free memory to the system (glibc's malloc_trim), so that what earlier
    tests of this process allocated and freed does not absorb the growth measured next: a
    leak must then take new pages (the control below missed a 12 MiB leak once the suite
    had left that much free heap behind)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim with


def measure(body):
    """RSS growth samples (bytes, relative to the first) over ITERATIONS after WARMUP (the
    free heap released first: the warm-up then brings back only the loop's working set)."""
    gc.collect()
    release_free_heap()
    for i in range(WARMUP):
        body(i)
    gc.collect()
    start = rss_bytes()
    samples = []
    for i in range(ITERATIONS):
        body(WARMUP + i)
        if (i + 1) % SAMPLE_EVERY == 0:
            gc.collect()
            samples.append(rss_bytes() - start)
    return start, samples


class Workload:
    """The data of one iteration, made once."""

    def __init__(self):
        X, y = load_digits(return_X_y=True)
        self.X, self.y = X / 16.0, y
        self.X_sparse = sp.csr_matrix(self.X)
        self.X_nan = self.X[:10].copy()
        self.X_nan[3, 5] = np.nan
        self.X_inf = self.X[:50].copy()
        self.X_inf[0, 0] = np.inf
        self.X_diverge = self.X[:100]
        self.y_diverge = self.X[:100, 20] * 100
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((64, 64)).astype(F)
        self.w = rng.standard_normal((64, 32)).astype(F)
        self.b = rng.standard_normal(32).astype(F)
        self.y_onehot = np.eye(32, dtype=F)[rng.integers(0, 32, 64)]
        self.state = [rng.standard_normal((64, 32)).astype(F) for _ in range(4)]
        self.state[3] = np.abs(self.state[3])

    def estimators(self, i):
        kw = dict(hidden_layer_sizes=(32,), max_iter=2, random_state=i)
        clf = MLPClassifier(**kw).fit(self.X, self.y)
        assert clf.predict_proba(self.X).shape == (len(self.X), 10)
        clf.partial_fit(self.X[:200], self.y[:200])
        sparse = MLPClassifier(**kw).fit(self.X_sparse, self.y)
        assert sparse.predict_proba(self.X_sparse).shape == (len(self.X), 10)
        with pytest.raises(ValueError, match="NaN"):
            clf.predict(self.X_nan)
        with pytest.raises(ValueError, match="infinity"):
            MLPClassifier(**kw).fit(self.X_inf, self.y[:50])
        with pytest.raises(ValueError, match="diverged"):
            MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e3,
                         max_iter=20, random_state=i).fit(self.X_diverge, self.y_diverge)

    def kernels(self, i):
        a, w, b = self.a, self.w, self.b
        h = ops.dense_forward(a, w, b, "tanh")
        ops.gemm(a, w, out=np.empty((64, 32), F), alpha=0.5)
        dh = ops.activation_backward(h, h, "tanh")
        ops.activation_forward(h, "relu")
        dx, dw, db = ops.dense_backward(dh, a, w)
        ops.output_activation(h, "softmax_cross_entropy")
        loss, grad = ops.output_loss(h, self.y_onehot, "softmax_cross_entropy")
        param, g, m, v = self.state
        ops.adam_update(param, g, m, v, step=i + 1, learning_rate=1e-6)
        ops.sgd_update(param, g, m, learning_rate=1e-6, momentum=0.9)
        with pytest.raises(ValueError, match="shares memory"):
            ops.gemm(a, a, out=a)

    def iteration(self, i):
        self.estimators(i)
        self.kernels(i)


def report(label, start, samples, seconds):
    print(f"\n[memory] {label}: RSS {start / 2**20:.1f} MiB after {WARMUP} warm-up "
          f"iterations; growth over {ITERATIONS} more, every {SAMPLE_EVERY} (KiB): "
          f"{[s // 1024 for s in samples]}; {seconds:.1f} s")


def test_fit_predict_loop_does_not_grow_resident_memory():
    work = Workload()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        start, samples = measure(work.iteration)
        seconds = time.perf_counter() - t0
    report("fit/partial_fit/sparse/errors/ops loop", start, samples, seconds)
    assert samples[-1] < BOUND, (
        f"RSS grew by {samples[-1] / 2**20:.2f} MiB over {ITERATIONS} iterations "
        f"(bound {BOUND / 2**20:.0f} MiB): samples {samples}")


def test_the_measurement_sees_a_leak_of_one_batch_per_iteration():
    """The positive control: the same measurement, with the kernels' loop plus one training
    batch (200 x 64 float32, 50 KiB) kept alive per iteration, must exceed BOUND."""
    work = Workload()
    leaked = []

    def leaky(i):
        work.kernels(i)
        leaked.append(np.ones((200, 64), F))  # ones: the pages are touched, so resident

    t0 = time.perf_counter()
    start, samples = measure(leaky)
    report("control, one batch leaked per iteration", start, samples, time.perf_counter() - t0)
    assert samples[-1] > BOUND, f"a 12 MiB leak went unseen: samples {samples}"
    assert samples[-1] > 0.5 * ITERATIONS * leaked[0].nbytes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_never_copies_x(dtype):
    """Peak RSS growth of one epoch over a 32 MiB float64 (16 MiB float32) X, in a fresh
    process, stays far below one copy of X (the input checks once made a temporary as
    large as X: 366 MiB for W7's float64 X)."""
    code = f"""
import json, warnings
import numpy as np
import nnfast
warnings.simplefilter("ignore")
X = np.random.default_rng(0).standard_normal((20000, 200)).astype("{dtype}")
y = np.arange(20000) % 10
clf = nnfast.MLPClassifier((32,), max_iter=1, batch_size=256)
clf.fit(X[:300], y[:300])  # first use: the library's own buffers and imports
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = peak()
clf.fit(X, y)
print(json.dumps(peak() - before))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    growth = int(result.stdout.strip().splitlines()[-1])
    assert growth < 4 * 2**20, f"fit grew the peak RSS by {growth / 2**20:.1f} MiB"
