"""MLPClassifier and MLPRegressor: scikit-learn 1.9's public API on nnfast's kernels.

Only what differs between classification and regression is here: target encoding,
the output layer, predict/predict_proba and partial_fit's signature. The shared fit
flow is in _base.py; the docstrings are in _docs.py.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from . import _core, _docs
from ._base import BaseMultilayerPerceptron

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._base import MatrixLike

class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    __doc__ = _docs.CLASSIFIER_DOC

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, class_weight=None,
                 init="glorot_uniform", dropout=0.0, batch_norm=False,
                 batch_norm_momentum=0.1, batch_norm_epsilon=1e-5, dtype=np.float32):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss="log_loss", shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, init=init,
            dropout=dropout, batch_norm=batch_norm, batch_norm_momentum=batch_norm_momentum,
            batch_norm_epsilon=batch_norm_epsilon, dtype=dtype,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # scikit-learn's case table: a new fit (re)defines classes_; a warm start
        # must see the same set of classes; partial_fit may not add classes.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # bool, as scikit-learn (the early-stopping split stratifies on it).
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def _validation_targets(self, y_val):
        """(y_val as scoring reads it, its binarized float targets); ValueError for
        labels that are not classes."""
        try:
            y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        except (TypeError, ValueError) as e:
            raise ValueError(f"y_val: {e}") from None
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val)
        unknown = np.setdiff1d(unique_labels(y_val), self.classes_)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            if (y_val.ndim != 2 or y_val.shape[1] != len(self.classes_)
                    or not np.isin(y_val, (0, 1)).all()):
                raise ValueError(f"y_val must be a {len(self.classes_)}-column 0/1 indicator "
                                 f"matrix, as y; got shape {y_val.shape}")
        elif y_val.ndim != 1 or len(unknown):
            raise ValueError(f"y_val has labels that y does not: {unknown.tolist()}"
                             if len(unknown) else f"y_val must be 1-D labels, got shape "
                                                  f"{y_val.shape}")
        Y_val = self._label_binarizer.transform(y_val)
        return y_val, Y_val.reshape(len(y_val), -1)

    def _class_weight_per_class(self, Y, incremental):
        """The weight of each entry of classes_ (None without class_weight), 'balanced'
        counted over Y: the binarized targets of fit (_validate_input's)."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        y_type = self._label_binarizer.y_type_
        if y_type not in ("binary", "multiclass"):
            raise ValueError(f"class_weight is supported for binary and multiclass targets; "
                             f"y is {y_type} (weight the rows with sample_weight instead)")
        if not isinstance(class_weight, str):
            return self._class_weight_vector(class_weight)
        if incremental:  # 'balanced', the only string the constraint allows
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which sees one "
                "batch at a time: compute the weights once, with sklearn.utils.class_weight"
                ".compute_class_weight('balanced', classes=classes, y=y) on enough of y, "
                "and pass them as a dict")
        labels = self.classes_.take(self._class_rows(Y))
        present = unique_labels(labels)
        per_class = np.ones(len(self.classes_))
        per_class[np.searchsorted(self.classes_, present)] = compute_class_weight(
            "balanced", classes=present, y=labels)
        return per_class

    @staticmethod
    def _class_rows(Y):
        """Each row's index into classes_, from binarized single-output targets."""
        return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(np.intp)

    def _class_weight_vector(self, class_weight):
        """class_weight as a weight per entry of classes_ (ValueError naming the bad entry)."""
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        unknown = [label for label in class_weight if label not in index]
        if unknown:
            raise ValueError(f"class_weight has labels that are not classes: {unknown}; "
                             f"classes_ is {self.classes_.tolist()}")
        per_class = np.ones(len(index))
        for label, weight in class_weight.items():
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                raise TypeError(f"class_weight[{label!r}] must be a real number, got "
                                f"{type(weight).__name__}")
            weight = float(weight)
            if not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"class_weight[{label!r}] must be finite and >= 0, got {weight}")
            per_class[index[label]] = weight
        return per_class

    def predict(self, X: MatrixLike) -> NDArray[Any]:
        """Predict class labels (an indicator matrix for multilabel targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 and float64 input is read as it is (converted row by row to the
            model's dtype); other dtypes are converted to float64 first.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Labels from ``classes_`` (their dtype); a 0/1 indicator matrix for
            multilabel targets.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            X with another number of features than ``fit``'s, or NaN or infinity.
        """
        self._check_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        # LabelBinarizer.inverse_transform's rules, without its ~90 us of checks:
        # multiclass takes the argmax (first on ties), binary thresholds p at 0.5.
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            return self.classes_.take(np.argmax(y_pred, axis=1))
        if y_type == "binary" and len(self.classes_) == 2:
            return self.classes_.take((y_pred.ravel() > 0.5).astype(np.intp))
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: Optional[ArrayLike] = None,
        classes: Optional[ArrayLike] = None,
    ) -> Self:
        """One epoch over (X, y); 'sgd' and 'adam' only.

        ``classes`` (all the labels of every call) is required on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or a 0/1 indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every label any call will see: required on the first call; later calls
            may omit it or must give the same.

        Returns
        -------
        self : object

        Raises
        ------
        AttributeError
            With ``solver='lbfgs'`` (the method does not exist then).
        ValueError
            ``classes`` missing on the first call, labels not in it, or
            ``early_stopping=True``.
        """
        with self._unchanged_on_error():  # classes_ too, if the first call fails
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_proba(self, X: MatrixLike) -> NDArray[np.floating[Any]]:
        """Class probabilities, columns in the order of ``classes_``.

        Binary: (n, 2) built as [1 - p, p]. Multilabel: independent sigmoids, so
        rows need not sum to 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            float64 for a ``dtype=np.float64`` model (computed in float64); else
            float32 for float32 X, float64 for other X (computed in float32).
        """
        self._check_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X: MatrixLike) -> NDArray[np.floating[Any]]:
        """``log(predict_proba(X))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            As :meth:`predict_proba`'s dtype; ``-inf`` where a probability is 0.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (ClassifierMixin's).

        For multilabel targets this is the subset accuracy: a row counts only when
        every label is right.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = _docs.REGRESSOR_DOC

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        # Every head of cpp/losses.hpp's list but the classifiers' two cross-entropies.
        "loss": [StrOptions({name for name in _core.Loss.__members__
                             if not name.endswith("_cross_entropy")})],
        "delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    # `loss` is the first positional parameter, as in scikit-learn 1.9.
    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu",
                 *, solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 init="glorot_uniform", dropout=0.0, batch_norm=False,
                 batch_norm_momentum=0.1, batch_norm_epsilon=1e-5, delta=1.0, quantile=0.5,
                 dtype=np.float32):
        self.delta = delta
        self.quantile = quantile
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss=loss, shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, init=init,
            dropout=dropout, batch_norm=batch_norm, batch_norm_momentum=batch_norm_momentum,
            batch_norm_epsilon=batch_norm_epsilon, dtype=dtype,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            # scikit-learn accepts it and trains on a NaN loss.
            raise ValueError("loss='poisson' requires y >= 0, got negative values.")
        return X, y

    def _validation_targets(self, y_val):
        """(y_val as scoring reads it, the same as an (n_val, n_outputs) array)."""
        y_val = check_array(y_val, ensure_2d=False, dtype=(np.float64, np.float32),
                            input_name="y_val")
        Y_val = y_val.reshape(len(y_val), -1)
        if Y_val.shape[1] != self.n_outputs_ or y_val.ndim > 2:
            raise ValueError(f"y_val has {Y_val.shape[1]} outputs, y has {self.n_outputs_}")
        if self.loss == "poisson" and np.any(Y_val < 0):
            raise ValueError("loss='poisson' requires y_val >= 0, got negative values.")
        return y_val, Y_val

    def _head(self):
        """The _core head training minimizes, and its parameter (delta, quantile)."""
        return _core.Loss[self.loss], {"huber": self.delta, "quantile": self.quantile}.get(
            self.loss, 0.0)

    def predict(self, X: MatrixLike) -> NDArray[np.floating[Any]]:
        """Predicted values: (n_samples,) for one output, else (n_samples, n_outputs).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 and float64 input is read as it is (converted row by row to the
            model's dtype); other dtypes are converted to float64 first.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64 for a ``dtype=np.float64`` model (computed in float64); else
            float32 for float32 X, float64 for other X (computed in float32).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            X with another number of features than ``fit``'s, or NaN or infinity.
        """
        self._check_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: MatrixLike, y: ArrayLike,
                    sample_weight: Optional[ArrayLike] = None) -> Self:
        """One epoch over (X, y); 'sgd' and 'adam' only.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object

        Raises
        ------
        AttributeError
            With ``solver='lbfgs'`` (the method does not exist then).
        ValueError
            X with another number of features than before, or ``early_stopping=True``.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def score(self, X: MatrixLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` (RegressorMixin's).

        With several outputs, the uniform average of each output's R^2. The best
        score is 1.0; it may be negative.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return super().score(X, y, sample_weight=sample_weight)
