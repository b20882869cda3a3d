// What differs between compilers (GCC and Clang, MSVC) and operating systems (POSIX,
// Windows), in one place; the rest of the core is standard C++17 and intrinsics.
// Built and tested here: GCC and Clang on Linux (x86-64, aarch64); the Windows branches
// compile with MinGW-w64 (CI); the MSVC branches are not built anywhere yet.
#pragma once
#include <cstddef>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#elif defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// NNFAST_UNROLL(n) before a loop: unroll it n times (GCC and Clang; MSVC has no such
// pragma and decides itself).
#if defined(__GNUC__) || defined(__clang__)
#define NNFAST_PRAGMA(text) _Pragma(#text)
#define NNFAST_UNROLL(n) NNFAST_PRAGMA(GCC unroll n)
#else
#define NNFAST_UNROLL(n)
#endif

// NNFAST_NOINLINE before a function: never inline it.
#if defined(_MSC_VER) && !defined(__clang__)
#define NNFAST_NOINLINE __declspec(noinline)
#else
#define NNFAST_NOINLINE __attribute__((noinline))
#endif

namespace nnfast {

// Prefetch the cache line at p into every cache level, for reading (kWrite false) or
// writing (a hint only: no fault, no effect on results).
template <bool kWrite = false>
inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, kWrite ? 1 : 0, 3);
#elif defined(_M_X64) || defined(_M_IX86)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
  (void)p;
#endif
}

// A spin-wait's pause: lets the core's other hyperthread run.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(_MSC_VER) && defined(_M_ARM64)
  __yield();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// `bytes` (a multiple of `alignment`) aligned to `alignment`; nullptr when out of
// memory. Freed by aligned_free (AlignedFree): MSVC has no std::aligned_alloc.
void* aligned_allocate(std::size_t alignment, std::size_t bytes) noexcept;
void aligned_free(void* p) noexcept;
struct AlignedFree {
  void operator()(void* p) const noexcept { aligned_free(p); }
};

// This process's involuntary context switches so far (preemptions by the OS), 0 where
// the OS does not count them (Windows: the thread pool's contention check then stays off).
long involuntary_context_switches() noexcept;

// Calls `handler` in the child after a fork() (POSIX; Windows has no fork).
void call_in_child_after_fork(void (*handler)()) noexcept;

// The path of the shared library that holds `symbol`, or "unknown".
const char* library_path_of(const void* symbol) noexcept;

}  // namespace nnfast
