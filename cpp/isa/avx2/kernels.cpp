// The AVX2 + FMA kernels (this folder is compiled with -mavx2 -mfma): the epilogues and
// optimizer updates 8 wide (sqrt/div roughly halve Adam's time, which then sits near the
// memory bound); the CSR kernels with one fused multiply-add per term, as the AVX2 GEMM
// micro-kernel, so CSR and dense input round alike.
#include <cmath>

#include "activations.hpp"
#include "kernel_table.hpp"

namespace nnfast::avx2 {
#include "isa/prototypes.inc"
#include "kernels/gemm_epilogue.inc"
#include "kernels/optimizers.inc"
#define NNFAST_MADD(a, b, c) std::fma((a), (b), (c))
#include "kernels/sparse_input.inc"
#undef NNFAST_MADD
}  // namespace nnfast::avx2
