// Training: each mini-batch is one parallel region. Stages (barrier between each):
//   gather rows -> forward layer by layer (bias + activation fused) -> loss head ->
//   backward layer by layer (dW, db, and dX with the activation mask fused), where the
//   update of layer l+1 runs in the same stage as the backward of layer l.
// A CSR X is not gathered: the first layer's forward and dW read its rows in place
// (sparse_input.hpp); every other stage is the same as for dense X.
// Work is split by output tiles, columns or fixed chunks, never by a reduction dimension,
// so results are bitwise identical for any thread count.
#include "mlp.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "dense.hpp"
#include "optimizers.hpp"
#include "threads.hpp"

namespace nnfast {

index_t Network::widest_output() const {
  index_t w = 0;
  for (const auto& l : layers) w = std::max(w, l.fan_out);
  return w;
}

void Network::check(const char* fn) const {
  NNFAST_CHECK(!layers.empty(), fn, "the network has no layer");
  NNFAST_CHECK(hidden.size() + 1 == layers.size(), fn, "expected ", layers.size() - 1,
               " hidden activations, got ", hidden.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    NNFAST_CHECK(layers[l].fan_in >= 1 && layers[l].fan_out >= 1, fn, "layer ", l, " is empty");
    if (l > 0)
      NNFAST_CHECK(layers[l].fan_in == layers[l - 1].fan_out, fn, "coefs[", l, "] has ",
                   layers[l].fan_in, " rows, coefs[", l - 1, "] has ", layers[l - 1].fan_out,
                   " columns");
  }
}

void InputRows::prefetch_row(index_t i) const {
  const char* row = static_cast<const char*>(data) + i * row_stride * (is_double ? 8 : 4);
  const index_t bytes = cols * (is_double ? 8 : 4);
  for (index_t b = 0; b < bytes; b += 64) __builtin_prefetch(row + b);
}

void InputRows::copy_row(index_t i, float* dst) const {
  if (is_double) {
    const double* src = static_cast<const double*>(data) + i * row_stride;
    for (index_t j = 0; j < cols; ++j) dst[j] = float(src[j]);
  } else {
    // A loop, not memcpy: rows are often short (a call per row costs more than the copy).
    const float* src = static_cast<const float*>(data) + i * row_stride;
    for (index_t j = 0; j < cols; ++j) dst[j] = src[j];
  }
}

namespace {

constexpr index_t kUpdateChunk = 4096;  // elements per fixed update chunk (and L2 partial sum)
constexpr index_t kGradientRows = 1024;  // rows per chunk of the full-batch gradient

index_t chunks_of(index_t n) { return (n + kUpdateChunk - 1) / kUpdateChunk; }

// Everything one step needs, allocated once per call, never per batch.
struct StepBuffers {
  index_t capacity, n_in, n_out;
  std::vector<index_t> width;  // per layer: fan_out
  std::vector<float> x, y, sw;  // x: gathered dense rows (empty for CSR input)
  std::vector<std::vector<float>> act, delta;  // per layer: (rows, fan_out)
  std::vector<double> row_loss;

