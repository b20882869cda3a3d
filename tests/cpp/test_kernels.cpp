// The core's own test program: optimised kernels against their naive twins, over shape
// sweeps, both ISAs, shrunken blockings and several thread counts. No framework: it
// prints one line per failure and "N passed, N failed" at the end (exit 1 on failure).
#include <cfloat>
#include <climits>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_table.hpp"
#include "dense.hpp"
#include "gemm.hpp"
#include "losses.hpp"
#include "mlp.hpp"
#include "optimizers.hpp"
#include "reference.hpp"
#include "sparse_input.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"
#include "check.hpp"

using namespace nnfast;
using nnfast_test::expect;

namespace {

std::vector<float> random_vector(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

double max_rel_error(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0.0, scale = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - want[i]));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return err / scale;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string shape(index_t m, index_t n, index_t k, bool ta, bool tb) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "m=%ld n=%ld k=%ld ta=%d tb=%d", long(m), long(n), long(k), ta, tb);
  return buf;
}

// gemm against reference::gemm for one shape and transpose combination.
void check_gemm(index_t m, index_t n, index_t k, bool ta, bool tb, float alpha, float beta) {
  const auto a = random_vector(size_t(m * k), 1), b = random_vector(size_t(k * n), 2);
  std::vector<float> c = random_vector(size_t(m * n), 3), want = c;
  if (beta == 0.0f) std::fill(c.begin(), c.end(), NAN);  // must never be read
  ConstMatrixView av = ta ? ConstMatrixView{a.data(), k, m, m, 1}.transposed()
                          : ConstMatrixView{a.data(), m, k, k, 1};
  ConstMatrixView bv = tb ? ConstMatrixView{b.data(), n, k, k, 1}.transposed()
                          : ConstMatrixView{b.data(), k, n, n, 1};
  gemm({c.data(), m, n, n}, av, bv, alpha, beta);
  reference::gemm({want.data(), m, n, n}, av, bv, alpha, beta);
  expect(max_rel_error(c, want) < 1e-5 * std::sqrt(double(k) + 1), "gemm vs reference",
         shape(m, n, k, ta, tb));
}

void test_gemm_sweep() {
  const index_t sizes[] = {1, 5, 6, 7, 15, 16, 17, 33};
  const index_t ks[] = {1, 7, 40};
  for (index_t m : sizes)
    for (index_t n : sizes)
      for (index_t k : ks)
        for (int t = 0; t < 4; ++t) check_gemm(m, n, k, t & 1, t & 2, 1.0f, 0.0f);
  check_gemm(13, 21, 9, false, false, 0.5f, 2.0f);
  check_gemm(64, 128, 784, false, false, 1.0f, 0.0f);
  check_gemm(784, 128, 64, true, false, 1.0f, 1.0f);
  check_gemm(64, 784, 128, false, true, 1.0f, 0.0f);
  check_gemm(300, 50, 600, false, false, 1.0f, 0.0f);
}

// One row takes the 1x64 kernel: same values as the 6x16 kernel, bit for bit.
void test_gemm_single_row() {
  const index_t n = 150, k = 300, m = 7;
  const auto a = random_vector(size_t(m * k), 20), b = random_vector(size_t(k * n), 21);
  std::vector<float> all(static_cast<size_t>(m * n)), one(static_cast<size_t>(n));
  gemm({all.data(), m, n, n}, {a.data(), m, k, k, 1}, {b.data(), k, n, n, 1}, 1.0f, 0.0f);
  bool same = true;
  for (index_t i = 0; i < m; ++i) {
    gemm({one.data(), 1, n, n}, {a.data() + i * k, 1, k, k, 1}, {b.data(), k, n, n, 1}, 1.0f, 0.0f);
    same = same && std::memcmp(one.data(), all.data() + i * n, sizeof(float) * size_t(n)) == 0;
  }
  expect(same, "gemm one row equals its row in a batch", "n=150 k=300");
  for (index_t nn : {64, 65, 80, 128, 130}) check_gemm(1, nn, 37, false, false, 0.5f, 2.0f);
}

// Small blockings walk the K loop, the packed-A path and the MC loop on small shapes.
// small_m = in_place_b_bytes = 0 packs every B; the defaults read small or row-major B in
// place: both paths.
void test_gemm_small_blocking() {
  const GemmBlocking saved = gemm_blocking();
  for (index_t small_m : {index_t(0), saved.small_m}) {
    set_gemm_blocking({8, 12, small_m, small_m ? saved.in_place_b_bytes : 0});
    for (index_t m : {5, 13, 40})
      for (index_t n : {7, 16, 35})
        for (index_t k : {3, 8, 9, 30})
          for (int t = 0; t < 4; ++t) check_gemm(m, n, k, t & 1, t & 2, 1.0f, 0.5f);
  }
  set_gemm_blocking(saved);
}

