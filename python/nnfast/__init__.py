"""nnfast: a fast CPU multilayer perceptron, drop-in for scikit-learn's MLP.

``MLPClassifier`` and ``MLPRegressor`` take scikit-learn 1.9's parameters and give
its attributes; the arithmetic runs in float32 C++ kernels (``nnfast._core``).
``nnfast.ops`` exposes the kernels themselves.
"""

import warnings as _warnings

from . import _core, ops
from ._model_file import load, save
from ._multilayer_perceptron import MLPClassifier, MLPRegressor
from ._onnx import register_onnx_converters, to_onnx
from ._threads import MAX_THREADS, get_num_threads, set_num_threads

__version__ = "0.1.0"

if _core.isa_request_problem():  # NNFAST_ISA asked for kernels this CPU or build lacks
    _warnings.warn(_core.isa_request_problem(), RuntimeWarning, stacklevel=2)


__all__ = [
    "MAX_THREADS",
    "MLPClassifier",
    "MLPRegressor",
    "get_num_threads",
    "load",
    "ops",
    "register_onnx_converters",
    "save",
    "set_num_threads",
    "to_onnx",
    "__version__",
]
