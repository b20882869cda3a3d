"""nnfast.save / nnfast.load: a fitted estimator in a safetensors file, not a pickle.

Format (version 1)
------------------
A safetensors file (https://github.com/huggingface/safetensors): an 8-byte header
length, a JSON header, then raw little-endian tensors. Loading it executes no code,
and safetensors itself rejects a header or tensor offsets that do not fit the file.

Tensors, by name (of the model's dtype, float32 or float64 as its ``dtype`` parameter
says, unless said; a file without that parameter is float32):
- ``coefs.{i}``, ``intercepts.{i}``: the weights, scikit-learn's ``coefs_`` /
  ``intercepts_``;
- ``best_coefs.{i}``, ``best_intercepts.{i}``: the early-stopping snapshot;
- with ``batch_norm=True``, per hidden layer i: ``batch_norm_scales.{i}``,
  ``batch_norm_shifts.{i}``, ``running_means.{i}``, ``running_vars.{i}`` and their
  early-stopping snapshot ``best_batch_norm_scales.{i}``, ... (absent otherwise);
- ``optimizer.state1.{i}``, ``optimizer.state2.{i}``, ``optimizer.step`` (int64, (1,)):
  Adam's m and v (SGD: velocities only) and Adam's t, so training continues exactly (the
  shuffling restarts from ``random_state`` at every fit, as in scikit-learn).

The header's ``__metadata__`` (string values) holds ``format`` = "nnfast",
``format_version``, ``nnfast_version``, ``class`` (MLPClassifier or MLPRegressor), and
JSON strings: ``params`` (get_params(); a RandomState instance as ``random_state`` is
saved as None), ``attributes`` (the other fitted attributes: n_features_in_, loss_curve_,
classes_ with its exact dtype, ...), ``optimizer`` (kind and its hyperparameters), and
``checksum``: the SHA-256 of
every other metadata field and every tensor's name, dtype, shape and bytes (see
``checksum``), so a flipped bit anywhere is caught (safetensors has no checksum).

Everything read is checked (names, dtypes, shapes, the chain of layer sizes, value
types) before an estimator is built: a truncated, corrupted or hostile file is a
ValueError, never a crash, never executed, never a large allocation (every tensor lies
inside the file).
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
from typing import TYPE_CHECKING, Union

import numpy as np

from . import _batch_norm
from ._network import all_finite

if TYPE_CHECKING:
    from ._multilayer_perceptron import MLPClassifier, MLPRegressor

FORMAT = "nnfast"
FORMAT_VERSION = 1
# The dtype parameter, saved by name.
_DTYPES = {"float32": np.float32, "float64": np.float64}

# Fitted attributes stored as JSON, with the Python types they must have on load.
_ATTRIBUTE_TYPES = {
    "n_features_in_": int, "n_outputs_": int, "n_layers_": int, "n_iter_": int, "t_": int,
    "out_activation_": str, "loss_": float, "loss_curve_": list, "best_loss_": (float, type(None)),
    "validation_scores_": (list, type(None)), "best_validation_score_": (float, type(None)),
    "_no_improvement_count": int, "validation_loss_curve_": list,
}
_OUT_ACTIVATIONS = {"MLPClassifier": {"logistic", "softmax"},
                    "MLPRegressor": {"identity", "exp"}}
_Y_TYPES = {"binary", "multiclass", "multilabel-indicator"}
_CLASS_KINDS = {"b": bool, "i": int, "u": int, "f": float, "U": str, "O": None}


class ModelFileError(ValueError):
    """A file that is not a valid nnfast model file (a ValueError)."""


def _safetensors():
    try:
        import safetensors.numpy  # noqa: F401
        from safetensors import safe_open
    except ImportError:
        raise ImportError("nnfast.save and nnfast.load need the safetensors package: "
                          "pip install 'nnfast[io]' (or pip install safetensors)") from None
    return safetensors.numpy, safe_open


# --- save ------------------------------------------------------------------------------------
def save(model: Union[MLPClassifier, MLPRegressor],
         path: Union[str, os.PathLike[str]]) -> None:
    """Save a fitted MLPClassifier or MLPRegressor to a safetensors file.

    The file holds the weights, the optimizer state (training continues where it
    stopped, after ``nnfast.load``, with ``warm_start`` or ``partial_fit``), the
    hyperparameters and the fitted attributes; no pickle, so loading runs no code.

    Parameters
    ----------
    model : MLPClassifier or MLPRegressor
        A fitted estimator.
    path : str or os.PathLike
        The file to write (conventionally ``*.safetensors``); replaced if it exists.

    Raises
    ------
    TypeError
        ``model`` is not an nnfast estimator.
    sklearn.exceptions.NotFittedError
        ``model`` is not fitted.
    ValueError
        ``hidden_layer_sizes`` was changed since the fit (the file would not load), or a
        hyperparameter JSON cannot hold. (``random_state`` as a RandomState instance is
        saved as None.)
    ImportError
        safetensors is not installed (``pip install 'nnfast[io]'``).

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> import nnfast
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = nnfast.MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=1000,
    ...                            random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "iris.safetensors")
    ...     nnfast.save(clf, path)
    ...     loaded = nnfast.load(path)
    >>> np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    True
    """
    from ._base import BaseMultilayerPerceptron

    if not isinstance(model, BaseMultilayerPerceptron):
        raise TypeError(f"model must be an nnfast MLPClassifier or MLPRegressor, "
                        f"got {type(model).__module__}.{type(model).__qualname__}")
    model._check_fitted()
    fitted = [int(np.shape(c)[1]) for c in model.coefs_[:-1]]
    if fitted != [int(s) for s in model._hidden_layer_sizes()]:
        raise ValueError(f"hidden_layer_sizes={model.hidden_layer_sizes!r} was changed since "
                         f"the fit (the weights have hidden layers {fitted}): set it back "
                         "or refit before saving")
    if bool(model.batch_norm) != _batch_norm.is_fitted_with(model):
        raise ValueError(f"batch_norm={model.batch_norm!r} was changed since the fit (the "
                         f"model was fitted {'without' if model.batch_norm else 'with'} batch "
                         "norm): set it back or refit before saving")
    st_numpy, _ = _safetensors()
    tensors, metadata = _encode(model)
    metadata["checksum"] = checksum(metadata, tensors)
    st_numpy.save_file(tensors, os.fspath(path), metadata=metadata)


def checksum(metadata, tensors):
    """``"sha256:<hex>"`` of the metadata (but its checksum) and the tensors, in
    sorted order of their names, each with its dtype and shape."""
    h = hashlib.sha256()
    for key in sorted(k for k in metadata if k != "checksum"):
        h.update(f"{key}\0{metadata[key]}\0".encode())
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()


def _encode(model):
    from . import __version__

    dtype = model._dtype()
    tensors = {}
    for name, arrays in (("coefs", model.coefs_), ("intercepts", model.intercepts_),
                         ("best_coefs", getattr(model, "_best_coefs", [])),
                         ("best_intercepts", getattr(model, "_best_intercepts", []))):
        for i, a in enumerate(arrays):
            tensors[f"{name}.{i}"] = np.ascontiguousarray(a, dtype=dtype)
    if _batch_norm.is_fitted_with(model):
        best = getattr(model, "_best_batch_norm", None) or _batch_norm.arrays(model)
        for name, group, best_group in zip(_batch_norm.ATTRIBUTES, _batch_norm.arrays(model),
                                           best):
            for i, (a, b) in enumerate(zip(group, best_group)):
                tensors[f"{name[:-1]}.{i}"] = np.ascontiguousarray(a, dtype=dtype)
                tensors[f"best_{name[:-1]}.{i}"] = np.ascontiguousarray(b, dtype=dtype)
    optimizer = getattr(model, "_optimizer", None)
    optimizer_meta = None
    if optimizer is not None:
        for i, a in enumerate(optimizer.state1):
            tensors[f"optimizer.state1.{i}"] = np.ascontiguousarray(a, dtype=dtype)
        for i, a in enumerate(optimizer.state2):
            tensors[f"optimizer.state2.{i}"] = np.ascontiguousarray(a, dtype=dtype)
        tensors["optimizer.step"] = np.ascontiguousarray(optimizer.step, dtype=np.int64)
        optimizer_meta = {k: v for k, v in vars(optimizer).items()
                          if k not in ("step", "state1", "state2")}
        optimizer_meta["kind"] = optimizer.kind
    params = model.get_params()
    if isinstance(params["random_state"], numbers.Integral):
        params["random_state"] = int(params["random_state"])
    elif params["random_state"] is not None:  # a RandomState instance: not a hyperparameter
        params["random_state"] = None
    if isinstance(params["hidden_layer_sizes"], np.ndarray):
        params["hidden_layer_sizes"] = params["hidden_layer_sizes"].tolist()
    params["dtype"] = dtype.name  # "float32" or "float64" (a NumPy type is not JSON)
    if isinstance(params.get("class_weight"), dict):  # [label, weight] pairs: JSON keys are str
        params["class_weight"] = [[k, v] for k, v in params["class_weight"].items()]
    attributes = {k: _plain(getattr(model, k)) for k in _ATTRIBUTE_TYPES if hasattr(model, k)}
    if hasattr(model, "feature_names_in_"):
        attributes["feature_names_in_"] = [str(n) for n in model.feature_names_in_]
    if hasattr(model, "classes_"):
        attributes["classes_"] = {"kind": model.classes_.dtype.kind,
                                  "dtype": model.classes_.dtype.str,
                                  "values": model.classes_.tolist()}
        attributes["y_type_"] = model._label_binarizer.y_type_
    metadata = {
        "format": FORMAT, "format_version": str(FORMAT_VERSION), "nnfast_version": __version__,
        "class": type(model).__name__,
        "params": _dumps(params, "params"), "attributes": _dumps(attributes, "attributes"),
        "optimizer": _dumps(optimizer_meta, "optimizer"),
    }
    return tensors, metadata


def _plain(value):
    """NumPy scalars, and lists, tuples and dicts of them, as JSON-ready Python values."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dumps(value, what):
    try:
        return json.dumps(_plain(value))
    except TypeError as e:
        raise ValueError(f"cannot save {what}: {e}") from None


