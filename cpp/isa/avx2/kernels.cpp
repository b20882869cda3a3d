// The AVX2 + FMA kernels (this file is compiled with -mavx2 -mfma), over vec.hpp's ymm
// vector.
// The bodies are cpp/kernels/*.inc, written once for every instruction set.
#include <utility>

#include "isa/avx2/shape.hpp"
#include "isa/avx2/vec.hpp"
#include "kernel_table.hpp"
#include "vector_math.hpp"

namespace nnfast::avx2 {
#include "isa/prototypes.inc"
#include "kernels/lanes.inc"
#include "kernels/gemm_kernel.inc"
#include "kernels/activations.inc"
#include "kernels/losses.inc"
#include "kernels/optimizers.inc"
#include "kernels/sparse_input.inc"
}  // namespace nnfast::avx2
