// The elementwise optimizer kernels compiled with -mavx2 -mfma (this file only):
// 8-wide sqrt/div roughly halves Adam's time, which then sits near the memory bound.
#include <cmath>

#include "optimizers.hpp"

namespace nnfast::avx2 {
#include "optimizers_kernels.inc"
}  // namespace nnfast::avx2
