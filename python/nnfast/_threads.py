"""The thread count: nnfast's own setting on top of OpenMP's standard controls.

The rules live in the C++ core (``cpp/threads.hpp``); this module validates the Python
argument once and gathers what ``python -m nnfast info`` prints.
"""

from __future__ import annotations

import numbers
from typing import Any

from . import _core

MAX_THREADS = _core.MAX_THREADS


def set_num_threads(n: int) -> None:
    """Set the number of threads nnfast's kernels and estimators use.

    The setting holds for the whole process. It also sets OpenMP's thread count of the
    calling thread, so ``threadpoolctl.threadpool_info()`` reports ``n``; a
    ``threadpoolctl.threadpool_limits`` block with a lower limit still lowers it inside
    the block. Results do not depend on the thread count (bitwise).

    Parameters
    ----------
    n : int
        Number of threads, ``1 <= n <= nnfast.MAX_THREADS`` (1024).

    Raises
    ------
    TypeError
        If ``n`` is not an integer (``bool`` included).
    ValueError
        If ``n`` is below 1 or above ``MAX_THREADS``.

    See Also
    --------
    get_num_threads : The count a call would use now.

    Examples
    --------
    >>> import nnfast
    >>> nnfast.set_num_threads(2)
    >>> nnfast.get_num_threads()
    2
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"set_num_threads: n must be an integer, got {type(n).__name__} {n!r}")
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads: n must be between 1 and {MAX_THREADS}, got {n}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """The number of threads a call made now, on this Python thread, would use.

    In order: ``set_num_threads``'s value (lowered by a ``threadpool_limits`` block or
    ``omp_set_num_threads`` on this thread), else OpenMP's setting of this thread
    (``threadpool_limits``, ``OMP_NUM_THREADS``), else the number of CPUs this process
    may run on. While calls run on several Python threads at once, each uses at most its
    share of the budget (see the README, "Threads").

    Returns
    -------
    int

    Examples
    --------
    >>> import nnfast
    >>> nnfast.get_num_threads() >= 1
    True
    >>> nnfast.set_num_threads(1)
    >>> nnfast.get_num_threads()
    1
    """
    return _core.get_num_threads()


def thread_info() -> dict[str, Any]:
    """What decides the thread count, for ``python -m nnfast info``.

    Returns
    -------
    dict
        ``threads`` (int, as :func:`get_num_threads`), ``source`` (str: ``"set_num_threads"``,
        ``"OpenMP setting (threadpoolctl or omp_set_num_threads)"``, ``"OMP_NUM_THREADS"`` or
        ``"CPU count"``), ``budget`` (int: the threads concurrent calls share),
        ``openmp_runtime`` (str: the OpenMP library's file), ``openmp_version`` (int:
        ``_OPENMP``, e.g. 201511 for OpenMP 4.5) and ``threadpool_info`` (list of dict:
        ``threadpoolctl.threadpool_info()``, or None without threadpoolctl).
    """
    threads, source = _core.thread_setting()
    runtime, version = _core.openmp_runtime()
    try:
        from threadpoolctl import threadpool_info
        pools = threadpool_info()
    except ImportError:  # scikit-learn depends on it, but it is not ours to require
        pools = None
    return {"threads": threads, "source": source, "budget": _core.thread_budget(),
            "openmp_runtime": runtime, "openmp_version": version, "threadpool_info": pools}
