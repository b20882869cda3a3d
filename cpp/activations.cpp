#include "activations.hpp"

namespace nnfast {

const char* activation_name(Activation act) {
  switch (act) {
#define NNFAST_ACTIVATION_NAME(name) \
  case Activation::name:             \
    return #name;
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_NAME)
#undef NNFAST_ACTIVATION_NAME
  }
  return "?";
}

void activation_forward(Activation act, float* y, const float* x, index_t n) {
  with_activation(act, [&](auto a) {
    for (index_t i = 0; i < n; ++i) y[i] = activate<a()>(x[i]);
  });
}

void activation_backward(Activation act, float* dx, const float* dy, const float* y, index_t n) {
  with_activation(act, [&](auto a) {
    for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * derivative_from_output<a()>(y[i]);
  });
}

}  // namespace nnfast
