"""Regularisers, batch norm and initialisations compared
=====================================================

Regularisers and initialisations compared on one dataset: an MLP on 400 of
scikit-learn's 8 x 8 digits (few enough rows that a 256-unit layer overfits), tested on
the rest, plain and with L2, dropout, batch normalization, He initialisation and GELU;
and a softmax classifier (no hidden layer: multinomial logistic regression) as the
baseline.

    python examples/regularization.py
"""
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from nnfast import MLPClassifier

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, train_size=400, stratify=y,
                                                    random_state=0)
common = dict(hidden_layer_sizes=(256,), max_iter=300, random_state=0)
variants = {
    "softmax classifier (no hidden layer)": MLPClassifier(hidden_layer_sizes=(), max_iter=300,
                                                          random_state=0),
    "MLP, no regularisation": MLPClassifier(alpha=0.0, **common),
    "MLP, L2 (alpha=0.1)": MLPClassifier(alpha=0.1, **common),
    "MLP, dropout=0.5": MLPClassifier(alpha=0.0, dropout=0.5, **common),
    "MLP, batch norm": MLPClassifier(alpha=0.0, batch_norm=True, **common),
    "MLP, He initialisation": MLPClassifier(alpha=0.0, init="he_normal", **common),
    "MLP, GELU": MLPClassifier(alpha=0.0, activation="gelu", **common),
}
print(f"{len(y_train)} training rows, {len(y_test)} test rows")
for name, clf in variants.items():
    clf.fit(X_train, y_train)
    print(f"{name:38s} train accuracy {clf.score(X_train, y_train):.3f}, "
          f"test accuracy {clf.score(X_test, y_test):.3f}")
