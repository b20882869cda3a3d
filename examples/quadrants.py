"""Same-sign quadrants: a 2-16-1 binary classifier
===============================================

A 2-16-1 binary classifier on the same-sign quadrants (label = x1 * x2 > 0): binary
cross-entropy (a logistic output) and Adam.

    python examples/quadrants.py
"""
import numpy as np

from nnfast import MLPClassifier

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, (2000, 2)).astype(np.float32)
y = (X[:, 0] * X[:, 1] > 0).astype(int)
X_train, X_test, y_train, y_test = X[:1500], X[1500:], y[:1500], y[1500:]

model = MLPClassifier(hidden_layer_sizes=(16,), activation="relu", solver="adam",
                      learning_rate_init=0.01, max_iter=300, random_state=0)
model.fit(X_train, y_train)
print(f"2-16-1 network, {model.n_iter_} epochs of Adam, final training loss {model.loss_:.4f}")
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
