"""The 'lbfgs' solver: scipy's L-BFGS-B over the flattened parameters.

scipy works on a float64 vector; every evaluation copies it into the estimator's
arrays (of its dtype, float32 or float64) and asks _core.loss_and_gradient for the full-batch objective and its
exact gradient. Unlike scikit-learn 1.9 (#10236), `verbose` prints one line per
iteration.
"""

import numpy as np
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from . import _core
from ._checks import scaling_hint
from ._network import ParameterPacking, all_finite, hidden_codes


class LbfgsSolverMixin:
    """`_fit_lbfgs`; mixed into BaseMultilayerPerceptron."""

    def _fit_lbfgs(self, X, Y, sample_weight, tasks):
        packing = ParameterPacking(self.coefs_, self.intercepts_)
        objective = self._lbfgs_objective(X, Y, sample_weight, packing)
        stopped = [False]
        tasks.subtask_begins("iteration")
        opt_res = scipy.optimize.minimize(
            objective,
            packing.pack(self.coefs_, self.intercepts_),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            callback=self._lbfgs_iteration_hook(packing, tasks, stopped),
        )
        if not stopped[0]:
            tasks.subtask_ended(ran=False)  # begun after the last iteration, never run
        if stopped[0]:  # a callback's stop: no convergence warning, as for sgd and adam
            self.n_iter_ = int(opt_res.nit)
        else:
            self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = float(opt_res.fun)
        packing.unpack_into(opt_res.x, self.coefs_, self.intercepts_)
        if not np.isfinite(self.loss_) or not all_finite(self.coefs_ + self.intercepts_):
            hint = scaling_hint(X, Y, sample_weight)
            raise ValueError(
                f"L-BFGS diverged: the loss is {self.loss_}. {hint[0].upper() + hint[1:]}. "
                "The estimator is left as it was before this call.")

    def _lbfgs_objective(self, X, Y, sample_weight, packing):
        """f(packed) -> (loss, packed gradient), both float64, as scipy wants."""
        hidden = hidden_codes(self.activation, self.n_layers_)
        head, parameter = self._head()
        coef_grads = [np.empty_like(c) for c in self.coefs_]
        intercept_grads = [np.empty_like(b) for b in self.intercepts_]

        def loss_and_gradient(packed):
            packing.unpack_into(packed, self.coefs_, self.intercepts_)
            loss = _core.loss_and_gradient(
                self.coefs_, self.intercepts_, hidden, head, X, Y, sample_weight,
                float(self.alpha), coef_grads, intercept_grads, loss_parameter=parameter,
            )
            return loss, packing.pack(coef_grads, intercept_grads)

        return loss_and_gradient

    def _lbfgs_iteration_hook(self, packing, tasks, stopped):
        """scipy's callback after each iteration: verbose's line, then the callbacks'
        end of that iteration and begin of the next (on the iterate's weights;
        StopIteration, and stopped[0] set, when one asks to stop). None when neither is
        wanted."""
        if not self.verbose and tasks.context is None:
            return None
        iteration = [0]

        # scipy passes the current OptimizeResult when the parameter has this name.
        def after_iteration(intermediate_result):
            iteration[0] += 1
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (iteration[0], intermediate_result.fun))
            if tasks.context is not None:
                # The arrays hold the last point evaluated (maybe a line-search trial):
                # the callbacks see the iterate.
                packing.unpack_into(intermediate_result.x, self.coefs_, self.intercepts_)
                if tasks.subtask_ended():
                    stopped[0] = True
                    raise StopIteration
                tasks.subtask_begins("iteration")

        return after_iteration
