// The test program's one assertion: counts passes, prints each failure.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace nnfast_test {

inline int g_passed = 0, g_failed = 0;

inline void expect(bool ok, const char* what, const std::string& detail) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s: %s\n", what, detail.c_str());
  }
}

// The thread runtime's tests (test_thread_pool.cpp).
void test_thread_pool();

// The float64 kernels' tests (test_float64_kernels.cpp), and their outputs on fixed
// inputs for the cross-ISA bitwise check.
void test_float64_kernels();
std::vector<std::vector<double>> float64_kernel_results();

}  // namespace nnfast_test
