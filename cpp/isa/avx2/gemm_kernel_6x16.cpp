// AVX2 + FMA 6x16 micro-kernel (compiled with -mavx2 -mfma, this file only).
// 12 ymm accumulators (6 rows x 2 vectors of 8), 2 loads of B and 6 broadcasts of A per k:
// 14 of the 16 ymm registers, so nothing spills (checked in the generated code).
#include <immintrin.h>

#include "gemm_kernel.hpp"

namespace nnfast::avx2 {

namespace {

// An edge tile of M < 6 rows (single-row inference, the last strip of a batch): only M
// rows of FMAs instead of 6. Each C element sees the same FMA sequence as in the full
// 6-row loop, so results do not depend on which tile a row falls in.
template <int M>
__attribute__((noinline)) void gemm_kernel_rows(index_t k, const float* a, index_t rs_a, index_t cs_a, const float* b,
                      index_t ldb, float* c, index_t ldc, float alpha, float beta, index_t n) {
  __m256 lo[M], hi[M];  // fully unrolled below, so they live in registers
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
  index_t off = 0;
  for (index_t p = 0; p < k; ++p, off += cs_a, b += ldb) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i * rs_a + off);
      lo[i] = _mm256_fmadd_ps(av, b0, lo[i]);
      hi[i] = _mm256_fmadd_ps(av, b1, hi[i]);
    }
  }
  alignas(32) float acc[kGemmMR * kGemmNR];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    _mm256_store_ps(acc + i * kGemmNR, lo[i]);
    _mm256_store_ps(acc + i * kGemmNR + 8, hi[i]);
  }
  gemm_store_tile(acc, c, ldc, alpha, beta, M, n);
}

}  // namespace

namespace {
__attribute__((noinline)) void gemm_kernel_full(index_t k, const float* a, index_t rs_a, index_t cs_a, const float* b,
                      index_t ldb, float* c, index_t ldc, float alpha, float beta, index_t m, index_t n) {
  // The 6-row tile; row pointers clamped all the same (rows past m re-read row 0).
  const float* a0 = a;
  const float* a1 = a + (m > 1 ? 1 : 0) * rs_a;
  const float* a2 = a + (m > 2 ? 2 : 0) * rs_a;
  const float* a3 = a + (m > 3 ? 3 : 0) * rs_a;
  const float* a4 = a + (m > 4 ? 4 : 0) * rs_a;
  const float* a5 = a + (m > 5 ? 5 : 0) * rs_a;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  index_t off = 0;
#pragma GCC unroll 4
  for (index_t p = 0; p < k; ++p, off += cs_a, b += ldb) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a0 + off);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a1 + off);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a2 + off);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a3 + off);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a4 + off);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a5 + off);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (m == kGemmMR && n == kGemmNR) {
    // Full tile: store straight from the registers.
    const __m256 vb = _mm256_set1_ps(beta);
    auto store = [&](float* row, __m256 lo, __m256 hi) {
      lo = _mm256_mul_ps(va, lo);
      hi = _mm256_mul_ps(va, hi);
      if (beta != 0.0f) {
        lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), lo);
        hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), hi);
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    };
    store(c, c00, c01);
    store(c + ldc, c10, c11);
    store(c + 2 * ldc, c20, c21);
    store(c + 3 * ldc, c30, c31);
    store(c + 4 * ldc, c40, c41);
    store(c + 5 * ldc, c50, c51);
    return;
  }
  // Edge tile: spill to a local tile, then write only the m x n part.
  alignas(32) float acc[kGemmMR * kGemmNR];
  const __m256 regs[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int r = 0; r < 12; ++r) _mm256_store_ps(acc + 8 * r, regs[r]);
  gemm_store_tile(acc, c, ldc, alpha, beta, m, n);
}
}  // namespace

// Each body is its own (not inlined) function: inlined together they raised register
// pressure enough to spill an accumulator of the 6-row loop (75 -> 52 GF/s at 1024^3).
void gemm_kernel_6x16(index_t k, const float* a, index_t rs_a, index_t cs_a, const float* b,
                      index_t ldb, float* c, index_t ldc, float alpha, float beta, index_t m, index_t n) {
  switch (m) {
    case 1: return gemm_kernel_rows<1>(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, n);
    case 2: return gemm_kernel_rows<2>(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, n);
    case 3: return gemm_kernel_rows<3>(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, n);
    case 4: return gemm_kernel_rows<4>(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, n);
    case 5: return gemm_kernel_rows<5>(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, n);
    default: return gemm_kernel_full(k, a, rs_a, cs_a, b, ldb, c, ldc, alpha, beta, m, n);
  }
}

void gemm_kernel_1x64(index_t k, const float* a, index_t cs_a, const float* b, index_t ldb,
                      float* c, float alpha, float beta) {
  __m256 acc[8];  // 8 independent FMA chains hide the FMA latency
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) acc[v] = _mm256_setzero_ps();
  for (index_t p = 0; p < k; ++p, b += ldb) {
    const __m256 av = _mm256_broadcast_ss(a + p * cs_a);
#pragma GCC unroll 8
    for (int v = 0; v < 8; ++v) acc[v] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + 8 * v), acc[v]);
  }
  alignas(32) float out[kGemmRowNR];
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) _mm256_store_ps(out + 8 * v, acc[v]);
  gemm_store_tile_row(out, c, alpha, beta, kGemmRowNR);
}

}  // namespace nnfast::avx2
