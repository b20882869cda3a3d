// Training: each mini-batch is L + 2 stages (L layers) run by one Team (thread_pool.hpp):
//   1. gather the batch's rows, beside the L2 term's sums of squares of every W;
//   2. forward layer by layer (bias + activation fused into the GEMM's store), the output
//      layer's tiles of whole rows also computing the loss head and the gradient back
//      through every layer's input (dX with the activation mask fused), row by row;
//      a batch-normalized layer adds two stages forward (its column statistics, then
//      normalize + shift + activation by rows) and two backward, where the row-by-row
//      chain stops (its column reductions, then its input gradient and the chain below);
//   3. every layer's dW and db (reductions over the rows, tiled over their outputs), each
//      finished block of dW and db applied at once to its block of W and b by the
//      optimizer, while it is in cache (no stage of this step reads W after stage 2).
// A CSR X is not gathered: the first layer's forward and dW read its rows in place
// (sparse_input.hpp); every other stage is the same as for dense X.
// Each stage is a grid of tiles of output, columns, rows or fixed chunks, never split
// along a reduction, so results are bitwise identical for any thread count and for any
// thread taking any tile.
#include "mlp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <optional>

#include "dense.hpp"
#include "kernel_table.hpp"
#include "optimizers.hpp"
#include "platform.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"

namespace nnfast {

template <class T>
index_t NetworkOf<T>::widest_output() const {
  index_t w = 0;
  for (const auto& l : layers) w = std::max(w, l.fan_out);
  return w;
}

template <class T>
void NetworkOf<T>::check(const char* fn) const {
  NNFAST_CHECK(!layers.empty(), fn, "the network has no layer");
  NNFAST_CHECK(hidden.size() + 1 == layers.size(), fn, "expected ", layers.size() - 1,
               " hidden activations, got ", hidden.size());
  check_loss_parameter(fn, loss, loss_parameter);
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
  for (index_t b = 0; b < bytes; b += 64) prefetch(row + b);
}

namespace {

constexpr index_t kUpdateChunk = 4096;  // elements per fixed update chunk (and L2 partial sum)
constexpr index_t kGradientRows = 1024;  // rows per chunk of the full-batch gradient

index_t chunks_of(index_t n) { return (n + kUpdateChunk - 1) / kUpdateChunk; }

// Everything one step needs, allocated once per call, never per batch.
template <class T>
struct StepBuffers {
  index_t capacity, n_in, n_out;
  std::vector<index_t> width;  // per layer: fan_out
  std::vector<T> x, y, sw;  // x: gathered dense rows (empty for CSR input)
  std::vector<std::vector<T>> act, delta;  // per layer: (rows, fan_out)
  // Per layer, (rows, fan_out) or empty: what its activation's derivative reads when act
  // is not it: the pre-activation (GELU, SiLU: derivative_reads_input), or, under
  // dropout (act then holds the dropped output), the undropped output.
  std::vector<std::vector<T>> saved;
  std::vector<bool> saved_is_input;
  std::vector<std::vector<T>> keep;  // per layer with dropout: its keep factors
  std::vector<std::optional<BatchNormLayerOf<T>>> norm;  // per layer: set where it normalizes
  double norm_epsilon = 0.0;
  std::vector<double> row_loss;

