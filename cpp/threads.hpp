// The thread count nnfast's parallel regions use (OpenMP underneath).
#pragma once

namespace nnfast {

// Defaults to OMP_NUM_THREADS, else the number of cores OpenMP reports.
int get_num_threads();
// n >= 1; throws std::invalid_argument otherwise.
void set_num_threads(int n);

}  // namespace nnfast