# --- load ------------------------------------------------------------------------------------
def load(path: Union[str, os.PathLike[str]]) -> Union[MLPClassifier, MLPRegressor]:
    """Load an estimator saved by :func:`nnfast.save`.

    The loaded estimator predicts bitwise identically to the saved one and continues
    training from its saved optimizer state. Files written by older nnfast versions
    load (the ``format_version`` field); a newer format is refused with a message.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : MLPClassifier or MLPRegressor

    Raises
    ------
    FileNotFoundError, OSError
        The file cannot be read.
    ValueError
        The file is not a valid nnfast model file (truncated, corrupted, another
        format, a newer format version, or inconsistent contents); the message says
        what is wrong. Loading never executes code from the file.
    ImportError
        safetensors is not installed (``pip install 'nnfast[io]'``).

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> import nnfast
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = nnfast.MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=1000,
    ...                            random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "iris.safetensors")
    ...     nnfast.save(clf, path)
    ...     loaded = nnfast.load(path)
    >>> loaded
    MLPClassifier(hidden_layer_sizes=(10,), max_iter=1000, random_state=0,
                  solver='lbfgs')
    >>> (loaded.predict(X[:3]) == clf.predict(X[:3])).tolist()
    [True, True, True]
    """
    _, safe_open = _safetensors()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (OSError, MemoryError):
        raise
    except Exception as e:  # safetensors' own error type: header, offsets, dtypes
        raise ModelFileError(f"{path!r} is not a valid safetensors file: {e}") from None
    if metadata.get("checksum") != checksum(metadata, tensors):
        raise ModelFileError(f"{path!r} is corrupted: its checksum does not match its "
                             "contents")
    try:
        return _decode(metadata, tensors)
    except ModelFileError as e:
        raise ModelFileError(f"{path!r} is not a valid nnfast model file: {e}") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError,
            RecursionError) as e:
        raise ModelFileError(f"{path!r} is not a valid nnfast model file: "
                             f"{type(e).__name__}: {e}") from None


