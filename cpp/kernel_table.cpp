// The registry of kernel tables and the choice of the active one (kernel_table.hpp).
#include "kernel_table.hpp"

#include <atomic>
#include <cstdlib>

namespace nnfast {

namespace generic {
extern const KernelTable kernels;
}
#ifdef NNFAST_HAVE_AVX2_KERNEL
namespace avx2 {
extern const KernelTable kernels;
}
#endif
#ifdef NNFAST_HAVE_AVX512_KERNEL
namespace avx512 {
extern const KernelTable kernels;
}
#endif

namespace {

// Every table of this build, narrowest first: the default is the last one the CPU runs.
const KernelTable* const kTables[] = {
    &generic::kernels,
#ifdef NNFAST_HAVE_AVX2_KERNEL
    &avx2::kernels,
#endif
#ifdef NNFAST_HAVE_AVX512_KERNEL
    &avx512::kernels,
#endif
};

const KernelTable* find(const std::string& name) {
  for (const KernelTable* t : kTables)
    if (name == t->name) return t;
  return nullptr;
}

std::string g_request_problem;  // written once, under the first choice (see choose)

const KernelTable* choose() {
  const KernelTable* best = &generic::kernels;
  for (const KernelTable* t : kTables)
    if (t->cpu_runs()) best = t;
  const char* env = std::getenv("NNFAST_ISA");
  if (!env || !*env) return best;
  const KernelTable* asked = find(env);
  if (asked && asked->cpu_runs()) return asked;
  g_request_problem = std::string("NNFAST_ISA=") + env +
                      (asked ? " is not supported by this CPU" : " is not an instruction set of this build") +
                      "; using " + best->name + " (available: ";
  bool first = true;
  for (const KernelTable* t : available_kernels())
    g_request_problem += (first ? "" : ", ") + std::string(t->name), first = false;
  g_request_problem += ")";
  return best;
}

std::atomic<const KernelTable*> g_active{nullptr};

}  // namespace

const KernelTable& active_kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t) return *t;
  static const KernelTable* const chosen = choose();  // thread-safe, once
  const KernelTable* expected = nullptr;
  g_active.compare_exchange_strong(expected, chosen, std::memory_order_acq_rel);
  return *g_active.load(std::memory_order_acquire);
}

std::vector<const KernelTable*> available_kernels() {
  std::vector<const KernelTable*> out;
  for (const KernelTable* t : kTables)
    if (t->cpu_runs()) out.push_back(t);
  return out;
}

void set_active_kernels(const std::string& name) {
  const KernelTable* t = find(name);
  NNFAST_CHECK(t != nullptr, "set_isa", "this build has no instruction set '", name, "'");
  NNFAST_CHECK(t->cpu_runs(), "set_isa", "this CPU cannot run '", name, "'");
  active_kernels();  // the first choice (and its NNFAST_ISA check) happens once, first
  g_active.store(t, std::memory_order_release);
}

std::string isa_request_problem() {
  active_kernels();
  return g_request_problem;
}

}  // namespace nnfast
