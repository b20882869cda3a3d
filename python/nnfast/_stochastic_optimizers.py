"""Optimizer state and learning-rate schedules for the stochastic solvers.

The update rules themselves run in C++ (_core.train_epoch); these classes hold what
persists between epochs, as NumPy arrays owned by the estimator (so pickle, clone and
deepcopy need no extra code), and mirror scikit-learn's `SGDOptimizer` /
`AdamOptimizer` epoch-level behaviour: `iteration_ends` and `trigger_stopping`.
"""

from typing import Optional

import numpy as np

from . import _core


class BaseOptimizer:
    """State common to both solvers.

    `step` is an int64 array of shape (1,) that _core increments once per batch
    (Adam's t; for SGD it just counts batches). `state1` / `state2` are one array per
    parameter, in scikit-learn's order (coefs..., intercepts...).
    """

    kind: Optional[str] = None

    def __init__(self, params, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.step = np.zeros(1, dtype=np.int64)
        self.state1 = [np.zeros_like(p) for p in params]
        self.state2 = []

    def config(self):
        """The _core.OptimizerConfig for the next epoch (built on demand: it is a
        C++ object and is never stored, so the estimator stays picklable)."""
        raise NotImplementedError

    def inherit_state(self, previous, params):
        """Keep the moments/velocities of `previous` (warm_start) when they fit.

        The learning-rate schedule restarts from learning_rate_init (as a new
        scikit-learn optimizer would); only the accumulated state is carried over.
        """
        if previous is None or previous.kind != self.kind:
            return
        if [s.shape for s in previous.state1] != [p.shape for p in params]:
            return
        if not all(np.isfinite(s).all() for s in previous.state1 + previous.state2):
            return  # an overflowed state would freeze the weights again: start afresh
        # Copies, in the parameters' dtype (a warm start may change dtype=).
        self.step = previous.step.copy()
        self.state1 = [s.astype(p.dtype) for s, p in zip(previous.state1, params)]
        self.state2 = [s.astype(p.dtype) for s, p in zip(previous.state2, params)]

    def iteration_ends(self, time_step):
        """Update the learning rate at the end of an epoch (time_step = t_)."""

    def trigger_stopping(self, msg, verbose):
        """True when training should stop after `n_iter_no_change` bad epochs."""
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDOptimizer(BaseOptimizer):
    """SGD with (Nesterov) momentum; state1 holds the velocities."""

    kind = "sgd"

    def __init__(self, params, learning_rate_init=0.1, lr_schedule="constant",
                 momentum=0.9, nesterov=True, power_t=0.5):
        super().__init__(params, learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t

    def config(self):
        return _core.OptimizerConfig(
            "sgd", self.learning_rate, momentum=self.momentum, nesterov=self.nesterov
        )

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamOptimizer(BaseOptimizer):
    """Adam as scikit-learn does it (epsilon added to the uncorrected sqrt(v), bias
    correction folded into the step size); state1/state2 hold m and v."""

    kind = "adam"

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        super().__init__(params, learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.state2 = [np.zeros_like(p) for p in params]

    def config(self):
        # _core applies the bias correction from `step`, so it gets the base rate.
        return _core.OptimizerConfig(
            "adam", self.learning_rate_init, beta1=self.beta_1, beta2=self.beta_2,
            epsilon=self.epsilon,
        )
