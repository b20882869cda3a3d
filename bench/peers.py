"""The implementations under comparison, each behind the same small interface.

Estimators (nnfast, scikit-learn, and ``CoreEstimator``, nnfast's fallback straight on
``_core``) have ``fit`` / ``predict_proba`` / ``predict``. The PyTorch and NumPy peers
train over pre-made batches: ``epoch()`` runs one pass.
"""

import functools

import numpy as np

from common import SEED, core, nnfast_estimators, nnfast_gemm, one_hot, quiet_convergence, torch


# --- estimators ----------------------------------------------------------------------------
def estimator(impl, task, hidden, batch_size="auto", max_iter=1, random_state=SEED):
    """A fresh MLP estimator of ``impl`` ("nnfast" or "sklearn") for ``task``
    ("classification" or "regression"), Adam with the defaults of scikit-learn."""
    kwargs = dict(hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=max_iter,
                  shuffle=True, random_state=random_state)
    if impl == "sklearn":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        return (MLPClassifier if task == "classification" else MLPRegressor)(**kwargs)
    classifier, regressor = nnfast_estimators()
    if classifier is None:
        return CoreEstimator(task, **kwargs)
    return (classifier if task == "classification" else regressor)(**kwargs)


def nnfast_api():
    """How nnfast is driven here: its estimators, or _core directly while they are missing."""
    return "estimator" if nnfast_estimators()[0] is not None else "_core.train_epoch"


def fit_quietly(model, X, y):
    with quiet_convergence():
        return model.fit(X, y)


def fit_case(impl, task, hidden, X, y, batch_size="auto", max_iter=1, keep=None):
    """A callable fitting a fresh estimator (what a user runs); keep[impl] gets the model."""

    def run():
        model = fit_quietly(estimator(impl, task, hidden, batch_size, max_iter), X, y)
        if keep is not None:
            keep[impl] = model

    return run


def epoch_cases(task, layers, X, y, batch_size):
    """{impl: callable} each training one epoch: nnfast's estimator, "_core" (nnfast's
    epoch without the estimator around it), sklearn, the NumPy step (classification)
    and PyTorch. The peers' batches are made here, outside any timing."""
    hidden = layers[1:-1]
    cases = {"nnfast": fit_case("nnfast", task, hidden, X, y, batch_size),
             "_core": lambda: CoreEstimator(task, hidden, batch_size).fit(X, y),
             "sklearn": fit_case("sklearn", task, hidden, X, y, batch_size)}
    if task == "classification":
        cases["NumPy"] = NumpyMLP(layers, batch_size, X, y).epoch
    if torch:
        cases["PyTorch"] = TorchMLP(layers, task, batch_size, X, y).epoch
    return cases


def same_network_models(layers, X, y):
    """nnfast, sklearn and PyTorch classifiers holding one network (nnfast's, fitted
    for an epoch on X, y), so they predict the same probabilities."""
    nnfast_model = fit_quietly(estimator("nnfast", "classification", layers[1:-1]), X, y)
    coefs, intercepts = nnfast_model.coefs_, nnfast_model.intercepts_
    sklearn_model = fit_quietly(estimator("sklearn", "classification", layers[1:-1]), X, y)
    models = {"nnfast": nnfast_model, "sklearn": transplant(coefs, intercepts, sklearn_model)}
    if torch:
        models["PyTorch"] = transplant(coefs, intercepts, TorchMLP(layers, "classification"))
    return models


def predict_cases(models, X):
    """{impl: callable} computing predict_proba(X) (PyTorch on a tensor made once), and
    "_core": nnfast's prepared network (_core.Predictor) alone, without the estimator's
    validation."""
    cases = {impl: functools.partial(m.predict_proba, X) for impl, m in models.items()}
    if "PyTorch" in models:
        cases["PyTorch"] = functools.partial(models["PyTorch"].predict_proba,
                                             torch.from_numpy(X))
    fitted = models["nnfast"]
    relu = [core.Activation.relu] * (len(fitted.coefs_) - 1)
    predictor = core.Predictor(relu, core.Loss.softmax_cross_entropy)
    cases["_core"] = functools.partial(predictor, X, fitted.coefs_, fitted.intercepts_)
    return cases


