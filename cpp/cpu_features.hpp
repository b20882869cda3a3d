// What this CPU and OS can run (CPUID + XGETBV). The choice of kernels is kernel_table's.
#pragma once

namespace nnfast {

// AVX2 + FMA with the ymm state saved by the OS (false in a build without AVX2 kernels).
bool cpu_supports_avx2_fma();

}  // namespace nnfast
