#include "reference.hpp"

namespace nnfast::reference {

void gemm(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha, float beta) {
  check_gemm_shapes("gemm_reference", c, a, b);
  for (index_t i = 0; i < c.rows; ++i)
    for (index_t j = 0; j < c.cols; ++j) {
      double acc = 0.0;
      for (index_t p = 0; p < a.cols; ++p)
        acc += double(a.data[i * a.rs + p * a.cs]) * double(b.data[p * b.rs + j * b.cs]);
      float& cij = c.data[i * c.ld + j];
      cij = beta == 0.0f ? float(alpha * acc) : float(alpha * acc + double(beta) * cij);
    }
}

void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act) {
  reference::gemm(y, x, w, 1.0f, 0.0f);
  for (index_t i = 0; i < y.rows; ++i) {
    float* row = y.data + i * y.ld;
    for (index_t j = 0; j < y.cols; ++j) row[j] += b ? b[j] : 0.0f;
    activation_forward(act, row, row, y.cols);
  }
}

}  // namespace nnfast::reference
