"""ONNX export through skl2onnx (the optional extra ``nnfast[onnx]``).

nnfast's estimators are registered with skl2onnx as converters of their own, so that a
scikit-learn Pipeline holding one converts as a whole: the forward pass is MatMul + Add
per layer (batch norm folded into W and b from its running statistics, dropout being the
identity at predict), each hidden layer's activation in standard ONNX operators, and the
output head; the classifier's outputs are skl2onnx's (label, probabilities), the
regressor's the predictions. skl2onnx's own shape calculators are reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import _batch_norm

if TYPE_CHECKING:
    import onnx

_REGISTERED = False

# The hidden activations in ONNX operators: each takes the pre-activation's name and
# returns the output's (see _activation).
_SQRT_HALF = float(np.sqrt(0.5))
_GELU_TANH_C = float(np.sqrt(2.0 / np.pi))


def _import_skl2onnx():
    try:
        import skl2onnx  # noqa: F401
    except ImportError as e:
        raise ImportError("ONNX export needs the optional packages onnx and skl2onnx: "
                          "pip install 'nnfast[onnx]'") from e


def register_onnx_converters() -> None:
    """Register MLPClassifier and MLPRegressor with skl2onnx.

    After this, ``skl2onnx.to_onnx`` and ``skl2onnx.convert_sklearn`` convert nnfast's
    estimators and any pipeline holding them. ``nnfast.to_onnx`` calls it for you; call
    it yourself before using skl2onnx directly. Idempotent.

    Raises
    ------
    ImportError
        When onnx or skl2onnx is not installed (``pip install 'nnfast[onnx]'``).

    See Also
    --------
    to_onnx : Registers the converters and converts.

    Examples
    --------
    A pipeline holding an nnfast estimator, converted by skl2onnx itself (and run
    here with onnx's reference evaluator):

    >>> import numpy as np
    >>> from onnx.reference import ReferenceEvaluator
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> import nnfast
    >>> X, y = load_iris(return_X_y=True)
    >>> X, y = X[:, :3].astype(np.float32), X[:, 3]  # petal width from the others
    >>> pipe = make_pipeline(StandardScaler(), nnfast.MLPRegressor(
    ...     hidden_layer_sizes=(10,), solver="lbfgs", max_iter=1000, random_state=0))
    >>> pipe = pipe.fit(X, y)
    >>> nnfast.register_onnx_converters()
    >>> onx = to_onnx(pipe, X[:1])
    >>> (prediction,) = ReferenceEvaluator(onx).run(None, {"X": X[:5]})
    >>> np.allclose(prediction.ravel(), pipe.predict(X[:5]), atol=1e-4)
    True
    """
    global _REGISTERED
    if _REGISTERED:
        return
    _import_skl2onnx()
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    from ._multilayer_perceptron import MLPClassifier, MLPRegressor

    def regressor_shapes(operator):
        """skl2onnx's, then the output's width: n_outputs_ (skl2onnx declares 1)."""
        calculate_linear_regressor_output_shapes(operator)
        output = operator.outputs[0]
        output.type = output.type.__class__([None, operator.raw_operator.n_outputs_])

    update_registered_converter(
        MLPClassifier, "NnfastMLPClassifier", calculate_linear_classifier_output_shapes,
        _convert_classifier, options={"zipmap": [True, False, "columns"],
                                      "nocl": [False, True]})
    update_registered_converter(MLPRegressor, "NnfastMLPRegressor", regressor_shapes,
                                _convert_regressor)
    _REGISTERED = True


def to_onnx(model: Any, X_sample: NDArray[Any], **kwargs: Any) -> onnx.ModelProto:
    """Export a fitted nnfast estimator, or a scikit-learn pipeline holding one, to ONNX.

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor or a scikit-learn estimator containing one
        Fitted.
    X_sample : ndarray of shape (n_samples, n_features), float32 or float64
        A few rows of input: they fix the input's name, element type and width (the row
        count is left free).
    **kwargs
        Passed to ``skl2onnx.to_onnx`` (for example ``target_opset``, or
        ``options={id(model): {"zipmap": False}}`` for a plain probability tensor).

    Returns
    -------
    onnx.ModelProto
        The graph, with skl2onnx's outputs: a classifier's label (n,) and
        probabilities (``output_label`` and ``output_probability``, a ZipMap list of
        dicts, by default; ``label`` and ``probabilities``, (n, n_classes), with
        ``options={id(clf): {"zipmap": False}}``); a regressor's ``variable``
        (n, n_outputs). Run it with onnxruntime:
        ``InferenceSession(m.SerializeToString())``. A float64 ``X_sample`` makes a
        float64 graph; ONNX's ZipMap takes float32 only, so a classifier's float64
        graph needs ``zipmap=False``. The graph's element type is ``X_sample``'s, not
        the model's ``dtype``: a ``dtype=np.float64`` model exported from a float32
        sample computes in float32 (pass float64 rows to keep its precision).

    Raises
    ------
    ImportError
        When onnx or skl2onnx is not installed (``pip install 'nnfast[onnx]'``).
    sklearn.exceptions.NotFittedError
        When the model is not fitted.

    See Also
    --------
    register_onnx_converters : For ``skl2onnx.to_onnx`` called directly.

    Examples
    --------
    >>> import numpy as np
    >>> from onnx.reference import ReferenceEvaluator
    >>> from sklearn.datasets import load_iris
    >>> import nnfast
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = nnfast.MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=1000,
    ...                            random_state=0).fit(X, y)
    >>> onx = nnfast.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    >>> [output.name for output in onx.graph.output]
    ['label', 'probabilities']
    >>> label, probabilities = ReferenceEvaluator(onx).run(None, {"X": X[:5]})
    >>> label.tolist()
    [0, 0, 0, 0, 0]
    >>> np.allclose(probabilities, clf.predict_proba(X[:5]), atol=1e-5)
    True

    onnxruntime runs it the same way:
    ``onnxruntime.InferenceSession(onx.SerializeToString()).run(None, {"X": X})``.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)  # skl2onnx's own message for an unfitted model is obscure
    register_onnx_converters()
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    return skl2onnx_to_onnx(model, X_sample, **kwargs)


