"""scikit-learn's callback API (``sklearn.callback``, scikit-learn 1.9 and later) on nnfast's
estimators: ``set_callbacks(ProgressBar(), ScoringMonitor(...))``.

A fit is one task; each epoch ('sgd', 'adam') or L-BFGS iteration is one subtask, whose
begin hooks see a fitted copy of the estimator as it stands before it, and end hooks after. Hooks run between
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

    class CallbackSupportMixin:  # type: ignore[no-redef]
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

    def subtask_begins(self, task_name="epoch"):
        """An epoch (or iteration) starts: its begin hooks see the model before it."""
        if self.context is None:
            return
        self.subtask = self.context.subcontext(task_name=task_name)
        self.subtask.call_on_fit_task_begin(**self._hook_arguments())

    def subtask_ended(self, ran=True):
        """It ended: its end hooks see the model after it; True when one asks to stop.
        ran=False: it never ran (L-BFGS's last one), so its hooks get no data."""
        if self.context is None:
            return False
        arguments = self._hook_arguments() if ran else {"estimator": self.estimator}
        return bool(self.subtask.call_on_fit_task_end(**arguments))

    def _hook_arguments(self):
        return dict(estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                    reconstruction_attributes=self._fitted_attributes)

    def end(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                reconstruction_attributes=self._fitted_attributes)

    def _fitted_attributes(self):
        """Copies of what training changes in place or appends to (called lazily, only by
        hooks that take the fitted estimator), so that a kept copy stays as it was."""
        est = self.estimator
        attributes = {name: [a.copy() for a in getattr(est, name)]
                      for name in _ARRAY_LISTS if hasattr(est, name)}
        for name in ("loss_curve_", "validation_scores_", "validation_loss_curve_"):
            if isinstance(getattr(est, name, None), list):
                attributes[name] = list(getattr(est, name))
        return attributes
