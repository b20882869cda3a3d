"""The weight initializations ``init=`` names, declared once: each draws a layer's weights
*and* biases from one distribution (scikit-learn's convention: its Glorot-uniform draws both),
in float64 from the estimator's RandomState, coef then intercept, then cast to float32, so a
``random_state`` gives scikit-learn's starting point rounded to float32 for the default.

Bounds and deviations, with fan_in / fan_out the layer's input / output width and ``factor``
the activation's Glorot factor (2 for logistic, 6 otherwise, as scikit-learn's ``_init_coef``):

- ``glorot_uniform`` (default; Glorot & Bengio, 2010; scikit-learn's):
  U(-b, b), b = sqrt(factor / (fan_in + fan_out)).
- ``glorot_normal``: N(0, s^2) with the same variance, s = sqrt(factor / (3 (fan_in + fan_out)))
  (factor 6: PyTorch's ``xavier_normal_``).
- ``he_uniform`` (He et al., 2015; PyTorch's ``kaiming_uniform_(nonlinearity="relu")``):
  U(-b, b), b = sqrt(6 / fan_in).
- ``he_normal`` (``kaiming_normal_``, not truncated): N(0, s^2), s = sqrt(2 / fan_in).
"""

import numpy as np


def _glorot_uniform(fan_in, fan_out, factor, rng):
    bound = np.sqrt(factor / (fan_in + fan_out))
    return rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)


def _glorot_normal(fan_in, fan_out, factor, rng):
    scale = np.sqrt(factor / (3.0 * (fan_in + fan_out)))
    return rng.normal(0.0, scale, (fan_in, fan_out)), rng.normal(0.0, scale, fan_out)


def _he_uniform(fan_in, fan_out, factor, rng):
    bound = np.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)


def _he_normal(fan_in, fan_out, factor, rng):
    scale = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, scale, (fan_in, fan_out)), rng.normal(0.0, scale, fan_out)


INITIALIZERS = {
    "glorot_uniform": _glorot_uniform,
    "glorot_normal": _glorot_normal,
    "he_uniform": _he_uniform,
    "he_normal": _he_normal,
}


def init_layer(init, fan_in, fan_out, factor, random_state, dtype=np.float32):
    """One layer's (coef (fan_in, fan_out), intercept (fan_out,)), of dtype (drawn in
    float64: with dtype=np.float64, scikit-learn's exact starting weights).

    Parameters
    ----------
    init : str
        A key of INITIALIZERS.
    fan_in, fan_out : int
        The layer's input and output widths.
    factor : float
        The Glorot factor of the activation the bound is taken for (glorot_* only).
    random_state : numpy.random.RandomState
        Drawn from: coef first, then intercept.
    dtype : np.float32 or np.float64
        The training dtype.
    """
    coef, intercept = INITIALIZERS[init](fan_in, fan_out, factor, random_state)
    return coef.astype(dtype), intercept.astype(dtype)