  StepBuffers(const NetworkOf<T>& net, index_t rows, bool gather_x, const DropoutConfig& dropout = {},
              const BatchNormConfigOf<T>& batch_norm = {})
      : capacity(rows), n_in(net.n_inputs()), n_out(net.n_outputs()),
        x(gather_x ? size_t(rows * n_in) : 0), y(size_t(rows * n_out)), sw(size_t(rows)),
        norm(net.layers.size()), norm_epsilon(batch_norm.epsilon), row_loss(size_t(rows)) {
    for (size_t l = 0; l < net.layers.size(); ++l) {
      const size_t size = size_t(rows * net.layers[l].fan_out);
      const bool reads_input = derivative_reads_input(net.activation_of(l));
      const bool drops = dropout.rate_of(l) > 0.0f && l + 1 < net.layers.size();
      width.push_back(net.layers[l].fan_out);
      act.emplace_back(size);
      delta.emplace_back(size);
      saved.emplace_back(reads_input || drops ? size : 0);
      saved_is_input.push_back(reads_input);
      keep.emplace_back(drops ? size : 0);
      if (batch_norm.on(l) && l + 1 < net.layers.size())
        norm[l].emplace(batch_norm.layers[l], rows, net.layers[l].fan_out);
    }
  }
  bool normalizes(size_t l) const { return norm[l].has_value(); }
  MatrixViewOf<T> act_view(size_t l, index_t m) { return {act[l].data(), m, width[l], width[l]}; }
  MatrixViewOf<T> view(std::vector<T>& v, size_t l, index_t m) {
    return {v.empty() ? nullptr : v.data(), m, width[l], width[l]};
  }
  // Where layer l's forward keeps its pre-activation (data null: nowhere).
  MatrixViewOf<T> pre_view(size_t l, index_t m) {
    return saved_is_input[l] ? view(saved[l], l, m) : MatrixViewOf<T>{nullptr, m, width[l], width[l]};
  }
  // What layer l's activation derivative reads: its pre-activation or its (undropped) output.
  MatrixViewOf<T> saved_view(size_t l, index_t m) {
    return saved[l].empty() ? act_view(l, m) : view(saved[l], l, m);
  }
  // Layer l's dropout in a batch of m rows whose rows of X are rows[r] (null: none).
  DropoutLayerOf<T> dropout_of(const DropoutConfig& config, size_t l, const std::int64_t* rows,
                          index_t m) {
    if (keep[l].empty()) return {};
    const MatrixViewOf<T> output = saved_is_input[l] ? MatrixViewOf<T>{} : view(saved[l], l, m);
    return DropoutLayerOf<T>(config, l, rows, keep[l].data(), width[l], output.data, width[l]);
  }
  MatrixViewOf<T> delta_view(size_t l, index_t m) { return {delta[l].data(), m, width[l], width[l]}; }
  ConstMatrixViewOf<T> input_of(size_t l, index_t m) {
    if (l == 0) return {x.data(), m, n_in, n_in, 1};
    return as_const(act_view(l - 1, m));
  }
};

template <class T>
ConstMatrixViewOf<T> weights(const DenseParamsOf<T>& p) { return {p.w, p.fan_in, p.fan_out, p.fan_out, 1}; }

// The row-wise stages (gather, loss head) take rows in tiles of this many.
constexpr index_t kRowsPerTile = 32;
index_t row_tiles(index_t m) { return (m + kRowsPerTile - 1) / kRowsPerTile; }
std::pair<index_t, index_t> rows_of_tile(index_t tile, index_t m) {
  return {tile * kRowsPerTile, std::min(m, (tile + 1) * kRowsPerTile)};
}

// How many rows ahead the gather prefetches: shuffled rows are scattered over a large X,
// so each row is a cache miss; with the misses of the next rows in flight, the gather
// is no longer one memory latency per row (W6, 32 floats a row: 11% -> 3% of a step).
constexpr index_t kGatherPrefetchRows = 8;

// Batch rows [r0, r1) of the m (X's rows order[r]) of X (unless CSR), Y and
// sample_weight into the step buffers. The prefetch runs ahead into the next tile's rows
// too (a hint: it changes no result), so a tile's first rows are not left to a cold miss
// each: the next tile is most often the same thread's.
template <class T>
void gather_rows(StepBuffers<T>& buf, const InputRows& X, const T* Y, const T* sw,
                 const std::int64_t* order, index_t r0, index_t r1, index_t m) {
  const bool gather_x = !X.is_csr();
  for (index_t r = r0; r < r1; ++r) {
    const index_t i = order ? order[r] : r;
    if (r + kGatherPrefetchRows < m) {
      const index_t ahead = order ? order[r + kGatherPrefetchRows] : r + kGatherPrefetchRows;
      if (gather_x) X.prefetch_row(ahead);
      prefetch(Y + ahead * buf.n_out);
    }
    if (gather_x) X.copy_row(i, buf.x.data() + r * buf.n_in);
    for (index_t j = 0; j < buf.n_out; ++j) buf.y[size_t(r * buf.n_out + j)] = Y[i * buf.n_out + j];
    buf.sw[r] = sw ? sw[i] : T(1);
  }
}

// The first layer's input for one batch: the rows gathered in buf.x (csr null), or the
// batch's rows of a CSR X, read in place.
template <class T>
struct FirstLayerInput {
  const CsrMatrix* csr = nullptr;
  RowSelection rows;
  CsrScratchOf<T>* scratch = nullptr;
};

// param -= the optimizer's step for grad * scale (Adam's or SGD's, as the batch's config
// says), with L2 decay; first and second: the parameter's optimizer state.
template <class T>
void optimizer_update(const OptimizerConfig& opt, const AdamStepOf<T>& adam, T learning_rate,
                      T* param, const T* grad, T* first, T* second, index_t n,
                      T decay, T scale) {
  if (opt.kind == OptimizerConfig::Kind::adam) {
    adam_update(param, grad, first, second, n, adam, decay, scale);
  } else {
    sgd_update(param, grad, first, n, learning_rate, T(opt.momentum), opt.nesterov, decay, scale);
  }
}

// The optimizer's update of one layer's W and b, applied where the gradient is made: the
// dW GEMM's epilogue updates each finished block of W (its dW still in cache), the db
// tiles their columns of b, the CSR dW tiles their rows of W. The update is elementwise,
// so the result is the same for any blocking and any thread count. Before the batch's
// forward, l2_chunk records the sum of squares of W (the batch loss's L2 term) over fixed
// chunks of kUpdateChunk elements.
template <class T>
struct LayerUpdate {
  const DenseParamsOf<T>* layer;
  const T *grad_w, *grad_b;
  T *first_w, *first_b, *second_w, *second_b;  // optimizer state (second: adam only)
  double* l2_parts;
  T alpha;
  const OptimizerConfig* opt;
  AdamStepOf<T> adam = {};                         // the batch's (adam)
  T learning_rate = T(0), scale = T(0);  // the batch's (sgd), both

