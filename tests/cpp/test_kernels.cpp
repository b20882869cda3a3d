// The core's own test program: optimised kernels against their naive twins, over shape
// sweeps, both ISAs, shrunken blockings and several thread counts. No framework: it
// prints one line per failure and "N passed, N failed" at the end (exit 1 on failure).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cpu_features.hpp"
#include "dense.hpp"
#include "gemm.hpp"
#include "losses.hpp"
#include "mlp.hpp"
#include "reference.hpp"
#include "threads.hpp"

using namespace nnfast;

namespace {

int g_passed = 0, g_failed = 0;

void expect(bool ok, const char* what, const std::string& detail) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s: %s\n", what, detail.c_str());
  }
}

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
  std::vector<float> all(size_t(m * n)), one(size_t(n));
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
// small_m = 0 packs every B; the default reads row-major B in place: both paths.
void test_gemm_small_blocking() {
  const GemmBlocking saved = gemm_blocking();
  for (index_t small_m : {index_t(0), saved.small_m}) {
    set_gemm_blocking({8, 12, small_m});
    for (index_t m : {5, 13, 40})
      for (index_t n : {7, 16, 35})
        for (index_t k : {3, 8, 9, 30})
          for (int t = 0; t < 4; ++t) check_gemm(m, n, k, t & 1, t & 2, 1.0f, 0.5f);
  }
  set_gemm_blocking(saved);
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

void test_dense_forward() {
  const index_t n = 37, in = 29, out = 19;
  const auto x = random_vector(size_t(n * in), 6), w = random_vector(size_t(in * out), 7),
             b = random_vector(size_t(out), 8);
  for (Activation act : {Activation::identity, Activation::logistic, Activation::tanh, Activation::relu}) {
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
    loss_and_gradient(net, rows, y.data(), nullptr, 0.1f, {g0.data(), g1.data()}, {gb0.data(), gb1.data()});
    double worst = 0.0;
    for (size_t i = 0; i < w0.size(); i += 3) {
      const float saved = w0[i], hstep = 1e-2f;
      std::vector<float> s0(w0.size()), s1(b0.size()), s2(w1.size()), s3(b1.size());
      w0[i] = saved + hstep;
      const double up = loss_and_gradient(net, rows, y.data(), nullptr, 0.1f, {s0.data(), s2.data()}, {s1.data(), s3.data()});
      w0[i] = saved - hstep;
      const double down = loss_and_gradient(net, rows, y.data(), nullptr, 0.1f, {s0.data(), s2.data()}, {s1.data(), s3.data()});
      w0[i] = saved;
      worst = std::max(worst, std::abs((up - down) / (2 * hstep) - g0[i]));
    }
    expect(worst < 2e-3, "network gradient vs finite differences", loss_name(loss) + (" err=" + std::to_string(worst)));
  }
}

// A training epoch gives bitwise identical weights for 1, 2 and 3 threads.
void test_train_thread_invariance() {
  const index_t n = 150, d = 40, h = 33, k = 4;
  const auto x = random_vector(size_t(n * d), 14);
  std::vector<float> y(size_t(n * k), 0.0f);
  for (index_t i = 0; i < n; ++i) y[size_t(i * k + (i * 7) % k)] = 1.0f;
  std::vector<std::int64_t> order(static_cast<size_t>(n));
  for (index_t i = 0; i < n; ++i) order[size_t(i)] = (i * 37) % n;
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    auto w0 = random_vector(size_t(d * h), 15), b0 = random_vector(size_t(h), 16);
    auto w1 = random_vector(size_t(h * k), 17), b1 = random_vector(size_t(k), 18);
    std::vector<std::vector<float>> m{std::vector<float>(w0.size()), std::vector<float>(w1.size()),
                                      std::vector<float>(b0.size()), std::vector<float>(b1.size())};
    auto v = m;
    std::int64_t step = 0;
    Network net{{{w0.data(), b0.data(), d, h}, {w1.data(), b1.data(), h, k}}, {Activation::relu},
                Loss::softmax_cross_entropy};
    OptimizerState state{{m[0].data(), m[1].data(), m[2].data(), m[3].data()},
                         {v[0].data(), v[1].data(), v[2].data(), v[3].data()}, &step};
    train_epoch(net, {x.data(), false, n, d, d}, y.data(), nullptr, order.data(), n, 32, 1e-4f,
                OptimizerConfig{}, state, nullptr);
    std::vector<float> all(w0);
    all.insert(all.end(), w1.begin(), w1.end());
    if (first.empty()) first = all;
    expect(std::memcmp(first.data(), all.data(), all.size() * sizeof(float)) == 0 && step == 5,
           "train_epoch thread invariance", "threads=" + std::to_string(threads));
  }
  set_num_threads(2);
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

void run_all() {
  test_gemm_sweep();
  test_gemm_small_blocking();
  test_gemm_single_row();
  test_gemm_thread_invariance();
  test_dense_forward();
  test_network_gradient();
  test_train_thread_invariance();
  test_bad_input_throws();
}

}  // namespace

int main() {
  std::printf("ISA: %s\n", isa_name(active_isa()));
  run_all();
  if (active_isa() == Isa::avx2) {  // the portable path must hold too
    set_active_isa(Isa::generic);
    run_all();
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
