"""Docstrings of MLPClassifier and MLPRegressor.

They share almost every parameter and attribute, so the text lives here once and the
two class docstrings are assembled from it. Every place where nnfast deliberately
differs from scikit-learn 1.9 says so ("nnfast:").
"""

_LOSS = """\
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}, \
default='squared_error'
        The loss minimised: *half* squared error (identity output), *half*
        Poisson deviance (exp output, a log link), or, nnfast only, the robust
        losses of an identity output with ``d = prediction - y``: 'absolute_error'
        ``|d|`` (the median); 'huber' (Huber, 1964; PyTorch's ``HuberLoss``)
        ``d^2 / 2`` for ``|d| <= delta``, else ``delta * (|d| - delta / 2)``; 'quantile' the
        pinball loss ``q max(-d, 0) + (1 - q) max(d, 0)`` of ``q = quantile``
        (scikit-learn's ``mean_pinball_loss``; the q-th conditional quantile).
        Summed over outputs. The early-stopping score stays R^2.

        nnfast: with several outputs the squared error is summed over the
        outputs (and averaged over samples), so that it is the function whose
        gradient is used; scikit-learn averages the loss over outputs but not
        the gradient (scikit-learn #8349). 'poisson' requires ``y >= 0`` and
        raises ValueError otherwise (scikit-learn returns a NaN loss).
"""

_ROBUST_LOSS_PARAMETERS = """
    delta : float, default=1.0
        loss='huber' only: the residual beyond which the loss grows linearly, > 0
        (PyTorch's ``HuberLoss(delta)``; HuberRegressor calls it ``epsilon``, a
        name that is Adam's here). nnfast only.

    quantile : float, default=0.5
        loss='quantile' only: the quantile predicted, in (0, 1)
        (HistGradientBoostingRegressor's name). nnfast only.
"""

from ._activations import activation_names

_ACTIVATION_SET = "{" + ", ".join(f"'{name}'" for name in activation_names()) + "}"

