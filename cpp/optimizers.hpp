// Parameter updates, scikit-learn's rules, one pass each. The L2 penalty and the
// 1/sum(sample_weight) scale are folded in: g = (grad + alpha * param) * grad_scale.
#pragma once
#include "common.hpp"

namespace nnfast {

// One Adam step's constants in float32, computed in double from the double hyperparameters
// (adam_step): beta_2 = 1 - 1e-8 rounds to 1.0f, but 1 - beta_2 is kept as 1e-8f and the
// bias correction sqrt(1 - b2^t) stays positive, so the step is not 0.
// (AdamStepOf<double>: the same constants in double, for double parameters.)
template <class T>
struct AdamStepOf {
  T learning_rate;  // the bias-corrected rate lr * sqrt(1 - b2^t) / (1 - b1^t)
  T beta1, beta2;
  T one_minus_beta1, one_minus_beta2;
  T epsilon;
};
using AdamStep = AdamStepOf<float>;

// Adam with epsilon added to the uncorrected sqrt(v) (scikit-learn's and Keras' form):
// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  param -= lr_t * m / (sqrt(v) + eps).
void adam_update(float* param, const float* grad, float* m, float* v, index_t n,
                 const AdamStep& step, float alpha, float grad_scale);
void adam_update(double* param, const double* grad, double* m, double* v, index_t n,
                 const AdamStepOf<double>& step, double alpha, double grad_scale);

// The constants of Adam's step t >= 1, computed in double.
template <class T = float>
AdamStepOf<T> adam_step(double learning_rate, double beta1, double beta2, double epsilon,
                        std::int64_t t);

// velocity = momentum * velocity - lr * g;
// param += nesterov ? momentum * velocity - lr * g : velocity.
void sgd_update(float* param, const float* grad, float* velocity, index_t n, float learning_rate,
                float momentum, bool nesterov, float alpha, float grad_scale);
void sgd_update(double* param, const double* grad, double* velocity, index_t n,
                double learning_rate, double momentum, bool nesterov, double alpha,
                double grad_scale);

// sum(x^2) in float lanes, added up in double: the L2 term of the loss (double: in
// double lanes).
double sum_of_squares(const float* x, index_t n);
double sum_of_squares(const double* x, index_t n);

}  // namespace nnfast
