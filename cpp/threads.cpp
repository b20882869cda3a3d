#include "threads.hpp"

#include <omp.h>
#include <pthread.h>

#include <atomic>

#include "common.hpp"

namespace nnfast {

namespace {
std::atomic<int> g_threads{0};  // 0 = not chosen yet

// libgomp's pool does not survive fork(): a child that enters a parallel region
// can hang. After a fork the child runs single-threaded unless told otherwise.
void after_fork_in_child() { g_threads.store(1); }
struct ForkHook {
  ForkHook() { pthread_atfork(nullptr, nullptr, after_fork_in_child); }
} g_fork_hook;
}  // namespace

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n <= 0) {
    n = omp_get_max_threads();
    g_threads.store(n, std::memory_order_relaxed);
  }
  return n;
}

void set_num_threads(int n) {
  NNFAST_CHECK(n >= 1, "set_num_threads", "n must be >= 1, got ", n);
  g_threads.store(n, std::memory_order_relaxed);
}

}  // namespace nnfast