  index_t l2_chunks() const { return chunks_of(layer->fan_in * layer->fan_out); }
  void l2_chunk(index_t c) const {
    const index_t n = layer->fan_in * layer->fan_out, off = c * kUpdateChunk;
    l2_parts[c] = sum_of_squares(layer->w + off, std::min(kUpdateChunk, n - off));
  }
  // W's rows [r0, r1), columns [c0, c1).
  void update_w(index_t r0, index_t r1, index_t c0, index_t c1) const {
    const index_t n = layer->fan_out;
    if (c0 == 0 && c1 == n) return update(true, r0 * n, (r1 - r0) * n);  // contiguous
    for (index_t r = r0; r < r1; ++r) update(true, r * n + c0, c1 - c0);
  }
  void update_b(index_t c0, index_t c1) const { update(false, c0, c1 - c0); }
  // The dW GEMM's epilogue: each finished block of dW updates its block of W.
  GemmEpilogueOf<T> epilogue() const {
    GemmEpilogueOf<T> ep;
    ep.fn = [](const GemmEpilogueOf<T>& self, const KernelTable&, T*, index_t, index_t i0,
               index_t j0, index_t m, index_t n) {
      static_cast<const LayerUpdate<T>*>(self.context)->update_w(i0, i0 + m, j0, j0 + n);
    };
    ep.context = this;
    return ep;
  }

 private:
  // Elements [off, off + len) of W (coef) or b.
  void update(bool coef, index_t off, index_t len) const {
    T* p = (coef ? layer->w : layer->b) + off;
    const T* g = (coef ? grad_w : grad_b) + off;
    const T decay = coef ? alpha : T(0);  // biases are not penalised
    T* second = coef ? second_w : second_b;
    optimizer_update(*opt, adam, learning_rate, p, g, (coef ? first_w : first_b) + off,
                     second ? second + off : nullptr, len, decay, scale);
  }
};

// Every layer's L2 chunks as one part of a stage: tiles [0, n0) are layer 0's, and so on.
template <class T>
struct L2Tiles {
  const std::vector<LayerUpdate<T>>& layers;
  index_t count() const {
    index_t n = 0;
    for (const auto& u : layers) n += u.l2_chunks();
    return n;
  }
  void operator()(index_t tile, int) const {
    for (const auto& u : layers) {
      if (tile < u.l2_chunks()) return u.l2_chunk(tile);
      tile -= u.l2_chunks();
    }
  }
};

// db's column tiles, each then updating its columns of b (when update is set).
template <class T>
struct BiasGradientTiles {
  ColumnSumTilesOf<T> sums;
  const LayerUpdate<T>* update;
  void operator()(index_t tile, int slot) const {
    sums(tile, slot);
    if (!update) return;
    const auto [c0, c1] = sums.columns_of(tile);
    update->update_b(c0, c1);
  }
};

// A CSR first layer's dW tiles, each then updating its rows of W (when update is set).
template <class T>
struct CsrWeightGradientAndUpdate {
  CsrWeightGradientTilesOf<T> tiles;
  const LayerUpdate<T>* update;
  void operator()(index_t tile, int slot) const {
    tiles(tile, slot);
    if (!update) return;
    const auto [p0, p1] = tiles.rows_of(tile);
    update->update_w(p0, p1, 0, update->layer->fan_out);
  }
};

// The loss head over rows [r0, r1): the output's gradient into delta[L-1], row losses.
template <class T>
void loss_rows(const NetworkOf<T>& net, StepBuffers<T>& buf, index_t r0, index_t r1) {
  const index_t k = buf.n_out;
  const size_t L = net.layers.size();
  loss_forward_backward(net.loss, buf.delta[L - 1].data() + r0 * k, buf.row_loss.data() + r0,
                        buf.act[L - 1].data() + r0 * k, buf.y.data() + r0 * k,
                        buf.sw.data() + r0, r1 - r0, k, net.loss_parameter);
}

template <class T>
MatrixViewOf<T> rows_of(MatrixViewOf<T> v, index_t r0, index_t r1) {
  return {v.data + r0 * v.ld, r1 - r0, v.cols, v.ld};
}

// The gradient back through the layers' inputs over rows [r0, r1) of the batch, while
// they are in cache: for l = top down to bottom, dZ[l-1] := (dZ[l] @ W[l]^T) * act'(A[l-1]).
// Each row of those depends on the same row only, so any rows may go together.
template <class T>
void input_gradient_rows(const NetworkOf<T>& net, StepBuffers<T>& buf, index_t m,
                         const std::vector<DropoutLayerOf<T>>& dropout, size_t top, size_t bottom,
                         index_t r0, index_t r1, int slot) {
  for (size_t l = top; l >= bottom; --l) {  // bottom >= 1: l never wraps
    const DenseParamsOf<T>& p = net.layers[l];
    const MatrixViewOf<T> dz = buf.delta_view(l, m), dprev = buf.delta_view(l - 1, m);
    const DropoutLayerOf<T> tile_dropout =
        dropout[l - 1].keep ? dropout[l - 1].from_row(r0) : DropoutLayerOf<T>{};
    const GemmTilesOf<T> rows = dense_backward_input_tiles(
        rows_of(dprev, r0, r1), as_const(rows_of(dz, r0, r1)), weights(p),
        net.activation_of(l - 1), as_const(rows_of(buf.saved_view(l - 1, m), r0, r1)), 1,
        tile_dropout.keep ? &tile_dropout : nullptr);
    rows(0, slot);
  }
}

// Where the row-by-row chain from layer `top` stops: it computes dZ[l-1] for l = top down
// to the returned bottom, the first l - 1 below top that normalizes (its dZ needs column
// reductions first), else 1.
template <class T>
size_t chain_bottom(const StepBuffers<T>& buf, size_t top) {
  for (size_t l = top; l >= 1; --l)
    if (buf.normalizes(l - 1)) return l;
  return 1;
}

// The output layer's tiles, each of whole rows: the forward, the loss head, then the
// chain of input gradients down to `bottom` (input_gradient_rows). The step needs no
// stage for that chain.
template <class T>
struct OutputAndInputGradientTiles {
  const NetworkOf<T>& net;
  StepBuffers<T>& buf;
  const GemmTilesOf<T>& output;  // whole_rows
  index_t m;
  const std::vector<DropoutLayerOf<T>>& dropout;  // per layer (keep null: none)
  size_t bottom;

