#include "activations.hpp"

#include <cmath>

namespace nnfast {

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::identity: return "identity";
    case Activation::logistic: return "logistic";
    case Activation::tanh: return "tanh";
    case Activation::relu: return "relu";
  }
  return "?";
}

namespace {
// 1 / (1 + exp(-x)) without overflow: exp of a non-positive number only.
inline float logistic(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}
}  // namespace

void activation_forward(Activation act, float* y, const float* x, index_t n) {
  switch (act) {
    case Activation::identity:
      if (y != x)
        for (index_t i = 0; i < n; ++i) y[i] = x[i];
      break;
    case Activation::logistic:
      for (index_t i = 0; i < n; ++i) y[i] = logistic(x[i]);
      break;
    case Activation::tanh:
      for (index_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
    case Activation::relu:
      // x > 0 ? x : 0 keeps NaN out of the positive branch (like np.maximum would not);
      // written as a select so it vectorizes.
      for (index_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
  }
}

void activation_backward(Activation act, float* dx, const float* dy, const float* y, index_t n) {
  switch (act) {
    case Activation::identity:
      if (dx != dy)
        for (index_t i = 0; i < n; ++i) dx[i] = dy[i];
      break;
    case Activation::logistic:
      for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case Activation::tanh:
      for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case Activation::relu:
      for (index_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
  }
}

}  // namespace nnfast
