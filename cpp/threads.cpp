#include "threads.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "common.hpp"
#include "platform.hpp"

namespace nnfast {

namespace {

std::atomic<int> g_user_threads{0};  // set_num_threads's value; 0: never called
// The OpenMP count set_num_threads gave this thread (0: none). OpenMP's count is per
// thread, so a count that differs from it (or from the default) was set by someone else.
thread_local int t_openmp_count_set = 0;

int clamp_threads(long n) { return int(std::clamp<long>(n, 1, kMaxThreads)); }

// OMP_NUM_THREADS as OpenMP reads it: a list "4" or "4,2", whose first entry counts here.
int parse_omp_num_threads() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (!text) return 0;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  while (end && (*end == ' ' || *end == '\t')) ++end;
  const bool valid = end != text && (*end == '\0' || *end == ',') && n >= 1;
  return valid ? clamp_threads(n) : 0;
}

// OpenMP's starting count, read once: OMP_NUM_THREADS, else the CPUs.
const ThreadSetting& openmp_default() {
  static const ThreadSetting d = [] {
    const int from_env = parse_omp_num_threads();
    return from_env ? ThreadSetting{from_env, ThreadSource::omp_num_threads}
                    : ThreadSetting{clamp_threads(omp_get_num_procs()), ThreadSource::cpus};
  }();
  return d;
}

}  // namespace

const char* thread_source_name(ThreadSource source) {
  switch (source) {
    case ThreadSource::cpus: return "CPU count";
    case ThreadSource::omp_num_threads: return "OMP_NUM_THREADS";
    case ThreadSource::set_num_threads: return "set_num_threads";
    case ThreadSource::openmp_setting: return "OpenMP setting (threadpoolctl or omp_set_num_threads)";
  }
  return "unknown";
}

int default_num_threads() { return openmp_default().threads; }

ThreadSetting thread_setting() {
  const int live = clamp_threads(omp_get_max_threads());
  const int user = g_user_threads.load(std::memory_order_relaxed);
  // What this thread's OpenMP count is when nobody else changed it: what set_num_threads
  // last set on this thread, else OpenMP's default. (So on other threads, a limit equal to
  // the default cannot be told from none.)
  const int expected = t_openmp_count_set ? t_openmp_count_set : default_num_threads();
  if (live != expected)  // a limit (threadpoolctl) or omp_set_num_threads on this thread
    return user && user < live ? ThreadSetting{user, ThreadSource::set_num_threads}
                               : ThreadSetting{live, ThreadSource::openmp_setting};
  if (user) return {user, ThreadSource::set_num_threads};
  return openmp_default();
}

int get_num_threads() { return thread_setting().threads; }

void set_num_threads(int n) {
  NNFAST_CHECK(n >= 1 && n <= kMaxThreads, "set_num_threads", "n must be between 1 and ",
               kMaxThreads, ", got ", n);
  g_user_threads.store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);  // what threadpoolctl reports for this thread
  t_openmp_count_set = n;
}

void reset_num_threads() {
  g_user_threads.store(0, std::memory_order_relaxed);
  omp_set_num_threads(default_num_threads());
  t_openmp_count_set = 0;
}

int thread_budget() {
  const int user = g_user_threads.load(std::memory_order_relaxed);
  return user ? user : default_num_threads();
}

const char* openmp_runtime_path() {
  static const char* path =
      library_path_of(reinterpret_cast<const void*>(&omp_get_max_threads));
  return path;
}

int openmp_version() {
#ifdef _OPENMP
  return _OPENMP;
#else
  return 0;
#endif
}

}  // namespace nnfast
