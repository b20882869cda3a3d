"""The hidden activations, declared once for the Python side: each name maps to its
``_core.Activation`` code (the C++ list is NNFAST_ACTIVATIONS in cpp/activations.hpp),
the factor of its Glorot-uniform initialization, and the ONNX operator that computes it.
The estimators' parameter constraints, their docstrings and the tests derive from this
table; adding an activation is one entry here and one in the C++ list.
"""

from dataclasses import dataclass

from . import _core


@dataclass(frozen=True)
class ActivationSpec:
    """One hidden activation.

    Attributes
    ----------
    name : str
        The ``activation=`` value (scikit-learn's name).
    code : _core.Activation
        The kernels' enum value.
    init_factor : float
        Glorot-uniform bound ``sqrt(init_factor / (fan_in + fan_out))``: 6, and 2 for
        logistic, as scikit-learn's ``_init_coef`` (Glorot & Bengio, 2010).
    onnx_op : str
        The ONNX operator ("Identity", "Sigmoid", "Tanh", "Relu").
    """

    name: str
    code: _core.Activation
    init_factor: float
    onnx_op: str


ACTIVATIONS = {spec.name: spec for spec in (
    ActivationSpec("identity", _core.Activation.identity, 6.0, "Identity"),
    ActivationSpec("logistic", _core.Activation.logistic, 2.0, "Sigmoid"),
    ActivationSpec("tanh", _core.Activation.tanh, 6.0, "Tanh"),
    ActivationSpec("relu", _core.Activation.relu, 6.0, "Relu"),
)}

if set(ACTIVATIONS) != set(_core.Activation.__members__):  # the two lists must agree
    raise ImportError(f"nnfast's activation tables disagree: Python {sorted(ACTIVATIONS)}, "
                      f"C++ {sorted(_core.Activation.__members__)}")


def activation_names():
    """The ``activation=`` values, in the kernels' order."""
    return list(ACTIVATIONS)
