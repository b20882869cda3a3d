// Blocked, packed GEMM driver (BLIS's loop structure, our own micro-kernels):
//   C := alpha * A * B + beta * C, then an optional epilogue fused into the store.
// Transposes are strides: A^T is the same view with rs and cs swapped.
#pragma once
#include <utility>

#include "common.hpp"

namespace nnfast {

struct KernelTable;  // kernel_table.hpp

// Read-only strided matrix: element (i, j) at data[i * rs + j * cs].
struct ConstMatrixView {
  const float* data;
  index_t rows, cols, rs, cs;
  ConstMatrixView transposed() const { return {data, cols, rows, cs, rs}; }
};

// Writable row-major matrix with leading dimension ld.
struct MatrixView {
  float* data;
  index_t rows, cols, ld;
};

inline ConstMatrixView as_const(MatrixView m) { return {m.data, m.rows, m.cols, m.ld, 1}; }

// Work fused into the GEMM's store: called on each finished block of C (m x n at row i0,
// column j0, leading dimension ldc) right after its last K block, while it is in cache,
// with the kernel table the GEMM runs on. The driver knows nothing of what it does (the
// dense layer's bias + activation and activation gradient: dense.hpp). Its state is held
// by value, since a GemmTiles outlives the call that made it.
struct GemmEpilogue {
  using Fn = void (*)(const GemmEpilogue& self, const KernelTable& kernels, float* c,
                      index_t ldc, index_t i0, index_t j0, index_t m, index_t n);
  Fn fn = nullptr;  // null: no epilogue
  const float* data = nullptr;
  index_t ld = 0;
  int code = 0;
  const void* context = nullptr;  // state that outlives the GEMM (the caller's)
};

// Checks shapes (throws std::invalid_argument), then runs on get_num_threads() threads.
void gemm(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha, float beta,
          const GemmEpilogue& epilogue = {});

// One GEMM as the tiles of a stage (thread_pool.hpp): a grid of rectangles of C, fixed by
// the shape and the team size it is made for; any thread may compute any tile. The K
// dimension is never split, so C is bitwise the same for any grid and thread count.
// No check: callers check shapes first (check_gemm_shapes).
class GemmTiles {
 public:
  GemmTiles(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha, float beta,
            const GemmEpilogue& epilogue, int threads);
  // A grid of `groups` row groups of whole rows (the rows split as the grid for a team of
  // `groups` splits them), so that a caller may fuse row-wise work into each tile.
  static GemmTiles whole_rows(MatrixView c, ConstMatrixView a, ConstMatrixView b, float alpha,
                              float beta, const GemmEpilogue& epilogue, int groups);
  index_t count() const { return row_groups_ * panel_groups_; }
  void operator()(index_t tile, int slot) const;
  // The rows of C a tile of a whole_rows grid covers.
  std::pair<index_t, index_t> rows_of(index_t tile) const;

 private:
  MatrixView c_;
  ConstMatrixView a_, b_;
  float alpha_, beta_;
  GemmEpilogue epilogue_;
  const KernelTable* kernels_;  // the table the grid was made for (its MR x NR tiles)
  index_t row_groups_, panel_groups_;
};

// Shape check shared by every entry point that runs GemmTiles.
void check_gemm_shapes(const char* fn, MatrixView c, ConstMatrixView a, ConstMatrixView b);

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

}  // namespace nnfast
