#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define NNFAST_X86_64 1
#endif

namespace nnfast {

namespace {

#ifdef NNFAST_X86_64
// AVX and FMA in CPUID leaf 1, and the OS state bits `xcr0_bits` enabled in XCR0.
bool avx_fma_with_os_state(unsigned xcr0_bits) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(fma && osxsave && avx)) return false;
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  return (xcr0_lo & xcr0_bits) == xcr0_bits;
}

// CPUID leaf 7's EBX (extended features), 0 where the leaf is absent.
unsigned leaf7_ebx() {
  if (__get_cpuid_max(0, nullptr) < 7) return 0;
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  return b;
}
#endif

}  // namespace

bool cpu_supports_avx2_fma() {
#if defined(NNFAST_HAVE_AVX2_KERNEL) && defined(NNFAST_X86_64)
  // XCR0: SSE (bit 1) and ymm (bit 2) state. Leaf 7 EBX bit 5: AVX2.
  return avx_fma_with_os_state(0x6u) && (leaf7_ebx() & (1u << 5));
#else
  return false;
#endif
}

bool cpu_supports_avx512() {
#if defined(NNFAST_EMULATE_AVX512)
  return cpu_supports_avx2_fma();
#elif defined(NNFAST_HAVE_AVX512_KERNEL) && defined(NNFAST_X86_64)
  // XCR0: SSE, ymm, opmask (5), upper halves of zmm0-15 (6), zmm16-31 (7).
  // Leaf 7 EBX: AVX2 (5), AVX512F (16), AVX512DQ (17), AVX512BW (30), AVX512VL (31).
  const unsigned needed = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
  return avx_fma_with_os_state(0xE6u) && (leaf7_ebx() & needed) == needed;
#else
  return false;
#endif
}

}  // namespace nnfast
