// The pool behind Team. Scheduling: a stage's tiles are split into one share per thread
// (slot; Stage); each thread takes its own share from the front, then steals from the
// back of the others' shares. On a quiet machine every thread keeps to its own range, so
// the rows it gathered or computed in one stage are in its cache for the next (taking
// tiles from one shared counter instead cost 10% of a W1 step); on a busy one, the tiles
// of a thread that the OS has descheduled are done by the others.
//
// A range is one 64-bit word (front << 32 | back), so a claim is one compare-exchange and
// validates itself: a claim that succeeds takes a tile of the stage being run, even for a
// thread that last looked at an earlier stage. Memory order: the caller writes the stage
// and then its ranges (release); a successful claim (acquire) sees the stage and every
// result of the stages before it; the last tile's completion (release) hands the results
// to the caller, which publishes the next stage only then.
#include "thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "platform.hpp"
#include "threads.hpp"

namespace nnfast {

namespace {

// How long a waiting thread spins before it sleeps. On a quiet machine: about as long as
// the work it waits for has taken (the stage so far, or the last stage), within
// [kMinSpin, kMaxSpin], since a sleep costs more than such a wait (waking a thread takes
// tens of microseconds, more on a VM: with a fixed 50 us spin, W1 b=256 slept ~300 times
// an epoch). While the OS is preempting this process (Contention), kMinSpin: the thread
// waited for is then likely descheduled, and a spinning thread would keep its core from
// it (W1 b=256 with one core busy: 1.5x the quiet one-thread time with the long spins,
// 1.0x with short ones).
using Clock = std::chrono::steady_clock;
constexpr Clock::duration kMinSpin = std::chrono::microseconds(50);
constexpr Clock::duration kMaxSpin = std::chrono::milliseconds(1);

// Whether the OS has been preempting this process's threads: at least kSwitches
// involuntary context switches (getrusage) in a kWindow, sampled by the caller, and for
// kHold after (running on fewer threads, the process is preempted less: without the hold
// it would flip back every other window). W1 b=256 epochs of ~120 ms saw 0-2 such
// switches on the idle machine, 40-80 with one core busy; W1 b=64 epochs of ~400 ms on an
// idle but noisy VM 3-18, in isolated bursts (at 2 in one window its 42 MFLOP steps
// stepped down to one thread: 1.25x the epoch time), digits fits with one core busy 3-6
// per window, window after window. So: kSwitches in each of two windows in a row.
class Contention {
 public:
  static constexpr Clock::duration kWindow = std::chrono::milliseconds(20);
  static constexpr Clock::duration kHold = std::chrono::milliseconds(200);
  static constexpr long kSwitches = 3;
  Contention() : last_(Clock::now()) { switches_ = involuntary_context_switches(); }
  bool busy() const { return busy_.load(std::memory_order_relaxed); }
  void sample(Clock::time_point now) {  // the caller's only
    if (now - last_ < kWindow) return;
    const long switches = involuntary_context_switches();
    const bool preempted = switches - switches_ >= kSwitches;
    if (preempted && preempted_before_) busy_until_ = now + kHold;
    preempted_before_ = preempted;
    busy_.store(now < busy_until_, std::memory_order_relaxed);
    switches_ = switches;
    last_ = now;
  }
  Clock::duration spin_budget(Clock::duration work) const {
    return busy() ? kMinSpin : std::clamp(work, kMinSpin, kMaxSpin);
  }

 private:
  std::atomic<bool> busy_{false};
  Clock::time_point last_, busy_until_{};
  long switches_;
  bool preempted_before_ = false;  // the previous window saw kSwitches
};

// Spins until ready() or until `budget` has passed; returns ready().
template <class Ready>
bool spin_until(Ready&& ready, Clock::duration budget) {
  const auto start = Clock::now();
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 0 && Clock::now() - start > budget) return ready();
  }
}

// fork() copies only the calling thread: a pool made before it has no workers in the
// child. Each pool records the generation it was made in; a stale one is abandoned.
std::atomic<unsigned> g_fork_generation{0};

// Threads that running teams use, and how many teams run (for the budget); the same
// counts for this thread's teams alone.
std::atomic<int> g_threads_in_use{0};
std::atomic<int> g_teams{0};
thread_local int t_threads_in_use = 0;
thread_local int t_teams = 0;
thread_local bool t_inside_tile = false;

void count_threads(int delta) {
  g_threads_in_use.fetch_add(delta, std::memory_order_relaxed);
  t_threads_in_use += delta;
}

void abandon_pool_after_fork();  // below ThreadPool

void after_fork_in_child() {
  g_fork_generation.fetch_add(1);
  // Only this thread survives: only its teams still count, and its pool is left
  // untouched (not even destroyed at exit: its mutex may be held by a thread now gone).
  g_teams.store(t_teams);
  g_threads_in_use.store(t_threads_in_use);
  abandon_pool_after_fork();
}

