// The AVX-512 table (compiled with baseline flags, like every table.cpp: it is read
// before the CPU is known, so it must not contain AVX-512 code itself).
#include "cpu_features.hpp"
#include "isa/avx512/shape.hpp"
#include "kernel_table.hpp"

namespace nnfast::avx512 {
#include "isa/prototypes.inc"
#define NNFAST_ISA_NAME "avx512"
#define NNFAST_ISA_CPU_RUNS cpu_supports_avx512
#include "isa/table.inc"
}  // namespace nnfast::avx512