// A tile whose packing buffer cannot be allocated (inside a tile nothing may throw) runs
// by plain loops: the same products to rounding, C unread when beta is 0, any blocking.
void test_gemm_without_scratch() {
  const GemmBlocking saved = gemm_blocking();
  set_scratch_limit_for_testing(0);  // every packing buffer fails
  for (index_t small_m : {index_t(0), saved.small_m}) {
    set_gemm_blocking({8, 12, small_m, small_m ? saved.in_place_b_bytes : 0});
    for (int t = 0; t < 4; ++t) {
      check_gemm(40, 35, 30, t & 1, t & 2, 1.0f, 0.0f);
      check_gemm(13, 16, 9, t & 1, t & 2, 0.5f, 2.0f);
    }
  }
  set_gemm_blocking(saved);
  check_gemm(300, 50, 600, false, false, 1.0f, 0.0f);
  set_scratch_limit_for_testing(std::numeric_limits<index_t>::max());
}

// Splitting output tiles (never K) gives bitwise identical results for any thread count.
void test_gemm_thread_invariance() {
  const index_t m = 200, n = 90, k = 530;
  const auto a = random_vector(size_t(m * k), 4), b = random_vector(size_t(k * n), 5);
  std::vector<float> first;
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    std::vector<float> c(size_t(m * n));
    gemm({c.data(), m, n, n}, {a.data(), m, k, k, 1}, {b.data(), k, n, n, 1}, 1.0f, 0.0f);
    if (first.empty()) first = c;
    expect(std::memcmp(first.data(), c.data(), c.size() * sizeof(float)) == 0,
           "gemm thread invariance", "threads=" + std::to_string(threads));
  }
  set_num_threads(2);
}

// A GEMM handed a packed copy of its B gives the bits it gives packing B itself or reading
// it in place; a copy repacked over a changed block equals a fresh copy; a copy made for
// another blocking is not used (and the result is still right).
void test_gemm_packed_b() {
  const GemmBlocking saved = gemm_blocking();
  for (index_t kc : {index_t(8), saved.kc}) {
    set_gemm_blocking({kc, 12, saved.small_m, saved.in_place_b_bytes});
    for (index_t m : {1, 5, 40})
      for (index_t n : {7, 16, 35, 130})
        for (index_t k : {3, 9, 300})
          for (bool tb : {false, true}) {
            auto a = random_vector(size_t(m * k), 30), b = random_vector(size_t(k * n), 31);
            const ConstMatrixView av{a.data(), m, k, k, 1};
            const ConstMatrixView bv = tb ? ConstMatrixView{b.data(), n, k, k, 1}.transposed()
                                          : ConstMatrixView{b.data(), k, n, n, 1};
            std::vector<float> own(size_t(m * n)), copy(own.size());
            gemm({own.data(), m, n, n}, av, bv, 1.0f, 0.0f);
            PackedB packed(bv);
            // Change a block of B, then repack just that block.
            for (index_t p = k / 3; p < k; ++p)
              for (index_t j = n / 2; j < n; ++j) b[size_t(tb ? j * k + p : p * n + j)] *= -2.0f;
            packed.pack(bv, k / 3, k, n / 2, n);
            gemm({own.data(), m, n, n}, av, bv, 1.0f, 0.0f);
            Team team(2);
            GemmTiles tiles({copy.data(), m, n, n}, av, bv, 1.0f, 0.0f, {}, team.slots(), &packed);
            team.run(tiles.count(), tiles);
            expect(same_bits(own, copy), "gemm with a packed B equals gemm", shape(m, n, k, false, tb));
            const PackedB fresh(bv);
            bool same = true;
            for (index_t pc = 0; pc < k; pc += kc)
              for (index_t q = 0; q < (n + active_kernels().f32.gemm_nr - 1) / active_kernels().f32.gemm_nr; ++q)
                same = same && std::memcmp(packed.panel(pc, q), fresh.panel(pc, q),
                                           sizeof(float) * size_t(std::min(kc, k - pc) *
                                                                  active_kernels().f32.gemm_nr)) == 0;
            expect(same, "a repacked block equals a fresh packed copy", shape(m, n, k, false, tb));
          }
  }
  // Made under kc = 8, used under the default: ignored, so the GEMM packs B itself.
  set_gemm_blocking({8, 12, saved.small_m, saved.in_place_b_bytes});
  const auto a = random_vector(40 * 30, 32), b = random_vector(30 * 35, 33);
  const ConstMatrixView av{a.data(), 40, 30, 30, 1}, bv{b.data(), 30, 35, 35, 1};
  const PackedB stale(bv);
  set_gemm_blocking(saved);
  std::vector<float> own(40 * 35), copy(own.size());
  gemm({own.data(), 40, 35, 35}, av, bv, 1.0f, 0.0f);
  GemmTiles tiles({copy.data(), 40, 35, 35}, av, bv, 1.0f, 0.0f, {}, 1, &stale);
  Team team(1);
  team.run(tiles.count(), tiles);
  expect(same_bits(own, copy), "a packed B of another blocking is not read", "40x35x30");
}

