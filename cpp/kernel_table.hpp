// One table of kernels per instruction set (BLIS's per-architecture context), for each
// element type (float32, float64): the GEMM micro-kernel and single-row kernel with their
// tile shape, the activation kernels (the
// dense layer's fused GEMM epilogues and the array kernels), the loss heads, the
// optimizer updates and the CSR first-layer kernels. One table is active, chosen once (at first use) from the
// CPU and NNFAST_ISA; the drivers (gemm.cpp, dense.cpp, activations.cpp, losses.cpp,
// optimizers.cpp, sparse_input.cpp) call through it and know no instruction set.
//
// Adding an instruction set is one folder, cpp/isa/<name>/: vec.hpp maps the vector
// contract (vector_math.hpp) to its intrinsics, shape.hpp sets its GEMM tile, kernels.cpp
// (compiled with its flags) instantiates the shared bodies (cpp/kernels/*.inc) in
// namespace nnfast::<name>, and table.cpp (baseline flags: it is read before the CPU is
// known) defines the table. Then one entry in kernel_table.cpp, one line in
// CMakeLists.txt and, for a new tile shape, one line in gemm.cpp's gemm_rect_of.
#pragma once
#include <string>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "gemm.hpp"
#include "activations.hpp"
#include "gemm_kernel.hpp"
#include "losses.hpp"
#include "optimizers.hpp"
#include "sparse_input.hpp"

namespace nnfast {

// The kernels of one element type T (float32: the training step and predict; float64:
// nnfast.ops on double arrays, the double training step to come). Both are instantiated
// from the same bodies (cpp/kernels/*.inc) over Vec<T>.
template <class T>
struct ElementKernels {
  GemmMicroKernelOf<T> gemm_kernel;   // a gemm_mr x gemm_nr tile
  GemmRowKernelOf<T> gemm_row_kernel;  // 1 x gemm_row_nr (a multiple of gemm_nr)
  index_t gemm_mr, gemm_nr, gemm_row_nr;  // the GEMM driver packs and tiles for these
  // c[i][j] = act(c[i][j] + bias[j]) over an m x n block (bias may be null); z, unless
  // null, receives c[i][j] + bias[j] at z[i * ldz + j].
  void (*bias_activation)(Activation act, T* c, index_t ldc, const T* bias, T* z, index_t ldz,
                          index_t m, index_t n);
  // c[i][j] *= act'(.) through saved[i * lds + j]: the activation's output, or its input
  // where derivative_reads_input(act).
  void (*activation_grad)(Activation act, T* c, index_t ldc, const T* saved, index_t lds,
                          index_t m, index_t n);
  void (*activation_forward)(Activation act, T* y, const T* x, index_t n);
  void (*activation_backward)(Activation act, T* dx, const T* dy, const T* saved, index_t n);
  // The output heads (losses.hpp): rows in float64, the same library calls everywhere.
  void (*output_activation)(Loss loss, T* out, const T* z, index_t n, index_t k);
  void (*loss_forward_backward)(Loss loss, T* grad, double* row_loss, const T* z, const T* y,
                                const T* sw, index_t n, index_t k, double parameter);
  void (*adam_update)(T* param, const T* grad, T* m, T* v, index_t n,
                      const AdamStepOf<T>& step, T alpha, T grad_scale);
  void (*sgd_update)(T* param, const T* grad, T* velocity, index_t n, T learning_rate,
                     T momentum, bool nesterov, T alpha, T grad_scale);
  double (*sum_of_squares)(const T* x, index_t n);
  // The CSR first layer (sparse_input.hpp).
  void (*csr_forward_rows)(MatrixViewOf<T> y, const CsrMatrix& x, RowSelection rows, index_t r0,
                           index_t r1, ConstMatrixViewOf<T> w, T* partial, index_t kc);
  void (*csr_gradient_features)(MatrixViewOf<T> dw, const CsrMatrix& x, RowSelection rows,
                                ConstMatrixViewOf<T> dz, bool accumulate, index_t p0, index_t p1,
                                index_t* column_end, index_t* entry_row, T* entry_value,
                                T* partial, index_t kc);
};

struct KernelTable {
  const char* name;     // "generic", "avx2", "avx512": NNFAST_ISA's values
  bool (*cpu_runs)();   // this CPU and OS can run the table's code
  ElementKernels<float> f32;
  ElementKernels<double> f64;

  template <class T>
  const ElementKernels<T>& of() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else return f64;
  }
};

// The active table. The first call chooses: NNFAST_ISA's table if this build has it and
// the CPU runs it, else the last (widest) table of this build the CPU runs.
const KernelTable& active_kernels();

// The tables of this build that this CPU runs, narrowest first ("generic" is always first).
std::vector<const KernelTable*> available_kernels();

// Makes `name` the active table (tests, benchmarks): std::invalid_argument when this build
// has no such table or the CPU cannot run it.
void set_active_kernels(const std::string& name);

// Why NNFAST_ISA was not followed ("" when it was, or is unset): the caller warns.
std::string isa_request_problem();

}  // namespace nnfast
