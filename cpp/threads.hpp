// How many threads a call may use, from the standard controls.
//
// A call uses, for the thread that makes it:
//   1. nnfast.set_num_threads(n), if it was called (it also sets OpenMP's count of the
//      calling thread, so threadpoolctl.threadpool_info() reports n), unless that
//      thread's OpenMP count is lower: a threadpoolctl.threadpool_limits block, or
//      omp_set_num_threads, still limits it;
//   2. else that thread's OpenMP count, omp_get_max_threads(): threadpool_limits inside
//      its block, OMP_NUM_THREADS (read by OpenMP at start-up; loky and dask workers set
//      it), else the number of CPUs this process may run on.
// It is read at every call, never cached, so a limit holds inside its block only.
// Concurrent calls share the budget (thread_budget) between them: see Team.
#pragma once

namespace nnfast {

// The most threads one call runs on; set_num_threads rejects more.
constexpr int kMaxThreads = 1024;

enum class ThreadSource { cpus, omp_num_threads, set_num_threads, openmp_setting };
const char* thread_source_name(ThreadSource source);

struct ThreadSetting {
  int threads;
  ThreadSource source;
};

// For a call made now on the calling thread.
ThreadSetting thread_setting();
int get_num_threads();
// 1 <= n <= kMaxThreads, else std::invalid_argument (nothing changes).
void set_num_threads(int n);
// Forgets set_num_threads: back to the OpenMP setting (and OpenMP's count of the
// calling thread back to the default).
void reset_num_threads();

// OMP_NUM_THREADS (its first entry), else the CPUs this process may run on; what
// OpenMP starts with, computed without asking OpenMP, whose setting may be limited.
int default_num_threads();
// The threads that concurrent calls share: set_num_threads's value, else the default.
int thread_budget();

// The OpenMP runtime library nnfast is linked with (its file, where the platform tells).
const char* openmp_runtime_path();
int openmp_version();  // _OPENMP: the specification date, e.g. 201511

}  // namespace nnfast
