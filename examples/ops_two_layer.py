"""A two-layer network by hand with nnfast.ops
===========================================

A two-layer network trained by hand with nnfast.ops (forward, backward, Adam), next to
its NumPy twin: the same steps give the same weights to float32 rounding, and the nnfast
one is faster.

    python examples/ops_two_layer.py
"""
import time

import numpy as np
from sklearn.datasets import load_digits

from nnfast import ops

X, labels = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
Y = np.eye(10, dtype=np.float32)[labels]
HIDDEN = 512  # wide enough that the arithmetic, not the Python calls, sets the time
rng = np.random.default_rng(0)
W1 = rng.uniform(-0.1, 0.1, (64, HIDDEN)).astype(np.float32)
W2 = rng.uniform(-0.1, 0.1, (HIDDEN, 10)).astype(np.float32)
b1, b2 = np.zeros(HIDDEN, np.float32), np.zeros(10, np.float32)
STEPS, BATCH, LR = 200, 256, 1e-3


def adam_numpy(p, g, m, v, t, lr=LR, b1_=0.9, b2_=0.999, eps=1e-8):
    m[:] = b1_ * m + (1 - b1_) * g
    v[:] = b2_ * v + (1 - b2_) * g * g
    p -= lr * np.sqrt(1 - b2_ ** t) / (1 - b1_ ** t) * m / (np.sqrt(v) + eps)


def train(use_nnfast):
    params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    order = np.random.default_rng(1).permutation(np.resize(np.arange(len(X)), STEPS * BATCH))
    for t in range(1, STEPS + 1):
        rows = order[(t - 1) * BATCH:t * BATCH]
        x, y = X[rows], Y[rows]
        w1, c1, w2, c2 = params
        if use_nnfast:
            h = ops.dense_forward(x, w1, c1, activation="relu")
            z = ops.dense_forward(h, w2, c2, activation="identity")
            loss, dz = ops.softmax_cross_entropy(z, y)
            dh, dw2, db2 = ops.dense_backward(dz, h, w2)
            dh = ops.activation_backward(dh, h, "relu")
            _, dw1, db1 = ops.dense_backward(dh, x, w1, need_dx=False)
            for p, g, (m, v) in zip(params, (dw1, db1, dw2, db2), moments):
                ops.adam_update(p, g, m, v, step=t, learning_rate=LR)
        else:
            h = np.maximum(x @ w1 + c1, 0)
            z = h @ w2 + c2
            p_ = np.exp(z - z.max(axis=1, keepdims=True))
            p_ /= p_.sum(axis=1, keepdims=True)
            loss = -np.mean(np.sum(y * np.log(np.clip(p_, 1e-7, 1)), axis=1))
            dz = (p_ - y) / len(x)
            dw2, db2, dh = h.T @ dz, dz.sum(axis=0), (dz @ w2.T) * (h > 0)
            dw1, db1 = x.T @ dh, dh.sum(axis=0)
            for p, g, (m, v) in zip(params, (dw1, db1, dw2, db2), moments):
                adam_numpy(p, g, m, v, t)
    return params, float(loss)


for name, flag in (("nnfast.ops", True), ("NumPy", False)):
    train(flag)  # warm-up
    start = time.perf_counter()
    params, loss = train(flag)
    elapsed = time.perf_counter() - start
    if flag:
        reference, nnfast_time = params, elapsed
    accuracy = np.mean(np.argmax(np.maximum(X @ params[0] + params[1], 0) @ params[2] + params[3],
                                 axis=1) == labels)
    print(f"{name}: {STEPS} Adam steps in {elapsed * 1e3:.1f} ms, last batch loss {loss:.4f}, "
          f"training accuracy {accuracy:.3f}")
diff = max(float(np.max(np.abs(a - b))) for a, b in zip(reference, params))
print(f"largest weight difference nnfast.ops vs NumPy: {diff:.1e}")
print(f"nnfast.ops speedup over NumPy: {elapsed / nnfast_time:.1f}x")
