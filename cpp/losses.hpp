// Output heads: output activation + loss. The first four are canonical-link pairs, whose
// gradient w.r.t. the pre-activation z is (f(z) - y) * sample_weight; the robust
// regression losses (identity output) have their own, and take a parameter.
#pragma once
#include "common.hpp"

namespace nnfast {

// The heads, declared once: X(name, output), in code order. `name` is the loss (the enum
// value, its name in Python's _core.Loss, and its row function name##_row in
// kernels/losses.inc); `output` the activation predict applies (softmax, logistic,
// identity or exp: output_##output in kernels/losses.inc). The enum, the names, the
// bindings' enum and both dispatches derive from this list.
//   softmax_cross_entropy   softmax + categorical log-loss (multiclass)
//   logistic_cross_entropy  sigmoid + binary log-loss per column (binary, multilabel)
//   squared_error           identity + 0.5 * sum_j (z - y)^2
//   poisson                 exp + half Poisson deviance: y log(y / e^z) - y + e^z
//   absolute_error          identity + sum_j |z - y|
//   huber                   identity + Huber (1964) with threshold delta = parameter:
//                             0.5 d^2 for |d| <= delta, else delta (|d| - 0.5 delta)
//   quantile                identity + pinball loss of quantile q = parameter in (0, 1):
//                             q max(d', 0) + (1 - q) max(-d', 0), d' = y - z
#define NNFAST_LOSSES(X)                 \
  X(softmax_cross_entropy, softmax)      \
  X(logistic_cross_entropy, logistic)    \
  X(squared_error, identity)             \
  X(poisson, exp)                        \
  X(absolute_error, identity)            \
  X(huber, identity)                     \
  X(quantile, identity)

enum class Loss : int {
#define NNFAST_LOSS_ENUM(name, output) name,
  NNFAST_LOSSES(NNFAST_LOSS_ENUM)
#undef NNFAST_LOSS_ENUM
};

// The loss parameter's valid range (huber's delta > 0; quantile (0, 1)).
void check_loss_parameter(const char* fn, Loss loss, double parameter);  // std::invalid_argument

const char* loss_name(Loss loss);

// out (n, k) := f(z): softmax per row, sigmoid, identity or exp. out == z is allowed.
void output_activation(Loss loss, float* out, const float* z, index_t n, index_t k);
void output_activation(Loss loss, double* out, const double* z, index_t n, index_t k);

// For rows of z (n, k) and targets y (n, k), all contiguous:
//   row_loss[i] := loss of row i (summed over its k outputs, unweighted, float64);
//   grad (n, k) := dloss/dz * sw[i]   (sw == nullptr means weight 1): (f(z) - y) for the
//   canonical pairs; sign(z - y), clip(z - y, -delta, delta), and 1 - q or -q
//   (z > y, z < y; 0 at z == y) for the robust ones.
// Log-losses clip probabilities to [eps, 1 - eps] (eps of the element type), as
// scikit-learn does.
// parameter: huber's delta, quantile's q; unused by the others.
void loss_forward_backward(Loss loss, float* grad, double* row_loss, const float* z,
                           const float* y, const float* sw, index_t n, index_t k,
                           double parameter = 0.0);
void loss_forward_backward(Loss loss, double* grad, double* row_loss, const double* z,
                           const double* y, const double* sw, index_t n, index_t k,
                           double parameter = 0.0);

}  // namespace nnfast
