"""Writes the model files kept for the format's compatibility test (test_model_file.py):
a file saved by this version must load, and predict the same, in every later one.

Run once per format version, from the repository root, and commit its output:
    python tests/data/make_model_files.py
Never regenerate the files of an older version: they are the record of that format.
"""

import json
import os
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_iris

import nnfast
from nnfast._model_file import FORMAT_VERSION

HERE = os.path.dirname(os.path.abspath(__file__))


def models():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    Xd, yd = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield "classifier", nnfast.MLPClassifier((8,), max_iter=20, random_state=0).fit(X, names), X[::10]
        yield "regressor", nnfast.MLPRegressor(hidden_layer_sizes=(6, 4), solver="sgd", max_iter=20,
                                               random_state=0).fit(Xd, yd / 100), Xd[::40]


def main():
    expected = {}
    for name, model, X in models():
        nnfast.save(model, os.path.join(HERE, f"{name}_v{FORMAT_VERSION}.safetensors"))
        out = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
        expected[name] = {"X": X.tolist(), "output": [float(v).hex() for v in np.ravel(out)],
                          "shape": list(np.shape(out)),
                          "predict": [str(v) for v in model.predict(X)]}
    with open(os.path.join(HERE, f"expected_v{FORMAT_VERSION}.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
