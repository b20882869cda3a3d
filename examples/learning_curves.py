"""Training and validation loss curves
===================================

Training and validation loss curves, saved as a picture with matplotlib: an MLP on
scikit-learn's digits, fitted with a validation set of its own (fit's X_val / y_val),
whose loss nnfast records each epoch (``validation_loss_curve_``) beside the training loss.

    pip install matplotlib
    python examples/learning_curves.py [out.png]
"""
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from nnfast import MLPClassifier  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "learning_curves.png"
X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
clf = MLPClassifier(hidden_layer_sizes=(64,), activation="gelu", max_iter=150,
                    early_stopping=True, n_iter_no_change=15, random_state=0)
clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)

best = clf.validation_scores_.index(clf.best_validation_score_) + 1
fig, ax = plt.subplots(figsize=(6, 4))
epochs = range(1, clf.n_iter_ + 1)
ax.plot(epochs, clf.loss_curve_, label="training loss (with the L2 term)")
ax.plot(epochs, clf.validation_loss_curve_, label="validation loss")
ax.axvline(best, color="gray", linestyle=":", label=f"best validation accuracy (epoch {best})")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"epochs: {clf.n_iter_}; best epoch {best}, validation accuracy "
      f"{clf.best_validation_score_:.3f}")
print(f"final training loss {clf.loss_curve_[-1]:.4f}, "
      f"validation loss {clf.validation_loss_curve_[-1]:.4f}")
print(f"saved {out}")
