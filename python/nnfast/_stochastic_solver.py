"""The epoch loop of the 'sgd' and 'adam' solvers (scikit-learn's `_fit_stochastic`).

Each epoch is one call to _core.train_epoch, which walks the mini-batches in C++.
Everything around it (shuffling, early stopping, the no-improvement counter, the
learning-rate schedule, warnings, verbose output) follows scikit-learn 1.9 line by
line, so that one random_state visits the same batches in the same order.
"""

import time
import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import _batch_norm, _core
from ._checks import scaling_hint
from ._network import all_finite, as_core_input, hidden_codes, hidden_dropout
from ._stochastic_optimizers import AdamOptimizer, SGDOptimizer


class StochasticSolverMixin:
    """`_fit_stochastic` and its helpers; mixed into BaseMultilayerPerceptron."""

    def _make_optimizer(self, params):
        if self.solver == "sgd":
            return SGDOptimizer(params, self.learning_rate_init, self.learning_rate,
                                self.momentum, self.nesterovs_momentum, self.power_t)
        return AdamOptimizer(params, self.learning_rate_init, self.beta_1, self.beta_2,
                             self.epsilon)

    def _prepare_optimizer(self, incremental):
        """partial_fit keeps the optimizer; fit makes a new one with the current
        hyperparameters but, when warm-starting, keeps its moments (see the
        warm_start parameter: scikit-learn resets them)."""
        previous = getattr(self, "_optimizer", None)
        params = self._trained_params()
        if incremental and previous is not None:
            # The same optimizer (its learning-rate schedule too), its state in the
            # parameters' dtype (partial_fit after set_params(dtype=...) converts it once).
            previous.state1 = [s.astype(p.dtype, copy=False) for s, p in zip(previous.state1, params)]
            previous.state2 = [s.astype(p.dtype, copy=False) for s, p in zip(previous.state2, params)]
            return
        optimizer = self._make_optimizer(params)
        optimizer.inherit_state(previous, params)
        self._optimizer = optimizer

    def _effective_batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _split_for_early_stopping(self, y, sample_weight):
        """Split *indices* (X is never copied) exactly as scikit-learn splits (X, y):
        same random_state draw, stratified only for a single-output classifier."""
        should_stratify = is_classifier(self) and self.n_outputs_ == 1
        stratify = y if should_stratify else None
        train_idx, val_idx = train_test_split(
            np.arange(y.shape[0], dtype=np.int64),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if val_idx.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return train_idx, val_idx

    def _validation_set(self, X, y, sample_weight, val_idx):
        X_val = X[val_idx]
        y_val = y[val_idx]
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        sw_val = None if sample_weight is None else sample_weight[val_idx]
        return X_val, y_val, sw_val

    def _fit_stochastic(self, X, Y, y, sample_weight, incremental, validation_data, tasks):
        """X: rows-contiguous float32/64; Y: (n, n_outputs) targets, of the training dtype, for
        _core; y: the same targets as validated (used to score the validation set);
        validation_data: fit's X_val as _base._validation_data checked it, or None;
        tasks: the callbacks' (_callbacks.FitTasks), told of each epoch's end."""
        self._prepare_optimizer(incremental)

        train_idx, validation, loss_set = None, (None, None, None), None
        if validation_data is not None:  # fit's X_val: all of X trains
            X_val, Y_val, y_val, sw_val = validation_data
            validation, loss_set = (X_val, y_val, sw_val), (X_val, Y_val, sw_val)
        elif self.early_stopping:
            train_idx, val_idx = self._split_for_early_stopping(y, sample_weight)
            validation = self._validation_set(X, y, sample_weight, val_idx)
            loss_set = (as_core_input(validation[0]), np.ascontiguousarray(Y[val_idx]),
                        validation[2])
        if loss_set is None:  # epochs without a validation set: the old curve is stale
            self.__dict__.pop("validation_loss_curve_", None)
        elif not hasattr(self, "validation_loss_curve_"):
            self.validation_loss_curve_ = []
        n_samples = X.shape[0] if train_idx is None else train_idx.shape[0]
        total_weight = self._total_weight(sample_weight, n_samples, train_idx)
        if not total_weight > 0:
            raise ValueError("sample_weight is zero on every training row (those left "
                             "after the early-stopping split): there is nothing to fit.")
        batch_size = self._effective_batch_size(n_samples)
        if _batch_norm.is_fitted_with(self) and batch_size < 2:
            raise ValueError(
                "batch_norm needs mini-batches of 2 rows or more (a one-row batch has no "
                f"variance to normalize by; PyTorch's BatchNorm1d refuses it), got "
                f"batch_size={self.batch_size!r} with {n_samples} training row(s)")
        sample_idx = np.arange(n_samples, dtype=np.int64)
        dropout = self._dropout_of_fit()

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # Shuffle indices, not X, with the same RandomState call as
                    # scikit-learn's shuffle(X, y), so the batches are the same: it
                    # permutes by random_state.shuffle(arange(n)), and shuffling
                    # sample_idx in place applies the very same swaps (and copies less).
                    self._random_state.shuffle(sample_idx)
                order = sample_idx if train_idx is None else train_idx[sample_idx]
                tasks.subtask_begins()
                started = time.perf_counter()
                summed_loss = self._train_one_epoch(X, Y, sample_weight, order, batch_size,
                                                    dropout)
                seconds = time.perf_counter() - started
                loss = summed_loss / total_weight
                self._check_epoch_finite(loss, X, Y, sample_weight, incremental)
                self._record_epoch(loss, n_samples, seconds)
                if loss_set is not None:
                    self._record_validation_loss(*loss_set)
                stop_requested = tasks.subtask_ended()
                if self._should_stop(validation) or incremental or stop_requested:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            # _core raises it between batches: the weights are a consistent state.
            warnings.warn("Training interrupted by user.")

        if self.early_stopping:
            # Copies: the restored arrays must not alias _best_coefs, which later
            # in-place training (warm_start, partial_fit) would otherwise modify.
            self.coefs_ = [c.copy() for c in self._best_coefs]
            self.intercepts_ = [b.copy() for b in self._best_intercepts]
            _batch_norm.restore(self, getattr(self, "_best_batch_norm", None))

    def _check_epoch_finite(self, loss, X, Y, sample_weight, incremental):
        """After each epoch: a non-finite loss or weight (divergence: _core stops at the
        first such batch) or optimizer state (Adam's v overflows float32 when gradients
        pass ~1.8e19: the weights it touches stop moving) is a ValueError, raised on the
        call where it happened; fit and partial_fit then restore the estimator."""
        params = self._trained_params()
        if _batch_norm.is_fitted_with(self):
            params = params + self.running_means_ + self.running_vars_
        state = self._optimizer.state1 + self._optimizer.state2
        if np.isfinite(loss) and all_finite(params) and all_finite(state):
            return
        where = ("this partial_fit call" if incremental
                 else f"epoch {self.n_iter_ + 1} of this fit")
        scale = scaling_hint(X, Y, sample_weight)
        unchanged = "The estimator is left as it was before this call."
        if np.isfinite(loss) and all_finite(params):
            raise ValueError(
                f"Training overflowed {self._dtype()} in {where}: the {self.solver} optimizer's "
                f"state became infinite (gradients beyond ~1e19), which would freeze the "
                f"weights it touches. {scale[0].upper() + scale[1:]}. {unchanged}")
        what = (f"the loss became {loss}" if not np.isfinite(loss)
                else "a weight became NaN or infinite")
        raise ValueError(
            f"Training diverged in {where}: {what}. Try a smaller learning_rate_init "
            f"(now {self.learning_rate_init!r}) or {scale}. {unchanged}")

    @staticmethod
    def _total_weight(sample_weight, n_samples, train_idx):
        """The denominator of the epoch loss: the training rows' count or weight."""
        if sample_weight is None:
            return float(n_samples)
        rows = slice(None) if train_idx is None else train_idx
        return float(sample_weight[rows].sum(dtype=np.float64))

    def _record_epoch(self, loss, n_samples, seconds):
        self.n_iter_ += 1
        self.loss_ = loss
        self.t_ += n_samples
        self.loss_curve_.append(loss)
        if self.verbose:
            # scikit-learn's line, then the epoch's training time (nnfast).
            print("Iteration %d, loss = %.8f, %.3f s" % (self.n_iter_, loss, seconds))

    def _record_validation_loss(self, X_val, Y_val, sw_val):
        """The validation set's loss after this epoch: training's loss head, weighted
        as training weighs (sample_weight_val times the class weights), without the L2
        term that loss_curve_ includes. Through _core.loss_and_gradient, whose gradient
        is discarded."""
        coefs, intercepts = _batch_norm.fold(self.coefs_, self.intercepts_, self)  # predict's
        grads = [np.empty_like(p) for p in coefs + intercepts]
        n = len(coefs)
        head, parameter = self._head()
        loss = _core.loss_and_gradient(
            coefs, intercepts, hidden_codes(self.activation, self.n_layers_),
            head, X_val, Y_val, sw_val, 0.0, grads[:n], grads[n:], loss_parameter=parameter)
        self.validation_loss_curve_.append(float(loss))
        if self.verbose:
            print("Validation loss: %f" % loss)

    def _should_stop(self, validation):
        """End of epoch: update the no-improvement counter and the learning rate;
        True when training stops (or, for 'adaptive', after cutting the rate: False)."""
        self._update_no_improvement_count(self.early_stopping, *validation)
        self._optimizer.iteration_ends(self.t_)
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        if self._optimizer.trigger_stopping(self._stopping_message(), self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _dropout_of_fit(self):
        """(rates, seed) for this fit's epochs: the seed drawn from the random state only
        when some rate is positive (without dropout the draws, hence the shuffles, stay
        scikit-learn's)."""
        rates = hidden_dropout(self.dropout, self.n_layers_ - 2)
        if not any(rates):
            return [], 0
        return rates, int(self._random_state.randint(0, 2**63 - 1, dtype=np.int64))

    def _train_one_epoch(self, X, Y, sample_weight, order, batch_size, dropout=([], 0)):
        """One _core.train_epoch call: returns sum over batches of batch_loss * the
        batch's total sample weight (the epoch loss is that / the epoch's weight). The
        dropout draws are keyed by t_ (the samples seen before this epoch): no two epochs
        of a model, across warm starts and partial_fit calls, share their masks."""
        optimizer = self._optimizer
        rates, seed = dropout
        head, parameter = self._head()
        return _core.train_epoch(
            self.coefs_, self.intercepts_,
            hidden_codes(self.activation, self.n_layers_), head,
            X, Y, sample_weight, order, batch_size, float(self.alpha),
            optimizer.config(), optimizer.state1, optimizer.state2, optimizer.step,
            dropout=rates, dropout_seed=seed, epoch=int(self.t_), loss_parameter=parameter,
            **_batch_norm.core_arguments(self),
        )

    def _stopping_message(self):
        if self.early_stopping:
            return (
                "Validation score did not improve more than "
                "tol=%f for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
            )
        return (
            "Training loss did not improve more than tol=%f"
            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
        )

    def _update_no_improvement_count(self, early_stopping, X_val, y_val, sw_val):
        if early_stopping:
            # The validation *score* (accuracy or R^2, NaN if predictions are
            # non-finite), never a loss, as in scikit-learn.
            val_score = self._score(X_val, y_val, sample_weight=sw_val)
            self.validation_scores_.append(val_score)
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            if val_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if val_score > self.best_validation_score_:
                self.best_validation_score_ = val_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [b.copy() for b in self.intercepts_]
                self._best_batch_norm = _batch_norm.snapshot(self)
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]