void test_dense_forward() {
  const index_t n = 37, in = 29, out = 19;
  const auto x = random_vector(size_t(n * in), 6), w = random_vector(size_t(in * out), 7),
             b = random_vector(size_t(out), 8);
  for (Activation act : kActivations) {
    std::vector<float> y(size_t(n * out)), want(y.size());
    dense_forward({y.data(), n, out, out}, {x.data(), n, in, in, 1}, {w.data(), in, out, out, 1}, b.data(), act);
    reference::dense_forward({want.data(), n, out, out}, {x.data(), n, in, in, 1},
                             {w.data(), in, out, out, 1}, b.data(), act);
    expect(max_rel_error(y, want) < 1e-5, "dense_forward vs reference", activation_name(act));
  }
}

// The full-batch gradient of a small network against central differences of its loss.
void test_network_gradient() {
  const index_t n = 11, d = 4, h = 5, k = 3;
  auto w0 = random_vector(size_t(d * h), 9), b0 = random_vector(size_t(h), 10);
  auto w1 = random_vector(size_t(h * k), 11), b1 = random_vector(size_t(k), 12);
  const auto x = random_vector(size_t(n * d), 13);
  std::vector<float> y(size_t(n * k), 0.0f);
  for (index_t i = 0; i < n; ++i) y[size_t(i * k + i % k)] = 1.0f;
  for (Loss loss : {Loss::softmax_cross_entropy, Loss::logistic_cross_entropy, Loss::squared_error, Loss::poisson}) {
    Network net{{{w0.data(), b0.data(), d, h}, {w1.data(), b1.data(), h, k}}, {Activation::tanh}, loss};
    const InputRows rows{x.data(), false, n, d, d};
    std::vector<float> g0(w0.size()), gb0(b0.size()), g1(w1.size()), gb1(b1.size());
    loss_and_gradient<float>(net, rows, y.data(), nullptr, 0.1f, {g0.data(), g1.data()}, {gb0.data(), gb1.data()});
    double worst = 0.0;
    for (size_t i = 0; i < w0.size(); i += 3) {
      const float saved = w0[i], hstep = 1e-2f;
      std::vector<float> s0(w0.size()), s1(b0.size()), s2(w1.size()), s3(b1.size());
      w0[i] = saved + hstep;
      const double up = loss_and_gradient<float>(net, rows, y.data(), nullptr, 0.1f, {s0.data(), s2.data()}, {s1.data(), s3.data()});
      w0[i] = saved - hstep;
      const double down = loss_and_gradient<float>(net, rows, y.data(), nullptr, 0.1f, {s0.data(), s2.data()}, {s1.data(), s3.data()});
      w0[i] = saved;
      worst = std::max(worst, std::abs((up - down) / (2 * hstep) - g0[i]));
    }
    expect(worst < 2e-3, "network gradient vs finite differences", loss_name(loss) + (" err=" + std::to_string(worst)));
  }
}

// One training epoch (5 steps of 32 rows) of a 300-110-4 network from fixed weights on
// the active kernel table; returns both weight matrices. Batches of 32 rows at these
// widths are ~6.6 MFLOP a step: above the size under which a step runs on one thread
// (mlp.cpp), so threads really split the work.
std::vector<float> train_epoch_weights(Activation act, const OptimizerConfig& config,
                                       const DropoutConfig& dropout = {}) {
  const index_t n = 150, d = 300, h = 110, k = 4;
  const auto x = random_vector(size_t(n * d), 14);
  std::vector<float> y(size_t(n * k), 0.0f);
  for (index_t i = 0; i < n; ++i) y[size_t(i * k + (i * 7) % k)] = 1.0f;
  std::vector<std::int64_t> order(static_cast<size_t>(n));
  for (index_t i = 0; i < n; ++i) order[size_t(i)] = (i * 37) % n;
  auto w0 = random_vector(size_t(d * h), 15), b0 = random_vector(size_t(h), 16);
  auto w1 = random_vector(size_t(h * k), 17), b1 = random_vector(size_t(k), 18);
  std::vector<std::vector<float>> m{std::vector<float>(w0.size()), std::vector<float>(w1.size()),
                                    std::vector<float>(b0.size()), std::vector<float>(b1.size())};
  auto v = m;
  std::int64_t step = 0;
  Network net{{{w0.data(), b0.data(), d, h}, {w1.data(), b1.data(), h, k}}, {act},
              Loss::softmax_cross_entropy};
  OptimizerState state{{m[0].data(), m[1].data(), m[2].data(), m[3].data()},
                       {v[0].data(), v[1].data(), v[2].data(), v[3].data()}, &step};
  TrainingOptions options;
  options.batch_size = 32, options.alpha = 1e-4f, options.optimizer = config;
  options.dropout = dropout;
  train_epoch<float>(net, {x.data(), false, n, d, d}, y.data(), nullptr, order.data(), n, options,
                     state);
  if (config.kind == OptimizerConfig::Kind::adam)
    expect(step == 5, "train_epoch takes 5 Adam steps", std::to_string(step));
  w0.insert(w0.end(), w1.begin(), w1.end());
  return w0;
}