def _json(metadata, key, kind):
    if key not in metadata:
        raise ModelFileError(f"metadata has no {key!r}")
    value = json.loads(metadata[key])
    if not isinstance(value, kind):
        raise ModelFileError(f"metadata {key!r} must be {kind}, got {type(value).__name__}")
    return value


def _decode(metadata, tensors):
    from ._multilayer_perceptron import MLPClassifier, MLPRegressor

    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
    version = metadata.get("format_version", "")
    if not version.isdigit() or not 1 <= int(version) <= FORMAT_VERSION:
        raise ModelFileError(f"format_version {version!r} is not one this nnfast "
                             f"(reads 1 to {FORMAT_VERSION}) can read: upgrade nnfast")
    cls = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}.get(metadata.get("class"))
    if cls is None:
        raise ModelFileError(f"class {metadata.get('class')!r} is not an nnfast estimator")

    params = _json(metadata, "params", dict)
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    for name in ("activation", "dropout"):  # saved from a tuple (JSON has no tuple)
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    if "dtype" in params:  # saved by name; a file from before dtype= is float32
        if params["dtype"] not in _DTYPES:
            raise ModelFileError(f"params: dtype {params['dtype']!r} is not 'float32' or "
                                 "'float64'")
        params["dtype"] = _DTYPES[params["dtype"]]
    if isinstance(params.get("class_weight"), list):  # saved as [label, weight] pairs
        try:
            params["class_weight"] = {label: weight for label, weight in params["class_weight"]}
        except (TypeError, ValueError):
            raise ModelFileError("params: class_weight is not a list of [label, weight] "
                                 "pairs") from None
    model = cls()
    model.set_params(**params)
    model._validate_params()  # scikit-learn's InvalidParameterError, a ValueError

    attributes = _json(metadata, "attributes", dict)
    _set_attributes(model, cls.__name__, attributes)
    reader = _TensorReader(tensors)
    dtype = model._dtype()
    _set_weights(model, reader, dtype)
    _set_optimizer(model, _json(metadata, "optimizer", (dict, type(None))), reader, dtype)
    if reader.unread():
        raise ModelFileError(f"unexpected tensors {reader.unread()[:5]}")
    model._prepare_predictor()
    return model