_PARAMETERS = f"""\
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, default=(100,)
        The ith element is the number of neurons in the ith hidden layer;
        ``()`` gives a model with no hidden layer.

    activation : {_ACTIVATION_SET} or tuple of those, default='relu'
        Activation function of every hidden layer, or a tuple with one per hidden
        layer (``activation=("relu", "tanh")`` for two hidden layers). Formulas:
        :func:`nnfast.ops.activation_forward`. Beside scikit-learn's four:
        'leaky_relu' (slope 0.01), 'elu' (alpha 1), 'gelu' (exact, through the
        normal CDF), 'gelu_tanh' (its tanh approximation) and 'silu', as PyTorch's
        ``LeakyReLU()``, ``ELU()``, ``GELU()``, ``GELU(approximate="tanh")`` and
        ``SiLU()``. With one name, every layer's Glorot-uniform bound uses its factor
        (scikit-learn's rule: 2 for 'logistic', else 6); with a tuple, each layer's
        uses the activation after it.

    solver : {{'lbfgs', 'sgd', 'adam'}}, default='adam'
        'lbfgs' is scipy's L-BFGS-B on the full batch; 'sgd' is stochastic
        gradient descent with momentum; 'adam' is Kingma and Ba's Adam.

    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * sum(||W||^2) / sum(sw)``, with
        ``sum(sw)`` the number (or total sample weight) of the batch. Biases are
        not penalised.

    batch_size : int or 'auto', default='auto'
        Mini-batch size for 'sgd' and 'adam'; 'auto' is ``min(200, n_samples)``.
        A larger value is clipped to n_samples with a warning.

    learning_rate : {{'constant', 'invscaling', 'adaptive'}}, default='constant'
        Learning-rate schedule of 'sgd' only. 'invscaling':
        ``learning_rate_init / (t_ + 1) ** power_t`` updated after each epoch;
        'adaptive': divide by 5 whenever ``n_iter_no_change`` epochs do not
        improve by ``tol``, and stop once the rate is at most 1e-6.

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Epochs for 'sgd'/'adam', iterations for 'lbfgs'. A ConvergenceWarning is
        raised when it is reached.

    shuffle : bool, default=True
        Shuffle the samples every epoch ('sgd', 'adam'). Only an index array is
        shuffled; X is never copied.

    random_state : int, RandomState instance or None, default=None
        Drives the weight initialisation, the early-stopping split and the
        shuffling, with the same calls as scikit-learn: an int gives
        scikit-learn's initial weights (rounded to float32 unless
        ``dtype=np.float64``) and batches.

    tol : float, default=1e-4
        'lbfgs': the projected-gradient tolerance (``gtol``). 'sgd'/'adam': the
        improvement that resets the ``n_iter_no_change`` counter.

    verbose : bool or int, default=False
        Print ``Iteration %d, loss = %.8f`` per epoch, then (nnfast) the epoch's
        training time in seconds, ``, 0.012 s``; and the validation score with
        early stopping, the validation loss with a validation set. nnfast: 'lbfgs'
        prints one line per iteration too (scikit-learn prints nothing,
        scikit-learn issue #10236).

    warm_start : bool, default=False
        Start the next ``fit`` from the current weights. ``loss_curve_`` and
        ``t_`` keep accumulating and ``n_iter_`` restarts.

        nnfast: the optimizer state (Adam's moments and step count, SGD's
        velocities) is also kept, so a warm-started fit continues the same
        optimisation; scikit-learn creates a fresh optimizer on every ``fit``.
        The learning-rate schedule still restarts from ``learning_rate_init``.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum ('sgd' with momentum > 0).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for a
        single-output classifier) and stop when the validation score (accuracy
        or R^2) has not improved by ``tol`` for more than ``n_iter_no_change``
        epochs; the best-scoring weights are restored at the end. 'sgd' and
        'adam' only.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping, in [0, 1).

    beta_1 : float, default=0.9
        Adam's decay rate of the first moment, in [0, 1).

    beta_2 : float, default=0.999
        Adam's decay rate of the second moment, in [0, 1).

    epsilon : float, default=1e-8
        Adam's epsilon, added to the uncorrected ``sqrt(v)`` as scikit-learn does.

    n_iter_no_change : int or np.inf, default=10
        Stop (or, with 'adaptive', cut the rate) once more than this many
        consecutive epochs do not improve by ``tol``.

    max_fun : int, default=15000
        'lbfgs' only: the maximum number of loss evaluations.

    init : {'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'}, \
default='glorot_uniform'
        How the weights and biases are drawn (both from one distribution, as
        scikit-learn draws them), fan_in / fan_out being a layer's widths and
        ``factor`` its activation's (2 for 'logistic', else 6):
        'glorot_uniform', scikit-learn's, U(-b, b) with b = sqrt(factor / (fan_in +
        fan_out)) (Glorot & Bengio, 2010); 'glorot_normal', N(0, s^2) of the same
        variance; 'he_uniform', U(-b, b) with b = sqrt(6 / fan_in) (He et al., 2015;
        PyTorch's ``kaiming_uniform_``); 'he_normal', N(0, 2 / fan_in) (PyTorch's
        ``kaiming_normal_``). nnfast only.

    dropout : float or tuple of float, default=0.0
        Inverted dropout (Srivastava et al., 2014; PyTorch's ``nn.Dropout``) on the
        output of every hidden layer, or one rate per hidden layer, each in [0, 1):
        in training each unit is kept with probability ``1 - rate`` and scaled by
        ``1 / (1 - rate)``; predict uses every unit, unscaled. The draws are
        counter-based (SplitMix64 keyed by a seed drawn from ``random_state``, the
        epoch, the sample's row of X, the layer and the unit), so results are bitwise
        the same for any thread count. 'sgd' and 'adam' only. nnfast only.

    batch_norm : bool, default=False
        Batch normalization (Ioffe & Szegedy, 2015) of every hidden layer, between
        its dense product and its activation, as PyTorch's ``nn.Linear`` ->
        ``nn.BatchNorm1d`` -> activation: in training, each unit's ``z`` is
        normalized by the mini-batch's mean and (biased) variance,
        ``(z - mean) / sqrt(var + batch_norm_epsilon)``, then scaled and shifted by
        the trained ``batch_norm_scales_`` and ``batch_norm_shifts_``; predict uses
        the running statistics ``running_means_`` and ``running_vars_`` instead (and
        the current ``batch_norm_epsilon``), applied per unit in the layer's store.
        The batch statistics are unweighted, as in PyTorch: sample weights weigh the
        loss only, so a zero-weight row still moves its batch's statistics (a batch
        whose weights sum to 0 is skipped whole, as always). Mini-batches need 2 rows
        or more (ValueError for ``batch_size=1`` or a one-row ``partial_fit``); a
        last batch of one row counts in the epoch's loss but updates nothing.
        Results are bitwise the same for any thread count. 'sgd' and 'adam' only; a
        warm start or partial_fit must keep the setting it was fitted with. nnfast
        only.

    batch_norm_momentum : float, default=0.1
        PyTorch's ``momentum``, in [0, 1]: after each batch, ``running = (1 -
        momentum) * running + momentum * batch statistic``, the variance's unbiased
        (times ``m / (m - 1)`` for a batch of m rows). nnfast only.

    batch_norm_epsilon : float, default=1e-5
        Added to the variance before its square root (PyTorch's ``eps``), > 0.
        nnfast only.

    dtype : {{np.float32, np.float64}}, default=np.float32
        The precision of the weights and of all of training and prediction (also
        accepted: their names and ``np.dtype`` objects). ``np.float32`` (the default)
        runs twice the SIMD width on half the memory traffic; ``np.float64`` computes in
        double from end to end (each instruction set's float64 kernels) and matches
        scikit-learn's float64 numerics: its initial weights exactly, L-BFGS to float64
        tolerances, and the float32 range checks do not apply. X of either dtype is
        read as it is and converted row by row. A warm start or ``partial_fit`` after
        changing it converts the weights (and the optimizer's state) once. ValueError at
        fit for any other dtype. nnfast only.
"""

