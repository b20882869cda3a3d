// The GEMM's fused epilogue compiled with -mavx2 -mfma (this file only).
#include "activations.hpp"
#include "gemm.hpp"

namespace nnfast::avx2 {
#include "gemm_epilogue_kernels.inc"
}  // namespace nnfast::avx2
