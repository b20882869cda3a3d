// What this CPU and OS can run (CPUID + XGETBV). The choice of kernels is kernel_table's.
#pragma once

namespace nnfast {

// AVX2 + FMA with the ymm state saved by the OS (false in a build without AVX2 kernels).
bool cpu_supports_avx2_fma();

// x86-64-v4's AVX-512 (F, BW, DQ, VL) and FMA, with the OS saving the opmask and zmm state
// (XCR0 bits 5-7), false in a build without AVX-512 kernels. A build with
// NNFAST_EMULATE_AVX512 runs its (emulated) AVX-512 kernels wherever AVX2 + FMA runs.
bool cpu_supports_avx512();

}  // namespace nnfast
