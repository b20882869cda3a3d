#include "platform.hpp"

#include <cstdlib>

#ifdef _WIN32
#include <malloc.h>
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <sys/resource.h>
#endif

namespace nnfast {

void* aligned_allocate(std::size_t alignment, std::size_t bytes) noexcept {
#ifdef _WIN32
  return _aligned_malloc(bytes, alignment);
#else
  return std::aligned_alloc(alignment, bytes);
#endif
}

void aligned_free(void* p) noexcept {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}

long involuntary_context_switches() noexcept {
#ifdef _WIN32
  return 0;
#else
  rusage usage{};
  return getrusage(RUSAGE_SELF, &usage) == 0 ? long(usage.ru_nivcsw) : 0;
#endif
}

void call_in_child_after_fork(void (*handler)()) noexcept {
#ifdef _WIN32
  (void)handler;
#else
  pthread_atfork(nullptr, nullptr, handler);
#endif
}

const char* library_path_of(const void* symbol) noexcept {
#ifdef _WIN32
  static char path[MAX_PATH];
  HMODULE module = nullptr;
  const DWORD flags =
      GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT;
  if (GetModuleHandleExA(flags, static_cast<LPCSTR>(symbol), &module) &&
      GetModuleFileNameA(module, path, MAX_PATH) > 0)
    return path;
  return "unknown";
#else
  Dl_info info{};
  const bool found = dladdr(const_cast<void*>(symbol), &info) != 0;
  return found && info.dli_fname ? info.dli_fname : "unknown";
#endif
}

}  // namespace nnfast
