"""Every script in examples/ runs as a user would run it, and prints what it claims."""

import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

# Per example: (pattern with one number, check on that number), all of which must hold.
EXPECTED = {
    "xor.py": [(r"perceptron accuracy: ([\d.]+)", lambda v: v <= 0.75),
               (r"mlp accuracy: ([\d.]+)", lambda v: v == 1.0)],
    "ops_two_layer.py": [(r"largest weight difference nnfast.ops vs NumPy: ([\d.e+-]+)",
                          lambda v: v < 1e-4),
                         (r"NumPy: .*training accuracy ([\d.]+)", lambda v: v > 0.9)],
    "quadrants.py": [(r"test accuracy: ([\d.]+)", lambda v: v >= 0.95)],
    "regression.py": [(r"10 features: test R\^2 ([\d.]+)", lambda v: v >= 0.99),
                      (r"32-64-32-1 .*: test R\^2 ([\d.]+)", lambda v: v >= 0.8)],
    "breast_cancer.py": [(r"test accuracy: ([\d.]+)", lambda v: v >= 0.93),
                         (r"(\d+)\s+\d+\]\n \[", lambda v: v >= 45)],  # malignant found
    "digits_mnist_recipe.py": [(r"test accuracy: ([\d.]+)", lambda v: v >= 0.85)],
    "learning_curves.py": [(r"validation accuracy ([\d.]+)", lambda v: v >= 0.95),
                           (r"validation loss ([\d.]+)", lambda v: v < 0.3),
                           (r"epochs: (\d+)", lambda v: v >= 10)],
    "regularization.py": [(r"softmax classifier .*test accuracy ([\d.]+)", lambda v: v >= 0.85),
                          (r"L2 \(alpha=0.1\) .*test accuracy ([\d.]+)", lambda v: v >= 0.9),
                          (r"dropout=0.5 .*test accuracy ([\d.]+)", lambda v: v >= 0.9),
                          (r"batch norm .*test accuracy ([\d.]+)", lambda v: v >= 0.9),
                          (r"He initialisation .*test accuracy ([\d.]+)", lambda v: v >= 0.9),
                          (r"GELU .*test accuracy ([\d.]+)", lambda v: v >= 0.9)],
}


def test_every_example_has_expectations():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_and_prints_its_result(name, tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)  # what it saves lands there
    assert run.returncode == 0, run.stderr
    for pattern, ok in EXPECTED[name]:
        match = re.search(pattern, run.stdout)
        assert match, f"{name} did not print {pattern!r}:\n{run.stdout}"
        assert ok(float(match.group(1))), f"{name}: {match.group(0)!r}"


def test_learning_curves_saves_a_picture(tmp_path):
    """The picture is a PNG of a plausible size (matplotlib drew two curves on it)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "curves.png"
    subprocess.run([sys.executable, str(EXAMPLES / "learning_curves.py"), str(out)],
                   check=True, capture_output=True, timeout=300)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000

