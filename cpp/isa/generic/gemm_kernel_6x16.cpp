// Portable 6x16 micro-kernel: plain loops the compiler vectorizes for the baseline ISA
// (SSE2 on x86-64, NEON on aarch64). Used where AVX2+FMA is absent or NNFAST_ISA=generic.
#include "gemm_kernel.hpp"

namespace nnfast::generic {

void gemm_kernel_6x16(index_t k, const float* a, index_t rs_a, index_t cs_a, const float* b,
                      index_t ldb, float* c, index_t ldc, float alpha, float beta, index_t m, index_t n) {
  constexpr index_t MR = kGemmMR, NR = kGemmNR;
  const float* rows[MR];
  for (index_t i = 0; i < MR; ++i) rows[i] = a + (i < m ? i : 0) * rs_a;  // clamp: never read past m
  alignas(64) float acc[MR * NR] = {};
  for (index_t p = 0; p < k; ++p) {
    const float* bp = b + p * ldb;
    for (index_t i = 0; i < MR; ++i) {
      const float ai = rows[i][p * cs_a];
      for (index_t j = 0; j < NR; ++j) acc[i * NR + j] += ai * bp[j];
    }
  }
  gemm_store_tile(acc, c, ldc, alpha, beta, m, n);
}

void gemm_kernel_1x64(index_t k, const float* a, index_t cs_a, const float* b, index_t ldb,
                      float* c, float alpha, float beta) {
  constexpr index_t N = kGemmRowNR;
  alignas(64) float acc[N] = {};
  for (index_t p = 0; p < k; ++p) {
    const float ap = a[p * cs_a];
    const float* bp = b + p * ldb;
    for (index_t j = 0; j < N; ++j) acc[j] += ap * bp[j];
  }
  gemm_store_tile_row(acc, c, alpha, beta, N);
}

}  // namespace nnfast::generic
