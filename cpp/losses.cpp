#include "losses.hpp"

#include <cmath>

#include "kernel_table.hpp"

namespace nnfast {

const char* loss_name(Loss loss) {
  switch (loss) {
#define NNFAST_LOSS_NAME(name, output) \
  case Loss::name:                     \
    return #name;
    NNFAST_LOSSES(NNFAST_LOSS_NAME)
#undef NNFAST_LOSS_NAME
  }
  return "?";
}

void check_loss_parameter(const char* fn, Loss loss, double parameter) {
  if (loss == Loss::huber)
    NNFAST_CHECK(std::isfinite(parameter) && parameter > 0.0, fn,
                 "huber's delta must be finite and > 0, got ", parameter);
  if (loss == Loss::quantile)
    NNFAST_CHECK(parameter > 0.0 && parameter < 1.0, fn, "the quantile must be in (0, 1), got ",
                 parameter);
}

// The bodies: cpp/kernels/losses.inc, compiled once per instruction set.
void output_activation(Loss loss, float* out, const float* z, index_t n, index_t k) {
  active_kernels().f32.output_activation(loss, out, z, n, k);
}

void output_activation(Loss loss, double* out, const double* z, index_t n, index_t k) {
  active_kernels().f64.output_activation(loss, out, z, n, k);
}

void loss_forward_backward(Loss loss, float* grad, double* row_loss, const float* z,
                           const float* y, const float* sw, index_t n, index_t k,
                           double parameter) {
  active_kernels().f32.loss_forward_backward(loss, grad, row_loss, z, y, sw, n, k, parameter);
}

void loss_forward_backward(Loss loss, double* grad, double* row_loss, const double* z,
                           const double* y, const double* sw, index_t n, index_t k,
                           double parameter) {
  active_kernels().f64.loss_forward_backward(loss, grad, row_loss, z, y, sw, n, k, parameter);
}

}  // namespace nnfast
