// Output heads: output activation + loss, always a canonical-link pair, so the
// gradient w.r.t. the pre-activation z is simply (f(z) - y) * sample_weight.
#pragma once
#include "common.hpp"

namespace nnfast {

enum class Loss : int {
  softmax_cross_entropy = 0,   // softmax + categorical log-loss (multiclass)
  logistic_cross_entropy = 1,  // sigmoid + binary log-loss per column (binary, multilabel)
  squared_error = 2,           // identity + 0.5 * sum_j (z - y)^2
  poisson = 3,                 // exp + half Poisson deviance: y log(y / e^z) - y + e^z
};

const char* loss_name(Loss loss);

// out (n, k) := f(z): softmax per row, sigmoid, identity or exp. out == z is allowed.
void output_activation(Loss loss, float* out, const float* z, index_t n, index_t k);

// For rows of z (n, k) and targets y (n, k), all contiguous:
//   row_loss[i] := loss of row i (summed over its k outputs, unweighted, float64);
//   grad (n, k) := (f(z) - y) * sw[i]   (sw == nullptr means weight 1).
// Log-losses clip probabilities to [eps, 1 - eps] (float32 eps), as scikit-learn does.
void loss_forward_backward(Loss loss, float* grad, double* row_loss, const float* z,
                           const float* y, const float* sw, index_t n, index_t k);

}  // namespace nnfast
