// Shared basics: the index type and the argument check used at every entry point.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nnfast {

using index_t = std::int64_t;

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Throws std::invalid_argument("[fn] message"); pybind11 turns it into ValueError.
// Only used before a parallel region: nothing may throw inside one.
template <class... Parts>
[[noreturn]] void fail(const char* fn, const Parts&... parts) {
  std::ostringstream os;
  os << "[" << fn << "] ";
  detail::append(os, parts...);
  throw std::invalid_argument(os.str());
}

#define NNFAST_CHECK(cond, fn, ...)          \
  do {                                       \
    if (!(cond)) ::nnfast::fail(fn, __VA_ARGS__); \
  } while (0)

}  // namespace nnfast
