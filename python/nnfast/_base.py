"""BaseMultilayerPerceptron: parameters, validation and the fit flow shared by
MLPClassifier and MLPRegressor, organised like scikit-learn 1.9's class of the same
name so the two can be read side by side. The solvers live in _stochastic_solver.py
and _lbfgs_solver.py, the array-level work in _network.py.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real
from typing import TYPE_CHECKING, Optional, Union

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import assert_all_finite, check_is_fitted, validate_data

from . import _batch_norm
from ._callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from ._activations import activation_names, hidden_activations
from ._checks import (
    as_parameter_list,
    check_float32_hyperparameters,
    check_float32_range,
    check_parameters,
    check_sample_weight,
)
from ._lbfgs_solver import LbfgsSolverMixin
from ._activations import ACTIVATIONS
from ._initializers import INITIALIZERS, init_layer
from ._network import (
    OUTPUT_HEADS,
    as_core_input,
    as_dtype,
    hidden_dropout,
    predictor,
    training_dtype,
)
from ._stochastic_solver import StochasticSolverMixin

if TYPE_CHECKING:
    import scipy.sparse
    from typing_extensions import Self

    # What X may be: anything NumPy reads as a 2-D array (lists, DataFrames) or a scipy
    # sparse matrix or array.
    MatrixLike = Union[ArrayLike, scipy.sparse.spmatrix, scipy.sparse.sparray]

# Where the Sphinx documentation (docs/) is to be hosted: the planned address, not yet
# online. The only place it is written: scikit-learn's HTML repr (the "?" link of an
# estimator in Jupyter) links each estimator to its API page there (_doc_link_template).
DOCS_URL = "https://nnfast.readthedocs.io/en/stable/"

_STOCHASTIC_SOLVERS = ["sgd", "adam"]

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _SavedRandomState:
    """A RandomState (possibly the user's own, which shuffling advances) and its state."""

    def __init__(self, rs):
        self.rs, self.state = rs, rs.get_state()


def _saved_value(value):
    """What a fit may change *in place*, copied: arrays (weights), lists (of arrays, or of
    floats that a fit appends to), the optimizer's state and a RandomState. Immutable or
    only-ever-replaced values (numbers, strings, the label binarizer) are kept as they are.
    A shallow copy of loss_curve_ keeps this O(1) per float, not a deep copy."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):  # a tuple: coefs_ as a user may assign them
        return type(value)(v.copy() if isinstance(v, np.ndarray) else v for v in value)
    if isinstance(value, np.random.RandomState) and value is not np.random.mtrand._rand:
        return _SavedRandomState(value)  # not NumPy's global one (random_state=None)
    if hasattr(value, "state1") and hasattr(value, "step"):  # an optimizer
        saved = copy.copy(value)
        saved.step = value.step.copy()
        saved.state1 = [s.copy() for s in value.state1]
        saved.state2 = [s.copy() for s in value.state2]
        return saved
    return value


def _restored_value(value):
    if isinstance(value, _SavedRandomState):
        value.rs.set_state(value.state)
        return value.rs
    return value


class BaseMultilayerPerceptron(CallbackSupportMixin, StochasticSolverMixin, LbfgsSolverMixin,
                               BaseEstimator, ABC):
    """Base class of the MLP estimators; use MLPClassifier or MLPRegressor."""

    # scikit-learn's HTML repr links an estimator of this package to the page that
    # docs/api.rst's autosummary generates for it, e.g. generated/nnfast.MLPClassifier.html
    # (estimator_module is the public module, "nnfast"; see sklearn.utils._repr_html).
    _doc_link_module = "nnfast"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"

    # scikit-learn 1.9's constraints, unchanged: the same InvalidParameterError at fit.
    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        # One name, or one per hidden layer (checked against hidden_layer_sizes at fit).
        "activation": [StrOptions(set(activation_names())), tuple, list],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions(set(INITIALIZERS))],  # nnfast only
        "dropout": [Interval(Real, 0, 1, closed="left"), tuple, list],  # nnfast only
        "batch_norm": ["boolean"],  # nnfast only
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="both")],  # nnfast only
        "batch_norm_epsilon": [Interval(Real, 0, None, closed="neither")],  # nnfast only
        # nnfast only: np.float32 or np.float64 (or their names or dtypes; training_dtype)
        "dtype": [type, str, np.dtype],
    }

    @abstractmethod
    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, loss, shuffle,
                 random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                 early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                 n_iter_no_change, max_fun, init, dropout, batch_norm, batch_norm_momentum,
                 batch_norm_epsilon, dtype):
        self.dtype = dtype
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # --- fitting --------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: Optional[ArrayLike] = None,
        *,
        X_val: Optional[MatrixLike] = None,
        y_val: Optional[ArrayLike] = None,
        sample_weight_val: Optional[ArrayLike] = None,
    ) -> Self:
        """Fit the model to X and y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input is used as is (no copy). Sparse input is
            never densified: a canonical CSR matrix is read in place, CSC, COO and
            other formats are converted once to CSR (a copy of the nonzeros).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            A validation set (HistGradientBoostingClassifier's naming), 'sgd' and
            'adam' only. With ``early_stopping=True`` the validation score is
            computed on it, and all of X trains (no ``validation_fraction`` split).
            Whenever a validation set exists (this one or the split),
            ``validation_loss_curve_`` records its loss after each epoch.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Its targets (labels among those of y, for a classifier); required with
            X_val.
        sample_weight_val : array-like of shape (n_val,), default=None
            Its sample weights (times the class weights, with ``class_weight``).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            Bad X, y or weights, named; X_val without y_val or the reverse; X_val
            with solver='lbfgs'; y_val with labels that y lacks.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False,
                         validation=(X_val, y_val, sample_weight_val))

    def _validation_data(self, X_val, y_val, sample_weight_val, per_class):
        """The checked validation set: (X_val for _core, Y_val of the training dtype for the loss,
        y_val to score, sample_weight_val or None), or None when none was given."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val was given without X_val and y_val")
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together (got "
                             f"{'y_val' if X_val is None else 'X_val'} only)")
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError("X_val is used by the 'sgd' and 'adam' solvers (early stopping "
                             "and validation_loss_curve_, per epoch); solver='lbfgs' has no "
                             "epochs")
        try:
            X_val = validate_data(self, X_val, accept_sparse=["csr", "csc"], reset=False,
                                  dtype=(np.float64, np.float32))
            assert_all_finite(X_val, input_name="X")
        except ValueError as e:
            raise ValueError(f"X_val: {e}") from None
        dtype = self._dtype()
        if dtype == np.float32:
            check_float32_range("X_val", X_val)
        y_val, Y_val = self._validation_targets(y_val)
        if Y_val.shape[0] != X_val.shape[0]:
            raise ValueError(f"X_val has {X_val.shape[0]} rows but y_val has {Y_val.shape[0]}")
        if dtype == np.float32:
            check_float32_range("y_val", Y_val)
        if sample_weight_val is not None:
            try:
                sample_weight_val = check_sample_weight(sample_weight_val, X_val, dtype)
            except ValueError as e:
                raise ValueError(f"sample_weight_val: {e}") from None
        sample_weight_val = self._with_class_weight(per_class, Y_val, sample_weight_val, X_val)
        return as_core_input(X_val), as_dtype(Y_val, dtype), y_val, sample_weight_val

    def _class_weight_per_class(self, Y, incremental):
        """The weight of each class (MLPClassifier's class_weight); None: unweighted."""
        return None

    def _with_class_weight(self, per_class, Y, sample_weight, X):
        """sample_weight (or ones) times each row's class weight, checked as any
        sample_weight; unchanged when per_class is None."""
        if per_class is None:
            return sample_weight
        weights = per_class.take(self._class_rows(Y))
        return check_sample_weight(weights if sample_weight is None else sample_weight * weights, X,
                                   self._dtype())

    def _dtype(self):
        """The training dtype (the dtype parameter as an np.dtype; ValueError for one
        that is not float32 or float64). A model pickled before dtype existed is float32."""
        return training_dtype(getattr(self, "dtype", np.float32))

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(np.ravel(sizes)) if isinstance(sizes, np.ndarray) else list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, (bool, np.bool_)) and s > 0
                   for s in sizes):
            raise ValueError("hidden_layer_sizes must be > 0 (positive integers), got %s."
                             % sizes)
        return [int(s) for s in sizes]

    @contextmanager
    def _unchanged_on_error(self):
        """A fit or partial_fit that raises (bad input, divergence, Ctrl-C outside the
        epoch loop) leaves the estimator exactly as it was before the call: a diverging
        refit does not destroy the previous model, and a failed first fit leaves it
        unfitted. Saving costs one copy of the arrays that training changes in place
        (see _saved_value); everything else is replaced, never mutated, by a fit."""
        saved = {k: _saved_value(v) for k, v in self.__dict__.items()}
        try:
            yield
        except BaseException:
            # The callbacks' context of this call stays, for their teardown (with_callbacks).
            running = {k: v for k, v in self.__dict__.items()
                       if k in ("_callback_fit_ctx", "_skl_callbacks_to_teardown")}
            self.__dict__.clear()
            self.__dict__.update({k: _restored_value(v) for k, v in saved.items()})
            self.__dict__.update(running)
            raise

    @with_callbacks
    def _fit(self, X, y, sample_weight=None, incremental=False, validation=(None, None, None)):
        with self._unchanged_on_error():
            self._fit_unguarded(X, y, sample_weight, incremental, validation)
        return self

    def _fit_unguarded(self, X, y, sample_weight, incremental, validation):
        dtype = self._dtype()
        if dtype == np.float32:
            check_float32_hyperparameters(self)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        hidden_layer_sizes = self._hidden_layer_sizes()
        hidden_activations(self.activation, len(hidden_layer_sizes))  # ValueError first
        if any(hidden_dropout(self.dropout, len(hidden_layer_sizes))) and \
                self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError("dropout needs a stochastic solver ('sgd' or 'adam'): it makes "
                             "the objective random, which L-BFGS's line search cannot follow")
        if self.batch_norm and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError("batch_norm needs a stochastic solver ('sgd' or 'adam'): it "
                             "normalizes by mini-batch statistics")
        if self.batch_norm and not hidden_layer_sizes:
            raise ValueError("batch_norm=True, but the network has no hidden layer to "
                             "normalize (hidden_layer_sizes=())")
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if dtype == np.float32:
            check_float32_range("X", X)
            check_float32_range("y", y)
        X = as_core_input(X)  # sparse: CSR, never densified
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype)
        user_sample_weight = sample_weight  # what scorers weigh by (callbacks)
        per_class = self._class_weight_per_class(y, incremental)
        sample_weight = self._with_class_weight(per_class, y, sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        validation = self._validation_data(*validation, per_class)
        layer_units = [X.shape[1]] + hidden_layer_sizes + [self.n_outputs_]

        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, dtype)
        else:
            self._check_same_architecture(layer_units)
            # assigned or unpickled weights, or a warm start with another dtype: converted
            # to the training dtype once, and finite; so are early stopping's best copies,
            # which a fit may restore
            check_parameters(self, dtype=dtype)
            self._convert_best_copies(dtype)
            if bool(self.batch_norm) != _batch_norm.is_fitted_with(self):
                raise ValueError(
                    f"batch_norm={self.batch_norm!r}, but the fitted weights were trained "
                    f"{'without' if self.batch_norm else 'with'} batch norm: set it back, "
                    "or set warm_start=False to refit")
        if self.solver in _STOCHASTIC_SOLVERS:
            self._prepare_stopping_bookkeeping()

        Y = as_dtype(y, dtype)
        tasks = self._fit_tasks(X, y, user_sample_weight, incremental)
        tasks.begin()
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, Y, y, sample_weight, incremental, validation, tasks)
        else:
            self._fit_lbfgs(X, Y, sample_weight, tasks)
        self._prepare_predictor()
        tasks.end()

    def _fit_tasks(self, X, y, sample_weight, incremental):
        """The callbacks' view of this call (_callbacks.FitTasks): none is made unless a
        callback is set here or propagated by a meta-estimator."""
        wanted = getattr(self, "_skl_callbacks", None) or hasattr(self, "_parent_callback_ctx")
        if not wanted:
            return FitTasks.none()
        if is_classifier(self):  # the labels, as scorers compare predict with them
            y = self._label_binarizer.inverse_transform(y)
        elif y.shape[1] == 1:
            y = y.ravel()
        # L-BFGS begins one more iteration than it runs (scipy's callback comes after
        # each); it ends empty, as in scikit-learn's LogisticRegression.
        max_subtasks = 1 if incremental else self.max_iter + (self.solver == "lbfgs")
        return FitTasks(self, X, y, sample_weight, max_subtasks)

    def _initialize(self, y, layer_units, dtype):
        """First fit (or a fit without warm_start): fresh weights (of dtype) and
        bookkeeping."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()

        self.coefs_, self.intercepts_ = [], []
        for i, (fan_in, fan_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
            factor = ACTIVATIONS[self._init_activation(i)].init_factor
            coef, intercept = init_layer(self.init, fan_in, fan_out, factor, self._random_state,
                                         dtype)
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        _batch_norm.initialize(self, layer_units[1:-1], dtype)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        self._best_batch_norm = _batch_norm.snapshot(self)
        self._optimizer = None  # new weights: no optimizer state to keep
        if self.solver in _STOCHASTIC_SOLVERS:
            self._init_stochastic_bookkeeping()

    def _convert_best_copies(self, dtype):
        """Early stopping's snapshot (_best_coefs, _best_intercepts, _best_batch_norm) in
        the training dtype, so that restoring it keeps the model's dtype."""
        for name in ("_best_coefs", "_best_intercepts"):
            if getattr(self, name, None) is not None:
                setattr(self, name, [np.asarray(a, dtype=dtype) for a in getattr(self, name)])
        if getattr(self, "_best_batch_norm", None) is not None:
            self._best_batch_norm = [[np.asarray(a, dtype=dtype) for a in group]
                                     for group in self._best_batch_norm]

    def _trained_params(self):
        """Every array the optimizer trains, in its state's order: coefs_, intercepts_,
        then batch norm's scales and shifts."""
        return self.coefs_ + self.intercepts_ + _batch_norm.trained(self)

    def _init_activation(self, layer):
        """The activation whose Glorot factor layer ``layer``'s weights take: the one
        activation, for every layer (scikit-learn's rule), or, given one per hidden
        layer, the one after the layer (the last hidden one for the output layer)."""
        if isinstance(self.activation, str):
            return self.activation
        names = list(self.activation)
        return names[min(layer, len(names) - 1)] if names else "relu"

    def _head(self):
        """The _core head training minimizes (output activation + loss) and its
        parameter: the classifier's follows out_activation_ (MLPRegressor overrides)."""
        return OUTPUT_HEADS[self.out_activation_], 0.0

    def _output_activation(self):
        if not is_classifier(self):
            return "exp" if self.loss == "poisson" else "identity"
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"  # binary and multilabel

    def _prepare_stopping_bookkeeping(self):
        """loss_curve_ and the stopping records, for a stochastic fit: new when there are
        none (a warm start from an lbfgs fit), and matching early_stopping when a warm
        start switched it since the last fit (each mode keeps its own records)."""
        if not hasattr(self, "loss_curve_"):
            self._init_stochastic_bookkeeping()
        elif self.early_stopping and getattr(self, "validation_scores_", None) is None:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        elif not self.early_stopping and getattr(self, "best_loss_", None) is None:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _init_stochastic_bookkeeping(self):
        self.loss_curve_ = []
        self.__dict__.pop("validation_loss_curve_", None)  # new weights: a new curve
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _check_same_architecture(self, layer_units):
        """warm_start / partial_fit continue the existing weights, which must fit."""
        expected = [np.shape(c) for c in self.coefs_]
        got = list(zip(layer_units[:-1], layer_units[1:]))
        if expected != got:
            raise ValueError(
                f"Cannot continue training: the layer shapes are now {got}, but the "
                f"fitted weights have {expected}. Set warm_start=False to refit."
            )

    # --- prediction -----------------------------------------------------------------
    def _check_fitted(self):
        """check_is_fitted's answer in 0.1 us instead of 15 (it scans vars(self)):
        only an unfitted model pays for the full check and its NotFittedError."""
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)

    def _forward_pass_fast(self, X, check_input=True):
        """The output layer's activations: float64 for a float64 model or float64 X, else
        float32."""
        if not check_input or not self._is_plain_float_array(X):
            if check_input:
                # scikit-learn's predict validation (dtype "numeric", same errors); then
                # anything but float32 computes and returns float64, as its dot would.
                X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
                if X.dtype not in _FAST_DTYPES:
                    X = X.astype(np.float64)
            X = as_core_input(X)
        coefs, intercepts = self.coefs_, self.intercepts_
        dtype = self._dtype()
        if (type(coefs) is not list or type(intercepts) is not list
                or not coefs or getattr(coefs[0], "dtype", None) != dtype):
            # a tuple, as scikit-learn allows, or arrays of another dtype (scikit-learn's
            # float64 coefs_ on a float32 model): predicted in the model's dtype
            coefs = as_parameter_list("coefs_", coefs, dtype)
            intercepts = as_parameter_list("intercepts_", intercepts, dtype)
        coefs, intercepts, scales = _batch_norm.for_predict(coefs, intercepts, self)
        try:
            return self._predictor_of_fit()(X, coefs, intercepts, scales)
        except (TypeError, ValueError):
            # Arrays _core cannot read (float64, Fortran order, byte-swapped: assigned by a
            # user) are converted; if none was, the error is about something else.
            converted = (as_parameter_list("coefs_", coefs, dtype),
                         as_parameter_list("intercepts_", intercepts, dtype))
            if all(a is b for a, b in zip(converted[0] + converted[1], coefs + intercepts)):
                raise
            return self._predictor_of_fit()(X, *converted, scales)

    def _is_plain_float_array(self, X):
        """The fast lane of predict (single-row latency is mostly validation): a 2-D
        C-contiguous float ndarray of the fitted width, on a model fitted without
        feature names, goes straight to _core, which rejects NaN and infinity itself.
        Anything else takes scikit-learn's validate_data, with its exact messages."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FAST_DTYPES
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and X.flags.c_contiguous
            and X.flags.aligned
            and not hasattr(self, "feature_names_in_")
        )

    # The prepared network is made at the end of fit (and on unpickling), never in
    # predict: scikit-learn's checks require that predict leaves __dict__ unchanged.
    def _predictor_key(self):
        activation = self.activation
        if isinstance(activation, list):
            activation = tuple(activation)  # assigned by set_params: compared by value
        return activation, self.out_activation_, self.n_layers_

    def _prepare_predictor(self):
        self._predictor = (self._predictor_key(), predictor(*self._predictor_key()))

    def _predictor_of_fit(self):
        """The Predictor made at fit; a temporary one if the architecture parameters
        were changed since (set_params(activation=...) takes effect, as in sklearn)."""
        prepared = self.__dict__.get("_predictor")
        key = self._predictor_key()
        if prepared is not None and prepared[0] == key:
            return prepared[1]
        return predictor(*key)

    def __getstate__(self):
        # The Predictor is a C++ object: not pickled, made again by __setstate__.
        return {k: v for k, v in super().__getstate__().items() if k != "_predictor"}

    def __setstate__(self, state):
        state = dict(state)
        state.setdefault("dtype", np.float32)  # a pickle from before dtype= is float32
        super().__setstate__(state)
        if "coefs_" in self.__dict__:
            # A pickle is trusted code, but its arrays may have been edited or written by
            # another version: wrong shapes, dtypes or byte order are a ValueError here.
            # NaN weights predict NaN
            check_parameters(self, require_finite=False,
                             dtype=self._dtype())
        try:
            self._prepare_predictor()
        except (AttributeError, KeyError, ValueError, TypeError):
            pass  # unfitted, or set_params gave a bad activation: predict will say so

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Score without input validation (used on the early-stopping split)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
