// Dense layer kernels over the GEMM driver, with fused epilogues.
// Shapes: x (n, in), w (in, out), b (out,), y (n, out), row-major.
#pragma once
#include "activations.hpp"
#include "gemm.hpp"

namespace nnfast {

// y := act(x @ w + b); the bias and activation are applied in the GEMM's store.
void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act);
void dense_forward_team(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                        Activation act, int thread, int nthreads);

// Gradients of a dense layer from dz = dL/d(pre-activation):
//   dw := x^T @ dz;  db := sum over rows of dz;  dx := dz @ w^T (skipped if dx.data null).
void dense_backward(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                    ConstMatrixView x, ConstMatrixView w);
void dense_backward_team(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                         ConstMatrixView x, ConstMatrixView w, int thread, int nthreads);

// The previous layer's gradient with its activation folded in (the training step's path):
//   dprev := (dz @ w^T) * act'(.) through that layer's output a_prev.
void dense_backward_input_team(MatrixView dprev, ConstMatrixView dz, ConstMatrixView w,
                               Activation act, ConstMatrixView a_prev, int thread, int nthreads);

// db := column sums of dz (db += ... when accumulate), each thread a fixed range of
// columns, rows in order (so the sums are bitwise the same for any thread count). The
// row-major walk vectorizes across columns.
void column_sums_team(float* db, ConstMatrixView dz, bool accumulate, int thread, int nthreads);

}  // namespace nnfast
