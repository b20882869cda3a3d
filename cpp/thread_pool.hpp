// The thread runtime: a Team (the calling thread plus workers of that thread's own pool)
// runs Stages. A stage is a fixed grid of tiles, fixed by the shapes and the team's size,
// never by which threads run it. Each thread starts on its own share of the tiles, then
// takes tiles from the back of the others' shares, so a thread the OS has descheduled
// leaves its tiles to the others instead of holding them up; a tile's result does not
// depend on the thread that computed it. A stage ends when its
// last tile is done, not when every thread has arrived: a late thread skips what is done.
// Waiting threads spin briefly, then sleep.
//
// Why not OpenMP's parallel regions: a region's join waits for every thread to arrive,
// a barrier spins for ~GOMP_SPINCOUNT pauses (milliseconds on Intel), and a forked child
// that enters a region hangs. OpenMP still sets the thread count (threads.hpp).
#pragma once
#include "common.hpp"

namespace nnfast {

// A tile's body, fn(tile, slot), referenced without allocating (the callable must outlive
// the stage run). slot < Team::slots() names the thread running the tile, for per-thread
// scratch: it must never change what the tile computes.
class TileFunction {
 public:
  TileFunction() = default;
  template <class F>
  explicit TileFunction(F& fn)
      : object_(&fn), call_([](void* f, index_t tile, int slot) { (*static_cast<F*>(f))(tile, slot); }) {}
  void operator()(index_t tile, int slot) const { call_(object_, tile, slot); }

 private:
  void* object_ = nullptr;
  void (*call_)(void*, index_t, int) = nullptr;
};

// The tiles of one stage: up to kMaxParts independent parts. Run by `threads` threads,
// the stage is cut into that many shares: share s holds, of each part in order, the s-th
// of `threads` contiguous ranges of its tiles (the static split a thread starts with).
class Stage {
 public:
  static constexpr int kMaxParts = 16;
  // fn(tile, slot) for tile in [0, tiles). fn is referenced, so it must be an lvalue that
  // lives until the stage has run.
  template <class F>
  Stage& add(index_t tiles, F& fn) {
    NNFAST_CHECK(parts_ < kMaxParts, "Stage::add", "more than ", kMaxParts, " parts");
    if (tiles > 0) part_[parts_++] = {tiles, TileFunction(fn)};
    total_ += tiles > 0 ? tiles : 0;
    return *this;
  }
  index_t tiles() const { return total_; }
  bool has_room(int parts) const { return parts_ + parts <= kMaxParts; }
  // Every tile, part by part, on the calling thread.
  void run_all(int slot) const {
    for (int p = 0; p < parts_; ++p)
      for (index_t t = 0; t < part_[p].tiles; ++t) part_[p].fn(t, slot);
  }
  index_t share_size(int share, int threads) const {
    index_t n = 0;
    for (int p = 0; p < parts_; ++p) n += cut(p, share + 1, threads) - cut(p, share, threads);
    return n;
  }
  // Tile k of the share.
  void run_share_tile(int share, int threads, index_t k, int slot) const {
    for (int p = 0;; ++p) {
      const index_t first = cut(p, share, threads), n = cut(p, share + 1, threads) - first;
      if (k < n) return part_[p].fn(first + k, slot);
      k -= n;
    }
  }

 private:
  index_t cut(int part, int share, int threads) const {
    return part_[part].tiles * share / threads;
  }
  struct Part {
    index_t tiles;
    TileFunction fn;
  };
  Part part_[kMaxParts];
  int parts_ = 0;
  index_t total_ = 0;
};

class ThreadPool;

// Runs stages on up to `threads` threads: the calling thread (slot 0) and workers of the
// calling thread's own pool, created on first use and kept for the thread's lifetime.
// While teams of several Python threads run at once, each stage takes no more than its
// share of the process's thread budget (threads.hpp), so nested use does not oversubscribe.
// Construct before any parallel work (it may allocate; nothing here throws afterwards).
class Team {
 public:
  explicit Team(int threads);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  // The most threads that may run tiles of one stage; size per-thread scratch with it.
  int slots() const { return slots_; }
  // True while the OS keeps preempting this process's threads (other processes want the
  // cores): a caller may then run small stages on fewer threads. Results do not change.
  bool contended() const;
  // Runs every tile of the stage, on at most max_threads threads; returns when all are
  // done. Never throws: the tiles must not throw either.
  void run(const Stage& stage, int max_threads = 1 << 30);
  template <class F>
  void run(index_t tiles, F&& fn, int max_threads = 1 << 30) {
    Stage stage;
    stage.add(tiles, fn);
    run(stage, max_threads);
  }

 private:
  int threads_for_stage(int max_threads);

  ThreadPool* pool_ = nullptr;  // null: every stage runs on the calling thread
  int slots_ = 1;
  int counted_ = 1;  // threads this team currently counts in the process's use
};

// True on a thread that is running a tile (nested calls then run on that thread alone).
bool inside_tile();

}  // namespace nnfast