// The training step's forward reads W in place or packs it (GemmBlocking's thresholds):
// the same bits either way, over several K blocks.
void test_train_weights_in_place_or_packed() {
  const GemmBlocking saved = gemm_blocking();
  set_gemm_blocking({8, 12, saved.small_m, index_t(1) << 40});  // W read in place
  const std::vector<float> in_place = train_epoch_weights(Activation::tanh, OptimizerConfig{});
  set_gemm_blocking({8, 12, 0, 0});  // every W packed by the forward
  const std::vector<float> packed = train_epoch_weights(Activation::tanh, OptimizerConfig{});
  set_gemm_blocking(saved);
  expect(same_bits(in_place, packed), "training reading W in place equals packing it", "kc=8");
}

// A training epoch gives bitwise identical weights for 1, 2 and 3 threads.
void test_train_thread_invariance() {
  const DropoutConfig dropout{{0.3f}, 42, 3};
  for (Activation act : {Activation::relu, Activation::silu, Activation::tanh}) {
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      // tanh with dropout: the undropped output kept for the derivative
      const std::vector<float> w = train_epoch_weights(
          act, OptimizerConfig{}, act == Activation::tanh ? dropout : DropoutConfig{});
      if (first.empty()) first = w;
      expect(same_bits(first, w), "train_epoch thread invariance",
             std::string(activation_name(act)) + " threads=" + std::to_string(threads));
    }
  }
  set_num_threads(2);
}

// Distance in units in the last place between two floats of the same sign class
// (ordered as integers); NaN against NaN is 0, NaN against a number is huge.
std::int64_t ulp_distance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  auto ordered = [](float f) {
    std::int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? std::int64_t(INT32_MIN) - i : std::int64_t(i);
  };
  return std::abs(ordered(a) - ordered(b));
}

// Inputs for the elementwise kernels: a fine sweep of [-120, 120] (e^x underflows,
// overflows and saturates tanh there), the tanh branch point, and special values.
std::vector<float> activation_inputs() {
  std::vector<float> x;
  for (int i = -120000; i <= 120000; ++i) x.push_back(float(i) * 1e-3f + float(i % 7) * 1e-7f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 0.625f, -0.625f,
                  std::nextafter(0.625f, 0.0f), 88.72283f, 88.7229f, 89.0f, -87.3365f, -103.9f,
                  -104.5f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN})
    x.push_back(v);
  return x;
}

// f'(x) in float64 through y = f(x) (the float32 y the kernel reads): a derivative
// written through the output can be no more exact than y itself (1 - y near y = 1).
double derivative_from_output(Activation act, double y) {
  switch (act) {
    case Activation::logistic: return y * (1.0 - y);
    case Activation::tanh: return 1.0 - y * y;
    case Activation::relu: return y > 0.0 ? 1.0 : 0.0;
    case Activation::leaky_relu: return y > 0.0 ? 1.0 : 0.01;
    case Activation::elu: return y > 0.0 ? 1.0 : y + 1.0;
    default: return 1.0;
  }
}

