"""The pytest-benchmark suite (not collected by the main test suite, whose testpaths is
tests/):

    python -m pytest bench/ --benchmark-only

Every library runs at NNFAST_BENCH_THREADS threads (default 2) for the whole session.
"""

import os

import pytest

from common import core, pinned_threads

THREADS = int(os.environ.get("NNFAST_BENCH_THREADS", "2"))


@pytest.fixture(autouse=True, scope="session")
def _pinned_threads():
    with pinned_threads(THREADS):
        yield


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["nnfast_threads"] = THREADS
    machine_info["nnfast_isa"] = core.isa()
