#include "activations.hpp"

#include "kernel_table.hpp"

namespace nnfast {

const char* activation_name(Activation act) {
  switch (act) {
#define NNFAST_ACTIVATION_NAME(name, reads) \
  case Activation::name:             \
    return #name;
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_NAME)
#undef NNFAST_ACTIVATION_NAME
  }
  return "?";
}

void activation_forward(Activation act, float* y, const float* x, index_t n) {
  active_kernels().f32.activation_forward(act, y, x, n);
}

void activation_forward(Activation act, double* y, const double* x, index_t n) {
  active_kernels().f64.activation_forward(act, y, x, n);
}

void activation_backward(Activation act, float* dx, const float* dy, const float* saved,
                         index_t n) {
  active_kernels().f32.activation_backward(act, dx, dy, saved, n);
}

void activation_backward(Activation act, double* dx, const double* dy, const double* saved,
                         index_t n) {
  active_kernels().f64.activation_backward(act, dx, dy, saved, n);
}

}  // namespace nnfast
