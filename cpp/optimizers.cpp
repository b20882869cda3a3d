// The optimizer updates of the active instruction set (kernels/optimizers.inc, compiled
// per instruction set in cpp/isa/), and Adam's step constants.
#include "optimizers.hpp"

#include <cmath>

#include "kernel_table.hpp"

namespace nnfast {

AdamStep adam_step(double learning_rate, double beta1, double beta2, double epsilon,
                   std::int64_t t) {
  const double td = double(t);
  // -expm1(t log b) is 1 - b^t without cancellation when b is within 1e-8 of 1.
  const double bias1 = -std::expm1(td * std::log(beta1));
  const double bias2 = -std::expm1(td * std::log(beta2));
  return {float(learning_rate * std::sqrt(bias2) / bias1), float(beta1), float(beta2),
          float(1.0 - beta1), float(1.0 - beta2), float(epsilon)};
}

void adam_update(float* param, const float* grad, float* m, float* v, index_t n,
                 const AdamStep& step, float alpha, float grad_scale) {
  active_kernels().adam_update(param, grad, m, v, n, step, alpha, grad_scale);
}

void sgd_update(float* param, const float* grad, float* velocity, index_t n, float learning_rate,
                float momentum, bool nesterov, float alpha, float grad_scale) {
  active_kernels().sgd_update(param, grad, velocity, n, learning_rate, momentum, nesterov,
                              alpha, grad_scale);
}

double sum_of_squares(const float* x, index_t n) { return active_kernels().sum_of_squares(x, n); }

}  // namespace nnfast