def gemm_cases(m, k, n, trans_a=False, trans_b=False, seed=SEED):
    """{impl: callable} each writing op(a) (m, k) @ op(b) (k, n) into a preallocated out:
    nnfast's gemm with its transpose flags, NumPy's matmul / torch.mm on the same
    transposed views (OpenBLAS and MKL take them without a copy)."""
    rng = np.random.default_rng(seed)
    a = rng.random((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.random((n, k) if trans_b else (k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    gemm = nnfast_gemm()
    cases = {"nnfast": lambda: gemm(a, b, trans_a=trans_a, trans_b=trans_b, out=out),
             "NumPy": lambda: np.matmul(op_a, op_b, out=out)}
    if torch:
        ta, tb, tout = torch.from_numpy(op_a), torch.from_numpy(op_b), torch.empty(m, n)
        cases["PyTorch"] = lambda: torch.mm(ta, tb, out=tout)
    return cases


def transplant(coefs, intercepts, model):
    """Give a fitted scikit-learn estimator (or a TorchMLP) the weights coefs/intercepts,
    so every implementation predicts with the same network."""
    if isinstance(model, TorchMLP):
        with torch.no_grad():
            for layer, w, b in zip(model.linears, coefs, intercepts):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                layer.bias.copy_(torch.from_numpy(b))
        return model
    model.coefs_ = [np.array(w, dtype=np.float32) for w in coefs]
    model.intercepts_ = [np.array(b, dtype=np.float32) for b in intercepts]
    return model


class CoreEstimator:
    """nnfast's epochs called straight on ``_core`` (Glorot init, Adam, shuffled order):
    the fallback while the estimators do not import, and a way to see their overhead.
    ``core_module`` may be another build of ``_core`` (bench/baseline.py)."""

    def __init__(self, task, hidden_layer_sizes, batch_size="auto", max_iter=1,
                 shuffle=True, random_state=SEED, core_module=core):
        self.core = core_module
        self.task, self.hidden, self.max_iter = task, tuple(hidden_layer_sizes), max_iter
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(random_state)
        self.loss = (self.core.Loss.softmax_cross_entropy if task == "classification"
                     else self.core.Loss.squared_error)

    def _targets(self, y):
        if self.task == "classification":
            self.classes_ = np.unique(y)
            return one_hot(np.searchsorted(self.classes_, y), len(self.classes_))
        return np.ascontiguousarray(np.reshape(y, (len(y), -1)), dtype=np.float32)

    def fit(self, X, y):
        Y = self._targets(y)
        layers = (X.shape[1], *self.hidden, Y.shape[1])
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layers[:-1], layers[1:]):
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            coef, intercept = (self.rng.uniform(-bound, bound, shape).astype(np.float32)
                               for shape in ((fan_in, fan_out), fan_out))
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        params = self.coefs_ + self.intercepts_
        m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        step = np.zeros(1, dtype=np.int64)
        batch = min(200, len(X)) if self.batch_size == "auto" else self.batch_size
        optimizer = self.core.OptimizerConfig("adam", 1e-3)
        relu = [self.core.Activation.relu] * len(self.hidden)
        for _ in range(self.max_iter):
            order = (self.rng.permutation(len(X)) if self.shuffle else np.arange(len(X)))
            summed = self.core.train_epoch(self.coefs_, self.intercepts_, relu, self.loss, X, Y,
                                      None, order.astype(np.int64), batch, 1e-4, optimizer,
                                      m, v, step)
            self.loss_ = summed / len(X)
        return self

    def predict_proba(self, X):
        relu = [self.core.Activation.relu] * len(self.hidden)
        return self.core.predict(self.coefs_, self.intercepts_, relu, self.loss, X)

    def predict(self, X):
        return self.predict_proba(X).ravel()


# --- PyTorch: the fastest eager form ------------------------------------------------------
class TorchMLP:
    """nn.Sequential of Linear/ReLU, Adam(lr=1e-3); an epoch loops over pre-made tensors
    (shuffled once, outside the timing), softmax-CE or squared error."""

    def __init__(self, layers, task, batch_size=None, X=None, y=None, seed=SEED):
        torch.manual_seed(seed)
        self.linears = [torch.nn.Linear(a, b) for a, b in zip(layers[:-1], layers[1:])]
        modules = []
        for linear in self.linears:
            modules += [linear, torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*modules[:-1])
        self.task = task
        self.loss_fn = (torch.nn.CrossEntropyLoss() if task == "classification"
                        else torch.nn.MSELoss())
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        if X is not None:
            perm = np.random.default_rng(seed).permutation(len(X))
            targets = (torch.from_numpy(y[perm].astype(np.int64)) if task == "classification"
                       else torch.from_numpy(y[perm].reshape(-1, 1)))
            self.batches = list(zip(torch.from_numpy(X[perm]).split(batch_size),
                                    targets.split(batch_size)))

    def epoch(self):
        for xb, yb in self.batches:
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.net(xb), yb)
            loss.backward()
            self.optimizer.step()
        return float(loss.detach())

    def predict_proba(self, X):
        """X: a float32 tensor (the caller converts once)."""
        with torch.inference_mode():
            return torch.softmax(self.net(X), dim=1)


# --- NumPy: a hand-written float32 step ---------------------------------------------------
class NumpyMLP:
    """ReLU MLP + softmax-CE, forward/backward/Adam written with NumPy float32 ops
    (OpenBLAS GEMMs, in-place elementwise work), over pre-made batches."""

    def __init__(self, layers, batch_size, X, y, seed=SEED):
        rng = np.random.default_rng(seed)
        self.weights = []
        for fan_in, fan_out in zip(layers[:-1], layers[1:]):
            bound = np.float32(np.sqrt(6.0 / (fan_in + fan_out)))
            self.weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        self.biases = [np.zeros(w.shape[1], dtype=np.float32) for w in self.weights]
        params = self.weights + self.biases
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0
        perm = rng.permutation(len(X))
        Xs, Ys = X[perm], one_hot(y[perm], layers[-1])
        self.batches = [(Xs[i:i + batch_size], Ys[i:i + batch_size])
                        for i in range(0, len(X), batch_size)]

    def step(self, x, y):
        acts = [x]
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            a = acts[-1] @ w
            a += b
            np.maximum(a, 0, out=a)
            acts.append(a)
        p = acts[-1] @ self.weights[-1]
        p += self.biases[-1]
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(np.maximum((p * y).sum(axis=1), 1e-7)).mean()
        delta = (p - y) / np.float32(len(x))
        grads_w, grads_b = [None] * len(self.weights), [None] * len(self.weights)
        for i in reversed(range(len(self.weights))):
            grads_w[i] = acts[i].T @ delta
            grads_b[i] = delta.sum(axis=0)
            if i:
                delta = delta @ self.weights[i].T
                delta *= acts[i] > 0
        self.t += 1
        numpy_adam(self.weights + self.biases, grads_w + grads_b, self.m, self.v, self.t)
        return loss

    def epoch(self):
        for x, y in self.batches:
            loss = self.step(x, y)
        return loss


def numpy_adam(params, grads, ms, vs, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """scikit-learn's Adam update in place, NumPy float32 expressions."""
    lr_t = np.float32(lr * np.sqrt(1 - beta2**step) / (1 - beta1**step))
    for p, g, m, v in zip(params, grads, ms, vs):
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        p -= lr_t * m / (np.sqrt(v) + eps)
