#include "optimizers.hpp"

#include <cmath>

#include "cpu_features.hpp"

namespace nnfast {

namespace generic {
#include "optimizers_kernels.inc"
}
#ifdef NNFAST_HAVE_AVX2_KERNEL
namespace avx2 {  // compiled in optimizers_avx2.cpp
void adam_update(float*, const float*, float*, float*, index_t, const AdamStep&, float, float);
void sgd_update(float*, const float*, float*, index_t, float, float, bool, float, float);
double sum_of_squares(const float*, index_t);
}  // namespace avx2
#endif

float adam_learning_rate(float learning_rate, float beta1, float beta2, std::int64_t t) {
  const double td = double(t);
  return float(learning_rate * std::sqrt(1.0 - std::pow(double(beta2), td)) /
               (1.0 - std::pow(double(beta1), td)));
}

void adam_update(float* param, const float* grad, float* m, float* v, index_t n,
                 const AdamStep& step, float alpha, float grad_scale) {
  NNFAST_DISPATCH(adam_update, param, grad, m, v, n, step, alpha, grad_scale);
}

void sgd_update(float* param, const float* grad, float* velocity, index_t n, float learning_rate,
                float momentum, bool nesterov, float alpha, float grad_scale) {
  NNFAST_DISPATCH(sgd_update, param, grad, velocity, n, learning_rate, momentum, nesterov, alpha,
                  grad_scale);
}

double sum_of_squares(const float* x, index_t n) { return NNFAST_DISPATCH(sum_of_squares, x, n); }

}  // namespace nnfast
