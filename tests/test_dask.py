"""Beyond one machine (issue 12): a hyperparameter search over a dask.distributed cluster
(joblib's dask backend) and out-of-core training with partial_fit over a dask array's
chunks, against a real LocalCluster of 2 worker processes."""

import os

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import dask  # noqa: E402
import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import nnfast  # noqa: E402
from nnfast import MLPClassifier  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    # distributed sets OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's) in this process's
    # environment for the workers it spawns: put the environment back for later tests.
    environment = dict(os.environ)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                yield client
    finally:
        os.environ.clear()
        os.environ.update(environment)


def test_grid_search_runs_on_the_workers_and_finds_what_a_local_one_does(client, digits):
    X, y = digits
    X = X[:600] / 16.0
    y = y[:600]
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(16,), (32,)]}
    search = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=3)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert len(tasks.data) >= 12  # 4 candidates x 3 folds ran as dask tasks
    local = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=3).fit(X, y)
    assert search.best_params_ == local.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


def test_threads_per_worker_are_set_with_client_run(client):
    # dask starts workers with OMP_NUM_THREADS=1, which nnfast follows; set_num_threads on
    # every worker changes it.
    assert set(client.run(nnfast.get_num_threads).values()) == {1}
    client.run(nnfast.set_num_threads, 2)
    assert set(client.run(nnfast.get_num_threads).values()) == {2}
    client.run(nnfast.set_num_threads, 1)


def test_partial_fit_over_the_chunks_of_a_dask_array(client, digits):
    X, y = digits
    X = (X / 16.0).astype(np.float32)
    classes = np.unique(y)
    X_dask = da.from_array(X, chunks=(400, X.shape[1]))
    y_dask = da.from_array(y, chunks=400)
    out_of_core = MLPClassifier((32,), batch_size=50, learning_rate_init=0.01, random_state=0)
    for _ in range(5):  # epochs; one chunk in memory at a time
        for X_chunk, y_chunk in zip(X_dask.to_delayed().ravel(), y_dask.to_delayed()):
            X_block, y_block = dask.compute(X_chunk, y_chunk)
            out_of_core.partial_fit(X_block, y_block, classes=classes)
    in_memory = MLPClassifier((32,), batch_size=50, learning_rate_init=0.01, random_state=0)
    for _ in range(5):
        for start in range(0, len(X), 400):
            in_memory.partial_fit(X[start:start + 400], y[start:start + 400], classes=classes)
    for a, b in zip(out_of_core.coefs_, in_memory.coefs_):
        np.testing.assert_array_equal(a, b)
    assert out_of_core.score(X, y) > 0.8