struct ForkHook {
  ForkHook() { call_in_child_after_fork(after_fork_in_child); }
} g_fork_hook;

std::uint64_t range_word(std::uint32_t front, std::uint32_t back) {
  return (std::uint64_t(front) << 32) | back;
}

// What is left of one share of the current stage, [front, back), on its own cache line.
struct alignas(64) TileRange {
  std::atomic<std::uint64_t> word{0};

  bool take_front(std::uint32_t& tile) {
    std::uint64_t w = word.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t front = std::uint32_t(w >> 32), back = std::uint32_t(w);
      if (front >= back) return false;
      if (word.compare_exchange_weak(w, range_word(front + 1, back), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        tile = front;
        return true;
      }
    }
  }
  bool take_back(std::uint32_t& tile) {
    std::uint64_t w = word.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint32_t front = std::uint32_t(w >> 32), back = std::uint32_t(w);
      if (front >= back) return false;
      if (word.compare_exchange_weak(w, range_word(front, back - 1), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        tile = back - 1;
        return true;
      }
    }
  }
};

}  // namespace

bool inside_tile() { return t_inside_tile; }

// Shared by its owner (the thread that made it) and its workers, so that it outlives a
// worker that still runs after stop() (Windows, below).
class ThreadPool : public std::enable_shared_from_this<ThreadPool> {
 public:
  ThreadPool() : ranges_(new TileRange[kMaxThreads]), generation_(g_fork_generation.load()) {}

  // The owner's thread is ending: the workers leave their loops. POSIX: they are joined.
  // Windows runs a thread's thread_local destructors under the loader lock, which a
  // thread needs to exit, so joining there would deadlock: they are detached, before
  // they are told to stop (detaching one that is already exiting can wait on it too,
  // seen with MinGW's winpthreads), and whoever lets go last (a worker or the owner,
  // maybe under that lock) destroys the pool, so ~ThreadPool must never wait.
  void stop() {
#ifdef _WIN32
    for (auto& t : threads_) t.detach();
#endif
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    wake_workers_.notify_all();
#ifndef _WIN32
    for (auto& t : threads_) t.join();
#endif
  }

  bool stale() const { return generation_ != g_fork_generation.load(std::memory_order_relaxed); }
  bool contended() const { return contention_.busy(); }
  void sample_contention() { contention_.sample(Clock::now()); }  // the caller's only

  // Starts workers until there are at least `n`, as far as the system allows; returns
  // how many there are.
  int grow(int n) {
    while (int(threads_.size()) < n) {
      try {
        const int slot = int(threads_.size()) + 1;
        // The stage it starts after: a worker that read this only once it runs would miss
        // a stage published meanwhile (the others would do its share).
        const std::uint64_t seen = stage_seq_.load(std::memory_order_relaxed);
        threads_.emplace_back([self = shared_from_this(), slot, seen] { self->work(slot, seen); });
      } catch (...) {  // no more threads to be had: serve with those there are
        break;
      }
    }
    return int(threads_.size());
  }

