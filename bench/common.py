"""What every benchmark shares: thread pinning, synthetic data, FLOP counts, timing.

Import this module before torch: nnfast's extension then loads the system libgomp
first and torch reuses it (same soname), so the two share one OpenMP pool instead of
two pools spinning against each other on a 2-core machine.
"""

import contextlib
import os
import resource
import statistics
import time
import warnings

import numpy as np

import nnfast._core as core  # noqa: I001 (first, see above)

try:  # the PyTorch peer is optional; W7's subprocesses skip it unless they measure it
    if os.environ.get("NNFAST_BENCH_NO_TORCH"):
        raise ImportError
    import torch
except ImportError:
    torch = None

from threadpoolctl import threadpool_limits

SEED = 0
W1_LAYERS = (784, 128, 64, 10)  # the MNIST-shaped network of W1, W3, W4, W7
W2_LAYERS = (784, 100, 10)  # scikit-learn's default hidden_layer_sizes=(100,)
W6_LAYERS = (32, 64, 32, 1)
PEAK_SIZE = 1024  # the run's sgemm peak: NumPy float32 PEAK_SIZE^3
GEMM_SHAPES = {  # W5: label -> (m, k, n, trans_a, trans_b); out (m, n) = op(a) @ op(b)
    "gemm 1024^3": (1024, 1024, 1024, False, False),
    "gemm 64x784x128 fwd": (64, 784, 128, False, False),
    "gemm 256x784x128 fwd": (256, 784, 128, False, False),
    "gemm 784x64x128 dW": (784, 64, 128, True, False),  # x.T @ dz
    "gemm 64x128x784 dX": (64, 128, 784, False, True),  # dz @ w.T
}


# --- nnfast's public API, whatever state the package is in ---------------------------
def nnfast_estimators():
    """(MLPClassifier, MLPRegressor) of nnfast, or (None, None) when they do not import.

    Falls back to the private module when the package ``__init__`` is not wired yet
    (an editable install made before ``__init__.py`` existed gives a namespace package).
    """
    try:
        import nnfast

        if hasattr(nnfast, "MLPClassifier"):
            return nnfast.MLPClassifier, nnfast.MLPRegressor
        from nnfast._multilayer_perceptron import MLPClassifier, MLPRegressor

        return MLPClassifier, MLPRegressor
    except Exception:  # noqa: BLE001 (work in progress elsewhere: benchmark _core)
        return None, None


def nnfast_gemm():
    """``nnfast.ops.gemm`` when present, else a wrapper of ``_core.gemm`` with its keywords."""
    try:
        from nnfast.ops import gemm

        return gemm
    except Exception:  # noqa: BLE001

        def gemm(a, b, *, trans_a=False, trans_b=False, out):
            core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b)
            return out

        return gemm


# --- threads ------------------------------------------------------------------------------
@contextlib.contextmanager
def pinned_threads(n):
    """Every library at n threads: nnfast, OpenBLAS/OpenMP (threadpoolctl), PyTorch."""
    previous = core.get_num_threads(), torch.get_num_threads() if torch else None
    core.set_num_threads(n)
    if torch:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        core.set_num_threads(previous[0])
        if torch:
            torch.set_num_threads(previous[1])


# --- synthetic data of the real shapes -------------------------------------------------------
def classification_data(n_rows, n_features=784, n_classes=10, dtype=np.float32, seed=SEED):
    """Pixel-like X in [0, 1] (class template + noise, so a net can learn it) and int labels.

    Filled chunk by chunk into the final array: no temporary bigger than a chunk, so the
    process's peak RSS right after this call is the data itself (W7 relies on it).
    """
    rng = np.random.default_rng(seed)
    templates = rng.random((n_classes, n_features), dtype=np.float32)
    y = rng.integers(0, n_classes, n_rows)
    X = np.empty((n_rows, n_features), dtype=dtype)
    for start in range(0, n_rows, 4096):
        rows = slice(start, start + 4096)
        noise = rng.random((len(y[rows]), n_features), dtype=np.float32)
        X[rows] = 0.5 * templates[y[rows]] + 0.5 * noise
    return X, y


def regression_data(n_rows, n_features=32, seed=SEED):
    """Gaussian X and a smooth nonlinear float32 target with a little noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    w = rng.standard_normal((n_features, 8), dtype=np.float32) / np.sqrt(n_features)
    y = np.tanh(X @ w).sum(axis=1) + 0.1 * rng.standard_normal(n_rows, dtype=np.float32)
    return X, y.astype(np.float32)


def random_arrays(*shapes, seed=SEED):
    """Standard-normal float32 arrays of the given shapes."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]


def one_hot(y, n_classes):
    return np.eye(n_classes, dtype=np.float32)[y]


# --- FLOP counts --------------------------------------------------------------------------
def forward_flops(layers):
    """Per sample: 2 * sum(in * out) (GEMMs only)."""
    return 2 * sum(a * b for a, b in zip(layers[:-1], layers[1:]))


def train_flops(layers):
    """Per sample: forward + dW of every layer + dX of every layer but the first."""
    dx = 2 * sum(a * b for a, b in zip(layers[1:-1], layers[2:]))
    return 2 * forward_flops(layers) + dx


