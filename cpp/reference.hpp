// Naive twins of the optimised kernels: triple loops, no SIMD, no threads, float64
// accumulation. The test oracle in C++ (and exposed to Python as *_reference).
#pragma once
#include "activations.hpp"
#include "gemm.hpp"

namespace nnfast::reference {

// C := alpha * A B + beta * C (C not read when beta == 0).
void gemm(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha, float beta);

// y := act(x w + b).
void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act);

}  // namespace nnfast::reference
