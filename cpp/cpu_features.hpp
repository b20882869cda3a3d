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
