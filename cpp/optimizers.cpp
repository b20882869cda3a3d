// The optimizer updates of the active instruction set (kernels/optimizers.inc, compiled
// per instruction set in cpp/isa/), and Adam's step constants.
#include "optimizers.hpp"

#include <cmath>

#include "kernel_table.hpp"

namespace nnfast {

template <class T>
AdamStepOf<T> adam_step(double learning_rate, double beta1, double beta2, double epsilon,
                        std::int64_t t) {
  const double td = double(t);
  // -expm1(t log b) is 1 - b^t without cancellation when b is within 1e-8 of 1.
  const double bias1 = -std::expm1(td * std::log(beta1));
  const double bias2 = -std::expm1(td * std::log(beta2));
  return {T(learning_rate * std::sqrt(bias2) / bias1), T(beta1), T(beta2), T(1.0 - beta1),
          T(1.0 - beta2), T(epsilon)};
}
template AdamStepOf<float> adam_step<float>(double, double, double, double, std::int64_t);
template AdamStepOf<double> adam_step<double>(double, double, double, double, std::int64_t);

void adam_update(float* param, const float* grad, float* m, float* v, index_t n,
                 const AdamStep& step, float alpha, float grad_scale) {
  active_kernels().f32.adam_update(param, grad, m, v, n, step, alpha, grad_scale);
}

void adam_update(double* param, const double* grad, double* m, double* v, index_t n,
                 const AdamStepOf<double>& step, double alpha, double grad_scale) {
  active_kernels().f64.adam_update(param, grad, m, v, n, step, alpha, grad_scale);
}

void sgd_update(float* param, const float* grad, float* velocity, index_t n, float learning_rate,
                float momentum, bool nesterov, float alpha, float grad_scale) {
  active_kernels().f32.sgd_update(param, grad, velocity, n, learning_rate, momentum, nesterov,
                                  alpha, grad_scale);
}

void sgd_update(double* param, const double* grad, double* velocity, index_t n,
                double learning_rate, double momentum, bool nesterov, double alpha,
                double grad_scale) {
  active_kernels().f64.sgd_update(param, grad, velocity, n, learning_rate, momentum, nesterov,
                                  alpha, grad_scale);
}

double sum_of_squares(const float* x, index_t n) {
  return active_kernels().f32.sum_of_squares(x, n);
}

double sum_of_squares(const double* x, index_t n) {
  return active_kernels().f64.sum_of_squares(x, n);
}

}  // namespace nnfast