// Each activation's forward and derivative (the kernels, over vector_math.hpp's exp,
// tanh, logistic, expm1 and normal CDF) against float64 libm, in ulps, over the whole
// float range they meet; relu, leaky_relu and identity exactly. The derivative is checked
// as activation_backward computes it with dy = 1, through what the step keeps (the
// output, or the input: derivative_reads_input).
void test_activation_accuracy() {
  const std::vector<float> x = activation_inputs();
  // Per activation (enum order), forward then derivative: the worst measured on this
  // sweep (avx2 and generic) rounded up; a failing check prints the worst it saw.
  const std::int64_t bound[][2] = {
      {0, 0},    // identity
      {2, 2},    // logistic (measured 2, 1)
      {2, 2},    // tanh (1, 1)
      {0, 0},    // relu
      {0, 0},    // leaky_relu
      {2, 1},    // elu (1, 0)
      {12, 4},   // gelu (9, 2): 1/2 + erf(x)/2 cancels as z falls towards -1.41
      {4, 4},    // gelu_tanh (3, 2)
      {4, 4},    // silu (3, 2)
  };
  static_assert(sizeof bound / sizeof bound[0] == sizeof kActivations / sizeof kActivations[0]);
  for (Activation act : kActivations) {
    std::vector<float> y(x.size()), d(x.size());
    const std::vector<float> ones(x.size(), 1.0f);
    activation_forward(act, y.data(), x.data(), index_t(x.size()));
    activation_backward(act, d.data(), ones.data(), derivative_reads_input(act) ? x.data() : y.data(),
                        index_t(x.size()));
    std::int64_t worst[2] = {0, 0};
    float worst_x[2] = {0.0f, 0.0f};
    for (size_t i = 0; i < x.size(); ++i) {
      const double want[2] = {reference::activate(act, double(x[i])),
                              derivative_reads_input(act)
                                  ? reference::activation_derivative(act, double(x[i]))
                                  : derivative_from_output(act, double(y[i]))};
      const float got[2] = {y[i], d[i]};
      for (int k = 0; k < 2; ++k) {
        std::int64_t dist = ulp_distance(got[k], float(want[k]));
        const double abs_err = std::abs(double(got[k]) - want[k]);
        // Errors below 2^-100 are not counted: results that small come from intermediates
        // below FLT_MIN (fewer bits: SiLU's logistic(-92)) or from e^k at |k| > 80, where
        // k's own rounding is magnified |k| times (gelu_tanh at z = -9.9: 171 ulp of 7e-37).
        if (abs_err < 0x1p-100) dist = 0;
        // The forward in ulps per unit of f's condition number |x f'(x) / f(x)| (at least
        // 1): where f is e^k with |k| large (gelu_tanh below z = -5, k ~ -50), any
        // float32 rounding inside is magnified that many times, whatever the formula.
        if (k == 0 && std::isfinite(want[0]) && want[0] != 0.0) {
          const double cond = std::abs(double(x[i]) * reference::activation_derivative(act, double(x[i])) / want[0]);
          if (cond > 1.0) dist = std::int64_t(std::ceil(double(dist) / cond));
        }
        // A derivative through the input sums terms of size ~1 (GELU's Phi + z phi) and
        // crosses zero (GELU at -0.75, SiLU at -1.28), where no float32 evaluation keeps
        // relative precision: it is bounded in ulps, or in ulps of 1 (2^-24) absolutely.
        if (k == 1 && derivative_reads_input(act))
          dist = std::min<std::int64_t>(dist, std::int64_t(std::ceil(abs_err / 0x1p-24)));
        if (dist > worst[k]) worst[k] = dist, worst_x[k] = x[i];
      }
    }
    for (int k = 0; k < 2; ++k)
      expect(worst[k] <= bound[int(act)][k],
             k == 0 ? "activation within its ulp bound of float64 libm"
                    : "activation derivative within its ulp bound of float64 libm",
             std::string(activation_name(act)) + " worst " + std::to_string(worst[k]) +
                 " ulp at x=" + std::to_string(worst_x[k]));
  }
  float z[2] = {-0.0f, NAN};
  activation_forward(Activation::tanh, z, z, 2);
  expect(std::signbit(z[0]) && std::isnan(z[1]), "tanh keeps -0 and NaN", "");
}

// The instruction sets with fused multiply-add (every one but generic) give the same
// bits: elementwise kernels, the squared norm, the loss heads, and whole training epochs
// (Adam and Nesterov SGD, each hidden activation). Skips, saying so, with fewer than two.
void test_cross_isa_bitwise() {
  std::vector<std::string> fma_isas;
  for (const KernelTable* t : available_kernels())
    if (std::string(t->name) != "generic") fma_isas.emplace_back(t->name);
  if (fma_isas.size() < 2) {
    std::printf("cross-ISA bitwise test skipped: this CPU runs %zu instruction set(s) with FMA\n",
                fma_isas.size());
    return;
  }
  const std::string saved = active_kernels().name;
  const std::vector<float> x = activation_inputs();
  OptimizerConfig sgd;
  sgd.kind = OptimizerConfig::Kind::sgd;
  sgd.momentum = 0.9f;
  sgd.nesterov = true;
  std::vector<std::vector<float>> first;
  std::vector<std::vector<double>> first64;
  for (const std::string& isa : fma_isas) {
    set_active_kernels(isa);
    const std::vector<std::vector<double>> results64 = nnfast_test::float64_kernel_results();
    if (first64.empty()) first64 = results64;
    for (size_t r = 0; r < results64.size(); ++r)
      expect(first64[r].size() == results64[r].size() &&
                 std::memcmp(first64[r].data(), results64[r].data(),
                             results64[r].size() * sizeof(double)) == 0,
             "float64 kernels bitwise equal across instruction sets",
             fma_isas[0] + " vs " + isa + ", result " + std::to_string(r));
    std::vector<std::vector<float>> results;
    for (Activation act : kActivations) {
      std::vector<float> y(x.size()), dx(x.size());
      activation_forward(act, y.data(), x.data(), index_t(x.size()));
      activation_backward(act, dx.data(), x.data(),
                          derivative_reads_input(act) ? x.data() : y.data(), index_t(x.size()));
      results.push_back(y);
      results.push_back(dx);
    }
    std::vector<float> finite(x.begin(), x.begin() + 240001);
    results.push_back({float(sum_of_squares(finite.data(), index_t(finite.size())))});
    const index_t rows = 64, k = 10;
    const auto z = random_vector(size_t(rows * k), 30), sw = random_vector(size_t(rows), 31);
    auto y = random_vector(size_t(rows * k), 32);
    for (float& v : y) v = v * v;  // targets in [0, 1] (and >= 0 for Poisson)
    for (Loss loss : {Loss::softmax_cross_entropy, Loss::logistic_cross_entropy,
                      Loss::squared_error, Loss::poisson, Loss::absolute_error, Loss::huber,
                      Loss::quantile}) {
      std::vector<float> grad(z.size()), out(z.size());
      std::vector<double> row_loss(static_cast<size_t>(rows));
      loss_forward_backward(loss, grad.data(), row_loss.data(), z.data(), y.data(), sw.data(),
                            rows, k, loss == Loss::huber ? 0.3 : 0.7);
      output_activation(loss, out.data(), z.data(), rows, k);
      results.push_back(grad);
      results.push_back(out);
      results.push_back(std::vector<float>(row_loss.begin(), row_loss.end()));
    }
    results.push_back(train_epoch_weights(Activation::gelu, OptimizerConfig{}, {{0.25f}, 7, 1}));
    for (Activation act : kActivations) {
      results.push_back(train_epoch_weights(act, OptimizerConfig{}));
      results.push_back(train_epoch_weights(act, sgd));
    }
    if (first.empty()) first = results;
    for (size_t r = 0; r < results.size(); ++r) {
      bool same = first[r].size() == results[r].size();
      for (size_t i = 0; same && i < results[r].size(); ++i)
        same = ulp_distance(first[r][i], results[r][i]) == 0 &&
               std::signbit(first[r][i]) == std::signbit(results[r][i]);
      expect(same, "bitwise equal across instruction sets",
             fma_isas[0] + " vs " + isa + ", result " + std::to_string(r));
    }
  }
  set_active_kernels(saved);
}

