"""The README's Python examples run as written, without a warning (the README must always
hold)."""

import os
import pathlib
import re
import warnings

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples_and_commands():
    text = README.read_text()
    assert BLOCKS
    assert "pip install . && python -m nnfast demo" in text
    assert 'pip install ".[test]" && python -m pytest' in text


# The optional packages an example imports (extras): without them it is skipped, saying so.
OPTIONAL = ("onnxruntime", "skl2onnx", "onnx", "dask", "distributed", "safetensors", "torch")


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    for module in OPTIONAL:
        if re.search(rf"^\s*(import|from) {module}\b", BLOCKS[index], re.M):
            pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # an example may write a file
    environment = dict(os.environ)  # dask's cluster sets OMP_NUM_THREADS=1 here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a new user's copy must run without a warning
            exec(compile(BLOCKS[index], f"README example {index}", "exec"),
                 {"__name__": "__main__"})
    finally:
        os.environ.clear()
        os.environ.update(environment)
