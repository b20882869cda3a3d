"""NumPy float64 reference implementations: the oracles the kernel tests compare against.

Plain NumPy, no nnfast import, written to read like the math in ``nnfast/_core.pyi``.
Every function takes float32 or float64 arrays and computes in float64.
"""

import numpy as np
from scipy.special import expit, ndtr, xlogy

EPS32 = float(np.finfo(np.float32).eps)
ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh",
               "silu")
# Those whose derivative is computed from the input x rather than the output f(x).
READS_INPUT = ("gelu", "gelu_tanh", "silu")
_GELU_TANH_C = np.sqrt(2.0 / np.pi)
LOSSES = ("softmax_cross_entropy", "logistic_cross_entropy", "squared_error", "poisson")
# The robust regression heads (identity output, a parameter: huber's delta, quantile's q).
ROBUST_LOSSES = {"absolute_error": 0.0, "huber": 0.7, "quantile": 0.8}


def f64(a):
    return np.asarray(a, dtype=np.float64)


# --- GEMM -------------------------------------------------------------------------------------
def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """alpha * op(a) @ op(b) + beta * c; c is not read when beta == 0."""
    op_a = f64(a).T if trans_a else f64(a)
    op_b = f64(b).T if trans_b else f64(b)
    product = alpha * (op_a @ op_b)
    return product if beta == 0.0 else product + beta * f64(c)


def gemm_error_bound(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False,
                     eps=EPS32):
    """Elementwise rounding bound (eps: float32's by default) for any summation order:
    (k + 3) * eps * (|alpha| |op(a)| @ |op(b)| + |beta c|), doubled for safety."""
    k = a.shape[0] if trans_a else a.shape[1]
    scale = gemm(np.abs(a), np.abs(b), None if c is None else np.abs(c), alpha=abs(alpha),
                 beta=abs(beta), trans_a=trans_a, trans_b=trans_b)
    return 2.0 * (k + 3) * eps * scale + 1e-300


