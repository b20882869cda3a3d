// Blocked, packed GEMM driver (BLIS's loop structure, our own micro-kernels):
//   C := alpha * A * B + beta * C, then an optional epilogue fused into the store.
// Transposes are strides: A^T is the same view with rs and cs swapped.
// Every type is a template on the element type T (float: the names without "Of", as the
// training step uses them; double: nnfast.ops on float64 and the float64 estimators),
// defined in gemm.cpp for both.
#pragma once
#include <algorithm>
#include <memory>
#include <utility>

#include "common.hpp"
#include "platform.hpp"

namespace nnfast {

struct KernelTable;  // kernel_table.hpp

// Read-only strided matrix: element (i, j) at data[i * rs + j * cs].
template <class T>
struct ConstMatrixViewOf {
  const T* data;
  index_t rows, cols, rs, cs;
  ConstMatrixViewOf transposed() const { return {data, cols, rows, cs, rs}; }
};
using ConstMatrixView = ConstMatrixViewOf<float>;

// Writable row-major matrix with leading dimension ld.
template <class T>
struct MatrixViewOf {
  T* data;
  index_t rows, cols, ld;
};
using MatrixView = MatrixViewOf<float>;

template <class T>
ConstMatrixViewOf<T> as_const(MatrixViewOf<T> m) {
  return {m.data, m.rows, m.cols, m.ld, 1};
}

// Work fused into the GEMM's store: called on each finished block of C (m x n at row i0,
// column j0, leading dimension ldc) right after its last K block, while it is in cache,
// with the kernel table the GEMM runs on. The driver knows nothing of what it does (the
// dense layer's bias + activation and activation gradient: dense.hpp). Its state is held
// by value, since a GemmTiles outlives the call that made it.
template <class T>
struct GemmEpilogueOf {
  using Fn = void (*)(const GemmEpilogueOf& self, const KernelTable& kernels, T* c,
                      index_t ldc, index_t i0, index_t j0, index_t m, index_t n);
  Fn fn = nullptr;  // null: no epilogue
  const T* data = nullptr;
  index_t ld = 0;
  int code = 0;
  T* out = nullptr;  // a second output the epilogue may write (the pre-activation)
  index_t ld_out = 0;
  const void* context = nullptr;  // state that outlives the GEMM (the caller's)
  const T* scale = nullptr;       // a per-column factor the epilogue may apply
};
using GemmEpilogue = GemmEpilogueOf<float>;

// A copy of B (k x n) laid out as the driver packs it for the active table's micro-kernel:
// for each K block of kc rows (the last may be shorter), the ceil(n / NR) micro-panels of NR
// columns, each kc x NR row-major, the columns past n zero. A GEMM handed such a copy of
// its B packs nothing, and all its threads read the one copy: predict packs each large W
// once per call instead of once per 128-row chunk (W3: 0.88-0.91x the time). The
// micro-kernel reads the same values in the same order as from a copy of its own: results
// are bitwise the same. (A copy kept by the training step, written by the optimizer's
// update, measured no faster than packing W at each forward: 1.00-1.07x W1 b=64.)
template <class T>
class PackedBOf {
 public:
  PackedBOf() = default;
  // Laid out for B of k x n under the active table and blocking; all of b packed.
  explicit PackedBOf(ConstMatrixViewOf<T> b);
  // Rows [r0, r1) and columns [c0, c1) of b (the matrix it was made from) copied in again.
  void pack(ConstMatrixViewOf<T> b, index_t r0, index_t r1, index_t c0, index_t c1);
  // The micro-panel of columns [panel * NR, panel * NR + NR) of the K block at row pc.
  const T* panel(index_t pc, index_t panel) const { return data_.get() + offset(pc, panel); }
  // Whether a copy of b is worth keeping: false for a B the driver reads in place anyway
  // (a small network's weights, GemmBlocking::in_place_b_bytes).
  static bool worth_keeping(ConstMatrixViewOf<T> b);
  // True when it holds a k x n B for the table and blocking a GEMM runs with now.
  bool fits(index_t k, index_t n, index_t kc, index_t nr) const {
    return data_ && k == k_ && n == n_ && kc == kc_ && nr == nr_;
  }

