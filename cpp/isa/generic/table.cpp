// The generic table: every CPU runs it.
#include "isa/generic/shape.hpp"
#include "kernel_table.hpp"

namespace nnfast::generic {
namespace {
bool always() { return true; }
}  // namespace
#include "isa/prototypes.inc"
#define NNFAST_ISA_NAME "generic"
#define NNFAST_ISA_CPU_RUNS always
#include "isa/table.inc"
}  // namespace nnfast::generic