def _set_attributes(model, class_name, attributes):
    for name, kind in _ATTRIBUTE_TYPES.items():
        if name not in attributes:
            if name in ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_"):
                raise ModelFileError(f"attribute {name} is missing")
            continue
        value = attributes[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ModelFileError(f"attribute {name} has type {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, (int, float)) and
                                               not isinstance(v, bool) for v in value):
            raise ModelFileError(f"attribute {name} must hold numbers")
        setattr(model, name, value)
    for name in ("n_features_in_", "n_outputs_", "n_layers_"):
        if not 1 <= getattr(model, name) <= 2**31:
            raise ModelFileError(f"attribute {name}={getattr(model, name)} is out of range")
    for name in ("n_iter_", "t_", "_no_improvement_count"):
        if getattr(model, name, 0) < 0:
            raise ModelFileError(f"attribute {name}={getattr(model, name)} is negative")
    score = getattr(model, "best_validation_score_", None)
    if score is not None and not (score <= 1.0 or np.isnan(score)):
        raise ModelFileError(f"best_validation_score_={score} is above 1, which neither "
                             "accuracy nor R^2 can reach")
    if model.out_activation_ not in _OUT_ACTIVATIONS[class_name]:
        raise ModelFileError(f"out_activation_={model.out_activation_!r} is not one of "
                             f"{sorted(_OUT_ACTIVATIONS[class_name])}")
    if class_name == "MLPRegressor" and model.out_activation_ != (
            "exp" if model.loss == "poisson" else "identity"):
        raise ModelFileError(f"out_activation_={model.out_activation_!r} does not match "
                             f"loss={model.loss!r}")
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
                or len(names) != model.n_features_in_ or len(set(names)) != len(names):
            raise ModelFileError("feature_names_in_ must be n_features_in_ distinct strings")
        model.feature_names_in_ = np.asarray(names, dtype=object)
    if class_name == "MLPClassifier":
        _set_classes(model, attributes)


def _set_classes(model, attributes):
    from sklearn.preprocessing import LabelBinarizer

    spec, y_type = attributes.get("classes_"), attributes.get("y_type_")
    if not isinstance(spec, dict) or y_type not in _Y_TYPES:
        raise ModelFileError("classes_ and y_type_ are missing or malformed")
    kind, values = spec.get("kind"), spec.get("values")
    if kind not in _CLASS_KINDS or not isinstance(values, list) or not values:
        raise ModelFileError("classes_ must be a non-empty list with a known kind")
    want = _CLASS_KINDS[kind]
    if want is not None and not all(type(v) is want or (want is float and type(v) is int)
                                    for v in values):
        raise ModelFileError(f"classes_ values are not all {want.__name__}")
    if any(isinstance(v, (list, dict)) for v in values):
        raise ModelFileError("classes_ values must be scalars")
    classes = np.array(values, dtype=object) if kind == "O" else np.asarray(values)
    if kind != "O":
        classes = classes.astype(_class_dtype(spec.get("dtype"), kind, classes))
    if len(set(values)) != len(values) or len(set(classes.tolist())) != len(values):
        raise ModelFileError("classes_ has repeated values")
    want_activation = "softmax" if y_type == "multiclass" else "logistic"
    if model.out_activation_ != want_activation:
        raise ModelFileError(f"out_activation_={model.out_activation_!r} does not match "
                             f"y_type_={y_type!r}")
    expected_outputs = 1 if y_type == "binary" else len(classes)
    if model.n_outputs_ != expected_outputs or (y_type == "binary" and len(classes) != 2):
        raise ModelFileError(f"{len(classes)} classes ({y_type}) do not match "
                             f"n_outputs_={model.n_outputs_}")
    binarizer = LabelBinarizer()
    binarizer.classes_, binarizer.y_type_, binarizer.sparse_input_ = classes, y_type, False
    model._label_binarizer, model.classes_ = binarizer, classes


def _class_dtype(text, kind, values):
    """The saved dtype of classes_ (e.g. "<i1", "<U10"): numeric ones of the saved kind,
    strings at least as wide as the values and at most 4096 characters."""
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        raise ModelFileError(f"classes_ dtype {text!r} is not a dtype") from None
    if dtype.kind != kind or dtype.hasobject or dtype.fields is not None or dtype.shape:
        raise ModelFileError(f"classes_ dtype {text!r} is not of kind {kind!r}")
    too_wide = dtype.itemsize > (4 * 4096 if kind == "U" else 8)
    if too_wide or (kind == "U" and dtype.itemsize < values.dtype.itemsize):
        raise ModelFileError(f"classes_ dtype {text!r} does not fit its values")
    return dtype


class _TensorReader:
    """The file's tensors, each handed out checked for dtype and shape; it remembers which
    were asked for, so that tensors the format does not name are reported."""

    def __init__(self, tensors):
        self.tensors, self.read = tensors, set()

    def get(self, name, dtype, shape):
        """tensors[name] as a writable C array, exactly of ``dtype`` and ``shape``."""
        self.read.add(name)
        if name not in self.tensors:
            raise ModelFileError(f"tensor {name!r} is missing")
        a = self.tensors[name]
        if a.dtype != dtype or a.shape != tuple(shape):
            raise ModelFileError(f"tensor {name!r} is {a.dtype} {a.shape}, expected "
                                 f"{np.dtype(dtype)} {tuple(shape)}")
        return np.require(a, requirements=["C", "A", "W"])

    def unread(self):
        return sorted(set(self.tensors) - self.read)


def _set_weights(model, reader, dtype):
    n_layers = model.n_layers_ - 1
    sizes = [model.n_features_in_, *model._hidden_layer_sizes(), model.n_outputs_]
    if len(sizes) - 1 != n_layers:
        raise ModelFileError(f"n_layers_={model.n_layers_} does not match "
                             f"hidden_layer_sizes={model.hidden_layer_sizes}")
    for name in ("coefs", "intercepts", "best_coefs", "best_intercepts"):
        arrays = []
        for i in range(n_layers):
            shape = (sizes[i], sizes[i + 1]) if name.endswith("coefs") else (sizes[i + 1],)
            arrays.append(reader.get(f"{name}.{i}", dtype, shape))
        if name.startswith("best") and not all_finite(arrays):
            raise ModelFileError(f"tensor {name} holds NaN or infinity")  # restored by fit
        setattr(model, name + "_" if not name.startswith("best") else "_" + name, arrays)
    _set_batch_norm(model, reader, sizes[1:-1], dtype)


def _set_batch_norm(model, reader, widths, dtype):
    """Batch norm's arrays, which the file has exactly when params say batch_norm."""
    if not model.batch_norm:
        return
    best = []
    for name in _batch_norm.ATTRIBUTES:
        for prefix, out in (("", None), ("best_", best)):
            group = [reader.get(f"{prefix}{name[:-1]}.{i}", dtype, (w,))
                     for i, w in enumerate(widths)]
            if out is None:
                setattr(model, name, group)
            else:
                out.append(group)
    model._best_batch_norm = best
    try:
        _batch_norm.check(model, require_finite=False, dtype=dtype)
        if not all(all_finite(group) for group in best) or any((v < 0).any() for v in best[3]):
            raise ValueError("the early-stopping snapshot holds NaN, infinity or a negative "
                             "variance")
    except ValueError as e:
        raise ModelFileError(f"batch norm: {e}") from None


def _set_optimizer(model, meta, reader, dtype):
    from ._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    if meta is None:
        model._optimizer = None
        return
    classes = {"adam": AdamOptimizer, "sgd": SGDOptimizer}
    kind = meta.pop("kind", None)
    if kind not in classes:
        raise ModelFileError(f"optimizer kind {kind!r} is not 'adam' or 'sgd'")
    params = model._trained_params()
    optimizer = classes[kind](params)
    allowed = set(vars(optimizer)) - {"step", "state1", "state2"}
    if set(meta) != allowed:
        raise ModelFileError(f"optimizer fields {sorted(meta)} are not {sorted(allowed)}")
    for key, value in meta.items():
        if not isinstance(value, type(getattr(optimizer, key))) and not (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and isinstance(getattr(optimizer, key), (int, float))):
            raise ModelFileError(f"optimizer field {key} has type {type(value).__name__}")
        setattr(optimizer, key, value)
    _check_optimizer_fields(optimizer, dtype)
    optimizer.step = reader.get("optimizer.step", np.int64, (1,))
    if optimizer.step[0] < 0:
        raise ModelFileError(f"optimizer.step={optimizer.step[0]} is negative")
    optimizer.state1 = [reader.get(f"optimizer.state1.{i}", dtype, p.shape)
                        for i, p in enumerate(params)]
    n2 = len(params) if kind == "adam" else 0
    optimizer.state2 = [reader.get(f"optimizer.state2.{i}", dtype, p.shape)
                        for i, p in enumerate(params[:n2])]
    state = optimizer.state1 + optimizer.state2
    if not all_finite(state) or any((v < 0).any() for v in optimizer.state2):
        raise ModelFileError("the optimizer state holds NaN, infinity or a negative Adam v")
    model._optimizer = optimizer


def _check_optimizer_fields(optimizer, dtype):
    """The optimizer's hyperparameters within the ranges scikit-learn's constraints give
    the estimator's (they drive partial_fit after loading), in the model's dtype: a float32
    model's must be held in float32."""
    info = np.finfo(dtype)
    largest, smallest = float(info.max), float(info.smallest_subnormal)
    def number(name, low, high, low_open=True, high_open=False):
        value = getattr(optimizer, name)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
            (low < value if low_open else low <= value)
            and (value < high if high_open else value <= high))
        if not ok:
            raise ModelFileError(f"optimizer {name}={value!r} is out of range")

    number("learning_rate_init", 0.0, largest)
    number("learning_rate", 0.0, largest, low_open=False)
    if optimizer.kind == "adam":
        number("beta_1", 0.0, 1.0, low_open=False, high_open=True)
        number("beta_2", 0.0, 1.0, low_open=False, high_open=True)
        number("epsilon", smallest, largest, low_open=False)
    else:
        number("momentum", 0.0, 1.0, low_open=False)
        number("power_t", 0.0, largest, low_open=False)
        if optimizer.lr_schedule not in ("constant", "invscaling", "adaptive"):
            raise ModelFileError(f"optimizer lr_schedule={optimizer.lr_schedule!r} is unknown")
        if not isinstance(optimizer.nesterov, bool):
            raise ModelFileError("optimizer nesterov must be true or false")
