// The portable kernels: plain loops the compiler vectorizes for the baseline instruction
// set (SSE2 on x86-64, NEON on aarch64), without FMA (one multiply, one add: two roundings).
#include <cmath>

#include "activations.hpp"
#include "kernel_table.hpp"

namespace nnfast::generic {
#include "isa/prototypes.inc"
#include "kernels/gemm_epilogue.inc"
#include "kernels/optimizers.inc"
#define NNFAST_MADD(a, b, c) ((c) + (a) * (b))
#include "kernels/sparse_input.inc"
#undef NNFAST_MADD
}  // namespace nnfast::generic
