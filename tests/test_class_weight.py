"""MLPClassifier(class_weight=...) (issue 11): a dict or 'balanced', multiplying
sample_weight. The oracle is the same fit given the product as sample_weight
(scikit-learn's compute_sample_weight for 'balanced'): bitwise equal weights."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

import nnfast
from nnfast import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def assert_same_fit(a, b):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(x, y)


def imbalanced(breast_cancer, minority=30):
    """Breast cancer with all but `minority` of class 0 dropped (357 of class 1 remain)."""
    X, y = breast_cancer
    keep = np.r_[np.flatnonzero(y == 0)[:minority], np.flatnonzero(y == 1)]
    return X[keep], y[keep]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("class_weight", [{0: 3.0}, {0: 0.5, 1: 2.0}, "balanced"])
def test_class_weight_equals_its_sample_weight(breast_cancer, solver, class_weight):
    X, y = imbalanced(breast_cancer)
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0)
    ours = MLPClassifier(class_weight=class_weight, **kw).fit(X, y)
    oracle = MLPClassifier(**kw).fit(X, y, sample_weight=compute_sample_weight(class_weight, y))
    assert_same_fit(ours, oracle)


def test_class_weight_multiplies_sample_weight(iris):
    X, y = iris
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    class_weight = {0: 2.0, 2: 0.25}
    kw = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    ours = MLPClassifier(class_weight=class_weight, **kw).fit(X, y, sample_weight=sw)
    oracle = MLPClassifier(**kw).fit(X, y, sample_weight=sw * compute_sample_weight(class_weight, y))
    assert_same_fit(ours, oracle)


def test_string_labels_and_early_stopping(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    kw = dict(hidden_layer_sizes=(6,), max_iter=8, random_state=0, early_stopping=True)
    ours = MLPClassifier(class_weight={"virginica": 4.0}, **kw).fit(X, names)
    oracle = MLPClassifier(**kw).fit(X, names, sample_weight=np.where(names == "virginica", 4.0, 1.0))
    assert_same_fit(ours, oracle)
    assert ours.validation_scores_ == oracle.validation_scores_  # weighted alike


def test_partial_fit_takes_a_dict_and_refuses_balanced(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(6,), random_state=0)
    ours = MLPClassifier(class_weight={1: 3.0}, **kw)
    oracle = MLPClassifier(**kw)
    for batch in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
        oracle.partial_fit(X[batch], y[batch], classes=[0, 1, 2],
                           sample_weight=np.where(y[batch] == 1, 3.0, 1.0))
    assert_same_fit(ours, oracle)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported by partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_balanced_raises_the_minority_recall(breast_cancer):
    X, y = imbalanced(breast_cancer, minority=12)
    X = (X - X.mean(0)) / X.std(0)
    recall = {}
    for class_weight in (None, "balanced"):
        clf = MLPClassifier((8,), class_weight=class_weight, max_iter=30, random_state=0)
        recall[class_weight] = (clf.fit(X, y).predict(X)[y == 0] == 0).mean()
    assert recall["balanced"] > recall[None]


@pytest.mark.parametrize("class_weight, error, message", [
    ({5: 2.0}, ValueError, r"class_weight has labels that are not classes: \[5\]"),
    ({"a": 2.0}, ValueError, r"not classes: \['a'\]"),
    ({0: -1.0}, ValueError, r"class_weight\[0\] must be finite and >= 0, got -1.0"),
    ({0: np.inf}, ValueError, r"class_weight\[0\] must be finite"),
    ({0: "heavy"}, TypeError, r"class_weight\[0\] must be a real number, got str"),
    ([1.0, 2.0], InvalidParameterError, r"'class_weight' parameter"),
    ("uniform", InvalidParameterError, r"'class_weight' parameter"),
])
def test_bad_class_weight_is_named_and_fits_nothing(iris, class_weight, error, message):
    X, y = iris
    clf = MLPClassifier((4,), class_weight=class_weight, max_iter=2)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_multilabel_targets_are_refused(iris):
    X, y = iris
    Y = np.c_[y == 0, y == 1]
    with pytest.raises(ValueError, match="class_weight is supported for binary and multiclass"):
        MLPClassifier((4,), class_weight={0: 2.0}).fit(X, Y)


def test_regressor_has_no_class_weight():
    with pytest.raises(TypeError):
        MLPRegressor(class_weight="balanced")


def test_class_weight_survives_the_model_file(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((5,), class_weight={0: 2.0, 2: 0.5}, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    nnfast.save(clf, tmp_path / "m.safetensors")
    loaded = nnfast.load(tmp_path / "m.safetensors")
    assert loaded.class_weight == {0: 2.0, 2: 0.5}
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
