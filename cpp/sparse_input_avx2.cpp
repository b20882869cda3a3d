// The CSR first-layer kernels compiled with -mavx2 -mfma (this file only): one fused
// multiply-add per term, as the AVX2 GEMM micro-kernel, so CSR and dense input round alike.
#include <cmath>

#include "sparse_input.hpp"

namespace nnfast::avx2 {
#define NNFAST_MADD(a, b, c) std::fma((a), (b), (c))
#include "sparse_input_kernels.inc"
#undef NNFAST_MADD
}  // namespace nnfast::avx2
