#include "losses.hpp"

#include "kernel_table.hpp"

namespace nnfast {

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::softmax_cross_entropy: return "softmax_cross_entropy";
    case Loss::logistic_cross_entropy: return "logistic_cross_entropy";
    case Loss::squared_error: return "squared_error";
    case Loss::poisson: return "poisson";
  }
  return "?";
}

// The bodies: cpp/kernels/losses.inc, compiled once per instruction set.
void output_activation(Loss loss, float* out, const float* z, index_t n, index_t k) {
  active_kernels().output_activation(loss, out, z, n, k);
}

void loss_forward_backward(Loss loss, float* grad, double* row_loss, const float* z,
                           const float* y, const float* sw, index_t n, index_t k) {
  active_kernels().loss_forward_backward(loss, grad, row_loss, z, y, sw, n, k);
}

}  // namespace nnfast