_ATTRIBUTES = """\
    loss_ : float
        The final training loss (epoch average including the L2 term for
        'sgd'/'adam'; the objective at the solution for 'lbfgs').

        nnfast: with non-uniform sample weights the epoch loss averages the
        batches by their total weight (scikit-learn by their sample count).

    best_loss_ : float or None
        Lowest ``loss_curve_`` value ('sgd'/'adam'); None with early stopping.

    loss_curve_ : list of float
        Loss per epoch, accumulated across warm starts and partial_fit calls.

    validation_scores_ : list of float or None
        Validation score per epoch with early stopping, else None.

    best_validation_score_ : float or None
        Best validation score with early stopping, else None.

    validation_loss_curve_ : list of float
        The validation set's loss after each epoch (fit's ``X_val``, or the
        ``validation_fraction`` split of early stopping): the weighted mean of the
        training loss's per-sample term, without the L2 term that ``loss_curve_``
        includes. A warm start with a validation set appends to it; any fit or
        partial_fit call without one removes it (its epochs would be missing), so it
        covers the last epochs of ``loss_curve_``. nnfast only.

    t_ : int
        Number of training samples seen, across warm starts.

    coefs_ : list of ndarray of shape (fan_in, fan_out), of dtype ``dtype``
        Weight matrices. nnfast: their dtype is the ``dtype`` parameter's (float32 by
        default; scikit-learn follows X's dtype). Assigned arrays of another dtype are
        converted at the next fit (warm start) or converted for each predict.

    intercepts_ : list of ndarray of shape (fan_out,), of dtype ``dtype``
        Bias vectors.

    batch_norm_scales_, batch_norm_shifts_ : list of ndarray of shape (fan_out,), of dtype ``dtype``
        With ``batch_norm=True``, per hidden layer: the trained scale (gamma,
        PyTorch's ``weight``, starting at 1) and shift (beta, PyTorch's ``bias``,
        starting at 0) of its normalization. Absent otherwise. nnfast only.

    running_means_, running_vars_ : list of ndarray of shape (fan_out,), of dtype ``dtype``
        With ``batch_norm=True``, per hidden layer: the running mean and unbiased
        variance of its dense product (starting at 0 and 1), which predict
        normalizes by. Absent otherwise. nnfast only.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when they are all strings.

    n_iter_ : int
        Epochs (or L-BFGS iterations) of the last fit or partial_fit call.

    n_layers_ : int
        ``len(hidden_layer_sizes) + 2``.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        'softmax', 'logistic', 'identity' or 'exp'.
"""

