#include "optimizers.hpp"

#include <cmath>

namespace nnfast {

float adam_learning_rate(float learning_rate, float beta1, float beta2, std::int64_t t) {
  const double td = double(t);
  return float(learning_rate * std::sqrt(1.0 - std::pow(double(beta2), td)) /
               (1.0 - std::pow(double(beta1), td)));
}

void adam_update(float* param, const float* grad, float* m, float* v, index_t n,
                 const AdamStep& step, float alpha, float grad_scale) {
  const float b1 = step.beta1, b2 = step.beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
  const float lr = step.learning_rate, eps = step.epsilon;
  for (index_t i = 0; i < n; ++i) {
    const float g = (grad[i] + alpha * param[i]) * grad_scale;
    const float mi = b1 * m[i] + c1 * g;
    const float vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr * mi / (std::sqrt(vi) + eps);
  }
}

void sgd_update(float* param, const float* grad, float* velocity, index_t n, float learning_rate,
                float momentum, bool nesterov, float alpha, float grad_scale) {
  for (index_t i = 0; i < n; ++i) {
    const float step = learning_rate * ((grad[i] + alpha * param[i]) * grad_scale);
    const float vel = momentum * velocity[i] - step;
    velocity[i] = vel;
    param[i] += nesterov ? momentum * vel - step : vel;
  }
}

double sum_of_squares(const float* x, index_t n) {
  constexpr int L = 16;  // independent lanes, so the loop vectorizes without -ffast-math
  float lanes[L] = {};
  index_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) lanes[j] += x[i + j] * x[i + j];
  double total = 0.0;
  for (int j = 0; j < L; ++j) total += lanes[j];
  for (; i < n; ++i) total += double(x[i]) * x[i];
  return total;
}

}  // namespace nnfast
