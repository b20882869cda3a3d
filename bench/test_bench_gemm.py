"""GEMM (W5's shapes): nnfast.ops.gemm vs NumPy matmul (OpenBLAS) vs torch.mm, each
writing into a preallocated out, transposed operands passed as views."""

import pytest

from common import GEMM_SHAPES, grouped_params, need_torch
from peers import gemm_cases


@pytest.mark.parametrize("shape, impl", grouped_params(GEMM_SHAPES, ("nnfast", "NumPy", "PyTorch")))
def test_gemm(benchmark, shape, impl):
    need_torch(impl)
    benchmark(gemm_cases(*shape)[impl])
