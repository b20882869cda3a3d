"""scikit-learn's callback API (``sklearn.callback``, scikit-learn 1.9 and later) on nnfast's
estimators: ``set_callbacks(ProgressBar(), ScoringMonitor(...))``.

A fit is one task; each epoch ('sgd', 'adam') or L-BFGS iteration is one subtask, whose
end hooks see a fitted copy of the estimator as it stands after it. Hooks run between
epochs, in the calling thread, never inside the C++ epoch. A callback's end hook may ask
to stop: the fit then ends after that epoch, as if it had converged. Meta-estimators
(GridSearchCV, Pipeline) propagate their auto-propagated callbacks (ProgressBar) to nnfast's
estimators as to scikit-learn's. With an older scikit-learn there is no callback API:
``set_callbacks`` raises, and fits run as before.
"""

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    AVAILABLE = True
except ImportError:  # scikit-learn < 1.9
    AVAILABLE = False

    class CallbackSupportMixin:
        def set_callbacks(self, *callbacks):
            """Callbacks need scikit-learn's callback API (scikit-learn >= 1.9).

            Raises
            ------
            RuntimeError
                Always, with this scikit-learn.
            """
            raise RuntimeError("callbacks need scikit-learn >= 1.9 (sklearn.callback)")

    def with_callbacks(method):
        return method

from . import _batch_norm

# The fitted arrays a copy needs to predict as the estimator stands (others, such as
# classes_, are set before the first epoch and are shared by the shallow copy).
_ARRAY_LISTS = ("coefs_", "intercepts_") + _batch_norm.ATTRIBUTES


class FitTasks:
    """The callback context of one fit or partial_fit call: begin(), then per epoch
    epoch_ended() (True: a callback asks to stop), then end(). Does nothing where
    scikit-learn has no callback API."""

    def __init__(self, estimator, X, y, sample_weight, max_subtasks):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.context = (estimator._init_callback_context(max_subtasks=max_subtasks)
                        if AVAILABLE and estimator is not None else None)

    @classmethod
    def none(cls):
        """Tasks that call nothing (no callback is set)."""
        return cls(None, None, None, None, 0)

    def begin(self):
        if self.context is not None:
            self.context.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y,
                                                metadata=self.metadata)

    def epoch_ended(self, task_name="epoch"):
        """One finished subtask (its begin and end hooks both see its end state)."""
        if self.context is None:
            return False
        sub = self.context.subcontext(task_name=task_name)
        hooks = dict(estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                     reconstruction_attributes=self._fitted_attributes)
        sub.call_on_fit_task_begin(**hooks)
        return bool(sub.call_on_fit_task_end(**hooks))

    def end(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                reconstruction_attributes=self._fitted_attributes)

    def _fitted_attributes(self):
        """Copies of the arrays training changes in place (called lazily, only by hooks
        that take the fitted estimator)."""
        est = self.estimator
        return {name: [a.copy() for a in getattr(est, name)]
                for name in _ARRAY_LISTS if hasattr(est, name)}
