#include "reference.hpp"

#include <cmath>
#include <vector>

namespace nnfast::reference {

namespace {
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
constexpr double kGeluTanhC = 0.7978845608028654;  // sqrt(2 / pi)
}  // namespace

double activate(Activation act, double x) {
  switch (act) {
    case Activation::logistic: return logistic(x);
    case Activation::tanh: return std::tanh(x);
    case Activation::relu: return x <= 0.0 ? 0.0 : x;  // NaN stays NaN, as the kernels
    case Activation::leaky_relu: return x > 0.0 ? x : double(0.01f) * x;  // float32's slope
    case Activation::elu: return x > 0.0 ? x : std::expm1(x);
    // The z * g(z) forms at -inf: their limit 0 (the formula gives -inf * 0).
    case Activation::gelu: return std::isinf(x) && x < 0 ? 0.0 : x * normal_cdf(x);
    // PyTorch's x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written as the
    // same function x * logistic(2u), which float64 also evaluates without cancellation.
    case Activation::gelu_tanh:
      return std::isinf(x) && x < 0 ? 0.0 : x * logistic(2.0 * kGeluTanhC * (x + 0.044715 * x * x * x));
    case Activation::silu: return std::isinf(x) && x < 0 ? 0.0 : x * logistic(x);
    case Activation::identity: return x;
  }
  return x;
}

double activation_derivative(Activation act, double x) {
  const bool z_times_g = act == Activation::gelu || act == Activation::gelu_tanh ||
                         act == Activation::silu;
  if (z_times_g && std::isinf(x)) return x > 0 ? 1.0 : 0.0;  // the limits (formula: inf * 0)
  switch (act) {
    case Activation::logistic: return logistic(x) * (1.0 - logistic(x));
    case Activation::tanh: return 1.0 - std::tanh(x) * std::tanh(x);
    case Activation::relu: return x > 0.0 ? 1.0 : 0.0;
    case Activation::leaky_relu: return x > 0.0 ? 1.0 : 0.01;
    case Activation::elu: return x > 0.0 ? 1.0 : std::exp(x);
    case Activation::gelu: return normal_cdf(x) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    case Activation::gelu_tanh: {
      const double s = logistic(2.0 * kGeluTanhC * (x + 0.044715 * x * x * x));
      return s + x * s * (1.0 - s) * 2.0 * kGeluTanhC * (1.0 + 3 * 0.044715 * x * x);
    }
    case Activation::silu: return logistic(x) * (1.0 + x * (1.0 - logistic(x)));
    case Activation::identity: return 1.0;
  }
  return 1.0;
}

namespace {
void activate_row(Activation act, float* row, index_t n) {
  for (index_t j = 0; j < n; ++j) row[j] = float(activate(act, double(row[j])));
}
}  // namespace

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
    activate_row(act, row, y.cols);
  }
}

void csr_dense_forward(MatrixView y, const CsrMatrix& x, RowSelection rows, ConstMatrixView w,
                       const float* b, Activation act) {
  x.check("csr_dense_forward_reference");
  check_csr_forward("csr_dense_forward_reference", y, x, rows, w);
  for (index_t r = 0; r < y.rows; ++r) {
    const index_t i = rows[r];
    float* row = y.data + r * y.ld;
    for (index_t j = 0; j < y.cols; ++j) {
      double acc = 0.0;
      for (index_t k = x.row_begin(i); k < x.row_begin(i + 1); ++k)
        acc += double(x.value(k)) * double(w.data[x.column(k) * w.rs + j * w.cs]);
      row[j] = float(acc) + (b ? b[j] : 0.0f);
    }
    activate_row(act, row, y.cols);
  }
}

void csr_weight_gradient(MatrixView dw, const CsrMatrix& x, RowSelection rows,
                         ConstMatrixView dz, bool accumulate) {
  x.check("csr_weight_gradient_reference");
  check_csr_weight_gradient("csr_weight_gradient_reference", dw, x, rows, dz);
  std::vector<double> sums(size_t(dw.rows * dw.cols), 0.0);
  for (index_t r = 0; r < dz.rows; ++r) {
    const index_t i = rows[r];
    for (index_t k = x.row_begin(i); k < x.row_begin(i + 1); ++k)
      for (index_t j = 0; j < dw.cols; ++j)
        sums[size_t(x.column(k) * dw.cols + j)] +=
            double(x.value(k)) * double(dz.data[r * dz.rs + j]);
  }
  for (index_t p = 0; p < dw.rows; ++p)
    for (index_t j = 0; j < dw.cols; ++j) {
      float& out = dw.data[p * dw.ld + j];
      const double s = sums[size_t(p * dw.cols + j)];
      out = accumulate ? float(s + double(out)) : float(s);
    }
}

}  // namespace nnfast::reference
