// The GEMM micro-kernel contract (BLIS style). One implementation per instruction
// set, in cpp/isa/<isa>/gemm_kernel_<MR>x<NR>.cpp, reached through its KernelTable.
//
//   C[m x n] := alpha * A[m x k] * Bp[k x NR] + beta * C,     1 <= m <= MR, 1 <= n <= NR
//
// A is read where it lies: element (i, p) at a[i * rs_a + p * cs_a]. A packed A panel is
//   simply rs_a = 1, cs_a = MR. Rows i >= m are never read (their pointers are clamped).
// B is a k x NR micro-panel: element (p, j) at b[p * ldb + j], all NR columns readable:
//   either packed (ldb = NR, zero-padded past n) or read in place from a row-major
//   matrix with at least NR columns left (ldb = its row stride). No alignment assumed.
// C is row-major with leading dimension ldc; columns j >= n and rows i >= m are never
//   touched, and C is never read when beta == 0 (so it may hold NaN garbage).
#pragma once
#include "common.hpp"

namespace nnfast {

constexpr index_t kGemmMR = 6;
constexpr index_t kGemmNR = 16;

using GemmMicroKernel = void (*)(index_t k, const float* a, index_t rs_a, index_t cs_a,
                                 const float* b, index_t ldb, float* c, index_t ldc, float alpha,
                                 float beta, index_t m, index_t n);


// The one-row kernel (single-sample inference, where the 6x16 kernel has only two
// dependent FMA chains per panel and waits on FMA latency):
//   C[1 x 64] := alpha * a[1 x k] * B[k x 64] + beta * C,   a[p] at a[p * cs_a],
// B read in place (element (p, j) at b[p * ldb + j], all 64 columns readable), C never
// read when beta == 0. Each element gets the same FMA sequence as in the 6x16 kernel, so
// a row's result does not depend on which kernel computed it.
constexpr index_t kGemmRowNR = 64;
using GemmRowKernel = void (*)(index_t k, const float* a, index_t cs_a, const float* b,
                               index_t ldb, float* c, float alpha, float beta);


// Writes the finished MR x NR accumulator tile `acc` into C per the contract above.
// Internal linkage on purpose: each ISA file compiles its own copy under its own flags
// (one shared inline copy could be the AVX2 one, called on a CPU without AVX2).
namespace {
inline void gemm_store_tile(const float* acc, float* c, index_t ldc, float alpha, float beta,
                            index_t m, index_t n) {
  for (index_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    const float* ai = acc + i * kGemmNR;
    if (beta == 0.0f) {
      for (index_t j = 0; j < n; ++j) ci[j] = alpha * ai[j];
    } else {
      for (index_t j = 0; j < n; ++j) ci[j] = alpha * ai[j] + beta * ci[j];
    }
  }
}

inline void gemm_store_tile_row(const float* acc, float* c, float alpha, float beta, index_t n) {
  if (beta == 0.0f) {
    for (index_t j = 0; j < n; ++j) c[j] = alpha * acc[j];
  } else {
    for (index_t j = 0; j < n; ++j) c[j] = alpha * acc[j] + beta * c[j];
  }
}
}  // namespace

}  // namespace nnfast