void test_bad_input_throws() {
  std::vector<float> a(6), b(6), c(4);
  bool threw = false;
  try {
    gemm({c.data(), 2, 2, 2}, {a.data(), 2, 3, 3, 1}, {b.data(), 2, 3, 3, 1}, 1.0f, 0.0f);
  } catch (const std::invalid_argument& e) {
    threw = std::strstr(e.what(), "[gemm]") != nullptr;
  }
  expect(threw, "gemm shape mismatch throws invalid_argument", "");
}

// ---- CSR input (sparse_input.hpp) ----

// A random CSR matrix (sorted unique indices per row, some empty rows) in every dtype
// combination scipy produces, and its float32 dense twin.
struct TestCsr {
  index_t rows, cols;
  std::vector<double> values;  // not float32-exact: the float64 data path converts
  std::vector<float> values32;
  std::vector<std::int32_t> idx32, ptr32;
  std::vector<std::int64_t> idx64, ptr64;
  std::vector<float> dense;  // (rows, cols): float(value) at each nonzero

  TestCsr(index_t r, index_t c, double density, unsigned seed) : rows(r), cols(c), dense(size_t(r * c)) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    ptr32.push_back(0), ptr64.push_back(0);
    for (index_t i = 0; i < r; ++i) {
      for (index_t j = 0; j < c; ++j) {
        if (i % 7 == 3 || u(gen) >= density) continue;  // every 7th row is empty
        const double v = 2.0 * u(gen) - 1.0 + 1e-9;
        values.push_back(v), values32.push_back(float(v));
        idx32.push_back(std::int32_t(j)), idx64.push_back(j);
        dense[size_t(i * c + j)] = float(v);
      }
      ptr32.push_back(std::int32_t(values.size())), ptr64.push_back(index_t(values.size()));
    }
  }
  // variant bits: 1 float64 data, 2 int64 indices, 4 int64 indptr.
  CsrMatrix view(int variant) const {
    CsrMatrix x;
    x.data_is_double = variant & 1, x.indices_are_64 = variant & 2, x.indptr_is_64 = variant & 4;
    x.data = x.data_is_double ? static_cast<const void*>(values.data()) : values32.data();
    x.indices = x.indices_are_64 ? static_cast<const void*>(idx64.data()) : idx32.data();
    x.indptr = x.indptr_is_64 ? static_cast<const void*>(ptr64.data()) : ptr32.data();
    x.rows = rows, x.cols = cols, x.stored = index_t(values.size());
    return x;
  }
};

// The batch rows of X in `ids` order, gathered densely (what the dense path multiplies).
std::vector<float> gather_dense(const TestCsr& x, const std::vector<std::int64_t>& ids) {
  std::vector<float> out(ids.size() * size_t(x.cols));
  for (size_t r = 0; r < ids.size(); ++r)
    std::memcpy(out.data() + r * x.cols, x.dense.data() + ids[r] * x.cols, sizeof(float) * x.cols);
  return out;
}

