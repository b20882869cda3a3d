#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#define NNFAST_X86_64 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace nnfast {

namespace {

#ifdef NNFAST_X86_64
// CPUID leaf `leaf`, subleaf `subleaf`: {EAX, EBX, ECX, EDX}.
struct CpuidRegisters {
  unsigned a, b, c, d;
};
CpuidRegisters cpuid(unsigned leaf, unsigned subleaf) {
#if defined(_MSC_VER) && !defined(__clang__)
  int r[4];
  __cpuidex(r, int(leaf), int(subleaf));
  return {unsigned(r[0]), unsigned(r[1]), unsigned(r[2]), unsigned(r[3])};
#else
  CpuidRegisters r{};
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
#endif
}

// The low half of XCR0: the register state the OS saves (only read once OSXSAVE is known).
unsigned xcr0_low() {
#if defined(_MSC_VER) && !defined(__clang__)
  return unsigned(_xgetbv(0));
#else
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo;
#endif
}

unsigned max_cpuid_leaf() { return cpuid(0, 0).a; }

// AVX and FMA in CPUID leaf 1, and the OS state bits `xcr0_bits` enabled in XCR0.
bool avx_fma_with_os_state(unsigned xcr0_bits) {
  if (max_cpuid_leaf() < 1) return false;
  const unsigned c = cpuid(1, 0).c;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(fma && osxsave && avx)) return false;
  return (xcr0_low() & xcr0_bits) == xcr0_bits;
}

// CPUID leaf 7's EBX (extended features), 0 where the leaf is absent.
unsigned leaf7_ebx() { return max_cpuid_leaf() < 7 ? 0 : cpuid(7, 0).b; }
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
