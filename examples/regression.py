"""Regression on linear and nonlinear targets
==========================================

Regression: an MLP on a noisy linear target with 10 features, and a 32-64-32-1 network
on a nonlinear one.

    python examples/regression.py
"""
import numpy as np
from sklearn.model_selection import train_test_split

from nnfast import MLPRegressor

rng = np.random.default_rng(0)
X = rng.standard_normal((5000, 10)).astype(np.float32)
coef = rng.standard_normal(10)
y_linear = X @ coef + 0.1 * rng.standard_normal(5000)
Xtr, Xte, ytr, yte = train_test_split(X, y_linear, random_state=0)
linear = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(Xtr, ytr)
print(f"noisy linear target, 10 features: test R^2 {linear.score(Xte, yte):.3f} "
      f"(the noise alone allows {1 - 0.01 / y_linear.var():.3f})")

X32 = rng.standard_normal((5000, 32)).astype(np.float32)
y_nonlinear = np.sin(X32[:, 0]) + X32[:, 1] * X32[:, 2] + 0.05 * rng.standard_normal(5000)
Xtr, Xte, ytr, yte = train_test_split(X32, y_nonlinear, random_state=0)
deep = MLPRegressor(hidden_layer_sizes=(64, 32), max_iter=200, random_state=0).fit(Xtr, ytr)
print(f"32-64-32-1 on sin(x0) + x1*x2: test R^2 {deep.score(Xte, yte):.3f}")
