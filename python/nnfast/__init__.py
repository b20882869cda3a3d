"""nnfast: a fast CPU multilayer perceptron, drop-in for scikit-learn's MLP.

``MLPClassifier`` and ``MLPRegressor`` take scikit-learn 1.9's parameters and give
its attributes; the arithmetic runs in float32 C++ kernels (``nnfast._core``).
``nnfast.ops`` exposes the kernels themselves.
"""

from . import _core, ops
from ._multilayer_perceptron import MLPClassifier, MLPRegressor

__version__ = "0.1.0"


def set_num_threads(n):
    """Set the number of OpenMP threads nnfast's kernels use (n >= 1)."""
    _core.set_num_threads(int(n))


def get_num_threads():
    """The number of OpenMP threads nnfast's kernels use."""
    return _core.get_num_threads()


__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "get_num_threads",
    "ops",
    "set_num_threads",
    "__version__",
]