# --- the graph ---------------------------------------------------------------------------
def _constant(scope, container, value, proto_dtype, name):
    const = scope.get_unique_variable_name(name)
    value = np.asarray(value)
    container.add_initializer(const, proto_dtype, list(value.shape), value.ravel().tolist())
    return const


def _node(scope, container, op, inputs, name, **attrs):
    out = scope.get_unique_variable_name(name)
    container.add_node(op, inputs, out, name=scope.get_unique_operator_name(op), **attrs)
    return out


def _activation(scope, container, name, z, proto_dtype):
    """The output name of activation ``name`` (nnfast's, PyTorch's definitions) of z."""
    simple = {"identity": "Identity", "relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}
    if name in simple:
        return _node(scope, container, simple[name], [z], name)
    if name == "leaky_relu":
        return _node(scope, container, "LeakyRelu", [z], name, alpha=0.01)
    if name == "elu":
        return _node(scope, container, "Elu", [z], name, alpha=1.0)
    if name == "silu":  # z * sigmoid(z)
        return _node(scope, container, "Mul", [z, _node(scope, container, "Sigmoid", [z], "s")],
                     name)
    half = _constant(scope, container, 0.5, proto_dtype, "half")
    one = _constant(scope, container, 1.0, proto_dtype, "one")
    if name == "gelu":  # z * Phi(z) = z * (1 + erf(z / sqrt(2))) / 2
        scaled = _node(scope, container, "Mul",
                       [z, _constant(scope, container, _SQRT_HALF, proto_dtype, "c")], "zs")
        inner = _node(scope, container, "Erf", [scaled], "erf")
    elif name == "gelu_tanh":  # z * (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2
        cube = _node(scope, container, "Mul",
                     [z, _node(scope, container, "Mul", [z, z], "z2")], "z3")
        poly = _node(scope, container, "Add", [z, _node(
            scope, container, "Mul",
            [cube, _constant(scope, container, 0.044715, proto_dtype, "c3")], "cz3")], "poly")
        inner = _node(scope, container, "Tanh", [_node(
            scope, container, "Mul",
            [poly, _constant(scope, container, _GELU_TANH_C, proto_dtype, "c")], "arg")], "t")
    else:
        raise ValueError(f"no ONNX form for activation {name!r}")
    plus_one = _node(scope, container, "Add", [inner, one], "plus_one")
    return _node(scope, container, "Mul",
                 [_node(scope, container, "Mul", [z, half], "half_z"), plus_one], name)


def _forward(scope, container, model, input_name, proto_dtype):
    """The network's output after its head's activation (softmax, logistic, identity or
    exp), from the input named input_name; batch norm folded, dropout absent."""
    from ._activations import hidden_activations

    model._check_fitted()
    coefs, intercepts = _batch_norm.fold(model.coefs_, model.intercepts_, model)
    numpy_dtype = np.float64 if proto_dtype == _double() else np.float32
    a = _node(scope, container, "Cast", [input_name], "x", to=proto_dtype)
    names = hidden_activations(model.activation, len(coefs) - 1)
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        w_name = _constant(scope, container, np.asarray(w, numpy_dtype), proto_dtype, "coef")
        b_name = _constant(scope, container, np.asarray(b, numpy_dtype).reshape(1, -1),
                           proto_dtype, "intercept")
        z = _node(scope, container, "Add",
                  [_node(scope, container, "MatMul", [a, w_name], "xw"), b_name], "z")
        if i < len(names):
            a = _activation(scope, container, names[i], z, proto_dtype)
    head = {"softmax": ("Softmax", {"axis": 1}), "logistic": ("Sigmoid", {}),
            "identity": ("Identity", {}), "exp": ("Exp", {})}[model.out_activation_]
    return _node(scope, container, head[0], [z], "out", **head[1])


def _double():
    from skl2onnx.proto import onnx_proto

    return onnx_proto.TensorProto.DOUBLE


def _proto_dtype(operator):
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.proto import onnx_proto

    dtype = guess_proto_type(operator.inputs[0].type)
    return dtype if dtype == onnx_proto.TensorProto.DOUBLE else onnx_proto.TensorProto.FLOAT


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    out = _forward(scope, container, model, operator.inputs[0].full_name,
                   _proto_dtype(operator))
    container.add_node("Identity", [out], operator.outputs[0].full_name,
                       name=scope.get_unique_operator_name("Identity"))


def _convert_classifier(scope, operator, container):
    """Outputs as skl2onnx's MLPClassifier converter gives them: the label (int64 for
    integer, bool and float classes; string for string classes; a 0/1 int64 indicator
    matrix for multilabel) and the probabilities (two columns for a binary target)."""
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    dtype = _proto_dtype(operator)
    proba = _forward(scope, container, model, operator.inputs[0].full_name, dtype)
    label_out, proba_out = operator.outputs[0].full_name, operator.outputs[1].full_name
    y_type = model._label_binarizer.y_type_
    if y_type == "binary":  # one logistic output: P(classes_[1]); P(classes_[0]) = 1 - it
        negative = _node(scope, container, "Sub",
                         [_constant(scope, container, 1.0, dtype, "one"), proba], "negative")
        container.add_node("Concat", [negative, proba], proba_out, axis=1,
                           name=scope.get_unique_operator_name("Concat"))
    else:
        container.add_node("Identity", [proba], proba_out,
                           name=scope.get_unique_operator_name("Identity"))
    if y_type == "multilabel-indicator":  # Greater, not ai.onnx.ml's Binarizer (float only)
        above = _node(scope, container, "Greater",
                      [proba, _constant(scope, container, 0.5, dtype, "threshold")], "above")
        container.add_node("Cast", [above], label_out, to=onnx_proto.TensorProto.INT64,
                           name=scope.get_unique_operator_name("Cast"))
        return
    best = _node(scope, container, "ArgMax", [proba_out], "argmax", axis=1)
    shape = _constant(scope, container, np.array([-1], np.int64),
                      onnx_proto.TensorProto.INT64, "shape")
    if container.get_options(model, dict(nocl=False))["nocl"]:  # labels as class indices
        container.add_node("Reshape", [best, shape], label_out,
                           name=scope.get_unique_operator_name("Reshape"))
        return
    classes = model.classes_
    if classes.dtype.kind in "biuf":  # float labels are integral (sklearn refuses others)
        class_type, values = onnx_proto.TensorProto.INT64, classes.astype(np.int64)
    else:
        class_type, values = onnx_proto.TensorProto.STRING, np.array(
            [str(c).encode("utf-8") for c in classes])
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, class_type, [len(values)], values.tolist())
    picked = _node(scope, container, "ArrayFeatureExtractor", [classes_name, best], "picked",
                   op_domain="ai.onnx.ml")
    container.add_node("Reshape", [picked, shape], label_out,
                       name=scope.get_unique_operator_name("Reshape"))
