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
        The ``activation=`` value (scikit-learn's name where scikit-learn has it, else
        PyTorch's in snake case).
    code : _core.Activation
        The kernels' enum value.
    init_factor : float
        Glorot-uniform bound ``sqrt(init_factor / (fan_in + fan_out))``: 6, and 2 for
        logistic, as scikit-learn's ``_init_coef`` (Glorot & Bengio, 2010).
    derivative_reads_input : bool
        Whether f' is computed from the input z (GELU, SiLU: the training step then keeps
        z beside f(z)) rather than from the output f(z).
    torch_module : str
        The PyTorch module computing the same function (the tests' oracle).
    onnx_op : str
        The ONNX operator computing it, with its attributes.
    formula : str
        f(z), as the docstrings print it.
    """

    name: str
    code: _core.Activation
    init_factor: float
    derivative_reads_input: bool
    torch_module: str
    onnx_op: str
    formula: str


ACTIVATIONS = {spec.name: spec for spec in (
    ActivationSpec("identity", _core.Activation.identity, 6.0, False, "Identity()",
                   "Identity", "z"),
    ActivationSpec("logistic", _core.Activation.logistic, 2.0, False, "Sigmoid()",
                   "Sigmoid", "1 / (1 + exp(-z))"),
    ActivationSpec("tanh", _core.Activation.tanh, 6.0, False, "Tanh()", "Tanh", "tanh(z)"),
    ActivationSpec("relu", _core.Activation.relu, 6.0, False, "ReLU()", "Relu", "max(z, 0)"),
    ActivationSpec("leaky_relu", _core.Activation.leaky_relu, 6.0, False,
                   "LeakyReLU(negative_slope=0.01)", "LeakyRelu(alpha=0.01)",
                   "z if z > 0 else 0.01 * z"),
    ActivationSpec("elu", _core.Activation.elu, 6.0, False, "ELU(alpha=1.0)",
                   "Elu(alpha=1.0)", "z if z > 0 else exp(z) - 1  (Clevert et al., 2016)"),
    ActivationSpec("gelu", _core.Activation.gelu, 6.0, True, "GELU()",
                   "Gelu(approximate='none')",
                   "z * Phi(z), Phi the standard normal CDF  (Hendrycks & Gimpel, 2016)"),
    ActivationSpec("gelu_tanh", _core.Activation.gelu_tanh, 6.0, True,
                   "GELU(approximate='tanh')", "Gelu(approximate='tanh')",
                   "z/2 * (1 + tanh(sqrt(2/pi) * (z + 0.044715 z^3)))"),
    ActivationSpec("silu", _core.Activation.silu, 6.0, True, "SiLU()",
                   "Mul(z, Sigmoid(z))", "z / (1 + exp(-z))  (Elfwing et al., 2018; 'swish')"),
)}

if set(ACTIVATIONS) != set(_core.Activation.__members__) or any(  # the two lists must agree
        spec.derivative_reads_input != _core.derivative_reads_input(spec.code)
        for spec in ACTIVATIONS.values()):
    raise ImportError(f"nnfast's activation tables disagree: Python {sorted(ACTIVATIONS)}, "
                      f"C++ {sorted(_core.Activation.__members__)}")


def activation_names():
    """The ``activation=`` values, in the kernels' order."""
    return list(ACTIVATIONS)


def hidden_activations(activation, n_hidden):
    """The activation name of each of ``n_hidden`` hidden layers.

    Parameters
    ----------
    activation : str or sequence of str
        One name for every hidden layer, or one per hidden layer.
    n_hidden : int
        The number of hidden layers.

    Returns
    -------
    names : list of str, length ``n_hidden``

    Raises
    ------
    ValueError
        For an unknown name, or a sequence whose length is not ``n_hidden``.
    """
    if isinstance(activation, str):
        names = [activation] * n_hidden
    elif isinstance(activation, (tuple, list)):
        names = list(activation)
    else:
        raise ValueError(f"activation must be a name or a tuple of names (one per hidden "
                         f"layer), got {activation!r}")
    if len(names) != n_hidden:
        raise ValueError(
            f"activation has {len(names)} entries, but the network has {n_hidden} hidden "
            f"layer{'s' if n_hidden != 1 else ''}: give one name, or one per hidden "
            "layer (hidden_layer_sizes)")
    for name in names:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            raise ValueError(f"activation {name!r} is not one of {activation_names()}")
    return names
