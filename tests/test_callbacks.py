"""scikit-learn 1.9's callback API on nnfast's estimators (issue 12): one subtask per epoch
or L-BFGS iteration, each seeing the model as it stands after it; stop requests; nesting
under GridSearchCV; the calling thread; teardown after a failed fit."""

import threading
import warnings

import numpy as np
import pytest

callback_api = pytest.importorskip("sklearn.callback")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from nnfast import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Recorder:
    """A FitCallback that records each task's end (name, score of the fitted copy, thread)
    and asks to stop after `stop_after` epochs."""

    def __init__(self, stop_after=None):
        self.ends, self.torn_down, self.stop_after = [], 0, stop_after

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        self.torn_down += 1

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        score = None if fitted_estimator is None or X is None else fitted_estimator.score(X, y)
        self.ends.append((context.task_name, score, threading.get_ident()))
        epochs = sum(name in ("epoch", "iteration") for name, _, _ in self.ends)
        return self.stop_after is not None and epochs >= self.stop_after


class PropagatedRecorder(Recorder):
    max_propagation_depth = None  # an AutoPropagatedCallback: meta-estimators pass it on


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_each_epoch_sees_the_model_after_it(iris, solver):
    X, y = iris
    rec = Recorder()
    kw = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0)
    clf = MLPClassifier(max_iter=6, **kw).set_callbacks(rec).fit(X, y)
    # (L-BFGS's last iteration is begun but never run: it ends without data, score None)
    epochs = [score for name, score, _ in rec.ends if name != "fit" and score is not None]
    assert len(epochs) == clf.n_iter_ and rec.ends[-1][0] == "fit" and rec.torn_down == 1
    for k in (1, 3):  # a fit of k epochs is the first k epochs of a longer one
        assert epochs[k - 1] == MLPClassifier(max_iter=k, **kw).fit(X, y).score(X, y)
    assert rec.ends[-1][1] == clf.score(X, y)
    assert {thread for _, _, thread in rec.ends} == {threading.get_ident()}


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_callback_can_stop_the_fit(iris, solver):
    X, y = iris
    kw = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a requested stop is no convergence failure
        clf = MLPClassifier(max_iter=50, **kw).set_callbacks(Recorder(stop_after=3)).fit(X, y)
    assert clf.n_iter_ == 3
    if solver == "adam":
        three = MLPClassifier(max_iter=3, **kw).fit(X, y)
        for a, b in zip(clf.coefs_, three.coefs_):
            np.testing.assert_array_equal(a, b)


class BeginRecorder(Recorder):
    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        if context.task_name == "epoch":
            self.ends.append(("begin", len(fitted_estimator.loss_curve_), None))


def test_an_epoch_begins_before_it_runs_and_kept_copies_stay_as_they_were(iris):
    X, y = iris
    rec = BeginRecorder()
    MLPClassifier((8,), max_iter=3, random_state=0).set_callbacks(rec).fit(X, y)
    assert [n for name, n, _ in rec.ends if name == "begin"] == [0, 1, 2]


def test_scorers_see_the_users_sample_weight_not_the_class_weights(iris):
    X, y = iris
    monitor = callback_api.ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier((8,), max_iter=3, random_state=0, class_weight={0: 10.0, 1: 1.0, 2: 1.0})
    clf.set_callbacks(monitor).fit(X, y)
    fit_row = [r for r in monitor.get_logs().data if r["task_name"] == "fit"][0]
    assert fit_row["accuracy"] == clf.score(X, y)


def test_scoring_monitor_logs_every_epoch(diabetes):
    X, y = diabetes
    monitor = callback_api.ScoringMonitor(scoring="r2")
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=4, learning_rate_init=0.01,
                       random_state=0).set_callbacks(monitor).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == 4
    assert rows[-1]["r2"] == pytest.approx(reg.score(X, y))


def test_partial_fit_is_one_epoch_task(iris):
    X, y = iris
    rec = Recorder()
    clf = MLPClassifier((8,), random_state=0).set_callbacks(rec)
    clf.partial_fit(X, y, classes=np.unique(y))
    clf.partial_fit(X, y)
    assert [name for name, _, _ in rec.ends] == ["epoch", "fit"] * 2


def test_nested_under_grid_search(iris):
    X, y = iris
    rec = PropagatedRecorder()
    search = GridSearchCV(MLPClassifier((8,), max_iter=3, random_state=0),
                          {"alpha": [1e-4, 1e-2]}, cv=2).set_callbacks(rec)
    search.fit(X, y)
    epochs = [name for name, _, _ in rec.ends if name == "epoch"]
    assert len(epochs) == 3 * (2 * 2 + 1)  # 3 epochs per candidate and fold, and the refit
    assert rec.torn_down == 1


def test_teardown_runs_after_a_failed_fit(iris):
    X, y = iris
    rec = Recorder()
    clf = MLPClassifier((8,), solver="sgd", learning_rate_init=1e30, max_iter=3).set_callbacks(rec)
    with pytest.raises(ValueError, match="diverged|overflowed"):
        clf.fit(X * 1e15, y)
    assert rec.torn_down == 1
    assert not hasattr(clf, "_callback_fit_ctx") and not hasattr(clf, "coefs_")


def test_no_callback_costs_no_context(iris):
    clf = MLPClassifier((4,), max_iter=2).fit(*iris)
    assert not hasattr(clf, "_callback_fit_ctx") and not hasattr(clf, "_skl_callbacks")
