// The whole network: training epochs, the full-batch objective, prediction.
// Parameters and optimizer state are views of arrays the caller owns. Each is a template
// on the element type T of the parameters and the arithmetic (float, double; the names
// without "Of" are float's), defined in mlp.cpp and predict.cpp for both.
#pragma once
#include <cstdint>
#include <functional>
#include <type_traits>
#include <vector>

#include "activations.hpp"
#include "batch_norm.hpp"
#include "dropout.hpp"
#include "gemm.hpp"
#include "losses.hpp"
#include "sparse_input.hpp"

namespace nnfast {

template <class T>
struct DenseParamsOf {
  T* w;  // (fan_in, fan_out), row-major
  T* b;  // (fan_out,)
  index_t fan_in, fan_out;
  // Predict only, or null: z = (x W) * column_scale + b per unit, a batch-normalized layer
  // at inference (batch_norm.hpp) with its statistics folded into column_scale and b.
  const T* column_scale = nullptr;
};
using DenseParams = DenseParamsOf<float>;

template <class T>
struct NetworkOf {
  std::vector<DenseParamsOf<T>> layers;
  std::vector<Activation> hidden;  // one per hidden layer: layers.size() - 1
  Loss loss = Loss::squared_error;
  double loss_parameter = 0.0;  // huber's delta, quantile's q (losses.hpp)

  index_t n_inputs() const { return layers.front().fan_in; }
  index_t n_outputs() const { return layers.back().fan_out; }
  // The activation fused into layer l's forward store (the output layer's is the head's).
  Activation activation_of(size_t l) const {
    return l + 1 < layers.size() ? hidden[l] : Activation::identity;
  }
  index_t widest_output() const;  // the largest fan_out
  void check(const char* fn) const;  // layer sizes chain, activations count, loss parameter
};
using Network = NetworkOf<float>;

// Input rows, dense or CSR, converted to the network's element type as they are used: X is
// never copied whole. Dense: each row contiguous, rows `row_stride` elements apart,
// float32 or float64; the first layer multiplies gathered rows with the GEMM. CSR (is_csr()): `csr` describes X
// (data and row_stride unused); the first layer reads the nonzeros in place with the
// CSR kernels (sparse_input.hpp), which round as the GEMM does.
struct InputRows {
  const void* data;
  bool is_double;
  index_t rows, cols, row_stride;
  CsrMatrix csr = {};

  static InputRows from_csr(const CsrMatrix& x) {
    InputRows in{nullptr, x.data_is_double, x.rows, x.cols, 0};
    in.csr = x;
    return in;
  }
  bool is_csr() const { return csr.indptr != nullptr; }
  // Row i into dst, converted to T (dense only).
  template <class T>
  void copy_row(index_t i, T* dst) const {
    if (is_double) {
      const double* src = static_cast<const double*>(data) + i * row_stride;
      for (index_t j = 0; j < cols; ++j) dst[j] = T(src[j]);
    } else {
      // A loop, not memcpy: rows are often short (a call per row costs more than the copy).
      const float* src = static_cast<const float*>(data) + i * row_stride;
      for (index_t j = 0; j < cols; ++j) dst[j] = T(src[j]);
    }
  }
  // Whether the rows are already of type T (read in place, no conversion).
  template <class T>
  bool holds() const {
    return is_double == std::is_same_v<T, double>;
  }
  void prefetch_row(index_t i) const;  // dense only: a hint, no effect on results
};

struct OptimizerConfig {
  enum class Kind { adam, sgd };
  Kind kind = Kind::adam;
  double learning_rate = 1e-3;                         // adam: the base rate
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;   // adam (double: see AdamStep)
  double momentum = 0.0;                                // sgd (used in T)
  bool nesterov = false;
};

// One array per parameter in scikit-learn's order (coefs..., intercepts...), then, with
// batch norm, the normalized layers' scales..., shifts...:
// adam: first = m, second = v; sgd: first = velocities, second empty.
template <class T>
struct OptimizerStateOf {
  std::vector<T*> first, second;
  std::int64_t* step;  // adam's t, incremented per batch
};
using OptimizerState = OptimizerStateOf<float>;

// Called by the calling thread between batches; returning true stops the epoch there.
using StopRequested = std::function<bool()>;

struct EpochResult {
  double loss_sum = 0.0;  // sum over batches of batch_loss * sum(batch sample weights)
  index_t batches = 0;
  bool stopped = false;
  bool diverged = false;  // a batch's loss was not finite: the epoch ended before its update
};

// How an epoch trains: everything but the network, the data and the optimizer's state.
template <class T>
struct TrainingOptionsOf {
  index_t batch_size = 200;
  double alpha = 0.0001;  // L2 penalty, used as a T
  OptimizerConfig optimizer;
  DropoutConfig dropout;             // no rates: no dropout
  BatchNormConfigOf<T> batch_norm;   // no layers: no batch normalization
};
using TrainingOptions = TrainingOptionsOf<float>;

// One pass over X[order] in mini-batches, scikit-learn's update rule (see _core.pyi), with
// dropout on the hidden layers (dropout.hpp) when options.dropout has rates, and batch
// normalization (batch_norm.hpp) when options.batch_norm has layers. Y (n, n_outputs) and
// sample_weight (n,) (or null) of T. Throws std::invalid_argument on bad shapes, indices
// or rates, before anything is modified.
template <class T>
EpochResult train_epoch(const NetworkOf<T>& net, const InputRows& X, const T* Y,
                        const T* sample_weight, const std::int64_t* order, index_t n_order,
                        const TrainingOptionsOf<T>& options, const OptimizerStateOf<T>& state,
                        const StopRequested& stop = {});

// Full-batch objective sum(sw*loss)/sum(sw) + 0.5*alpha*sum(W^2)/sum(sw), and its gradient
// written to grad_w[l] / grad_b[l]. Fixed-size row chunks: thread-count independent.
template <class T>
double loss_and_gradient(const NetworkOf<T>& net, const InputRows& X, const T* Y,
                         const T* sample_weight, double alpha, const std::vector<T*>& grad_w,
                         const std::vector<T*>& grad_b);

// out (n, n_outputs) := f(network(X)), f the head's output activation.
// Returns false when X holds a NaN or an infinity (checked while each chunk is in cache;
// out is then meaningless): the caller reports it, since nothing may throw in a region.
template <class T>
bool predict(const NetworkOf<T>& net, const InputRows& X, MatrixViewOf<T> out);

// True when no element of x is NaN or infinite.
template <class T>
bool all_finite(const T* x, index_t n);

}  // namespace nnfast
