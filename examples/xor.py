"""XOR: a perceptron fails, an MLP succeeds
========================================

XOR: a perceptron (no hidden layer) cannot learn it, one hidden layer can.

    python examples/xor.py
"""
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from nnfast import MLPClassifier

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([0, 1, 1, 0])

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the perceptron cannot converge
    perceptron = MLPClassifier(hidden_layer_sizes=(), max_iter=2000, random_state=0).fit(X, y)
mlp = MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs",
                    random_state=0).fit(X, y)

print(f"perceptron accuracy: {perceptron.score(X, y):.2f}  predictions {perceptron.predict(X)}")
print(f"mlp accuracy: {mlp.score(X, y):.2f}  predictions {mlp.predict(X)}")