// Forward and weight gradient against the float64 reference, and bitwise against the
// dense path (GEMM on the densified rows): sparse input must train the same model.
void check_csr_kernels(index_t rows, index_t cols, index_t n, double density, index_t batch) {
  const TestCsr x(rows, cols, density, unsigned(rows + cols));
  std::vector<std::int64_t> ids(static_cast<size_t>(batch));
  for (index_t r = 0; r < batch; ++r) ids[size_t(r)] = (r * 5 + 2) % rows;  // repeats rows too
  const RowSelection sel{ids.data(), 0, batch};
  const auto w = random_vector(size_t(cols * n), 20), b = random_vector(size_t(n), 21);
  const auto dz = random_vector(size_t(batch * n), 22), dw0 = random_vector(size_t(cols * n), 23);
  const std::vector<float> xb = gather_dense(x, ids);
  const ConstMatrixView wv{w.data(), cols, n, n, 1}, dzv{dz.data(), batch, n, n, 1};
  char what[128];
  std::snprintf(what, sizeof what, "rows=%ld cols=%ld n=%ld batch=%ld", long(rows), long(cols), long(n), long(batch));
  for (int variant = 0; variant < 8; ++variant) {
    const CsrMatrix xv = x.view(variant);
    const std::string detail = std::string(what) + " variant=" + std::to_string(variant);
    for (Activation act : {Activation::identity, Activation::tanh}) {
      std::vector<float> y(size_t(batch * n)), want(y.size()), dense(y.size());
      csr_dense_forward({y.data(), batch, n, n}, xv, sel, wv, b.data(), act);
      reference::csr_dense_forward({want.data(), batch, n, n}, xv, sel, wv, b.data(), act);
      dense_forward({dense.data(), batch, n, n}, {xb.data(), batch, cols, cols, 1}, wv, b.data(), act);
      expect(max_rel_error(y, want) < 1e-5 * std::sqrt(double(cols)), "csr_dense_forward vs reference", detail);
      expect(same_bits(y, dense), "csr_dense_forward == dense_forward (bitwise)", detail);
    }
    for (bool accumulate : {false, true}) {
      std::vector<float> dw = dw0, want = dw0, dense = dw0;
      csr_weight_gradient({dw.data(), cols, n, n}, xv, sel, dzv, accumulate);
      reference::csr_weight_gradient({want.data(), cols, n, n}, xv, sel, dzv, accumulate);
      gemm({dense.data(), cols, n, n}, ConstMatrixView{xb.data(), batch, cols, cols, 1}.transposed(),
           dzv, 1.0f, accumulate ? 1.0f : 0.0f);
      const std::string d = detail + (accumulate ? " accumulate" : "");
      expect(max_rel_error(dw, want) < 1e-5 * std::sqrt(double(batch)), "csr_weight_gradient vs reference", d);
      expect(same_bits(dw, dense), "csr_weight_gradient == gemm X^T dz (bitwise)", d);
    }
  }
}

void test_csr_kernels() {
  check_csr_kernels(1, 1, 1, 1.0, 1);
  check_csr_kernels(30, 45, 17, 0.2, 23);
  check_csr_kernels(90, 700, 33, 0.02, 300);  // K blocks of 256 both ways
  const GemmBlocking saved = gemm_blocking();
  set_gemm_blocking({8, 12, saved.small_m, saved.in_place_b_bytes});  // many K blocks on small shapes
  check_csr_kernels(40, 70, 19, 0.3, 50);
  check_csr_kernels(40, 70, 5, 0.05, 50);
  set_gemm_blocking(saved);
}

// Rows split (forward) and features split (weight gradient), never the sums: bitwise
// identical for any thread count.
void test_csr_thread_invariance() {
  const index_t rows = 120, cols = 300, n = 41, batch = 100;
  const TestCsr x(rows, cols, 0.05, 30);
  std::vector<std::int64_t> ids(static_cast<size_t>(batch));
  for (index_t r = 0; r < batch; ++r) ids[size_t(r)] = (r * 37) % rows;
  const RowSelection sel{ids.data(), 0, batch};
  const auto w = random_vector(size_t(cols * n), 31), b = random_vector(size_t(n), 32);
  const auto dz = random_vector(size_t(batch * n), 33);
  std::vector<float> first_y, first_dw;
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    std::vector<float> y(size_t(batch * n)), dw(size_t(cols * n));
    csr_dense_forward({y.data(), batch, n, n}, x.view(5), sel, {w.data(), cols, n, n, 1}, b.data(),
                      Activation::relu);
    csr_weight_gradient({dw.data(), cols, n, n}, x.view(5), sel, {dz.data(), batch, n, n, 1}, false);
    if (first_y.empty()) first_y = y, first_dw = dw;
    expect(same_bits(first_y, y) && same_bits(first_dw, dw), "csr kernels thread invariance",
           "threads=" + std::to_string(threads));
  }
  set_num_threads(2);
}

