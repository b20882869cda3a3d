"""nnfast.save / nnfast.load: a safetensors model file that predicts bitwise the same after
loading, continues training exactly, loads in later versions (the files in tests/data),
and rejects truncated, corrupted or hostile files with a ValueError (thousands of
mutated files, in a child process so that a crash fails the test)."""

import json
import os
import pickle
import struct
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

import nnfast
from nnfast import MLPClassifier, MLPRegressor

pytest.importorskip("safetensors")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def outputs(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def variants(iris, diabetes):
    X, y = iris
    Xd, yd = diabetes
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return {
        "multiclass adam": (MLPClassifier((7,), max_iter=5, random_state=0), X, y),
        "string labels lbfgs": (MLPClassifier((7,), solver="lbfgs", max_iter=5, random_state=0),
                                X, names),
        "binary sgd early stopping": (MLPClassifier((7, 5), solver="sgd", max_iter=5,
                                                    early_stopping=True, random_state=0), X, y == 1),
        "multilabel": (MLPClassifier((7,), max_iter=5, random_state=0), X,
                       np.eye(3, dtype=int)[y] | (X[:, :1] > 5)),
        "bool labels": (MLPClassifier((4,), max_iter=5, random_state=0), X, y == 2),
        "int8 labels, NumPy-typed params": (
            MLPClassifier(np.array([4]), max_iter=np.int64(5), alpha=np.float32(1e-3),
                          shuffle=np.True_, random_state=np.int64(3)), X, y.astype(np.int8)),
        "float32 labels": (MLPClassifier((4,), max_iter=5, random_state=0), X,
                           y.astype(np.float32) + 1),
        "regressor multi-output": (MLPRegressor(hidden_layer_sizes=(6,), max_iter=5,
                                                random_state=0), Xd, np.c_[yd, -yd]),
        "poisson": (MLPRegressor(loss="poisson", hidden_layer_sizes=(6,), max_iter=5,
                                 random_state=0), Xd, np.abs(yd)),
        "feature names": (MLPClassifier((5,), max_iter=5, random_state=0),
                          pd.DataFrame(X, columns=["a", "b", "c", "d"]), y),
        "batch norm early stopping": (MLPClassifier((7, 5), batch_norm=True, solver="sgd",
                                                    early_stopping=True, max_iter=5,
                                                    random_state=0), X, y),
    }


@pytest.mark.parametrize("name", [
    "multiclass adam", "string labels lbfgs", "binary sgd early stopping", "multilabel",
    "bool labels", "int8 labels, NumPy-typed params", "float32 labels", "regressor multi-output", "poisson", "feature names",
    "batch norm early stopping"])
def test_round_trip_is_bitwise_and_continues_training(iris, diabetes, tmp_path, name):
    model, X, y = variants(iris, diabetes)[name]
    model.fit(X, y)
    path = tmp_path / "model.safetensors"
    nnfast.save(model, path)
    loaded = nnfast.load(path)
    assert type(loaded) is type(model)
    params = model.get_params()
    params["hidden_layer_sizes"] = tuple(np.ravel(params["hidden_layer_sizes"]).tolist())
    assert loaded.get_params() == params
    assert_array_equal(outputs(loaded, X), outputs(model, X))
    assert_array_equal(loaded.predict(X), model.predict(X))
    for attr in ("n_features_in_", "n_outputs_", "n_layers_", "n_iter_", "out_activation_",
                 "loss_", "loss_curve_", "best_loss_", "validation_scores_", "t_"):
        assert getattr(loaded, attr, "absent") == getattr(model, attr, "absent"), attr
    if hasattr(model, "classes_"):
        assert_array_equal(loaded.classes_, model.classes_)
        assert loaded.classes_.dtype == model.classes_.dtype
    if hasattr(model, "feature_names_in_"):
        assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    # Training continues exactly as the original (same optimizer state and shuffling).
    twin = pickle.loads(pickle.dumps(model))
    for est in (twin, loaded):
        est.set_params(warm_start=True).fit(X, y)
    for a, b in zip(twin.coefs_, loaded.coefs_):
        assert_array_equal(a, b)


def test_partial_fit_stream_continues_after_load(iris, tmp_path):
    X, y = iris
    model = MLPClassifier((6,), random_state=0)
    model.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    nnfast.save(model, tmp_path / "m.safetensors")
    loaded = nnfast.load(tmp_path / "m.safetensors")
    for est in (model, loaded):
        est.partial_fit(X[50:], y[50:])
    for a, b in zip(model.coefs_, loaded.coefs_):
        assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_files_of_format_version_1_still_load(name):
    expected = json.load(open(os.path.join(DATA, "expected_v1.json")))[name]
    model = nnfast.load(os.path.join(DATA, f"{name}_v1.safetensors"))
    X = np.array(expected["X"])
    want = np.array([float.fromhex(v) for v in expected["output"]]).reshape(expected["shape"])
    assert_array_equal(outputs(model, X), want)
    assert [str(v) for v in model.predict(X)] == expected["predict"]


def test_save_rejects_what_it_cannot_save(iris, tmp_path):
    X, y = iris
    changed = MLPClassifier((5,), max_iter=2).fit(X, y).set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(7,\) was changed since the fit"):
        nnfast.save(changed, tmp_path / "m.safetensors")  # would not load
    with pytest.raises(NotFittedError):
        nnfast.save(MLPClassifier(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="model must be an nnfast MLPClassifier"):
        nnfast.save(object(), tmp_path / "m.safetensors")


def saved(iris, tmp_path):
    X, y = iris
    path = tmp_path / "m.safetensors"
    nnfast.save(MLPClassifier((5,), max_iter=3, random_state=0).fit(X, y), path)
    return path


def rewrite(path, edit_header=None, tail=None):
    """Rewrite a safetensors file with its JSON header edited (edit_header(dict)), keeping
    or replacing the data after it."""
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    if edit_header:
        edit_header(header)
    new = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(new)) + new +
                           (data[8 + n:] if tail is None else tail))


