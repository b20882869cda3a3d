#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace nnfast {

bool cpu_supports_avx2_fma() {
#if defined(NNFAST_HAVE_AVX2_KERNEL) && (defined(__x86_64__) || defined(_M_X64))
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(fma && osxsave && avx)) return false;
  // The OS must save the ymm registers (XCR0 bits 1 and 2).
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6u) != 0x6u) return false;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  return b & (1u << 5);  // AVX2
#else
  return false;
#endif
}

}  // namespace nnfast
