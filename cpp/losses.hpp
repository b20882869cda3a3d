// Output heads: output activation + loss. The first four are canonical-link pairs, whose
// gradient w.r.t. the pre-activation z is (f(z) - y) * sample_weight; the robust
// regression losses (identity output) have their own, and take a parameter.
#pragma once
#include "common.hpp"

namespace nnfast {

enum class Loss : int {
  softmax_cross_entropy = 0,   // softmax + categorical log-loss (multiclass)
  logistic_cross_entropy = 1,  // sigmoid + binary log-loss per column (binary, multilabel)
  squared_error = 2,           // identity + 0.5 * sum_j (z - y)^2
  poisson = 3,                 // exp + half Poisson deviance: y log(y / e^z) - y + e^z
  absolute_error = 4,          // identity + sum_j |z - y|
  huber = 5,                   // identity + Huber (1964) with threshold delta = parameter:
                               //   0.5 d^2 for |d| <= delta, else delta (|d| - 0.5 delta)
  quantile = 6,                // identity + pinball loss of quantile q = parameter in (0, 1):
                               //   q max(d', 0) + (1 - q) max(-d', 0), d' = y - z
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