def resign(path, edit_tensors=None):
    """Recompute the checksum, as the author of a hostile file would (after
    edit_tensors(dict of arrays), if given)."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from nnfast._model_file import checksum
    with safe_open(str(path), framework="numpy") as f:
        meta, tensors = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}
    if edit_tensors:
        edit_tensors(tensors)
    meta["checksum"] = checksum(meta, tensors)
    save_file(tensors, str(path), metadata=meta)


def set_meta(field, value):
    return lambda h: h["__metadata__"].__setitem__(field, value)


def json_field(meta_key, field, value):
    """An edit of one field of a JSON string of the metadata."""
    def edit(header):
        inner = json.loads(header["__metadata__"][meta_key])
        inner[field] = value
        header["__metadata__"][meta_key] = json.dumps(inner)
    return edit


def attribute(field, value):
    return json_field("attributes", field, value)


def optimizer_field(field, value):
    return json_field("optimizer", field, value)


def test_hostile_and_broken_files_raise_value_error(iris, tmp_path):
    path = saved(iris, tmp_path)
    good = open(path, "rb").read()

    def check(match, *, edit=None, tail=None, raw=None, sign=False, tensors=None):
        open(path, "wb").write(good if raw is None else raw)
        if edit or tail is not None:
            rewrite(path, edit, tail)
        if sign or tensors:
            resign(path, tensors)
        with pytest.raises(ValueError, match=match):
            nnfast.load(path)

    check("not a valid safetensors file", raw=good[: len(good) // 2])  # truncated
    check("not a valid safetensors file", raw=b"")
    check("not a valid safetensors file", raw=pickle.dumps(MLPClassifier()))  # a pickle
    check("not a valid safetensors file", raw=struct.pack("<Q", 2**63) + good[8:])  # huge header
    flipped = bytearray(good)
    flipped[-3] ^= 0x10  # one bit of a weight
    check("corrupted: its checksum does not match", raw=bytes(flipped))
    check("checksum", edit=set_meta("format_version", "1 "))
    check("format is 'other'", edit=set_meta("format", "other"), sign=True)
    check("format_version '2' is not one this nnfast .* can read: upgrade",
          edit=set_meta("format_version", "2"), sign=True)
    check("class 'os.system' is not an nnfast estimator", edit=set_meta("class", "os.system"),
          sign=True)
    check(r"tensor .coefs.0. is float32 \(4, 5\), expected float32 \(4, 6\)", edit=lambda h: h["__metadata__"].__setitem__(
        "params", h["__metadata__"]["params"].replace('"hidden_layer_sizes": [5]',
                                                      '"hidden_layer_sizes": [6]')), sign=True)
    check("'activation' parameter", edit=lambda h: h["__metadata__"].__setitem__(
        "params", h["__metadata__"]["params"].replace('"relu"', '"__import__"')), sign=True)
    check("tensor 'coefs.1' is missing", tensors=lambda t: t.pop("coefs.1"))
    check(r"unexpected tensors \['payload'\]",
          tensors=lambda t: t.__setitem__("payload", np.zeros(3, np.uint8)))
    check("tensor 'optimizer.step' is int64 \\(2,\\)",
          tensors=lambda t: t.__setitem__("optimizer.step", np.zeros(2, np.int64)))
    check("tensor 'coefs.0' is int32", edit=lambda h: h["coefs.0"].update(dtype="I32"),
          sign=True)
    check(r"tensor 'coefs.0' is float32 \(5, 4\)", edit=lambda h: h["coefs.0"].update(
        shape=[5, 4]), sign=True)
    check("out_activation_='logistic' does not match y_type_='multiclass'",
          edit=attribute("out_activation_", "logistic"), sign=True)
    check("attribute n_iter_=-3 is negative", edit=attribute("n_iter_", -3), sign=True)
    check("best_validation_score_=2.0 is above 1", edit=attribute("best_validation_score_", 2.0),
          sign=True)
    check("optimizer beta_1=5 is out of range", edit=optimizer_field("beta_1", 5), sign=True)
    check("optimizer epsilon=0 is out of range", edit=optimizer_field("epsilon", 0), sign=True)
    check("tensor best_coefs holds NaN", sign=True, tensors=lambda t: t["best_coefs.0"].__setitem__(
        (0, 0), np.nan))
    check("negative Adam v", tensors=lambda t: t["optimizer.state2.0"].__setitem__((0, 0), -1.0))
    check(r"2 classes \(multiclass\) do not match n_outputs_=3", edit=lambda h: h["__metadata__"].__setitem__(
        "attributes", h["__metadata__"]["attributes"].replace('"values": [0, 1, 2]',
                                                              '"values": [0, 1]')), sign=True)


def test_regressor_head_must_match_its_loss(diabetes, tmp_path):
    X, y = diabetes
    path = tmp_path / "m.safetensors"
    nnfast.save(MLPRegressor(loss="poisson", max_iter=2).fit(X, np.abs(y)), path)
    rewrite(path, attribute("out_activation_", "identity"))
    resign(path)
    with pytest.raises(ValueError, match="out_activation_='identity' does not match "
                                         "loss='poisson'"):
        nnfast.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nnfast.load(tmp_path / "nothing.safetensors")


def test_thousands_of_mutated_files_never_crash_nor_load_silently_broken(iris, tmp_path):
    path = saved(iris, tmp_path)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "_model_file_fuzz.py"),
                           str(path), "3000", "0"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"the child crashed ({proc.returncode}): {proc.stderr[-3000:]}"
    summary = json.loads(proc.stdout.splitlines()[-1])
    print("mutated model files:", summary)
    assert summary["files"] == 3000 and summary["failures"] == 0, proc.stdout[-3000:]
    assert summary["rejected"] > 2000  # most mutations break the file; they must be caught


def test_batch_norm_tensors_are_checked(iris, tmp_path):
    X, y = iris
    path = tmp_path / "bn.safetensors"
    nnfast.save(MLPClassifier((5,), batch_norm=True, max_iter=3, random_state=0).fit(X, y), path)

    def negative_variance(tensors):
        tensors["running_vars.0"] = -np.abs(tensors["running_vars.0"])

    def missing(tensors):
        del tensors["batch_norm_shifts.0"]

    def resized(tensors):
        tensors["best_running_means.0"] = np.zeros(4, np.float32)

    for edit, message in ((negative_variance, "negative variance"),
                          (missing, "'batch_norm_shifts.0' is missing"),
                          (resized, "best_running_means.0")):
        broken = tmp_path / f"{edit.__name__}.safetensors"
        broken.write_bytes(path.read_bytes())
        resign(broken, edit)
        with pytest.raises(ValueError, match=message):
            nnfast.load(broken)
