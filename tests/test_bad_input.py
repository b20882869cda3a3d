"""The bad-input table (tests/_bad_input_cases.py), each case checked for the outcome it
must have: a clear ValueError/TypeError naming the argument, or a correct result. The
cases run in a child process; if it crashes, the case it was on fails with the signal and
the rest run in a new child, so a crash fails a test instead of killing the suite."""

import json
import os
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input_cases import CASES  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def outcomes():
    """{case index: JSON result or {"outcome": "crashed", ...}}, all cases."""
    results, first = {}, 0
    while first < len(CASES):
        proc = subprocess.run([sys.executable, os.path.join(HERE, "_bad_input_cases.py"),
                               str(first)], capture_output=True, text=True, timeout=600)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                results[result["i"]] = result
        done = max(results, default=first - 1)
        if done + 1 < len(CASES) and proc.returncode != 0:
            results[done + 1] = {"outcome": "crashed", "returncode": proc.returncode,
                                 "stderr": proc.stderr[-2000:]}
            first = done + 2
        else:
            first = len(CASES)
    return results


def test_table_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_bad_input(outcomes, i):
    name, _, expected = CASES[i]
    got = outcomes.get(i)
    assert got is not None, f"{name}: no result (the child stopped early)"
    assert got["outcome"] != "crashed", f"{name}: the process crashed: {got}"
    if expected == ("ok",):
        assert got["outcome"] == "ok", f"{name}: expected success, got {got}"
        return
    error, pattern = expected
    assert got["outcome"] == "raised", f"{name}: expected {error.__name__}, it returned"
    assert error.__name__ in got["mro"], f"{name}: expected {error.__name__}, got {got}"
    assert "incompatible function arguments" not in got["message"], got["message"]
    assert re.search(pattern, got["message"]), f"{name}: {got['message']!r} !~ {pattern!r}"