  void operator()(index_t tile, int slot) const {
    output(tile, slot);
    const auto [r0, r1] = output.rows_of(tile);
    loss_rows(net, buf, r0, r1);
    input_gradient_rows(net, buf, m, dropout, net.layers.size() - 1, bottom, r0, r1, slot);
  }
};

// Row tiles of the stages that are not a GEMM's grid (batch norm's): 48 rows, whole
// strips of the 6- and 12-row micro-kernels.
constexpr index_t kChainRows = 48;
index_t chain_tiles(index_t m) { return (m + kChainRows - 1) / kChainRows; }
std::pair<index_t, index_t> chain_rows(index_t tile, index_t m) {
  return {tile * kChainRows, std::min(m, (tile + 1) * kChainRows)};
}

// Layer l's batch norm forward, on its dense product z (in act[l], bias added):
// statistics, then normalize, shift, activation and dropout, by rows.
template <class T>
void normalize_layer(Team& team, int threads, const NetworkOf<T>& net, StepBuffers<T>& buf, size_t l,
                     index_t m, const DropoutLayerOf<T>* dropout) {
  BatchNormLayerOf<T>& norm = *buf.norm[l];
  const MatrixViewOf<T> z = buf.act_view(l, m);
  team.run(norm.column_tiles(), [&](index_t tile, int) {
    norm.statistics(as_const(z), tile, buf.norm_epsilon);
  }, threads);
  const GemmEpilogueOf<T> shift_activation = bias_activation_epilogue(
      net.activation_of(l), norm.params().shift, buf.pre_view(l, m), dropout);
  const KernelTable& kernels = active_kernels();
  team.run(chain_tiles(m), [&](index_t tile, int) {
    const auto [r0, r1] = chain_rows(tile, m);
    norm.normalize(z, r0, r1);
    shift_activation.fn(shift_activation, kernels, z.data + r0 * z.ld, z.ld, r0, 0, r1 - r0,
                        z.cols);
  }, threads);
}

// The forward of the m gathered rows on `threads` threads of the team, one stage per
// layer (two more per normalized layer), the last one also computing the loss head and
// the input gradients down to the highest normalized layer; then, per normalized layer
// from the top, its gradient reductions and its rows' input gradients down to the next.
// Row losses in buf.row_loss, dZ of every layer in buf.delta.
template <class T>
void forward_and_input_gradients(Team& team, int threads, const NetworkOf<T>& net,
                                 StepBuffers<T>& buf, const FirstLayerInput<T>& in, index_t m,
                                 const std::vector<DropoutLayerOf<T>>& dropout) {
  const size_t L = net.layers.size();
  auto dropout_of = [&](size_t l) { return dropout[l].keep ? &dropout[l] : nullptr; };
  for (size_t l = 0; l + 1 < L; ++l) {
    const DenseParamsOf<T>& p = net.layers[l];
    // A normalized layer's GEMM stores z = x W + b only; normalize_layer does the rest.
    const bool norm = buf.normalizes(l);
    const Activation act = norm ? Activation::identity : net.activation_of(l);
    const MatrixViewOf<T> pre = norm ? MatrixViewOf<T>{} : buf.pre_view(l, m);
    const DropoutLayerOf<T>* drop = norm ? nullptr : dropout_of(l);
    if (l == 0 && in.csr) {
      CsrForwardTilesOf<T> tiles(buf.act_view(0, m), *in.csr, in.rows, weights(p), p.b, act,
                            *in.scratch, threads, pre, drop);
      team.run(tiles.count(), tiles, threads);
    } else {
      GemmTilesOf<T> tiles = dense_forward_tiles<T>(buf.act_view(l, m), buf.input_of(l, m), weights(p),
                                            p.b, act, threads, nullptr, pre, drop);
      team.run(tiles.count(), tiles, threads);
    }
    if (norm) normalize_layer(team, threads, net, buf, l, m, dropout_of(l));
  }
  const DenseParamsOf<T>& out = net.layers[L - 1];
  if (L == 1 && in.csr) {  // the output layer reads CSR rows: no GEMM tiles to fuse into
    CsrForwardTilesOf<T> tiles(buf.act_view(0, m), *in.csr, in.rows, weights(out), out.b,
                          net.activation_of(0), *in.scratch, threads);
    team.run(tiles.count(), tiles, threads);
    team.run(row_tiles(m), [&](index_t tile, int) {
      const auto [r0, r1] = rows_of_tile(tile, m);
      loss_rows(net, buf, r0, r1);
    }, threads);
    return;
  }
  const GemmTilesOf<T> output = GemmTilesOf<T>::whole_rows(
      buf.act_view(L - 1, m), buf.input_of(L - 1, m), weights(out), T(1), T(0),
      bias_activation_epilogue(Activation::identity, out.b), threads);
  size_t bottom = chain_bottom(buf, L - 1);
  OutputAndInputGradientTiles<T> tiles{net, buf, output, m, dropout, bottom};
  team.run(output.count(), tiles, threads);
  while (buf.normalizes(bottom - 1)) {  // delta[b] holds dL/dy of layer b's norm
    const size_t b = bottom - 1;
    BatchNormLayerOf<T>& norm = *buf.norm[b];
    const MatrixViewOf<T> dy = buf.delta_view(b, m);
    team.run(norm.column_tiles(), [&](index_t tile, int) {
      norm.reduce_gradient(as_const(dy), tile);
    }, threads);
    bottom = chain_bottom(buf, b);  // b == 0: 1, and the chain below is empty
    team.run(chain_tiles(m), [&](index_t tile, int slot) {
      const auto [r0, r1] = chain_rows(tile, m);
      norm.input_gradient(dy, r0, r1);
      input_gradient_rows(net, buf, m, dropout, b, bottom, r0, r1, slot);
    }, threads);
    if (b == 0) break;  // layer 0's input needs no gradient
  }
}

// Every dW and db of the step (reductions over the rows, tiled over their outputs), into
// grad_w / grad_b (added to them when accumulate). With `updates`, each finished block is
// at once applied to the parameters by its layer's LayerUpdate<T>.
template <class T>
void weight_gradients(Team& team, int threads, const NetworkOf<T>& net, StepBuffers<T>& buf,
                      const FirstLayerInput<T>& in, index_t m, const std::vector<T*>& grad_w,
                      const std::vector<T*>& grad_b, bool accumulate,
                      const std::vector<LayerUpdate<T>>* updates) {
  const size_t L = net.layers.size();
  std::vector<GemmTilesOf<T>> dense_dw;
  std::vector<BiasGradientTiles<T>> db;
  std::optional<CsrWeightGradientAndUpdate<T>> csr_dw;
  dense_dw.reserve(L);  // the stage refers to the elements: they must not move
  db.reserve(L);
  // The first layer's dW, usually the largest, first: within each share the largest tiles
  // come first, and a thread that has finished its own share steals small ones from the
  // back of another's (with the largest last, it stole those and the others waited).
  Stage stage;
  for (size_t l = 0; l < L; ++l) {
    if (!stage.has_room(2)) {  // a deep network: more than one stage
      team.run(stage, threads);
      stage = Stage();
    }
    const DenseParamsOf<T>& p = net.layers[l];
    const LayerUpdate<T>* update = updates ? &(*updates)[l] : nullptr;
    const ConstMatrixViewOf<T> dz = as_const(buf.delta_view(l, m));
    const MatrixViewOf<T> dw{grad_w[l], p.fan_in, p.fan_out, p.fan_out};
    if (l == 0 && in.csr) {
      csr_dw.emplace(CsrWeightGradientAndUpdate<T>{
          CsrWeightGradientTilesOf<T>(dw, *in.csr, in.rows, dz, accumulate, *in.scratch, threads),
          update});
      stage.add(csr_dw->tiles.count(), *csr_dw);
    } else {
      dense_dw.push_back(dense_weight_gradient_tiles(dw, buf.input_of(l, m), dz, accumulate,
                                                     threads,
                                                     update ? update->epilogue() : GemmEpilogueOf<T>{}));
      stage.add(dense_dw.back().count(), dense_dw.back());
    }
    db.push_back({ColumnSumTilesOf<T>(grad_b[l], dz, accumulate), update});
    stage.add(db.back().sums.count(), db.back());
  }
  team.run(stage, threads);
}

// sum_i sw_i * row_loss_i in row order (deterministic).
template <class T>
double weighted_loss_sum(const StepBuffers<T>& buf, index_t m) {
  double s = 0.0;
  for (index_t r = 0; r < m; ++r) s += double(buf.sw[r]) * buf.row_loss[r];
  return s;
}

template <class T>
void check_rows(const char* fn, const NetworkOf<T>& net, const InputRows& X) {
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
template <class T>
CsrScratchOf<T> csr_scratch_for(const NetworkOf<T>& net, const InputRows& X, const std::int64_t* order,
                           index_t n, index_t batch, int nthreads) {
  if (!X.is_csr()) return {};
  index_t max_nnz = 0;
  for (index_t first = 0; first < n; first += batch) {
    const index_t m = std::min(batch, n - first);
    const RowSelection rows =
        order ? RowSelection{order + first, 0, m} : RowSelection{nullptr, first, m};
    max_nnz = std::max(max_nnz, csr_nnz(X.csr, rows));
  }
  return CsrScratchOf<T>(X.csr, max_nnz, net.layers[0].fan_out, nthreads, true);
}

// A step's stages cost about as much as a few MFLOP of work: below that, a second
// thread gains nothing (W6, 128 rows of 32-64-32-1, ~3 MFLOP: 78 ms an epoch on 1 thread,
// 82 ms on 2).
constexpr double kMinStepFlopsForThreads = 5e6;
// While other processes keep preempting nnfast's threads (Team::contended), a stage waits
// whenever a thread holding a tile is descheduled, which costs more than a small step's
// work: steps under this run on the calling thread alone (the demo's 11 MFLOP steps of
// digits with one core busy: 0.45 s with two threads, 0.28 s on one).
constexpr double kMinStepFlopsForThreadsWhenContended = 5e7;

template <class T>
double step_flops(index_t rows, const NetworkOf<T>& net) {
  double flops = 0;
  for (const auto& l : net.layers) flops += 6.0 * double(rows) * l.fan_in * l.fan_out;
  return flops;
}

template <class T>
int threads_for(index_t rows, const NetworkOf<T>& net) {
  return step_flops(rows, net) < kMinStepFlopsForThreads ? 1 : get_num_threads();
}

// For one step of a team that exists: also steps down while contended.
template <class T>
int threads_for(index_t rows, const NetworkOf<T>& net, const Team& team) {
  const double flops = step_flops(rows, net);
  const bool small = flops < (team.contended() ? kMinStepFlopsForThreadsWhenContended
                                               : kMinStepFlopsForThreads);
  return small ? 1 : team.slots();
}

// After the batch's loss is known finite: each normalized layer's running statistics,
// and its scale and shift updated by the optimizer (not penalised by L2, as biases).
// Their optimizer state follows the layers' in `state`: scales from `first_state`, then
// shifts. O(units) each, on the calling thread.
template <class T>
void update_batch_norm(StepBuffers<T>& buf, const BatchNormConfigOf<T>& config,
                       const OptimizerConfig& opt, const OptimizerStateOf<T>& state,
                       const AdamStepOf<T>& adam, index_t m, size_t first_state, T scale) {
  const size_t count = config.count();
  size_t k = 0;  // the k-th normalized layer
  for (size_t l = 0; l < buf.norm.size(); ++l) {
    auto& norm = buf.norm[l];
    if (!norm) continue;
    norm->update_running(m, config.momentum);
    const BatchNormParamsOf<T>& p = norm->params();
    const index_t n = buf.width[l];
    for (int which = 0; which < 2; ++which) {  // scale, shift
      const size_t s = first_state + k + (which ? count : 0);
      T* param = which ? p.shift : p.scale;
      const T* grad = which ? norm->grad_shift() : norm->grad_scale();
      optimizer_update(opt, adam, T(opt.learning_rate), param, grad, state.first[s],
                       state.second.empty() ? nullptr : state.second[s], n, T(0), scale);
    }
    ++k;
  }
}

}  // namespace

template <class T>
EpochResult train_epoch(const NetworkOf<T>& net, const InputRows& X, const T* Y,
                        const T* sample_weight, const std::int64_t* order, index_t n_order,
                        const TrainingOptionsOf<T>& options, const OptimizerStateOf<T>& state,
                        const StopRequested& stop) {
  const index_t batch_size = options.batch_size;
  const T alpha = T(options.alpha);  // the L2 strength as the updates apply it
  const OptimizerConfig& opt = options.optimizer;
  const DropoutConfig& dropout = options.dropout;
  const BatchNormConfigOf<T>& batch_norm = options.batch_norm;
  check_rows("train_epoch", net, X);
  dropout.check("train_epoch", net.layers.size() - 1);
  batch_norm.check("train_epoch", net.layers.size() - 1);
  NNFAST_CHECK(batch_size >= 1, "train_epoch", "batch_size must be >= 1, got ", batch_size);
  for (index_t i = 0; i < n_order; ++i)
    NNFAST_CHECK(order[i] >= 0 && order[i] < X.rows, "train_epoch", "order[", i, "] = ", order[i],
                 " is not a row of X (", X.rows, " rows)");
  const size_t L = net.layers.size();
  const bool adam = opt.kind == OptimizerConfig::Kind::adam;
  const size_t n_state = 2 * L + 2 * batch_norm.count();
  NNFAST_CHECK(state.first.size() == n_state && (!adam || state.second.size() == n_state) &&
                   state.step,
               "train_epoch", "optimizer state needs ", n_state, " arrays per moment");

  const index_t cap = std::min(batch_size, std::max<index_t>(n_order, 1));
  Team team(threads_for(cap, net));
  StepBuffers<T> buf(net, cap, !X.is_csr(), dropout, batch_norm);
  std::vector<DropoutLayerOf<T>> drop(L);  // the batch's, per layer (keep null: none)
  CsrScratchOf<T> csr_scratch = csr_scratch_for(net, X, order, n_order, batch_size, team.slots());
  std::vector<std::vector<T>> dw(L), db(L);
  std::vector<T*> grad_w(L), grad_b(L);
  std::vector<std::vector<double>> l2_parts(L);
  std::vector<LayerUpdate<T>> updates;  // never resized below: the epilogues point into it
  for (size_t l = 0; l < L; ++l) {
    const DenseParamsOf<T>& p = net.layers[l];
    dw[l].resize(size_t(p.fan_in * p.fan_out));
    db[l].resize(size_t(p.fan_out));
    grad_w[l] = dw[l].data();
    grad_b[l] = db[l].data();
    l2_parts[l].resize(size_t(chunks_of(index_t(dw[l].size()))));
    updates.push_back({&p, grad_w[l], grad_b[l], state.first[l], state.first[L + l],
                       adam ? state.second[l] : nullptr, adam ? state.second[L + l] : nullptr,
                       l2_parts[l].data(), alpha, &opt});
  }

  EpochResult result;
  L2Tiles<T> l2_tiles{updates};
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
    const int threads = threads_for(m, net, team);
    auto gather = [&](index_t tile, int) {
      const auto [r0, r1] = rows_of_tile(tile, m);
      gather_rows(buf, X, Y, sample_weight, rows, r0, r1, m);
    };
    // The L2 term's sums of squares of W before this batch's update, beside the gather
    // (neither touches what the other reads).
    Stage first_stage;
    first_stage.add(l2_tiles.count(), l2_tiles).add(row_tiles(m), gather);
    team.run(first_stage, threads);
    const FirstLayerInput<T> in{X.is_csr() ? &X.csr : nullptr, {rows, 0, m}, &csr_scratch};
    for (size_t l = 0; l < L; ++l) drop[l] = buf.dropout_of(dropout, l, rows, m);
    forward_and_input_gradients(team, threads, net, buf, in, m, drop);
    const double weighted_loss = weighted_loss_sum(buf, m);
    if (!std::isfinite(weighted_loss)) {
      // Diverged: the gradient of a non-finite loss is no direction. Stop here, before
      // applying it; the caller restores its parameters (see EpochResult::diverged).
      result.loss_sum = std::numeric_limits<double>::quiet_NaN();
      result.diverged = true;
      return result;
    }
    double l2 = 0.0;
    for (const auto& parts : l2_parts)
      for (double v : parts) l2 += v;
    const double batch_loss = (weighted_loss + 0.5 * alpha * l2) / sw_sum;
    result.loss_sum += batch_loss * sw_sum;
    // A one-row batch under batch norm has no variance to normalize by (PyTorch refuses
    // it): its loss counts, but it updates nothing (its normalized units are all 0).
    if (m < 2 && batch_norm.count() > 0) continue;
    const AdamStepOf<T> step =
        adam ? adam_step<T>(opt.learning_rate, opt.beta1, opt.beta2, opt.epsilon, ++*state.step)
             : AdamStepOf<T>{};
    for (auto& u : updates)
      u.adam = step, u.learning_rate = T(opt.learning_rate), u.scale = T(1.0 / sw_sum);
    weight_gradients(team, threads, net, buf, in, m, grad_w, grad_b, false, &updates);
    update_batch_norm(buf, batch_norm, opt, state, step, m, 2 * L, T(1.0 / sw_sum));
  }
  return result;
}

template <class T>
double loss_and_gradient(const NetworkOf<T>& net, const InputRows& X, const T* Y,
                         const T* sample_weight, double l2_alpha,
                         const std::vector<T*>& grad_w, const std::vector<T*>& grad_b) {
  const T alpha = T(l2_alpha);
  check_rows("loss_and_gradient", net, X);
  const size_t L = net.layers.size();
  NNFAST_CHECK(grad_w.size() == L && grad_b.size() == L, "loss_and_gradient",
               "expected ", L, " gradient arrays for coefs and for intercepts");
  NNFAST_CHECK(X.rows >= 1, "loss_and_gradient", "X has no rows");
  StepBuffers<T> buf(net, std::min(kGradientRows, X.rows), !X.is_csr());
  const std::vector<DropoutLayerOf<T>> no_dropout(net.layers.size());
  Team team(threads_for(buf.capacity, net));
  CsrScratchOf<T> csr_scratch = csr_scratch_for(net, X, nullptr, X.rows, kGradientRows, team.slots());
  double loss_sum = 0.0, sw_sum = 0.0;
  std::vector<std::int64_t> rows(size_t(buf.capacity));
  for (index_t first = 0; first < X.rows; first += kGradientRows) {
    const index_t m = std::min(kGradientRows, X.rows - first);
    for (index_t r = 0; r < m; ++r) rows[size_t(r)] = first + r;
    const int threads = threads_for(m, net, team);
    team.run(row_tiles(m), [&](index_t tile, int) {
      const auto [r0, r1] = rows_of_tile(tile, m);
      gather_rows(buf, X, Y, sample_weight, rows.data(), r0, r1, m);
    }, threads);
    const FirstLayerInput<T> in{X.is_csr() ? &X.csr : nullptr, {nullptr, first, m}, &csr_scratch};
    forward_and_input_gradients(team, threads, net, buf, in, m, no_dropout);
    weight_gradients<T>(team, threads, net, buf, in, m, grad_w, grad_b, first > 0, nullptr);
    loss_sum += weighted_loss_sum(buf, m);
    for (index_t r = 0; r < m; ++r) sw_sum += buf.sw[r];
  }
  NNFAST_CHECK(sw_sum > 0.0, "loss_and_gradient", "the sample weights sum to ", sw_sum,
               "; it must be positive");
  double l2 = 0.0;
  const T scale = T(1.0 / sw_sum);
  for (size_t l = 0; l < L; ++l) {
    const DenseParamsOf<T>& p = net.layers[l];
    const index_t n = p.fan_in * p.fan_out;
    l2 += sum_of_squares(p.w, n);
    for (index_t i = 0; i < n; ++i) grad_w[l][i] = (grad_w[l][i] + alpha * p.w[i]) * scale;
    for (index_t j = 0; j < p.fan_out; ++j) grad_b[l][j] *= scale;
  }
  return (loss_sum + 0.5 * alpha * l2) / sw_sum;
}

// The two element types.
#define NNFAST_MLP_INSTANCES(T)                                                              \
  template struct NetworkOf<T>;                                                              \
  template EpochResult train_epoch(const NetworkOf<T>&, const InputRows&, const T*, const T*, \
                                   const std::int64_t*, index_t, const TrainingOptionsOf<T>&, \
                                   const OptimizerStateOf<T>&, const StopRequested&);         \
  template double loss_and_gradient(const NetworkOf<T>&, const InputRows&, const T*,         \
                                    const T*, double, const std::vector<T*>&,                \
                                    const std::vector<T*>&);
NNFAST_MLP_INSTANCES(float)
NNFAST_MLP_INSTANCES(double)
#undef NNFAST_MLP_INSTANCES

}  // namespace nnfast