  // Runs the stage on `threads` threads: the calling thread (slot 0) and workers 1...
  void run(const Stage& stage, int threads) {
    const std::uint32_t count = std::uint32_t(stage.tiles());
    remaining_.store(count, std::memory_order_relaxed);
    stage_.store(&stage, std::memory_order_relaxed);
    stage_threads_.store(threads, std::memory_order_relaxed);
    for (int s = 0; s < threads; ++s)
      ranges_[s].word.store(range_word(0, std::uint32_t(stage.share_size(s, threads))),
                            std::memory_order_release);
    const auto published = Clock::now();
    stage_seq_.fetch_add(1, std::memory_order_seq_cst);  // what idle workers watch
    if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_workers_.notify_all();
    }
    take_tiles(0, threads);
    // seq_cst: with the flag stored first, this load and the last tile's fetch_sub then
    // its load of the flag cannot both miss the other (a lost wake-up).
    auto done = [&] { return remaining_.load(std::memory_order_seq_cst) == 0; };
    if (!spin_until(done, contention_.spin_budget(Clock::now() - published))) {
      std::unique_lock<std::mutex> lock(mutex_);
      caller_sleeping_.store(true, std::memory_order_seq_cst);
      while (!done()) wake_caller_.wait(lock);
      caller_sleeping_.store(false, std::memory_order_relaxed);
    }
    last_stage_.store((Clock::now() - published).count(), std::memory_order_relaxed);
  }

 private:
  // Runs tiles of the current stage until none is left: its own share, then the others'.
  void take_tiles(int slot, int threads) {
    std::uint32_t k;
    while (ranges_[slot].take_front(k)) run_tile(slot, k, slot);
    for (int i = 1; i < threads; ++i) {
      const int victim = (slot + i) % threads;
      while (ranges_[victim].take_back(k)) run_tile(victim, k, slot);
    }
  }

  // Runs tile k of a share. Claimed: the stage cannot end before this tile does, so
  // stage_ and stage_threads_ are this stage's (for a thread that looked at an earlier
  // stage before its claim, too).
  void run_tile(int share, std::uint32_t k, int slot) {
    const bool outer = t_inside_tile;
    t_inside_tile = true;
    stage_.load(std::memory_order_relaxed)
        ->run_share_tile(share, stage_threads_.load(std::memory_order_relaxed), k, slot);
    t_inside_tile = outer;
    if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_caller_.notify_one();
    }
  }

  void work(int slot, std::uint64_t seen) {
    auto news = [&] {
      return stage_seq_.load(std::memory_order_seq_cst) != seen ||
             stop_.load(std::memory_order_relaxed);
    };
    bool needed = true;  // by the last stage: a worker it did not need sleeps at once
    for (;;) {
      // Until the next stage: the rest of this one and the caller's work in between.
      const Clock::duration last_stage(last_stage_.load(std::memory_order_relaxed));
      const Clock::duration budget =
          needed ? contention_.spin_budget(2 * last_stage) : Clock::duration::zero();
      if (!spin_until(news, budget)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
        while (!news()) wake_workers_.wait(lock);
        sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = stage_seq_.load(std::memory_order_acquire);
      // A worker the stage does not need (fewer threads, or a late look at an earlier
      // stage) takes nothing: its range is empty, and it steals only within the stage.
      const int threads = stage_threads_.load(std::memory_order_relaxed);
      needed = slot < threads;
      if (needed) take_tiles(slot, threads);
    }
  }

  std::unique_ptr<TileRange[]> ranges_;  // one per slot
  alignas(64) std::atomic<std::uint32_t> remaining_{0};  // tiles of the stage not yet done
  alignas(64) std::atomic<std::uint64_t> stage_seq_{0};
  std::atomic<const Stage*> stage_{nullptr};
  std::atomic<int> stage_threads_{0};
  std::atomic<int> sleeping_workers_{0};
  std::atomic<Clock::rep> last_stage_{0};  // how long the last stage took
  Contention contention_;
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_workers_, wake_caller_;
  std::vector<std::thread> threads_;
  unsigned generation_;
};

namespace {

// The calling thread's pool, stopped when the thread ends. A pool made before a fork is
// leaked in the child: its workers do not exist there, and its mutex may have been held
// by one of them.
struct PoolOwner {
  std::shared_ptr<ThreadPool> pool;
  ~PoolOwner() {
    if (pool) pool->stop();
  }
};
thread_local PoolOwner t_pool;

ThreadPool* pool_of_this_thread() {
  if (!t_pool.pool) {
    try {
      t_pool.pool = std::make_shared<ThreadPool>();
    } catch (...) {
      return nullptr;
    }
  }
  return t_pool.pool.get();
}

// Forgets the pool without releasing it: a fresh empty handle is built over the old one
// (no destructor run, no allocation in a fork handler).
void abandon_pool_after_fork() {
  ::new (static_cast<void*>(&t_pool.pool)) std::shared_ptr<ThreadPool>();
}

}  // namespace

Team::Team(int threads) {
  ++t_teams;
  g_teams.fetch_add(1, std::memory_order_relaxed);
  count_threads(1);
  if (threads <= 1 || t_inside_tile) return;  // nested in a tile: this thread alone
  pool_ = pool_of_this_thread();
  const int workers = std::min(threads, kMaxThreads) - 1;
  if (pool_) slots_ = 1 + std::min(workers, pool_->grow(workers));
}

Team::~Team() {
  --t_teams;
  g_teams.fetch_sub(1, std::memory_order_relaxed);
  count_threads(-counted_);
}

bool Team::contended() const { return pool_ && pool_->contended(); }

// This stage's threads: what the team may use, within its share of the process's
// budget while other teams run: the larger of an equal share and what the others leave.
int Team::threads_for_stage(int max_threads) {
  int want = std::min(slots_, max_threads);
  const int teams = g_teams.load(std::memory_order_relaxed);
  if (teams > 1 && want > 1) {
    const int budget = thread_budget();
    const int others = g_threads_in_use.load(std::memory_order_relaxed) - counted_;
    want = std::min(want, std::max({1, budget / teams, budget - others}));
  }
  if (want != counted_) {
    count_threads(want - counted_);
    counted_ = want;
  }
  return want;
}

void Team::run(const Stage& stage, int max_threads) {
  const index_t tiles = stage.tiles();
  if (tiles == 0) return;
  if (pool_) pool_->sample_contention();  // on every stage, run alone or not
  const int threads = pool_ && tiles > 1 && tiles < index_t(INT_MAX)
                          ? threads_for_stage(max_threads) : 1;
  if (threads <= 1 || pool_->stale()) {
    const bool outer = t_inside_tile;
    t_inside_tile = true;
    stage.run_all(0);
    t_inside_tile = outer;
    return;
  }
  pool_->run(stage, threads);
}

}  // namespace nnfast
