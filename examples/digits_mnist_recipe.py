"""The classic MNIST recipe on digits
==================================

The classic MNIST recipe (hidden layers 128 and 64, SGD with momentum 0.9, learning rate
0.01, batch 64, 5 epochs) on scikit-learn's bundled 8 x 8 digits (64 inputs: MNIST itself
is not bundled).

    python examples/digits_mnist_recipe.py
"""
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from nnfast import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = MLPClassifier(hidden_layer_sizes=(128, 64), solver="sgd", momentum=0.9,
                      nesterovs_momentum=False, learning_rate_init=0.01, batch_size=64,
                      max_iter=5, random_state=0)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs, by the recipe
    model.fit(X_train, y_train)
print(f"5 epochs in {time.perf_counter() - start:.2f} s; loss per epoch "
      + ", ".join(f"{loss:.3f}" for loss in model.loss_curve_))
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