# --- activations -----------------------------------------------------------------------------
def activation(x, name):
    x = f64(x)
    if name == "identity":
        return x.copy()
    if name == "logistic":
        return expit(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "leaky_relu":  # PyTorch's slope, a float32 0.01
        return np.where(x > 0, x, float(np.float32(0.01)) * x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    with np.errstate(invalid="ignore", over="ignore"):  # -inf * 0: the limit 0 below
        if name == "gelu":
            y = x * ndtr(x)
        elif name == "gelu_tanh":  # x/2 (1 + tanh(u)) written as x * logistic(2u), no cancellation
            y = x * expit(2.0 * _GELU_TANH_C * (x + 0.044715 * x ** 3))
        elif name == "silu":
            y = x * expit(x)
        else:
            raise ValueError(name)
    return np.where(np.isneginf(x), 0.0, y)


# ulps of float64 a float32 activation kernel may be off (cpp test_activation_accuracy
# measures each over [-120, 120]: gelu 9, where 1/2 + erf/2 cancels below z = -0.7; the
# others <= 3).
FORWARD_ULPS = {"gelu": 12}


def activation_error_bound(x, name):
    """The absolute error allowed in a float32 f(x): a few ulps of f(x) per unit of f's
    condition number |x f'(x) / f(x)| where that exceeds 1 (GELU's e^k tails below
    z = -3: any float32 rounding inside is magnified that many times), plus 1e-37."""
    expected = activation(x, name)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cond = np.abs(f64(x) * activation_derivative(x, name) / expected)
    cond = np.where(np.isfinite(cond), np.maximum(cond, 1.0), 1.0)
    return FORWARD_ULPS.get(name, 4) * EPS32 * cond * np.abs(expected) + 1e-37


def activation_derivative(x, name):
    """f'(x) from the input x, float64 (the limits at +-inf)."""
    x = f64(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if name == "gelu":
            d = ndtr(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
        elif name == "gelu_tanh":
            k = 2.0 * _GELU_TANH_C * (x + 0.044715 * x ** 3)
            s = expit(k)
            d = s + x * s * expit(-k) * 2.0 * _GELU_TANH_C * (1.0 + 3 * 0.044715 * x * x)
        elif name == "silu":
            d = expit(x) * (1.0 + x * expit(-x))
        else:
            return activation_grad_from_output(activation(x, name), name)
    return np.where(np.isinf(x), (x > 0).astype(np.float64), d)


def activation_grad_from_output(y, name):
    """f'(x) written through y = f(x)."""
    y = f64(y)
    if name == "identity":
        return np.ones_like(y)
    if name == "logistic":
        return y * (1.0 - y)
    if name == "tanh":
        return 1.0 - y * y
    if name == "relu":
        return (y > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(y > 0, 1.0, float(np.float32(0.01)))
    if name == "elu":
        return np.where(y > 0, 1.0, y + 1.0)
    raise ValueError(f"{name}'s derivative is no function of its output")


# --- output heads ----------------------------------------------------------------------------
def softmax(z):
    z = f64(z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def output_activation(z, loss):
    if loss == "softmax_cross_entropy":
        return softmax(z)
    if loss == "logistic_cross_entropy":
        return expit(f64(z))
    if loss == "squared_error" or loss in ROBUST_LOSSES:
        return f64(z).copy()
    if loss == "poisson":
        return np.exp(f64(z))
    raise ValueError(loss)


def loss_per_row(z, y, loss, parameter=0.0, eps=EPS32):
    """l_i for each row of the pre-activation z (n, k) and target y (n, k).

    Log-losses clip p to [eps, 1 - eps] (eps of the kernel's dtype: float32's by
    default), as scikit-learn does. Poisson is
    half the deviance with its y-only constant, as scikit-learn writes it:
    xlogy(y, y / exp(z)) - y + exp(z), summed over outputs."""
    z, y = f64(z), f64(y)
    p = output_activation(z, loss)
    if loss == "softmax_cross_entropy":
        return -xlogy(y, np.clip(p, eps, 1 - eps)).sum(axis=1)
    if loss == "logistic_cross_entropy":
        p = np.clip(p, eps, 1 - eps)
        return -(xlogy(y, p) + xlogy(1 - y, 1 - p)).sum(axis=1)
    if loss == "squared_error":
        return 0.5 * ((z - y) ** 2).sum(axis=1)
    if loss == "poisson":
        return (xlogy(y, y) - y * z - y + np.exp(z)).sum(axis=1)
    d = z - y
    if loss == "absolute_error":
        return np.abs(d).sum(axis=1)
    if loss == "huber":  # PyTorch's HuberLoss(delta=parameter)
        return np.where(np.abs(d) <= parameter, 0.5 * d * d,
                        parameter * (np.abs(d) - 0.5 * parameter)).sum(axis=1)
    if loss == "quantile":  # scikit-learn's mean_pinball_loss(alpha=parameter), per row
        return np.where(d < 0, -parameter * d, (1 - parameter) * d).sum(axis=1)
    raise ValueError(loss)


def loss_derivative(z, y, loss, parameter=0.0):
    """dl/dz per element: f(z) - y for the canonical heads; sign, clip and the pinball's
    slopes for the robust ones (0 at a kink)."""
    if loss not in ROBUST_LOSSES:
        return output_activation(z, loss) - f64(y)
    d = f64(z) - f64(y)
    if loss == "absolute_error":
        return np.sign(d)
    if loss == "huber":
        return np.clip(d, -parameter, parameter)
    return np.where(d > 0, 1 - parameter, np.where(d < 0, -parameter, 0.0))


def loss_forward_backward(z, y, loss, sample_weight=None, parameter=0.0, eps=EPS32):
    """(sum_i sw_i l_i, grad = dl/dz * sw_i), as _core.loss_forward_backward."""
    sw = np.ones(len(z)) if sample_weight is None else f64(sample_weight)
    total = float(sw @ loss_per_row(z, y, loss, parameter, eps))
    grad = loss_derivative(z, y, loss, parameter) * sw[:, None]
    return total, grad


# --- whole network -----------------------------------------------------------------------------
def random_targets(loss, rng, n, k, poisson_rate=1.5):
    """Valid float32 targets (n, k) for a head: one-hot, 0/1 indicators, reals, counts."""
    if loss == "softmax_cross_entropy":
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    if loss == "logistic_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(np.float32)
    if loss == "squared_error" or loss in ROBUST_LOSSES:
        return rng.standard_normal((n, k)).astype(np.float32)
    return rng.poisson(poisson_rate, (n, k)).astype(np.float32)


def forward(coefs, intercepts, activations, X):
    """Hidden outputs [X, h_1, ..., h_L] and the output pre-activation z."""
    layers = [f64(X)]
    for w, b, act in zip(coefs[:-1], intercepts[:-1], activations):
        layers.append(activation(layers[-1] @ f64(w) + f64(b), act))
    z = layers[-1] @ f64(coefs[-1]) + f64(intercepts[-1])
    return layers, z


def predict(coefs, intercepts, activations, loss, X):
    return output_activation(forward(coefs, intercepts, activations, X)[1], loss)


def _weights(sample_weight, n):
    return np.ones(n) if sample_weight is None else f64(sample_weight)


def objective(coefs, intercepts, activations, loss, X, Y, sample_weight, alpha, parameter=0.0):
    """sum(sw*l_i)/sum(sw) + 0.5*alpha*sum(||W||^2)/sum(sw)."""
    sw = _weights(sample_weight, len(X))
    _, z = forward(coefs, intercepts, activations, X)
    penalty = 0.5 * alpha * sum(float((f64(w) ** 2).sum()) for w in coefs)
    return (float(sw @ loss_per_row(z, Y, loss, parameter)) + penalty) / sw.sum()


def loss_and_gradient(coefs, intercepts, activations, loss, X, Y, sample_weight, alpha,
                      parameter=0.0):
    """The objective and its exact gradient by backpropagation (float64)."""
    sw = _weights(sample_weight, len(X))
    total = sw.sum()
    layers, z = forward(coefs, intercepts, activations, X)
    delta = loss_derivative(z, Y, loss, parameter) * sw[:, None]
    grad_coefs, grad_intercepts = [None] * len(coefs), [None] * len(coefs)
    for i in reversed(range(len(coefs))):
        grad_coefs[i] = (layers[i].T @ delta + alpha * f64(coefs[i])) / total
        grad_intercepts[i] = delta.sum(axis=0) / total
        if i > 0:
            pre = layers[i - 1] @ f64(coefs[i - 1]) + f64(intercepts[i - 1])
            delta = (delta @ f64(coefs[i]).T) * activation_derivative(pre, activations[i - 1])
    value = objective(coefs, intercepts, activations, loss, X, Y, sample_weight, alpha, parameter)
    return value, grad_coefs, grad_intercepts


def finite_difference_gradient(func, params, h=1e-6):
    """Central differences of func() with respect to every entry of each float64 array
    in params (perturbed in place and restored)."""
    grads = []
    for p in params:
        g = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            saved = p[idx]
            p[idx] = saved + h
            up = func()
            p[idx] = saved - h
            down = func()
            p[idx] = saved
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


# --- optimizers (scikit-learn's rules) ------------------------------------------------------------
def adam_update(param, grad, m, v, *, step, learning_rate, beta1=0.9, beta2=0.999,
                epsilon=1e-8, alpha=0.0, grad_scale=1.0):
    """Returns new (param, m, v)."""
    param, m, v = f64(param), f64(m), f64(v)
    g = (f64(grad) + alpha * param) * grad_scale
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    lr_t = learning_rate * np.sqrt(1 - beta2**step) / (1 - beta1**step)
    return param - lr_t * m / (np.sqrt(v) + epsilon), m, v


def sgd_update(param, grad, velocity, *, learning_rate, momentum=0.0, nesterov=False,
               alpha=0.0, grad_scale=1.0):
    """Returns new (param, velocity)."""
    param, velocity = f64(param), f64(velocity)
    g = (f64(grad) + alpha * param) * grad_scale
    velocity = momentum * velocity - learning_rate * g
    step = momentum * velocity - learning_rate * g if nesterov else velocity
    return param + step, velocity


def train_epoch(coefs, intercepts, activations, loss, X, Y, sample_weight, order,
                batch_size, alpha, optimizer, state1, state2, step):
    """One epoch as _core.train_epoch documents it, in float64.

    Per batch B = order[i:i+batch_size], S = sum(sw_B):
      loss_b = sum(sw*l_i)/S + 0.5*alpha*sum(||W||^2)/S     (weights before the update)
      grads  = (dW + alpha*W)/S, db/S                        (= the objective's gradient)
      then one optimizer update per parameter, in the order coefs..., intercepts...;
      adam's t is incremented before its update.
    Returns (coefs, intercepts, state1, state2, step, sum over batches of loss_b * S).

    optimizer: dict(kind="adam"|"sgd", learning_rate, beta1, beta2, epsilon, momentum,
    nesterov).
    """
    params = [f64(p) for p in list(coefs) + list(intercepts)]
    state1, state2 = [f64(s) for s in state1], [f64(s) for s in state2]
    n_layers = len(coefs)
    sw_all = _weights(sample_weight, len(X))
    loss_sum = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        sw = sw_all[rows]
        value, gc, gi = loss_and_gradient(params[:n_layers], params[n_layers:], activations,
                                          loss, f64(X)[rows], f64(Y)[rows], sw, alpha)
        loss_sum += value * sw.sum()
        grads = gc + gi
        if optimizer["kind"] == "adam":
            step += 1
            for j, g in enumerate(grads):
                params[j], state1[j], state2[j] = adam_update(
                    params[j], g, state1[j], state2[j], step=step,
                    learning_rate=optimizer["learning_rate"], beta1=optimizer["beta1"],
                    beta2=optimizer["beta2"], epsilon=optimizer["epsilon"])
        else:
            for j, g in enumerate(grads):
                params[j], state1[j] = sgd_update(
                    params[j], g, state1[j], learning_rate=optimizer["learning_rate"],
                    momentum=optimizer["momentum"], nesterov=optimizer["nesterov"])
    return params[:n_layers], params[n_layers:], state1, state2, step, loss_sum


# --- dropout ---------------------------------------------------------------------------------
_MASK64 = (1 << 64) - 1


def splitmix64(state, i):
    """The i-th draw of the SplitMix64 sequence starting at state (uint64 arrays or ints),
    as cpp/dropout.hpp computes it."""
    with np.errstate(over="ignore"):
        z = np.uint64(state) + (np.uint64(i) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def dropout_keep(rate, seed, epoch, layer, samples, width):
    """The keep factors (len(samples), width) of one hidden layer: 0, or 1 / (1 - rate) in
    float32 where the draw's top 24 bits reach round(rate * 2^24)."""
    key = splitmix64(splitmix64(np.uint64(seed), np.uint64(epoch)), np.uint64(layer))
    rows = splitmix64(key, np.asarray(samples, dtype=np.uint64))[:, None]
    draws = splitmix64(rows, np.arange(width, dtype=np.uint64)[None, :]) >> np.uint64(40)
    scale = np.float32(1.0) / (np.float32(1.0) - np.float32(rate))
    return np.where(draws < np.uint64(round(rate * 2**24)), np.float32(0.0), scale)



# --- batch norm ------------------------------------------------------------------------------
def batch_norm_network_step(Ws, bs, scales, shifts, activations, X, Y, *, keep=None,
                            epsilon=1e-5, alpha=0.0):
    """One batch of a network whose hidden layers are each dense -> batch norm (Ioffe &
    Szegedy, 2015, as torch.nn.BatchNorm1d in training) -> activation [-> dropout's keep
    factors], with a softmax cross-entropy head, in float64. Returns (loss, grads, stats):
    loss = (sum of row losses + 0.5 * alpha * sum ||W||^2) / rows; grads the exact
    gradients of it for Ws, bs, scales, shifts (four lists); stats per hidden layer
    (batch mean, biased batch variance)."""
    m = len(X)
    a, zhat, y, inv_std, stats = [f64(X)], [], [], [], []
    for layer, (W, b) in enumerate(zip(Ws[:-1], bs[:-1])):
        z = a[-1] @ f64(W) + f64(b)
        mean, var = z.mean(axis=0), z.var(axis=0)
        stats.append((mean, var))
        inv_std.append(1.0 / np.sqrt(var + epsilon))
        zhat.append((z - mean) * inv_std[-1])
        y.append(f64(scales[layer]) * zhat[-1] + f64(shifts[layer]))
        out = activation(y[-1], activations[layer])
        a.append(out * keep[layer] if keep is not None else out)
    logits = a[-1] @ f64(Ws[-1]) + f64(bs[-1])
    p = softmax(logits)
    loss = -np.sum(f64(Y) * np.log(np.clip(p, 1e-300, None)))
    loss = (loss + 0.5 * alpha * sum(float((f64(W) ** 2).sum()) for W in Ws)) / m
    delta = p - f64(Y)
    gW, gb = [None] * len(Ws), [None] * len(Ws)
    g_scale, g_shift = [None] * (len(Ws) - 1), [None] * (len(Ws) - 1)
    for i in reversed(range(len(Ws))):
        gW[i] = (a[i].T @ delta + alpha * f64(Ws[i])) / m
        gb[i] = delta.sum(axis=0) / m
        if i == 0:
            break
        dy = (delta @ f64(Ws[i]).T) * activation_derivative(y[i - 1], activations[i - 1])
        if keep is not None:
            dy = dy * keep[i - 1]
        g_scale[i - 1] = (dy * zhat[i - 1]).sum(axis=0) / m
        g_shift[i - 1] = dy.sum(axis=0) / m
        delta = f64(scales[i - 1]) * inv_std[i - 1] * (
            dy - dy.mean(axis=0) - zhat[i - 1] * (dy * zhat[i - 1]).mean(axis=0))
    return loss, (gW, gb, g_scale, g_shift), stats


def batch_norm_fold(Ws, bs, scales, shifts, running_means, running_vars, epsilon=1e-5):
    """The plain network that a batch-normalized one computes at predict (eval mode): each
    hidden layer's W and b scaled by scale / sqrt(running_var + epsilon) and shifted."""
    Ws, bs = [f64(W) for W in Ws], [f64(b) for b in bs]
    for layer in range(len(Ws) - 1):
        factor = f64(scales[layer]) / np.sqrt(f64(running_vars[layer]) + epsilon)
        Ws[layer] = Ws[layer] * factor
        bs[layer] = (bs[layer] - f64(running_means[layer])) * factor + f64(shifts[layer])
    return Ws, bs
