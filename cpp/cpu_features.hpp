// The one runtime dispatch point: which instruction set the kernels use.
#pragma once
#include <string>

namespace nnfast {

enum class Isa { generic, avx2 };

// Chosen once (on first use) from CPUID + XGETBV; NNFAST_ISA=generic|avx2 overrides
// (asking for avx2 on a CPU without it falls back to generic).
Isa active_isa();
const char* isa_name(Isa isa);
bool cpu_supports_avx2_fma();
// For tests and benchmarks: force an ISA (throws if the CPU lacks it).
void set_active_isa(Isa isa);

}  // namespace nnfast

// Calls fn from the active ISA's namespace: avx2::fn where the AVX2 copy is built and
// chosen, else generic::fn. For kernels compiled once per ISA from one source (*.inc).
#ifdef NNFAST_HAVE_AVX2_KERNEL
#define NNFAST_DISPATCH(fn, ...)                                                   \
  (::nnfast::active_isa() == ::nnfast::Isa::avx2 ? avx2::fn(__VA_ARGS__)            \
                                                 : generic::fn(__VA_ARGS__))
#else
#define NNFAST_DISPATCH(fn, ...) generic::fn(__VA_ARGS__)
#endif
