// The _core extension module: the only place, with the rest of cpp/bindings/, that
// includes pybind11. std::invalid_argument from the core becomes ValueError.
#include <pybind11/native_enum.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "../activations.hpp"
#include "../cpu_features.hpp"
#include "../gemm.hpp"
#include "../kernel_table.hpp"
#include "../losses.hpp"
#include "../threads.hpp"
#include "sections.hpp"

namespace py = pybind11;
using namespace nnfast;

PYBIND11_MODULE(_core, m) {
  m.doc() = "nnfast's C++ kernels (see _core.pyi for the documented contract)";

  py::native_enum<Activation> activation(m, "Activation", "enum.IntEnum");
#define NNFAST_ACTIVATION_VALUE(name, reads) activation.value(#name, Activation::name);
  NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_VALUE)
#undef NNFAST_ACTIVATION_VALUE
  activation.finalize();
  m.def("derivative_reads_input", &derivative_reads_input, py::arg("activation"));
  py::native_enum<Loss>(m, "Loss", "enum.IntEnum")
#define NNFAST_LOSS_VALUE(name, output) .value(#name, Loss::name)
      NNFAST_LOSSES(NNFAST_LOSS_VALUE)
#undef NNFAST_LOSS_VALUE
      .finalize();

  // ---- machine ----
  m.def("isa", [] { return std::string(active_kernels().name); });
  m.def("available_isas", [] {
    std::vector<std::string> names;
    for (const KernelTable* t : available_kernels()) names.emplace_back(t->name);
    return names;
  });
  m.def("isa_request_problem", &isa_request_problem);
  m.def("cpu_supports_avx2", &cpu_supports_avx2_fma);
  m.def("set_isa", [](const std::string& name) { set_active_kernels(name); }, py::arg("name"));
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("reset_num_threads", &reset_num_threads);
  m.def("thread_setting", [] {
    const ThreadSetting s = thread_setting();
    return py::make_tuple(s.threads, thread_source_name(s.source));
  });
  m.def("default_num_threads", &default_num_threads);
  m.def("thread_budget", &thread_budget);
  m.attr("MAX_THREADS") = kMaxThreads;
  m.def("openmp_runtime", [] { return py::make_tuple(openmp_runtime_path(), openmp_version()); });
  m.def("get_gemm_blocking", [] {
    const GemmBlocking b = gemm_blocking();
    return py::make_tuple(b.kc, b.mc, b.small_m, b.in_place_b_bytes);
  });
  m.def("set_gemm_blocking",
        [](index_t kc, index_t mc, index_t small_m, index_t in_place_b_bytes) {
          set_gemm_blocking({kc, mc, small_m, in_place_b_bytes});
        },
        py::arg("kc"), py::arg("mc"), py::arg("small_m") = GemmBlocking{}.small_m,
        py::arg("in_place_b_bytes") = GemmBlocking{}.in_place_b_bytes);

  bindings::bind_kernels(m);
  bindings::bind_network(m);
  bindings::bind_prediction(m);
}
