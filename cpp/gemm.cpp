// GEMM driver: loops, packing, the tile grid and the fused epilogue.
// Per tile:  for each K block (kc):  pack its B panels;  for each MC block of its rows:
//   [pack A];  for each B micro-panel (stays in L1):  for each MR strip:  micro-kernel.
#include "gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#include "gemm_kernel.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"

namespace nnfast {

namespace {

GemmBlocking g_blocking;

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// The largest packing buffer a tile may allocate (set_scratch_limit_for_testing).
std::atomic<index_t> g_scratch_limit{std::numeric_limits<index_t>::max()};

// A per-thread scratch buffer, 64-byte aligned, that only ever grows (no allocation
// once it has reached the working size). (In bytes: float and double GEMMs share it.)
// Null when out of memory: it is filled inside a tile, where nothing may throw, and the
// tile then runs without it (gemm_rect_unbuffered).
struct ScratchBuffer {
  std::unique_ptr<void, AlignedFree> data;
  index_t capacity = 0;  // bytes
  template <class T>
  T* get(index_t n) {
    const index_t bytes = ((n * index_t(sizeof(T)) + 63) / 64) * 64;
    if (bytes > g_scratch_limit.load(std::memory_order_relaxed)) return nullptr;
    if (bytes > capacity) {
      void* grown = aligned_allocate(64, size_t(bytes));
      if (!grown) return nullptr;
      data.reset(grown);
      capacity = bytes;
    }
    return static_cast<T*>(data.get());
  }
};
thread_local ScratchBuffer t_pack_a, t_pack_b;

// Packs B[0:k, j0:j0+NR] (strided) into a k x NR micro-panel, zero-padding columns >= n.
template <index_t NR, class T>
void pack_b_panel(T* dst, ConstMatrixViewOf<T> b, index_t p0, index_t k, index_t j0) {
  const index_t n = std::min(NR, b.cols - j0);
  for (index_t p = 0; p < k; ++p) {
    const T* src = b.data + (p0 + p) * b.rs + j0 * b.cs;
    T* d = dst + p * NR;
    if (b.cs == 1) {
      for (index_t j = 0; j < n; ++j) d[j] = src[j];
    } else {
      for (index_t j = 0; j < n; ++j) d[j] = src[j * b.cs];
    }
    for (index_t j = n; j < NR; ++j) d[j] = T(0);
  }
}

// Packs A[i0:i0+m, p0:p0+k] into MR-row strips, each k-major (rs = 1, cs = MR).
template <index_t MR, class T>
void pack_a_block(T* dst, ConstMatrixViewOf<T> a, index_t i0, index_t m, index_t p0, index_t k) {
  for (index_t s = 0; s < m; s += MR) {
    const index_t rows = std::min(MR, m - s);
    T* d = dst + s * k;
    for (index_t p = 0; p < k; ++p) {
      for (index_t i = 0; i < rows; ++i) d[p * MR + i] = a.data[(i0 + s + i) * a.rs + (p0 + p) * a.cs];
      for (index_t i = rows; i < MR; ++i) d[p * MR + i] = T(0);
    }
  }
}

// C = beta * C (k == 0: the product is empty), then the epilogue.
template <class T>
void scale_only(MatrixViewOf<T> c, T beta, const GemmEpilogueOf<T>& ep, index_t r0, index_t r1,
                index_t j0, index_t j1, const KernelTable& kernels) {
  for (index_t i = r0; i < r1; ++i) {
    T* row = c.data + i * c.ld;
    for (index_t j = j0; j < j1; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
  }
  if (ep.fn) ep.fn(ep, kernels, c.data + r0 * c.ld + j0, c.ld, r0, j0, r1 - r0, j1 - j0);
}

// C = alpha A B + beta C, then the epilogue, by plain loops over A and B where they lie:
// a tile's fallback when its packing buffer cannot be allocated. Correct, slower, and
// rounded differently from the micro-kernels (a sum in T, in order of k).
template <class T>
void gemm_rect_unbuffered(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b,
                          T alpha, T beta, const GemmEpilogueOf<T>& ep, index_t r0, index_t r1,
                          index_t j0, index_t j1, const KernelTable& kernels) {
  for (index_t i = r0; i < r1; ++i) {
    T* row = c.data + i * c.ld;
    for (index_t j = j0; j < j1; ++j) {
      T sum = 0;
      for (index_t p = 0; p < a.cols; ++p)
        sum += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
      row[j] = alpha * sum + (beta == T(0) ? T(0) : beta * row[j]);
    }
  }
  if (ep.fn) ep.fn(ep, kernels, c.data + r0 * c.ld + j0, c.ld, r0, j0, r1 - r0, j1 - j0);
}

// A tile: a contiguous range of MR strips and of NR panels of C.
struct TileRect {
  index_t r0, r1, j0, j1;
};

// The blocking for a table's micro-kernel: MC in whole strips of its MR rows (so the
// tile grid stays fixed).
GemmBlocking blocking_for(const KernelTable& kt) {
  GemmBlocking blk = g_blocking;
  blk.mc = ceil_div(blk.mc, kt.f32.gemm_mr) * kt.f32.gemm_mr;  // MR: the same for both types
  return blk;
}

// Which rows are packed / read in place, from the rows of a tile.
bool packs_a(index_t rows, const GemmBlocking& blk) { return rows > blk.mc; }
// B is read in place when packing would not pay: for few rows (each panel is used by few
// strips), or when all of B is small (see GemmBlocking). A B panel read in place walks
// k rows b.rs apart. A stride that is a multiple of 2 KiB maps them all to a few cache
// sets (measured: 1024^3 with B in place 35 GF/s, packed 69), so such B is always packed.
template <class T>
bool reads_b_in_place(index_t rows, const ConstMatrixViewOf<T>& b) {
  const bool aliasing_stride = (b.rs * index_t(sizeof(T))) % 2048 == 0;
  const bool small_b = b.rows * b.rs * index_t(sizeof(T)) <= g_blocking.in_place_b_bytes;
  return b.cs == 1 && (rows < g_blocking.small_m || small_b) && !aliasing_stride;
}

// The tile grid (tm row groups x tn panel groups) for a team of `threads`: fewest tiles
// on the busiest thread, then least packing. In cycles per k step: a 6x16 tile is ~6
// cycles of FMAs, packing one element ~1. (Splitting panels alone would make every
// thread pack all of a big A.)
template <class T>
std::pair<index_t, index_t> tile_grid(index_t m, index_t n, const ConstMatrixViewOf<T>& b,
                                      bool b_packed, int threads, const KernelTable& kt) {
  const index_t MR = kt.of<T>().gemm_mr, NR = kt.of<T>().gemm_nr;
  const GemmBlocking blk = blocking_for(kt);
  const index_t panels = ceil_div(n, NR), strips = ceil_div(m, MR);
  std::pair<index_t, index_t> best{1, 1};
  index_t best_cost = -1;
  for (index_t tn = 1; tn <= std::min<index_t>(threads, panels); ++tn) {
    const index_t tm = std::min<index_t>(threads / tn, strips);
    const index_t rows = ceil_div(strips, tm) * MR, cols = ceil_div(panels, tn) * NR;
    const index_t tiles = ceil_div(strips, tm) * ceil_div(panels, tn);
    const index_t cost = 6 * tiles + (packs_a(rows, blk) ? rows : 0) +
                         (b_packed || reads_b_in_place(rows, b) ? 0 : cols);
    if (best_cost < 0 || cost < best_cost) best = {tm, tn}, best_cost = cost;
  }
  return best;
}

// Tile (ti, tj) of a tm x tn grid over C (m x n).
template <class T>
TileRect tile_rect(index_t m, index_t n, index_t tm, index_t tn, index_t ti, index_t tj,
                   const KernelTable& kt) {
  const index_t MR = kt.of<T>().gemm_mr, NR = kt.of<T>().gemm_nr;
  const index_t panels = ceil_div(n, NR), strips = ceil_div(m, MR);
  auto split = [](index_t total, index_t parts, index_t idx) {
    return std::pair<index_t, index_t>(total * idx / parts, total * (idx + 1) / parts);
  };
  const auto [p0, p1] = split(panels, tn, tj);
  const auto [s0, s1] = split(strips, tm, ti);
  return {s0 * MR, std::min(m, s1 * MR), p0 * NR, std::min(n, p1 * NR)};
}

// C := alpha * A * B + beta * C and the epilogue, over the rectangle sh of C only, for a
// micro-kernel of MR x NR (compile-time: packing with a runtime shape measured 3-25%
// slower; gemm_rect below instantiates each table's shape).
template <index_t MR, index_t NR, class T>
void gemm_rect_for(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b,
                   const PackedBOf<T>* packed_b, T alpha, T beta, const GemmEpilogueOf<T>& ep,
                   const TileRect& sh, const KernelTable& kernels) {
  const index_t k = a.cols;
  if (sh.r0 >= sh.r1 || sh.j0 >= sh.j1) return;
  if (k == 0) return scale_only(c, beta, ep, sh.r0, sh.r1, sh.j0, sh.j1, kernels);

  const GemmMicroKernelOf<T> kernel = kernels.of<T>().gemm_kernel;
  const GemmRowKernelOf<T> row_kernel = kernels.of<T>().gemm_row_kernel;
  const index_t row_nr = kernels.of<T>().gemm_row_nr, kRowPanels = row_nr / NR;
  const GemmBlocking blk = blocking_for(kernels);
  const index_t rows = sh.r1 - sh.r0, panels = ceil_div(sh.j1 - sh.j0, NR);
  // Packing B pays only when a panel is reused by several strips and B is not tiny: a few
  // rows (inference, small batches) or a small B are read in place (reads_b_in_place).
  // A big A is packed per block (contiguous, L2). A packed copy of B handed in is read
  // as it is.
  const bool b_in_place = !packed_b && reads_b_in_place(rows, b);
  T* bbuf = packed_b ? nullptr
                     : t_pack_b.get<T>(std::min(blk.kc, k) * NR * (b_in_place ? 1 : panels));
  if (!packed_b && !bbuf)  // out of memory
    return gemm_rect_unbuffered(c, a, b, alpha, beta, ep, sh.r0, sh.r1, sh.j0, sh.j1, kernels);
  T* abuf = packs_a(rows, blk) ? t_pack_a.get<T>(std::min(blk.kc, k) * blk.mc) : nullptr;
  const bool pack_a = abuf != nullptr;  // else A is read in place (also when out of memory)

  for (index_t pc = 0; pc < k; pc += blk.kc) {
    const index_t kc = std::min(blk.kc, k - pc);
    const T beta_k = pc == 0 ? beta : T(1);
    const bool last_k = pc + kc == k;
    // B micro-panel q: where it lies (full panel, row-major B) or packed.
    auto panel = [&](index_t q, index_t& ldb) -> const T* {
      const index_t j = sh.j0 + q * NR;
      if (packed_b) {
        ldb = NR;
        return packed_b->panel(pc, j / NR);
      }
      if (b_in_place && j + NR <= b.cols) {
        ldb = b.rs;
        return b.data + pc * b.rs + j;
      }
      ldb = NR;
      return bbuf + (b_in_place ? 0 : q * kc * NR);
    };
    if (!b_in_place && !packed_b)
      for (index_t q = 0; q < panels; ++q) pack_b_panel<NR>(bbuf + q * kc * NR, b, pc, kc, sh.j0 + q * NR);

    for (index_t ic = sh.r0; ic < sh.r1; ic += blk.mc) {
      const index_t mc = std::min(blk.mc, sh.r1 - ic);
      if (pack_a) pack_a_block<MR>(abuf, a, ic, mc, pc, kc);
      for (index_t q = 0; q < panels; ++q) {
        const index_t j = sh.j0 + q * NR, nr = std::min(NR, sh.j1 - j);
        // One row (single-sample inference): 64 columns per call, 8 FMA chains.
        if (mc == 1 && b_in_place && j + row_nr <= sh.j1 && q + kRowPanels <= panels) {
          T* ct = c.data + ic * c.ld + j;
          row_kernel(kc, a.data + ic * a.rs + pc * a.cs, a.cs, b.data + pc * b.rs + j, b.rs, ct,
                     alpha, beta_k);
          q += kRowPanels - 1;
          continue;
        }
        if (b_in_place && j + NR > b.cols) pack_b_panel<NR>(bbuf, b, pc, kc, j);  // ragged edge
        index_t ldb;
        const T* bp = panel(q, ldb);
        for (index_t ir = 0; ir < mc; ir += MR) {
          const index_t mr = std::min(MR, mc - ir), i = ic + ir;
          T* ct = c.data + i * c.ld + j;
          if (pack_a) {
            kernel(kc, abuf + ir * kc, 1, MR, bp, ldb, ct, c.ld, alpha, beta_k, mr, nr);
          } else {
            kernel(kc, a.data + i * a.rs + pc * a.cs, a.rs, a.cs, bp, ldb, ct, c.ld, alpha, beta_k, mr, nr);
          }
        }
      }
      // The epilogue once per MC block, over the tile's columns, while the block is
      // in cache: per 6x16 tile its fixed cost outweighed the work (W6: 13% -> 7% of a step).
      if (last_k && ep.fn)
        ep.fn(ep, kernels, c.data + ic * c.ld + sh.j0, c.ld, ic, sh.j0, mc, sh.j1 - sh.j0);
    }
  }
}

// The driver instantiated for a table's tile shape (one line per shape of the kernel
// tables, kernel_table.cpp; the float64 tile has half the float32 tile's columns), or null.
template <class T>
using GemmRect = void (*)(MatrixViewOf<T>, ConstMatrixViewOf<T>, ConstMatrixViewOf<T>,
                          const PackedBOf<T>*, T, T, const GemmEpilogueOf<T>&, const TileRect&,
                          const KernelTable&);
template <class T>
GemmRect<T> gemm_rect_of(const KernelTable& kt) {
  const index_t mr = kt.f32.gemm_mr, nr = kt.f32.gemm_nr;  // the float32 tile names the shape
  constexpr index_t per_float = index_t(sizeof(T) / sizeof(float));
  if (mr == 6 && nr == 16) return gemm_rect_for<6, 16 / per_float, T>;
  if (mr == 12 && nr == 32) return gemm_rect_for<12, 32 / per_float, T>;
  return nullptr;
}

// Checked once per grid, by GemmTiles' constructor on the calling thread (never inside a
// tile, where an exception could not be thrown).
template <class T>
void gemm_rect(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b,
               const PackedBOf<T>* packed_b, T alpha, T beta, const GemmEpilogueOf<T>& ep,
               const TileRect& sh, const KernelTable& kernels) {
  gemm_rect_of<T>(kernels)(c, a, b, packed_b, alpha, beta, ep, sh, kernels);
}

}  // namespace

template <class T>
PackedBOf<T>::PackedBOf(ConstMatrixViewOf<T> b) {
  const KernelTable& kt = active_kernels();
  k_ = b.rows, n_ = b.cols, kc_ = blocking_for(kt).kc, nr_ = kt.of<T>().gemm_nr;
  panels_ = ceil_div(n_, nr_);
  const index_t bytes = ((k_ * panels_ * nr_ * index_t(sizeof(T)) + 63) / 64) * 64;
  data_.reset(static_cast<T*>(aligned_allocate(64, size_t(std::max<index_t>(bytes, 64)))));
  if (!data_) throw std::bad_alloc();
  std::memset(data_.get(), 0, size_t(bytes));  // the padding columns stay zero
  pack(b, 0, k_, 0, n_);
}

template <class T>
bool PackedBOf<T>::worth_keeping(ConstMatrixViewOf<T> b) {
  return b.rows * b.cols * index_t(sizeof(T)) > g_blocking.in_place_b_bytes;
}

template <class T>
void PackedBOf<T>::pack(ConstMatrixViewOf<T> b, index_t r0, index_t r1, index_t c0, index_t c1) {
  for (index_t p = r0; p < r1; ++p) {
    const index_t pc = p - p % kc_;
    for (index_t j = c0; j < c1;) {
      const index_t q = j / nr_, end = std::min(c1, q * nr_ + nr_);
      T* __restrict dst = data_.get() + offset(pc, q) + (p - pc) * nr_ + (j - q * nr_);
      const T* __restrict src = b.data + p * b.rs + j * b.cs;
      const index_t len = end - j;
      j = end;
      if (b.cs != 1) {
        for (index_t t = 0; t < len; ++t) dst[t] = src[t * b.cs];
      } else if (len == 16) {  // a whole panel of the AVX2 table: a fixed-size copy
        for (index_t t = 0; t < 16; ++t) dst[t] = src[t];
      } else {
        for (index_t t = 0; t < len; ++t) dst[t] = src[t];
      }
    }
  }
}
GemmBlocking gemm_blocking() { return g_blocking; }

void set_scratch_limit_for_testing(index_t bytes) {
  g_scratch_limit.store(bytes, std::memory_order_relaxed);
}

void set_gemm_blocking(GemmBlocking blocking) {
  NNFAST_CHECK(blocking.kc >= 1 && blocking.mc >= 1 && blocking.small_m >= 0 &&
                   blocking.in_place_b_bytes >= 0,
               "set_gemm_blocking",
               "kc and mc must be >= 1, small_m and in_place_b_bytes >= 0, got kc=", blocking.kc,
               " mc=", blocking.mc, " small_m=", blocking.small_m, " in_place_b_bytes=",
               blocking.in_place_b_bytes);
  g_blocking = blocking;
}

template <class T>
void check_gemm_shapes(const char* fn, MatrixViewOf<T> c, ConstMatrixViewOf<T> a,
                       ConstMatrixViewOf<T> b) {
  NNFAST_CHECK(a.cols == b.rows, fn, "inner dimensions differ: a is ", a.rows, "x", a.cols,
               ", b is ", b.rows, "x", b.cols);
  NNFAST_CHECK(c.rows == a.rows && c.cols == b.cols, fn, "out is ", c.rows, "x", c.cols,
               ", expected ", a.rows, "x", b.cols);
  NNFAST_CHECK(a.rows >= 0 && b.cols >= 0 && a.cols >= 0, fn, "negative dimension");
}

template <class T>
GemmTilesOf<T>::GemmTilesOf(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b,
                            T alpha, T beta, const GemmEpilogueOf<T>& epilogue, int threads,
                            const PackedBOf<T>* packed_b)
    : c_(c), a_(a), b_(b), alpha_(alpha), beta_(beta), epilogue_(epilogue),
      kernels_(&active_kernels()), packed_b_(nullptr) {
  const ElementKernels<T>& k = kernels_->of<T>();
  NNFAST_CHECK(gemm_rect_of<T>(*kernels_) != nullptr, "gemm", "no GEMM driver for the ",
               k.gemm_mr, "x", k.gemm_nr, " micro-kernel of '", kernels_->name,
               "': add its instantiation to gemm_rect_of");
  if (packed_b && packed_b->fits(b.rows, b.cols, blocking_for(*kernels_).kc, k.gemm_nr))
    packed_b_ = packed_b;
  const bool empty = c.rows == 0 || c.cols == 0;
  const auto [tm, tn] = empty ? std::pair<index_t, index_t>{0, 0}
                              : tile_grid(c.rows, c.cols, b, packed_b_ != nullptr,
                                          std::max(threads, 1), *kernels_);
  row_groups_ = tm;
  panel_groups_ = tn;
}

template <class T>
GemmTilesOf<T> GemmTilesOf<T>::whole_rows(MatrixViewOf<T> c, ConstMatrixViewOf<T> a,
                                          ConstMatrixViewOf<T> b, T alpha, T beta,
                                          const GemmEpilogueOf<T>& epilogue, int groups,
                                          const PackedBOf<T>* packed_b) {
  GemmTilesOf tiles(c, a, b, alpha, beta, epilogue, 1, packed_b);
  if (tiles.count() > 0)
    tiles.row_groups_ = std::min<index_t>(
        std::max(groups, 1), ceil_div(c.rows, tiles.kernels_->template of<T>().gemm_mr));
  return tiles;
}

template <class T>
std::pair<index_t, index_t> GemmTilesOf<T>::rows_of(index_t tile) const {
  const TileRect rect = tile_rect<T>(c_.rows, c_.cols, row_groups_, panel_groups_,
                                     tile / panel_groups_, tile % panel_groups_, *kernels_);
  return {rect.r0, rect.r1};
}

template <class T>
void GemmTilesOf<T>::operator()(index_t tile, int) const {
  const TileRect rect = tile_rect<T>(c_.rows, c_.cols, row_groups_, panel_groups_,
                                     tile / panel_groups_, tile % panel_groups_, *kernels_);
  gemm_rect(c_, a_, b_, packed_b_, alpha_, beta_, epilogue_, rect, *kernels_);
}

template <class T>
void gemm(MatrixViewOf<T> c, ConstMatrixViewOf<T> a, ConstMatrixViewOf<T> b, T alpha, T beta,
          const GemmEpilogueOf<T>& ep) {
  check_gemm_shapes("gemm", c, a, b);
  const double flops = 2.0 * double(c.rows) * double(c.cols) * double(a.cols);
  Team team(flops < 2e5 ? 1 : get_num_threads());  // tiny: waking a thread costs more
  GemmTilesOf<T> tiles(c, a, b, alpha, beta, ep, team.slots());
  team.run(tiles.count(), tiles);
}

// The two element types.
#define NNFAST_GEMM_INSTANCES(T)                                                             \
  template class PackedBOf<T>;                                                               \
  template class GemmTilesOf<T>;                                                             \
  template void gemm(MatrixViewOf<T>, ConstMatrixViewOf<T>, ConstMatrixViewOf<T>, T, T,      \
                     const GemmEpilogueOf<T>&);                                              \
  template void check_gemm_shapes(const char*, MatrixViewOf<T>, ConstMatrixViewOf<T>,        \
                                  ConstMatrixViewOf<T>);
NNFAST_GEMM_INSTANCES(float)
NNFAST_GEMM_INSTANCES(double)
#undef NNFAST_GEMM_INSTANCES

}  // namespace nnfast