// A training epoch on CSR input equals the epoch on the same rows dense, bitwise, for
// 1, 2 and 3 threads (batches of 32 and a batch larger than kc; the full-batch gradient).
void test_csr_training_equals_dense() {
  const index_t n = 300, d = 280, h = 24, k = 3;
  const TestCsr x(n, d, 0.03, 40);
  std::vector<float> y(size_t(n * k), 0.0f);
  for (index_t i = 0; i < n; ++i) y[size_t(i * k + (i * 7) % k)] = 1.0f;
  std::vector<std::int64_t> order(static_cast<size_t>(n));
  for (index_t i = 0; i < n; ++i) order[size_t(i)] = (i * 37) % n;
  // tanh: the derivative through the output; gelu: through the pre-activation, which the
  // CSR forward keeps as the dense one does.
  for (Activation act : {Activation::tanh, Activation::gelu})
  for (index_t batch : {index_t(32), index_t(290)}) {
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      std::vector<float> result;
      for (bool sparse : {false, true}) {
        auto w0 = random_vector(size_t(d * h), 41), b0 = random_vector(size_t(h), 42);
        auto w1 = random_vector(size_t(h * k), 43), b1 = random_vector(size_t(k), 44);
        std::vector<std::vector<float>> m{std::vector<float>(w0.size()), std::vector<float>(w1.size()),
                                          std::vector<float>(b0.size()), std::vector<float>(b1.size())};
        auto v = m;
        std::int64_t step = 0;
        const Network net{{{w0.data(), b0.data(), d, h}, {w1.data(), b1.data(), h, k}},
                          {act}, Loss::softmax_cross_entropy};
        const OptimizerState state{{m[0].data(), m[1].data(), m[2].data(), m[3].data()},
                                   {v[0].data(), v[1].data(), v[2].data(), v[3].data()}, &step};
        const InputRows in = sparse ? InputRows::from_csr(x.view(3)) : InputRows{x.dense.data(), false, n, d, d};
        TrainingOptions options;
        options.batch_size = batch, options.alpha = 1e-3f;
        train_epoch<float>(net, in, y.data(), nullptr, order.data(), n, options, state);
        std::vector<float> g0(w0.size()), gb0(b0.size()), g1(w1.size()), gb1(b1.size());
        loss_and_gradient<float>(net, in, y.data(), nullptr, 1e-3f, {g0.data(), g1.data()}, {gb0.data(), gb1.data()});
        std::vector<float> all(w0);
        for (const auto* part : {&w1, &g0, &g1, &gb0})
          all.insert(all.end(), part->begin(), part->end());
        if (!sparse) {
          result = all;
        } else {
          expect(same_bits(result, all), "train_epoch + loss_and_gradient: CSR == dense (bitwise)",
                 std::string(activation_name(act)) + " batch=" + std::to_string(batch) +
                     " threads=" + std::to_string(threads));
        }
      }
      if (first.empty()) first = result;
      expect(same_bits(first, result), "train_epoch on CSR thread invariance",
             "batch=" + std::to_string(batch) + " threads=" + std::to_string(threads));
    }
  }
  set_num_threads(2);
}

// Malformed CSR: std::invalid_argument naming the function and the array, before any work.
void test_csr_bad_input_throws() {
  const TestCsr good(6, 5, 0.5, 50);
  auto message = [&](auto&& mutate) -> std::string {
    TestCsr x = good;
    mutate(x);
    std::vector<float> w(5 * 3), y(6 * 3);
    try {
      csr_dense_forward({y.data(), 6, 3, 3}, x.view(0), {nullptr, 0, 6}, {w.data(), 5, 3, 3, 1},
                        nullptr, Activation::identity);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  auto throws = [&](const char* what, const char* expected, auto&& mutate) {
    const std::string msg = message(mutate);
    expect(msg.find("[csr_dense_forward]") == 0 && msg.find(expected) != std::string::npos,
           "malformed CSR throws invalid_argument", std::string(what) + ": '" + msg + "'");
  };
  expect(message([](TestCsr&) {}).empty(), "well-formed CSR does not throw", "");
  throws("index out of range", "X.indices[1] = 5", [](TestCsr& x) { x.idx32[1] = 5; });
  throws("negative index", "X.indices[0] = -1", [](TestCsr& x) { x.idx32[0] = -1; });
  throws("indptr decreasing", "X.indptr must not decrease",
         [](TestCsr& x) { x.ptr32[2] = x.ptr32[1] - 1; });
  throws("indptr[0] != 0", "X.indptr[0]", [](TestCsr& x) { x.ptr32[0] = 1; });
  throws("indptr past the data", "X.indptr[-1]", [](TestCsr& x) { x.ptr32.back() += 1; });
}

void run_all() {
  test_gemm_sweep();
  test_gemm_small_blocking();
  test_gemm_without_scratch();
  test_gemm_single_row();
  test_gemm_thread_invariance();
  test_gemm_packed_b();
  test_dense_forward();
  test_network_gradient();
  test_train_thread_invariance();
  test_train_weights_in_place_or_packed();
  test_activation_accuracy();
  test_bad_input_throws();
  test_csr_kernels();
  test_csr_thread_invariance();
  test_csr_training_equals_dense();
  test_csr_bad_input_throws();
  nnfast_test::test_thread_pool();
  nnfast_test::test_float64_kernels();
}

}  // namespace

int main() {
  // Every instruction set this CPU runs, the active one (NNFAST_ISA's) first.
  const std::string first = active_kernels().name;
  std::printf("ISA: %s\n", first.c_str());
  std::fflush(stdout);  // the thread-pool tests fork: nothing buffered may be duplicated
  run_all();
  for (const KernelTable* t : available_kernels()) {
    if (t->name == first) continue;
    std::printf("ISA: %s\n", t->name);
    std::fflush(stdout);
    set_active_kernels(t->name);
    run_all();
  }
  test_cross_isa_bitwise();
  std::printf("%d passed, %d failed\n", nnfast_test::g_passed, nnfast_test::g_failed);
  return nnfast_test::g_failed == 0 ? 0 : 1;
}
