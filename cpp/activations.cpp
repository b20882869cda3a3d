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
  active_kernels().activation_forward(act, y, x, n);
}

void activation_backward(Activation act, float* dx, const float* dy, const float* saved,
                         index_t n) {
  active_kernels().activation_backward(act, dx, dy, saved, n);
}

}  // namespace nnfast
