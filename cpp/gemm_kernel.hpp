// The GEMM micro-kernel contract (BLIS style). Written once (cpp/kernels/gemm_kernel.inc),
// compiled per instruction set for its MR x NR tile (cpp/isa/<isa>/shape.hpp), reached
// through its KernelTable.
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
#include "platform.hpp"

namespace nnfast {

template <class T>
using GemmMicroKernelOf = void (*)(index_t k, const T* a, index_t rs_a, index_t cs_a,
                                   const T* b, index_t ldb, T* c, index_t ldc, T alpha, T beta,
                                   index_t m, index_t n);
using GemmMicroKernel = GemmMicroKernelOf<float>;

// The one-row kernel (single-sample inference, where an MR x NR tile has only NR / width
// dependent FMA chains per panel and waits on FMA latency):
//   C[1 x ROW_NR] := alpha * a[1 x k] * B[k x ROW_NR] + beta * C,   a[p] at a[p * cs_a],
// B read in place (element (p, j) at b[p * ldb + j], all ROW_NR columns readable), C never
// read when beta == 0. Each element gets the same FMA sequence as in the tile kernel, so
// a row's result does not depend on which kernel computed it.
template <class T>
using GemmRowKernelOf = void (*)(index_t k, const T* a, index_t cs_a, const T* b, index_t ldb,
                                 T* c, T alpha, T beta);
using GemmRowKernel = GemmRowKernelOf<float>;

}  // namespace nnfast
