// The AVX-512 kernels (this file is compiled with -mavx512f -mavx512bw -mavx512dq
// -mavx512vl -mfma, or emulated: see vec.hpp), over vec.hpp's zmm vector.
// The bodies are cpp/kernels/*.inc, written once for every instruction set.
#include <utility>

#include "isa/avx512/shape.hpp"
#include "isa/avx512/vec.hpp"
#include "kernel_table.hpp"
#include "vector_math.hpp"

namespace nnfast::avx512 {
#include "isa/prototypes.inc"
#include "kernels/lanes.inc"
#include "kernels/gemm_kernel.inc"
#include "kernels/activations.inc"
#include "kernels/losses.inc"
#include "kernels/optimizers.inc"
#include "kernels/sparse_input.inc"
}  // namespace nnfast::avx512
