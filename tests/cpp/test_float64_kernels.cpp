// The float64 kernels of the active table (KernelTable::f64), against long double
// references (x87's 64-bit significand on x86-64, quad on aarch64): the elementwise math
// in double ulps, the GEMM tiles, the optimizer updates, the squared norm and the loss
// heads; and, across the instruction sets with FMA, bit for bit.
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "dense.hpp"
#include "gemm.hpp"
#include "kernel_table.hpp"
#include "losses.hpp"
#include "optimizers.hpp"

using namespace nnfast;
using nnfast_test::expect;

namespace {

using real = long double;

std::vector<double> random_doubles(size_t n, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  return v;
}

// Units in the last place between two doubles (NaN against NaN is 0).
std::int64_t ulp_distance(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  if (a == b) return 0;
  auto ordered = [](double f) {
    std::int64_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? INT64_MIN - i : i;
  };
  const std::int64_t oa = ordered(a), ob = ordered(b);
  // No overflow: the two are at most 2^63 apart only across signs, saturated here.
  if ((oa < 0) != (ob < 0)) return INT64_MAX;
  return oa > ob ? oa - ob : ob - oa;
}

real logistic(real x) { return 1.0L / (1.0L + std::exp(-x)); }
real normal_cdf(real x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
real normal_pdf(real x) { return std::exp(-0.5L * x * x) / std::sqrt(2.0L * 3.14159265358979323846264L); }
constexpr real kGeluC1 = 1.5957691216057308L, kGeluC2 = 0.07135481627260025L;

real activate(Activation act, real x) {
  if (std::isnan(x)) return x;
  switch (act) {
    case Activation::identity: return x;
    case Activation::logistic: return logistic(x);
    case Activation::tanh: return std::tanh(x);
    case Activation::relu: return x > 0 ? x : 0.0L;
    case Activation::leaky_relu: return x > 0 ? x : real(0.01) * x;  // 0.01 as a double
    case Activation::elu: return x > 0 ? x : std::expm1(x);
    case Activation::gelu: return std::isinf(x) && x < 0 ? 0.0L : x * normal_cdf(x);
    case Activation::gelu_tanh:
      return std::isinf(x) && x < 0 ? 0.0L : x * logistic(x * (kGeluC1 + kGeluC2 * x * x));
    case Activation::silu: return std::isinf(x) && x < 0 ? 0.0L : x * logistic(x);
  }
  return 0.0L;
}

// f'(x), from the input (gelu, gelu_tanh, silu) or from the output y (the others).
real derivative(Activation act, real x, real y) {
  switch (act) {
    case Activation::identity: return 1.0L;
    case Activation::logistic: return y * (1.0L - y);
    case Activation::tanh: return (1.0L - y) * (1.0L + y);  // exact factors (y is a double)
    case Activation::relu: return y > 0 ? 1.0L : 0.0L;
    case Activation::leaky_relu: return y > 0 ? 1.0L : real(0.01);
    case Activation::elu: return y > 0 ? 1.0L : y + 1.0L;
    case Activation::gelu:
      if (std::isinf(x)) return x > 0 ? 1.0L : 0.0L;
      return normal_cdf(x) + x * normal_pdf(x);
    case Activation::gelu_tanh: {
      if (std::isinf(x)) return x > 0 ? 1.0L : 0.0L;
      const real k = x * (kGeluC1 + kGeluC2 * x * x), s = logistic(k);
      return s + x * s * (1.0L - s) * (kGeluC1 + 3.0L * kGeluC2 * x * x);
    }
    case Activation::silu: {
      if (std::isinf(x)) return x > 0 ? 1.0L : 0.0L;
      const real s = logistic(x);
      return s * (1.0L + x * (1.0L - s));
    }
  }
  return 0.0L;
}

// A fine sweep of [-60, 60] (Phi and e^-x^2/2 underflow there), wide magnitudes up to
// e^+-709 and past, the tanh branch point, and special values.
std::vector<double> inputs() {
  std::vector<double> x;
  // (1e-3 apart: the sweep also runs under qemu, where long double is software quad.)
  for (int i = -60000; i <= 60000; ++i) x.push_back(double(i) * 1e-3 + double(i % 7) * 1e-9);
  for (int i = -2000; i <= 2000; ++i) x.push_back(double(i) * 0.37 + 1e-6);
  for (double v : {0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 0.625, -0.625,
                   std::nextafter(0.625, 0.0), 709.78, 709.8, 710.0, -708.4, -745.1, -746.0,
                   1e300, -1e300, DBL_MAX, -DBL_MAX, double(INFINITY), -double(INFINITY), double(NAN)})
    x.push_back(v);
  return x;
}

// Forward and derivative of each activation within its ulp bound of long double.
void test_activation_accuracy_f64() {
  const std::vector<double> x = inputs();
  const ElementKernels<double>& k = active_kernels().f64;
  // Per activation (enum order), forward then derivative: the worst measured on this
  // sweep (avx2 and generic), with a little room.
  const std::int64_t bound[][2] = {
      {0, 0},   // identity
      {2, 2},   // logistic (measured 2, 1)
      {2, 2},   // tanh (1, 1)
      {0, 0},   // relu
      {1, 0},   // leaky_relu (1, 0: the reference's long double product rounds twice)
      {3, 1},   // elu (3, 0: Cephes' Pade form of e^x - 1, a few roundings)
      {12, 4},  // gelu (9, 2): 1/2 + erf(x)/2 cancels as z falls towards -1.41, as in float32
      {4, 4},   // gelu_tanh (4, 2)
      {4, 4},   // silu (3, 3)
  };
  static_assert(sizeof bound / sizeof bound[0] == sizeof kActivations / sizeof kActivations[0]);
  for (Activation act : kActivations) {
    std::vector<double> y(x.size()), d(x.size());
    const std::vector<double> ones(x.size(), 1.0);
    k.activation_forward(act, y.data(), x.data(), index_t(x.size()));
    k.activation_backward(act, d.data(), ones.data(),
                          derivative_reads_input(act) ? x.data() : y.data(), index_t(x.size()));
    std::int64_t worst[2] = {0, 0};
    double worst_x[2] = {0.0, 0.0};
    for (size_t i = 0; i < x.size(); ++i) {
      const real want[2] = {activate(act, x[i]), derivative(act, x[i], y[i])};
      const double got[2] = {y[i], d[i]};
      for (int j = 0; j < 2; ++j) {
        std::int64_t dist = ulp_distance(got[j], double(want[j]));
        const real abs_err = std::fabs(real(got[j]) - want[j]);
        // Results below 2^-1000: from subnormal intermediates or e^k at |k| > 690.
        if (abs_err < 0x1p-1000L) dist = 0;
        // The forward per unit of f's condition number (as the float32 test).
        if (j == 0 && std::isfinite(want[0]) && want[0] != 0) {
          const real dfx = derivative(act, x[i], want[0]);
          const real cond = std::fabs(real(x[i]) * dfx / want[0]);
          if (cond > 1) dist = std::int64_t(std::ceil(real(dist) / cond));
        }
        // Derivatives through the input sum terms of size ~1 and cross zero: in ulps, or
        // in ulps of 1 (2^-53) absolutely.
        if (j == 1 && derivative_reads_input(act))
          dist = std::min<std::int64_t>(dist, std::int64_t(std::ceil(abs_err / 0x1p-53L)));
        if (dist > worst[j]) worst[j] = dist, worst_x[j] = x[i];
      }
    }
    for (int j = 0; j < 2; ++j)
      expect(worst[j] <= bound[int(act)][j],
             j == 0 ? "float64 activation within its ulp bound of long double"
                    : "float64 activation derivative within its ulp bound of long double",
             std::string(activation_name(act)) + " worst " + std::to_string(worst[j]) +
                 " ulp at x=" + std::to_string(worst_x[j]));
  }
  double z[2] = {-0.0, NAN};
  k.activation_forward(Activation::tanh, z, z, 2);
  expect(std::signbit(z[0]) && std::isnan(z[1]), "float64 tanh keeps -0 and NaN", "");
}

// Every tile size m x n of the micro-kernel (A strided, transposed and packed; B in
// place), the half-width tiles and the row kernel, against long double sums.
void test_gemm_kernel_f64() {
  const ElementKernels<double>& k = active_kernels().f64;
  const index_t MR = k.gemm_mr, NR = k.gemm_nr, RNR = k.gemm_row_nr;
  bool ok = true;
  std::string detail;
  for (index_t depth : {index_t(1), index_t(7), index_t(64)}) {
    const auto a = random_doubles(size_t(MR * depth), 1), b = random_doubles(size_t(depth * RNR), 2);
    for (index_t m = 1; m <= MR; ++m)
      for (index_t n = 1; n <= NR; ++n)
        for (int layout = 0; layout < 3; ++layout) {
          // 0: A row-major (rs = depth, cs = 1); 1: A^T (rs = 1, cs = MR + 1); 2: packed (cs = MR).
          const index_t rs = layout == 0 ? depth : 1, cs = layout == 0 ? 1 : (layout == 1 ? MR + 1 : MR);
          std::vector<double> ap(size_t(MR + 1) * size_t(depth) + size_t(MR), 0.0);
          for (index_t i = 0; i < m; ++i)
            for (index_t p = 0; p < depth; ++p) ap[size_t(i * rs + p * cs)] = a[size_t(i * depth + p)];
          std::vector<double> c(size_t(MR * NR), NAN);
          const double alpha = 0.75, beta = 0.0;
          k.gemm_kernel(depth, ap.data(), rs, cs, b.data(), RNR, c.data(), NR, alpha, beta, m, n);
          for (index_t i = 0; i < MR; ++i)
            for (index_t j = 0; j < NR; ++j) {
              const double got = c[size_t(i * NR + j)];
              if (i >= m || j >= n) {
                if (!std::isnan(got)) ok = false, detail = "wrote outside the m x n tile";
                continue;
              }
              real want = 0;
              for (index_t p = 0; p < depth; ++p)
                want += real(a[size_t(i * depth + p)]) * b[size_t(p * RNR + j)];
              want *= alpha;
              if (std::fabs(real(got) - want) > 4 * DBL_EPSILON * depth)
                ok = false, detail = "m=" + std::to_string(m) + " n=" + std::to_string(n) +
                                     " k=" + std::to_string(depth);
            }
        }
    // beta != 0 and the row kernel.
    std::vector<double> c_row(size_t(RNR), 0.5);
    k.gemm_row_kernel(depth, a.data(), 1, b.data(), RNR, c_row.data(), 2.0, -1.0);
    for (index_t j = 0; j < RNR; ++j) {
      real want = 0;
      for (index_t p = 0; p < depth; ++p) want += real(a[size_t(p)]) * b[size_t(p * RNR + j)];
      if (std::fabs(real(c_row[size_t(j)]) - (2 * want - 0.5L)) > 8 * DBL_EPSILON * depth)
        ok = false, detail = "row kernel k=" + std::to_string(depth);
    }
  }
  expect(ok, "float64 GEMM tiles and row kernel against long double", detail);
}

// Adam and SGD (with and without Nesterov) against their formulas in long double; the
// squared norm against a long double sum.
void test_optimizers_f64() {
  const ElementKernels<double>& k = active_kernels().f64;
  const index_t n = 1003;
  const auto p0 = random_doubles(size_t(n), 3), g = random_doubles(size_t(n), 4);
  auto m0 = random_doubles(size_t(n), 5), v0 = random_doubles(size_t(n), 6);
  for (double& v : v0) v = v * v;
  const AdamStepOf<double> step = adam_step<double>(1e-3, 0.9, 0.999, 1e-8, 3);
  expect(step.one_minus_beta2 == 1.0 - 0.999 && step.epsilon == 1e-8,
         "adam_step<double> keeps double constants", "");
  std::vector<double> p = p0, m = m0, v = v0;
  const double alpha = 1e-4, scale = 0.5;
  k.adam_update(p.data(), g.data(), m.data(), v.data(), n, step, alpha, scale);
  bool ok = true;
  for (index_t i = 0; i < n; ++i) {
    const real gi = (real(g[size_t(i)]) + alpha * real(p0[size_t(i)])) * scale;
    const real mi = step.beta1 * real(m0[size_t(i)]) + step.one_minus_beta1 * gi;
    const real vi = step.beta2 * real(v0[size_t(i)]) + step.one_minus_beta2 * gi * gi;
    const real pi = p0[size_t(i)] - step.learning_rate * mi / (std::sqrt(vi) + step.epsilon);
    // Each within a few roundings of the sizes of its terms (m's may cancel).
    const real m_size = std::fabs(step.beta1 * m0[size_t(i)]) + std::fabs(step.one_minus_beta1 * gi);
    ok = ok && std::fabs(m[size_t(i)] - mi) <= 4 * DBL_EPSILON * m_size &&
         std::fabs(v[size_t(i)] - vi) <= 4 * DBL_EPSILON * std::fabs(vi) &&
         std::fabs(p[size_t(i)] - pi) <= 4 * DBL_EPSILON * std::fabs(p0[size_t(i)]) + 1e-18L;
  }
  expect(ok, "float64 Adam update against long double", "");
  for (bool nesterov : {false, true}) {
    std::vector<double> q = p0, vel = m0;
    k.sgd_update(q.data(), g.data(), vel.data(), n, 0.1, 0.9, nesterov, alpha, scale);
    bool same = true;
    for (index_t i = 0; i < n; ++i) {
      const real s = 0.1L * ((real(g[size_t(i)]) + alpha * real(p0[size_t(i)])) * scale);
      const real vi = 0.9L * m0[size_t(i)] - s;
      const real pi = p0[size_t(i)] + (nesterov ? 0.9L * vi - s : vi);
      same = same && std::fabs(vel[size_t(i)] - vi) <= 1e-15L && std::fabs(q[size_t(i)] - pi) <= 1e-15L;
    }
    expect(same, "float64 SGD update against long double", nesterov ? "nesterov" : "momentum");
  }
  real want = 0;
  for (double x : p0) want += real(x) * x;
  const double got = k.sum_of_squares(p0.data(), n);
  expect(std::fabs(got - want) <= 1e-14L * want, "float64 sum of squares", "");
}

// The loss heads in float64: each row's loss and gradient against long double formulas.
void test_losses_f64() {
  const ElementKernels<double>& k = active_kernels().f64;
  const index_t rows = 16, cols = 5;
  const auto z = random_doubles(size_t(rows * cols), 7), sw = random_doubles(size_t(rows), 8);
  auto y = random_doubles(size_t(rows * cols), 9);
  for (double& v : y) v = v * v;
  std::vector<double> grad(z.size()), out(z.size()), row_loss(z.size() / size_t(cols));
  bool ok = true;
  // Squared error: 0.5 sum (z - y)^2, gradient (z - y) sw.
  k.loss_forward_backward(Loss::squared_error, grad.data(), row_loss.data(), z.data(), y.data(),
                          sw.data(), rows, cols, 0.0);
  for (index_t i = 0; i < rows; ++i) {
    real l = 0;
    for (index_t j = 0; j < cols; ++j) {
      const real d = real(z[size_t(i * cols + j)]) - y[size_t(i * cols + j)];
      l += 0.5L * d * d;
      ok = ok && std::fabs(grad[size_t(i * cols + j)] - d * sw[size_t(i)]) <= 1e-15L;
    }
    ok = ok && std::fabs(row_loss[size_t(i)] - l) <= 1e-14L;
  }
  expect(ok, "float64 squared error head", "");
  // Softmax: probabilities, log-loss and p - y, to a few ulps of double.
  ok = true;
  k.loss_forward_backward(Loss::softmax_cross_entropy, grad.data(), row_loss.data(), z.data(),
                          y.data(), nullptr, rows, cols, 0.0);
  k.output_activation(Loss::softmax_cross_entropy, out.data(), z.data(), rows, cols);
  for (index_t i = 0; i < rows; ++i) {
    real sum = 0;
    for (index_t j = 0; j < cols; ++j) sum += std::exp(real(z[size_t(i * cols + j)]));
    real l = 0;
    for (index_t j = 0; j < cols; ++j) {
      const size_t e = size_t(i * cols + j);
      const real p = std::exp(real(z[e])) / sum;
      l -= y[e] * std::log(p);
      ok = ok && std::fabs(out[e] - p) <= 4 * DBL_EPSILON && std::fabs(grad[e] - (p - y[e])) <= 4 * DBL_EPSILON;
    }
    ok = ok && std::fabs(row_loss[size_t(i)] - l) <= 1e-14L;
  }
  expect(ok, "float64 softmax head", "");
  // The log-loss clips at float64's eps (scikit-learn clips at the dtype's eps).
  const double zc[2] = {-800.0, 0.0}, yc[2] = {1.0, 0.0};
  double gc[2], lc[1];
  k.loss_forward_backward(Loss::logistic_cross_entropy, gc, lc, zc, yc, nullptr, 1, 2, 0.0);
  const real want = -std::log(real(DBL_EPSILON)) + std::log(2.0L);
  expect(std::fabs(lc[0] - want) <= 1e-13L, "float64 log-loss clips at float64's eps",
         std::to_string(lc[0]));
}

}  // namespace

namespace nnfast_test {

void test_float64_kernels() {
  test_activation_accuracy_f64();
  test_gemm_kernel_f64();
  test_optimizers_f64();
  test_losses_f64();
}

// Every float64 kernel's output on fixed inputs, for the cross-ISA bitwise check.
std::vector<std::vector<double>> float64_kernel_results() {
  const ElementKernels<double>& k = active_kernels().f64;
  std::vector<std::vector<double>> results;
  const std::vector<double> x = inputs();
  for (Activation act : kActivations) {
    std::vector<double> y(x.size()), dx(x.size());
    k.activation_forward(act, y.data(), x.data(), index_t(x.size()));
    k.activation_backward(act, dx.data(), x.data(), derivative_reads_input(act) ? x.data() : y.data(),
                          index_t(x.size()));
    results.push_back(y);
    results.push_back(dx);
  }
  // 128 columns: whole row kernels of every table (32, 32 and 64 columns).
  const index_t depth = 37, n = 128;
  const auto a = random_doubles(size_t(depth), 10), b = random_doubles(size_t(depth * n), 11);
  std::vector<double> c(size_t(n), 0.0);
  for (index_t j = 0; j < n; j += k.gemm_row_nr)
    k.gemm_row_kernel(depth, a.data(), 1, b.data() + j, n, c.data() + j, 1.0, 0.0);
  results.push_back(c);
  std::vector<double> p = random_doubles(1001, 12), m(1001, 0.0), v(1001, 0.0);
  const auto g = random_doubles(1001, 13);
  k.adam_update(p.data(), g.data(), m.data(), v.data(), 1001, adam_step<double>(1e-3, 0.9, 0.999, 1e-8, 1),
                1e-4, 0.5);
  results.push_back(p);
  results.push_back({k.sum_of_squares(g.data(), 1001)});
  std::vector<double> velocity(1001, 0.1);
  k.sgd_update(p.data(), g.data(), velocity.data(), 1001, 0.1, 0.9, true, 1e-4, 0.5);
  results.push_back(p);
  // A whole GEMM through the driver (tiles, packing, the float64 epilogue of every
  // activation), and the loss heads.
  const index_t rows = 29, inner = 37, cols = 45;
  const auto xa = random_doubles(size_t(rows * inner), 14), xb = random_doubles(size_t(inner * cols), 15);
  std::vector<double> prod(size_t(rows * cols));
  gemm<double>({prod.data(), rows, cols, cols}, {xa.data(), rows, inner, inner, 1},
               {xb.data(), inner, cols, cols, 1}, 1.0, 0.0);
  results.push_back(prod);
  for (Activation act : kActivations) {
    std::vector<double> y(prod.size());
    const auto bias = random_doubles(size_t(cols), 16);
    dense_forward<double>({y.data(), rows, cols, cols}, {xa.data(), rows, inner, inner, 1},
                          {xb.data(), inner, cols, cols, 1}, bias.data(), act);
    results.push_back(y);
  }
  auto targets = random_doubles(prod.size(), 17);
  for (double& t : targets) t = t * t;
  for (Loss loss : {Loss::softmax_cross_entropy, Loss::logistic_cross_entropy,
                    Loss::squared_error, Loss::poisson, Loss::absolute_error, Loss::huber,
                    Loss::quantile}) {
    std::vector<double> grad(prod.size()), out(prod.size()), row_loss(prod.size() / size_t(cols));
    k.loss_forward_backward(loss, grad.data(), row_loss.data(), prod.data(), targets.data(),
                            nullptr, rows, cols, loss == Loss::huber ? 0.3 : 0.7);
    k.output_activation(loss, out.data(), prod.data(), rows, cols);
    results.push_back(grad);
    results.push_back(out);
    results.push_back(row_loss);
  }
  return results;
}

}  // namespace nnfast_test
