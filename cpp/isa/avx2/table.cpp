// The AVX2 + FMA table (compiled with baseline flags, like every table.cpp: it is read
// before the CPU is known, so it must not contain AVX2 code itself).
#include "cpu_features.hpp"
#include "isa/avx2/shape.hpp"
#include "kernel_table.hpp"

namespace nnfast::avx2 {
#include "isa/prototypes.inc"
#define NNFAST_ISA_NAME "avx2"
#define NNFAST_ISA_CPU_RUNS cpu_supports_avx2_fma
#include "isa/table.inc"
}  // namespace nnfast::avx2
