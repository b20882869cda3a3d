#include "dense.hpp"

#include <omp.h>

#include "threads.hpp"

namespace nnfast {

namespace {
bool worth_threads(index_t n, index_t in, index_t out) { return 2.0 * n * in * out >= 2e5; }
}  // namespace

void dense_forward_team(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                        Activation act, int thread, int nthreads) {
  gemm_team(y, x, w, 1.0f, 0.0f, GemmEpilogue::bias_then(act, b), thread, nthreads);
}

void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act) {
  check_gemm_shapes("dense_forward", y, x, w);
  const int nthreads = worth_threads(x.rows, x.cols, w.cols) ? get_num_threads() : 1;
#pragma omp parallel num_threads(nthreads)
  dense_forward_team(y, x, w, b, act, omp_get_thread_num(), omp_get_num_threads());
}

void column_sums_team(float* db, ConstMatrixView dz, bool accumulate, int thread, int nthreads) {
  const index_t j0 = dz.cols * thread / nthreads, j1 = dz.cols * (thread + 1) / nthreads;
  if (!accumulate)
    for (index_t j = j0; j < j1; ++j) db[j] = 0.0f;
  if (dz.cs == 1) {
    // The layout of every training step. 16 columns at a time, summed down the rows in
    // registers (the same additions in the same order as the loop below), rather than
    // a load and store of db per row.
    constexpr index_t W = 16;
    index_t j = j0;
    for (; j + W <= j1; j += W) {
      float acc[W];
      for (index_t c = 0; c < W; ++c) acc[c] = db[j + c];
      for (index_t i = 0; i < dz.rows; ++i) {
        const float* row = dz.data + i * dz.rs + j;
        for (index_t c = 0; c < W; ++c) acc[c] += row[c];
      }
      for (index_t c = 0; c < W; ++c) db[j + c] = acc[c];
    }
    for (; j < j1; ++j) {
      float acc = db[j];
      for (index_t i = 0; i < dz.rows; ++i) acc += dz.data[i * dz.rs + j];
      db[j] = acc;
    }
    return;
  }
  for (index_t i = 0; i < dz.rows; ++i) {
    const float* row = dz.data + i * dz.rs;
    for (index_t j = j0; j < j1; ++j) db[j] += row[j * dz.cs];
  }
}

void dense_backward_team(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                         ConstMatrixView x, ConstMatrixView w, int thread, int nthreads) {
  gemm_team(dw, x.transposed(), dz, 1.0f, 0.0f, {}, thread, nthreads);
  column_sums_team(db, dz, false, thread, nthreads);
  if (dx.data) gemm_team(dx, dz, w.transposed(), 1.0f, 0.0f, {}, thread, nthreads);
}

void dense_backward(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                    ConstMatrixView x, ConstMatrixView w) {
  check_gemm_shapes("dense_backward", dw, x.transposed(), dz);
  if (dx.data) check_gemm_shapes("dense_backward", dx, dz, w.transposed());
  const int nthreads = worth_threads(x.rows, x.cols, w.cols) ? get_num_threads() : 1;
#pragma omp parallel num_threads(nthreads)
  dense_backward_team(dx, dw, db, dz, x, w, omp_get_thread_num(), omp_get_num_threads());
}

void dense_backward_input_team(MatrixView dprev, ConstMatrixView dz, ConstMatrixView w,
                               Activation act, ConstMatrixView a_prev, int thread, int nthreads) {
  gemm_team(dprev, dz, w.transposed(), 1.0f, 0.0f,
            GemmEpilogue::times_activation_grad(act, a_prev.data, a_prev.rs), thread, nthreads);
}

}  // namespace nnfast