 private:
  index_t offset(index_t pc, index_t panel) const {
    return pc * panels_ * nr_ + panel * std::min(kc_, k_ - pc) * nr_;
  }
  std::unique_ptr<T, AlignedFree> data_;
  index_t k_ = 0, n_ = 0, kc_ = 0, nr_ = 0, panels_ = 0;
};
using PackedB = PackedBOf<float>;

// Checks shapes (throws std::invalid_argument), then runs on get_num_threads() threads.
template <class T>
void gemm(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b, T alpha, T beta,
          const GemmEpilogueOf<T>& epilogue = {});

// One GEMM as the tiles of a stage (thread_pool.hpp): a grid of rectangles of C, fixed by
// the shape and the team size it is made for; any thread may compute any tile. The K
// dimension is never split, so C is bitwise the same for any grid and thread count.
// No check: callers check shapes first (check_gemm_shapes).
template <class T>
class GemmTilesOf {
 public:
  // packed_b: a copy of b to read instead of packing it (used when it fits this GEMM).
  GemmTilesOf(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b, T alpha,
              T beta, const GemmEpilogueOf<T>& epilogue, int threads,
              const PackedBOf<T>* packed_b = nullptr);
  // A grid of `groups` row groups of whole rows (the rows split as the grid for a team of
  // `groups` splits them), so that a caller may fuse row-wise work into each tile.
  static GemmTilesOf whole_rows(MatrixViewOf<T> c, ConstMatrixViewOf<T> a,
                                ConstMatrixViewOf<T> b, T alpha, T beta,
                                const GemmEpilogueOf<T>& epilogue, int groups,
                                const PackedBOf<T>* packed_b = nullptr);
  index_t count() const { return row_groups_ * panel_groups_; }
  void operator()(index_t tile, int slot) const;
  // The rows of C a tile of a whole_rows grid covers.
  std::pair<index_t, index_t> rows_of(index_t tile) const;

 private:
  MatrixViewOf<T> c_;
  ConstMatrixViewOf<T> a_, b_;
  T alpha_, beta_;
  GemmEpilogueOf<T> epilogue_;
  const KernelTable* kernels_;  // the table the grid was made for (its MR x NR tiles)
  const PackedBOf<T>* packed_b_;  // null unless it fits
  index_t row_groups_, panel_groups_;
};
using GemmTiles = GemmTilesOf<float>;

// Shape check shared by every entry point that runs GemmTiles.
template <class T>
void check_gemm_shapes(const char* fn, MatrixViewOf<T> c, ConstMatrixViewOf<T> a,
                       ConstMatrixViewOf<T> b);

// Cache blocking. Tests shrink it so that small matrices walk every packing path.
struct GemmBlocking {
  index_t kc = 256;  // K block: a 16-column B micro-panel of kc rows is 16 KiB (L1)
  index_t mc = 144;  // rows of A per block (L2); larger A blocks are packed
  // A thread with fewer rows reads row-major B in place instead of packing it. Packing
  // pays from a few strips on (interleaved medians on the reference machine, 2 threads:
  // packed vs in place, fwd 64x128x784 133 vs 124 GF/s, dW 784x128x64 137 vs 118, dX equal).
  index_t small_m = 24;
  // B no larger than this is read in place for any number of rows: a small network's
  // weights stay in L1 (half of it), and packing them at every step cost W6 3-8%.
  index_t in_place_b_bytes = 16 * 1024;
};
GemmBlocking gemm_blocking();
void set_gemm_blocking(GemmBlocking blocking);

// Tests only: a tile's packing buffer larger than `bytes` fails as if out of memory, so
// the tile runs by plain loops. std::numeric_limits<index_t>::max() restores.
void set_scratch_limit_for_testing(index_t bytes);

}  // namespace nnfast