# --- timing -------------------------------------------------------------------------------
def race(cases, rounds, number=1, settle=0.2, warmup=0.05):
    """Time callables side by side; returns {name: median seconds per call}.

    cases: {name: callable}. Each is called once untimed (warm-up), then in each of
    ``rounds`` round-robin rounds every case runs ``number`` consecutive timed calls, so
    machine noise hits all of them alike. ``rounds`` may be a dict per name (fewer rounds
    for a slow peer); a case stops once its rounds are done. Before each case's turn we
    sleep ``settle`` seconds: the previous library's idle threads keep spinning for a
    while (OpenBLAS ~0.1 s, libgomp less) and would steal a core from the next one. A
    block of short calls (number > 1) starts with ``warmup`` seconds of untimed calls:
    after that pause the core runs slower for some milliseconds (measured here: a 12 us
    call takes 16-20 us for the first 100 calls after a 0.2 s sleep, for every library),
    and a latency figure should not depend on the harness's own pauses.
    """
    per_case = rounds if isinstance(rounds, dict) else dict.fromkeys(cases, rounds)
    samples = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    for r in range(max(per_case.values())):
        for name, fn in cases.items():
            if r >= per_case[name]:
                continue
            if len(cases) > 1:
                time.sleep(settle)
            if number > 1:
                warm_until = time.perf_counter() + warmup
                while time.perf_counter() < warm_until:
                    fn()
            for _ in range(number):
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def paired_ratio(new, old, rounds, settle=0.2):
    """Median over rounds of time(new) / time(old), the two run back to back in each round
    (in alternating order), so that each ratio compares calls of one moment: on this VM,
    phases of +-30% last seconds, long enough to skew the medians of a few samples each.
    Returns (median ratio, median seconds of new, median seconds of old)."""
    new(), old()  # warm-up
    ratios, times = [], {new: [], old: []}
    for r in range(rounds):
        for fn in ((new, old) if r % 2 == 0 else (old, new)):
            time.sleep(settle)  # the previous one's idle threads have stopped spinning
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
        ratios.append(times[new][-1] / times[old][-1])
    return (statistics.median(ratios), statistics.median(times[new]),
            statistics.median(times[old]))


def sgemm_peak_gflops(repeats=10, size=PEAK_SIZE, patience=0.0):
    """The run's peak: NumPy (OpenBLAS) float32 size^3 at the current thread count,
    measured when the machine is quiet (see quiet_race)."""
    rng = np.random.default_rng(SEED)
    a, b = (rng.random((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    case = {"numpy": lambda: np.matmul(a, b, out=out)}
    seconds = quiet_race(case, 1, repeats, patience=patience)[0]["numpy"]
    return 2 * size**3 / seconds / 1e9


class OtherLoad:
    """CPU used by *other* processes since creation, in cores: all busy CPU time
    (/proc/stat) minus this process's and its waited-for children's. On a shared 2-core
    machine a single busy neighbour turns every 2-thread barrier into a scheduler-tick
    wait, so a run reports this next to its numbers."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        with open("/proc/stat") as f:
            jiffies = [int(x) for x in f.readline().split()[1:9]]
        busy = (sum(jiffies) - jiffies[3] - jiffies[4]) / os.sysconf("SC_CLK_TCK")
        own = sum(getattr(resource.getrusage(who), field)
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for field in ("ru_utime", "ru_stime"))
        return time.monotonic(), busy, own

    def cores(self):
        (t0, busy0, own0), (t1, busy1, own1) = self.start, self._sample()
        return max(0.0, (busy1 - busy0) - (own1 - own0)) / max(t1 - t0, 1e-9)


NOISY = 0.1  # cores used by other processes above which a measurement is suspect


def wait_until_quiet(max_wait=30.0, window=2.0):
    """Wait (at most max_wait seconds) until other processes use <= NOISY cores over a
    window; returns the last window's load."""
    deadline = time.monotonic() + max_wait
    while True:
        load = OtherLoad()
        time.sleep(window)
        if load.cores() <= NOISY or time.monotonic() > deadline:
            return load.cores()


def quiet_race(cases, rounds, number=1, patience=30.0, retries=1):
    """race() when the machine is quiet: waits (up to ``patience`` seconds; 0: no wait,
    no retry) for other processes to go idle, and measures again (up to ``retries``
    times) when they woke up meanwhile.
    Returns (times, cores used by other processes during the kept measurement)."""
    for attempt in range(retries + 1 if patience else 1):
        if patience:
            wait_until_quiet(patience)
        load = OtherLoad()
        times = race(cases, rounds, number)
        if load.cores() <= NOISY or attempt == retries:
            break
    return times, load.cores()


@contextlib.contextmanager
def quiet_convergence():
    """max_iter=1 fits warn by design; silence only that warning."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


def grouped_params(variants, impls):
    """pytest parameters (value, impl) for every variant x impl; variants is {label: value}
    and each label is its own pytest-benchmark group, so that one group compares the
    implementations on one shape."""
    import pytest

    return [pytest.param(value, impl, id=f"{label}-{impl}",
                         marks=pytest.mark.benchmark(group=label))
            for label, value in variants.items() for impl in impls]


def need_torch(impl):
    """Skip the test (pytest.importorskip) when it is PyTorch's and torch is missing."""
    if impl == "PyTorch":
        import pytest

        pytest.importorskip("torch")
