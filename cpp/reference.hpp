// Naive twins of the optimised kernels: triple loops, no SIMD, no threads, float64
// accumulation. The test oracle in C++ (and exposed to Python as *_reference).
#pragma once
#include "activations.hpp"
#include "gemm.hpp"
#include "sparse_input.hpp"

namespace nnfast::reference {

// C := alpha * A B + beta * C (C not read when beta == 0).
void gemm(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha, float beta);

// f(x) in float64: libm's exp and tanh (the kernels' own polynomials are checked
// against these).
double activate(Activation act, double x);
// f'(x) in float64, from the input x (the limits at +-inf).
double activation_derivative(Activation act, double x);

// y := act(x w + b).
void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act);

// y := act(X[rows] w + b), X CSR: each element a float64 sum over the row's nonzeros.
void csr_dense_forward(MatrixView y, const CsrMatrix& x, RowSelection rows, ConstMatrixView w,
                       const float* b, Activation act);

// dw := X[rows]^T dz (+ dw when accumulate), X CSR: float64 sums over the batch rows.
void csr_weight_gradient(MatrixView dw, const CsrMatrix& x, RowSelection rows,
                         ConstMatrixView dz, bool accumulate);

}  // namespace nnfast::reference