_NOTES = """\
    Notes
    -----
    A drop-in replacement for scikit-learn's class of the same name: the same
    parameters, attributes and training loop, with the arithmetic in C++
    kernels, in float32 by default (``dtype=np.float64``: in float64). A float32
    model returns predictions in float64 when X is float64 (computed in float32); a
    float64 model always in float64. Sparse X (CSR; CSC and COO are converted to CSR once) is never
    densified: the first layer is computed as sparse x dense. ``partial_fit`` exists only for 'sgd' and 'adam' (scikit-learn's
    regressor also exposes it for 'lbfgs', where it silently runs a full fit).
    If the solver produces non-finite weights, fit raises ValueError.
"""


def _assemble(summary, parameters, extra_attributes, see_also, examples):
    return (
        f"{summary}\n\n    Parameters\n    ----------\n{parameters}\n"
        f"    Attributes\n    ----------\n{extra_attributes}{_ATTRIBUTES}\n"
        f"{_NOTES}\n    See Also\n    --------\n{see_also}\n"
        f"    Examples\n    --------\n{examples}"
    )


# Run as doctests (tests/test_doctests.py): small, deterministic, no float printed whose
# last digits could differ between instruction sets (generic, AVX2 and AVX-512 kernels
# round differently).
_CLASSIFIER_EXAMPLES = """\
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from nnfast import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=1000,
    ...                     random_state=0).fit(X_train, y_train)
    >>> clf.predict(X_test[:5])
    array([0, 0, 0, 0, 1])
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 3)
    >>> clf.score(X_test, y_test) > 0.9
    True
    >>> clf.coefs_[0].dtype  # the weights are float32
    dtype('float32')

    Mini-batch training one chunk at a time ('sgd' and 'adam'):

    >>> import numpy as np
    >>> clf = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    >>> for rows in np.array_split(np.arange(len(X_train)), 3):
    ...     clf = clf.partial_fit(X_train[rows], y_train[rows], classes=[0, 1, 2])
    >>> clf.t_  # samples seen
    112
"""

_REGRESSOR_EXAMPLES = """\
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from nnfast import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, noise=1.0, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=1000,
    ...                    random_state=0).fit(X_train, y_train)
    >>> reg.predict(X_test[:3]).shape
    (3,)
    >>> reg.score(X_test, y_test) > 0.95
    True
"""


_CLASS_WEIGHT = """
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplying ``sample_weight`` (as scikit-learn's
        linear classifiers compose them): a dict ``{label: weight}`` (labels not in it
        weigh 1), or 'balanced', ``n_samples / (n_classes * np.bincount(y))`` over the
        ``y`` of ``fit`` (scikit-learn's ``compute_class_weight``). The training loss
        and the early-stopping validation score are weighted alike. Binary and
        multiclass targets; 'balanced' is refused by ``partial_fit``, which sees one
        batch at a time (compute the weights once with ``compute_class_weight`` and
        pass the dict). nnfast only: scikit-learn's MLP has no class weights.
"""

CLASSIFIER_DOC = _assemble(
    "Multi-layer perceptron classifier (log-loss), trained with L-BFGS, SGD or Adam.",
    _PARAMETERS.rstrip("\n") + "\n" + _CLASS_WEIGHT,
    "    classes_ : ndarray of shape (n_classes,)\n"
    "        Class labels (for multilabel targets, ``arange(n_labels)``).\n\n",
    "    MLPRegressor : Multi-layer perceptron regressor.\n",
    _CLASSIFIER_EXAMPLES,
)

REGRESSOR_DOC = _assemble(
    "Multi-layer perceptron regressor (squared error or Poisson), trained with\n"
    "    L-BFGS, SGD or Adam.",
    _LOSS + "\n" + _PARAMETERS.rstrip("\n") + "\n" + _ROBUST_LOSS_PARAMETERS,
    "",
    "    MLPClassifier : Multi-layer perceptron classifier.\n",
    _REGRESSOR_EXAMPLES,
)