  StepBuffers(const Network& net, index_t rows, bool gather_x)
      : capacity(rows), n_in(net.n_inputs()), n_out(net.n_outputs()),
        x(gather_x ? size_t(rows * n_in) : 0), y(size_t(rows * n_out)), sw(size_t(rows)),
        row_loss(size_t(rows)) {
    for (const auto& l : net.layers) {
      width.push_back(l.fan_out);
      act.emplace_back(size_t(rows * l.fan_out));
      delta.emplace_back(size_t(rows * l.fan_out));
    }
  }
  MatrixView act_view(size_t l, index_t m) { return {act[l].data(), m, width[l], width[l]}; }
  MatrixView delta_view(size_t l, index_t m) { return {delta[l].data(), m, width[l], width[l]}; }
  ConstMatrixView input_of(size_t l, index_t m) {
    if (l == 0) return {x.data(), m, n_in, n_in, 1};
    return as_const(act_view(l - 1, m));
  }
};

ConstMatrixView weights(const DenseParams& p) { return {p.w, p.fan_in, p.fan_out, p.fan_out, 1}; }

std::pair<index_t, index_t> split(index_t n, int t, int nthreads) {
  return {n * t / nthreads, n * (t + 1) / nthreads};
}

// How many rows ahead the gather prefetches: shuffled rows are scattered over a large X,
// so each row is a cache miss; with the misses of the next rows in flight, the gather
// is no longer one memory latency per row (W6, 32 floats a row: 11% -> 3% of a step).
constexpr index_t kGatherPrefetchRows = 8;

// Rows order[first : first + m] of X (unless CSR), Y and sample_weight into the step buffers.
void gather_team(StepBuffers& buf, const InputRows& X, const float* Y, const float* sw,
                 const std::int64_t* order, index_t m, int t, int nthreads) {
  const auto [r0, r1] = split(m, t, nthreads);
  const bool gather_x = !X.is_csr();
  for (index_t r = r0; r < r1; ++r) {
    const index_t i = order ? order[r] : r;
    if (r + kGatherPrefetchRows < r1) {
      const index_t ahead = order ? order[r + kGatherPrefetchRows] : r + kGatherPrefetchRows;
      if (gather_x) X.prefetch_row(ahead);
      __builtin_prefetch(Y + ahead * buf.n_out);
    }
    if (gather_x) X.copy_row(i, buf.x.data() + r * buf.n_in);
    for (index_t j = 0; j < buf.n_out; ++j) buf.y[size_t(r * buf.n_out + j)] = Y[i * buf.n_out + j];
    buf.sw[r] = sw ? sw[i] : 1.0f;
  }
}

// The first layer's input for one batch: the rows gathered in buf.x (csr null), or the
// batch's rows of a CSR X, read in place.
struct FirstLayerInput {
  const CsrMatrix* csr = nullptr;
  RowSelection rows;
  CsrScratch* scratch = nullptr;
};

// Forward, loss head and backward over the m gathered rows: leaves (unscaled) dW/db in
// grad_w/grad_b (added to them when accumulate), row losses in buf.row_loss. Calls
// grads_ready(l) once layer l's gradients are complete (in the stage after), so the
// caller can fold the update of layer l into the next stage's work.
template <class GradsReady>
void forward_backward_team(const Network& net, StepBuffers& buf, const FirstLayerInput& in,
                           index_t m, const std::vector<float*>& grad_w,
                           const std::vector<float*>& grad_b, bool accumulate,
                           GradsReady&& grads_ready, int t, int nthreads) {
  const size_t L = net.layers.size();
  for (size_t l = 0; l < L; ++l) {
    if (l == 0 && in.csr)
      csr_dense_forward_team(buf.act_view(0, m), *in.csr, in.rows, weights(net.layers[0]),
                             net.layers[0].b, net.activation_of(0), *in.scratch, t, nthreads);
    else
      dense_forward_team(buf.act_view(l, m), buf.input_of(l, m), weights(net.layers[l]),
                         net.layers[l].b, net.activation_of(l), t, nthreads);
#pragma omp barrier
  }
  const auto [r0, r1] = split(m, t, nthreads);
  const index_t k = buf.n_out;
  loss_forward_backward(net.loss, buf.delta[L - 1].data() + r0 * k, buf.row_loss.data() + r0,
                        buf.act[L - 1].data() + r0 * k, buf.y.data() + r0 * k, buf.sw.data() + r0,
                        r1 - r0, k);
#pragma omp barrier
  for (size_t l = L; l-- > 0;) {
    const DenseParams& p = net.layers[l];
    const ConstMatrixView dz = as_const(buf.delta_view(l, m));
    const MatrixView dw{grad_w[l], p.fan_in, p.fan_out, p.fan_out};
    if (l == 0 && in.csr)
      csr_weight_gradient_team(dw, *in.csr, in.rows, dz, accumulate, *in.scratch, t, nthreads);
    else
      gemm_team(dw, buf.input_of(l, m).transposed(), dz, 1.0f, accumulate ? 1.0f : 0.0f, {}, t,
                nthreads);
    column_sums_team(grad_b[l], dz, accumulate, t, nthreads);
    if (l > 0)
      dense_backward_input_team(buf.delta_view(l - 1, m), dz, weights(p), net.activation_of(l - 1),
                                as_const(buf.act_view(l - 1, m)), t, nthreads);
    if (l + 1 < L) grads_ready(l + 1);
#pragma omp barrier
  }
  grads_ready(0);
}

// sum_i sw_i * row_loss_i in row order (deterministic).
double weighted_loss_sum(const StepBuffers& buf, index_t m) {
  double s = 0.0;
  for (index_t r = 0; r < m; ++r) s += double(buf.sw[r]) * buf.row_loss[r];
  return s;
}

void check_rows(const char* fn, const Network& net, const InputRows& X) {
  net.check(fn);
  NNFAST_CHECK(X.cols == net.n_inputs(), fn, "X has ", X.cols, " features, the network expects ",
               net.n_inputs());
  if (X.is_csr()) {
    NNFAST_CHECK(X.rows == X.csr.rows && X.cols == X.csr.cols, fn, "X's shape and CSR differ");
    X.csr.check(fn);
  } else {
    NNFAST_CHECK(X.rows >= 0 && X.row_stride >= X.cols, fn, "X rows overlap");
  }
}

// The CSR kernels' scratch (empty for dense X) for batches of `batch` consecutive entries
// of order, or of X's rows [0, n) when order is null.
CsrScratch csr_scratch_for(const Network& net, const InputRows& X, const std::int64_t* order,
                           index_t n, index_t batch, int nthreads) {
  if (!X.is_csr()) return {};
  index_t max_nnz = 0;
  for (index_t first = 0; first < n; first += batch) {
    const index_t m = std::min(batch, n - first);
    const RowSelection rows =
        order ? RowSelection{order + first, 0, m} : RowSelection{nullptr, first, m};
    max_nnz = std::max(max_nnz, csr_nnz(X.csr, rows));
  }
  return CsrScratch(X.csr, max_nnz, net.layers[0].fan_out, nthreads, true);
}

// A step's ~10 barriers cost about as much as a few MFLOP of work: below that, a second
// thread gains nothing (W6, 128 rows of 32-64-32-1, ~3 MFLOP: 78 ms an epoch on 1 thread,
// 82 ms on 2), and on a busy machine every barrier waits for a scheduler tick.
constexpr double kMinStepFlopsForThreads = 5e6;

int threads_for(index_t rows, const Network& net) {
  double flops = 0;
  for (const auto& l : net.layers) flops += 6.0 * double(rows) * l.fan_in * l.fan_out;
  return flops < kMinStepFlopsForThreads ? 1 : get_num_threads();
}

}  // namespace

EpochResult train_epoch(const Network& net, const InputRows& X, const float* Y,
                        const float* sample_weight, const std::int64_t* order, index_t n_order,
                        index_t batch_size, float alpha, const OptimizerConfig& opt,
                        const OptimizerState& state, const StopRequested& stop) {
  check_rows("train_epoch", net, X);
  NNFAST_CHECK(batch_size >= 1, "train_epoch", "batch_size must be >= 1, got ", batch_size);
  for (index_t i = 0; i < n_order; ++i)
    NNFAST_CHECK(order[i] >= 0 && order[i] < X.rows, "train_epoch", "order[", i, "] = ", order[i],
                 " is not a row of X (", X.rows, " rows)");
  const size_t L = net.layers.size();
  const bool adam = opt.kind == OptimizerConfig::Kind::adam;
  NNFAST_CHECK(state.first.size() == 2 * L && (!adam || state.second.size() == 2 * L) && state.step,
               "train_epoch", "optimizer state needs ", 2 * L, " arrays per moment");

  const index_t cap = std::min(batch_size, std::max<index_t>(n_order, 1));
  StepBuffers buf(net, cap, !X.is_csr());
  const int max_threads = get_num_threads();  // scratch is sized for it: read it once
  CsrScratch csr_scratch = csr_scratch_for(net, X, order, n_order, batch_size, max_threads);
  std::vector<std::vector<float>> dw(L), db(L);
  std::vector<float*> grad_w(L), grad_b(L);
  std::vector<std::vector<double>> l2_parts(L);
  for (size_t l = 0; l < L; ++l) {
    dw[l].resize(size_t(net.layers[l].fan_in * net.layers[l].fan_out));
    db[l].resize(size_t(net.layers[l].fan_out));
    grad_w[l] = dw[l].data();
    grad_b[l] = db[l].data();
    l2_parts[l].resize(size_t(chunks_of(index_t(dw[l].size()))));
  }

  EpochResult result;
  for (index_t first = 0; first < n_order; first += batch_size) {
    if (stop && result.batches > 0 && stop()) {
      result.stopped = true;
      break;
    }
    const index_t m = std::min(batch_size, n_order - first);
    const std::int64_t* rows = order + first;
    double sw_sum = 0.0;
    for (index_t r = 0; r < m; ++r) sw_sum += sample_weight ? sample_weight[rows[r]] : 1.0;
    ++result.batches;
    if (!(sw_sum > 0.0)) continue;  // a batch of zero total weight carries no gradient
    const float scale = float(1.0 / sw_sum);
    float lr = opt.learning_rate;
    if (adam) lr = adam_learning_rate(opt.learning_rate, opt.beta1, opt.beta2, ++*state.step);

    // Update of parameter array `pi` (scikit-learn's order) over fixed chunks.
    auto update = [&](size_t l, bool coef, int t, int nthreads) {
      const index_t n = coef ? index_t(dw[l].size()) : index_t(db[l].size());
      float* p = coef ? net.layers[l].w : net.layers[l].b;
      const float* g = coef ? grad_w[l] : grad_b[l];
      const size_t pi = coef ? l : L + l;
      const float decay = coef ? alpha : 0.0f;  // biases are not penalised
      const auto [c0, c1] = split(chunks_of(n), t, nthreads);
      for (index_t c = c0; c < c1; ++c) {
        const index_t off = c * kUpdateChunk, len = std::min(kUpdateChunk, n - off);
        if (coef) l2_parts[l][size_t(c)] = sum_of_squares(p + off, len);
        if (adam) {
          adam_update(p + off, g + off, state.first[pi] + off, state.second[pi] + off, len,
                      {lr, opt.beta1, opt.beta2, opt.epsilon}, decay, scale);
        } else {
          sgd_update(p + off, g + off, state.first[pi] + off, len, lr, opt.momentum, opt.nesterov,
                     decay, scale);
        }
      }
    };
    const FirstLayerInput in{X.is_csr() ? &X.csr : nullptr, {rows, 0, m}, &csr_scratch};
    const int nthreads = std::min(threads_for(m, net), max_threads);
#pragma omp parallel num_threads(nthreads)
    {
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
      gather_team(buf, X, Y, sample_weight, rows, m, t, T);
#pragma omp barrier
      forward_backward_team(net, buf, in, m, grad_w, grad_b, false,
                            [&](size_t l) {
                              update(l, true, t, T);
                              update(l, false, t, T);
                            },
                            t, T);
    }
    double l2 = 0.0;
    for (const auto& parts : l2_parts)
      for (double v : parts) l2 += v;
    const double batch_loss = (weighted_loss_sum(buf, m) + 0.5 * alpha * l2) / sw_sum;
    result.loss_sum += batch_loss * sw_sum;
  }
  return result;
}

double loss_and_gradient(const Network& net, const InputRows& X, const float* Y,
                         const float* sample_weight, float alpha,
                         const std::vector<float*>& grad_w, const std::vector<float*>& grad_b) {
  check_rows("loss_and_gradient", net, X);
  const size_t L = net.layers.size();
  NNFAST_CHECK(grad_w.size() == L && grad_b.size() == L, "loss_and_gradient",
               "expected ", L, " gradient arrays for coefs and for intercepts");
  NNFAST_CHECK(X.rows >= 1, "loss_and_gradient", "X has no rows");
  StepBuffers buf(net, std::min(kGradientRows, X.rows), !X.is_csr());
  const int max_threads = get_num_threads();  // scratch is sized for it: read it once
  CsrScratch csr_scratch = csr_scratch_for(net, X, nullptr, X.rows, kGradientRows, max_threads);
  double loss_sum = 0.0, sw_sum = 0.0;
  std::vector<std::int64_t> rows(size_t(buf.capacity));
  for (index_t first = 0; first < X.rows; first += kGradientRows) {
    const index_t m = std::min(kGradientRows, X.rows - first);
    for (index_t r = 0; r < m; ++r) rows[size_t(r)] = first + r;
    const FirstLayerInput in{X.is_csr() ? &X.csr : nullptr, {nullptr, first, m}, &csr_scratch};
    const int nthreads = std::min(threads_for(m, net), max_threads);
#pragma omp parallel num_threads(nthreads)
    {
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
      gather_team(buf, X, Y, sample_weight, rows.data(), m, t, T);
#pragma omp barrier
      forward_backward_team(net, buf, in, m, grad_w, grad_b, first > 0, [](size_t) {}, t, T);
    }
    loss_sum += weighted_loss_sum(buf, m);
    for (index_t r = 0; r < m; ++r) sw_sum += buf.sw[r];
  }
  NNFAST_CHECK(sw_sum > 0.0, "loss_and_gradient", "the sample weights sum to ", sw_sum,
               "; it must be positive");
  double l2 = 0.0;
  const float scale = float(1.0 / sw_sum);
  for (size_t l = 0; l < L; ++l) {
    const DenseParams& p = net.layers[l];
    const index_t n = p.fan_in * p.fan_out;
    l2 += sum_of_squares(p.w, n);
    for (index_t i = 0; i < n; ++i) grad_w[l][i] = (grad_w[l][i] + alpha * p.w[i]) * scale;
    for (index_t j = 0; j < p.fan_out; ++j) grad_b[l][j] *= scale;
  }
  return (loss_sum + 0.5 * alpha * l2) / sw_sum;
}

}  // namespace nnfast
