"""nnfast.to_onnx (issue 12): the exported graph, run by onnxruntime, against predict and
predict_proba, for every head, activation and layer option; whole pipelines through
skl2onnx once nnfast's converters are registered."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nnfast
from nnfast import MLPClassifier, MLPRegressor
from nnfast._activations import activation_names

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def check_classifier(model, X, estimator=None):
    estimator = estimator or model
    label, proba = run(nnfast.to_onnx(model, X[:1], options={id(estimator): {"zipmap": False}}),
                       X)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("activation", activation_names())
def test_every_activation(iris, activation):
    X, y = iris
    X = X.astype(np.float32)
    clf = MLPClassifier((9, 7), activation=activation, max_iter=40, random_state=0).fit(X, y)
    check_classifier(clf, X)


@pytest.mark.parametrize("target", ["binary", "multiclass", "strings", "bools", "multilabel"])
def test_every_classification_target(iris, target):
    X, y = iris
    X = X.astype(np.float32)
    y = {"binary": y == 1, "multiclass": y, "strings": np.array(["setosa", "versi", "virg"])[y],
         "bools": y == 2, "multilabel": np.c_[y == 0, y == 1, X[:, 0] > 5.8].astype(int)}[target]
    clf = MLPClassifier((8,), max_iter=60, random_state=0).fit(X, y)
    check_classifier(clf, X)


def test_layer_options_batch_norm_dropout_and_per_layer_activations(digits):
    X, y = digits
    X = (X / 16).astype(np.float32)
    clf = MLPClassifier((32, 16), activation=("gelu", "tanh"), batch_norm=True, dropout=0.3,
                        max_iter=5, random_state=0).fit(X, y)
    check_classifier(clf, X)


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber", "quantile"])
def test_regressors_and_multi_output(diabetes, loss):
    X, y = diabetes
    X = X.astype(np.float32)
    Y = np.abs(y) / 100 if loss == "poisson" else np.c_[y, -y / 2] / 100
    reg = MLPRegressor(loss=loss, hidden_layer_sizes=(12,), batch_norm=True, max_iter=30,
                       random_state=0).fit(X, Y)
    onx = nnfast.to_onnx(reg, X[:1])
    declared = [d.dim_value for d in onx.graph.output[0].type.tensor_type.shape.dim]
    assert declared[1] == reg.n_outputs_
    out = run(onx, X)[0]
    np.testing.assert_allclose(out, reg.predict(X).reshape(len(X), -1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("multilabel", [False, True])
def test_float64_input_gives_a_double_graph(iris, multilabel):
    X, y = iris
    if multilabel:
        y = np.c_[y == 0, X[:, 0] > 5.8].astype(int)
    clf = MLPClassifier((8,), max_iter=30, random_state=0).fit(X, y)
    label, proba = run(nnfast.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}}), X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(label, clf.predict(X))


def test_a_pipeline_converts_with_skl2onnx_itself(iris):
    X, y = iris
    X = X.astype(np.float32)
    clf = MLPClassifier((8,), max_iter=60, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    nnfast.register_onnx_converters()
    onx = skl2onnx.to_onnx(pipe, X[:1])  # the default ZipMap: a list of {class: proba}
    label, proba = run(onx, X)
    np.testing.assert_array_equal(label, pipe.predict(X))
    np.testing.assert_allclose([[row[c] for c in clf.classes_] for row in proba],
                               pipe.predict_proba(X), rtol=1e-5, atol=1e-5)
    check_classifier(pipe, X, estimator=clf)


def test_float_labels_export_as_int64_and_unfitted_models_are_refused(iris):
    X, y = iris
    X = X.astype(np.float32)
    check_classifier(MLPClassifier((4,), max_iter=5).fit(X, y + 1.0), X)
    with pytest.raises(NotFittedError):
        nnfast.to_onnx(MLPClassifier(), X[:1])


def test_nocl_gives_class_indices(iris):
    X, y = iris
    X = X.astype(np.float32)
    clf = MLPClassifier((8,), max_iter=30, random_state=0).fit(X, np.array(["a", "b", "c"])[y])
    label, _ = run(nnfast.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False,
                                                                  "nocl": True}}), X)
    np.testing.assert_array_equal(clf.classes_[label], clf.predict(X))


def test_sparse_trained_models_export(iris):
    X, y = iris
    X = X.astype(np.float32)
    clf = MLPClassifier((8,), max_iter=30, random_state=0).fit(sp.csr_matrix(X), y)
    check_classifier(clf, X)
