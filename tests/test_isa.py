"""The kernel tables: which instruction sets this CPU runs, NNFAST_ISA's choice (with a
warning when it cannot be followed), and the same model on every instruction set."""

import os
import subprocess
import sys

import numpy as np
import pytest
import sklearn.neural_network as sk
from sklearn.datasets import load_digits

from nnfast import MLPClassifier, _core, ops


def run_python(code, isa):
    env = dict(os.environ, NNFAST_ISA=isa)
    return subprocess.run([sys.executable, "-W", "always", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)


def test_available_isas():
    names = ops.available_isas()
    assert names[0] == "generic"
    assert ops.isa() in names
    assert ("avx2" in names) == _core.cpu_supports_avx2()
    assert ops.isa() == names[-1] or os.environ.get("NNFAST_ISA")  # the widest by default


@pytest.mark.parametrize("name", ["generic", "avx2"])
def test_nnfast_isa_selects_a_table(name):
    if name not in ops.available_isas():
        pytest.skip(f"{name} is not available here")
    proc = run_python("import nnfast; print(nnfast.ops.isa())", name)
    assert proc.stdout.strip() == name
    assert "RuntimeWarning" not in proc.stderr


@pytest.mark.parametrize("name", ["avx512", "sse9"])
def test_nnfast_isa_unavailable_warns_and_falls_back(name):
    if name in ops.available_isas():
        pytest.skip(f"{name} is available here")
    proc = run_python("import nnfast; print(nnfast.ops.isa())", name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ops.available_isas()[-1]
    assert f"RuntimeWarning: NNFAST_ISA={name} is not" in proc.stderr
    assert "available: " + ", ".join(ops.available_isas()) in proc.stderr


def test_set_isa_rejects_unknown_names():
    with pytest.raises(ValueError, match="no instruction set 'sse9'"):
        _core.set_isa("sse9")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_on_every_isa_follows_scikit_learn(isa):
    X, y = load_digits(return_X_y=True)
    kw = dict(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    ours = MLPClassifier(**kw).fit(X / 16.0, y).loss_curve_
    theirs = sk.MLPClassifier(**kw).fit(X / 16.0, y).loss_curve_
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


# Instruction sets with FMA whose GEMM gives each output element one FMA chain over k in
# the same order and blocking (generic has no FMA: it rounds differently, by design).
FMA_ISAS = ("avx2", "avx512")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_are_bitwise_identical_across_fma_isas():
    sets = [s for s in FMA_ISAS if s in ops.available_isas()]
    if len(sets) < 2:
        pytest.skip(f"needs two of {', '.join(FMA_ISAS)}; this CPU and build run "
                    f"{', '.join(ops.available_isas())}")
    X, y = load_digits(return_X_y=True)
    saved, fits = ops.isa(), []
    try:
        for name in sets:
            _core.set_isa(name)
            fits.append([MLPClassifier((64, 32), max_iter=5, random_state=0, **options)
                         .fit(X / 16.0, y)
                         for options in ({}, {"batch_norm": True, "activation": "gelu"},
                                         {"dtype": np.float64, "batch_norm": True,
                                          "activation": "gelu"})])
    finally:
        _core.set_isa(saved)
    for same_options in zip(*fits):  # one set of options, fitted on each instruction set
        for other in same_options[1:]:
            for a, b in zip(same_options[0]._trained_params(), other._trained_params()):
                np.testing.assert_array_equal(a, b)
