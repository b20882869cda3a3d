// The portable kernels (baseline flags: SSE2 on x86-64, NEON on aarch64), over the
// 16-byte vectors of vec.hpp (4 floats, 2 doubles).
// The bodies are cpp/kernels/*.inc, written once for every instruction set.
#include <utility>

#include "isa/generic/shape.hpp"
#include "isa/generic/vec.hpp"
#include "kernel_table.hpp"
#include "vector_math.hpp"

namespace nnfast::generic {
#include "isa/prototypes.inc"
#include "kernels/lanes.inc"
#include "kernels/gemm_kernel.inc"
#include "kernels/activations.inc"
#include "kernels/losses.inc"
#include "kernels/optimizers.inc"
#include "kernels/sparse_input.inc"
}  // namespace nnfast::generic
