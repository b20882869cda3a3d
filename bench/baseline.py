"""nnfast's C++ core as built at another commit, loaded beside this one, so that a change
is measured against what it replaced in one process, epochs interleaved (this shared
machine drifts by 20-40% between runs minutes apart).

The baseline is built once per commit into bench/.baseline/<sha>/ with CMake (the
source comes from ``git archive``; pybind11 from the bench extra). Its pybind11 types
are registered under their own ABI tag, so both modules can be imported together.
"""

import glob
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".baseline")


class BaselineUnavailable(RuntimeError):
    """No git checkout, no CMake, or the build failed: the reason is the message."""


def _run(command, cwd):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BaselineUnavailable(f"{' '.join(command[:3])} ... failed:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def _build(sha, out):
    import pybind11

    if shutil.which("cmake") is None:
        raise BaselineUnavailable("cmake is not on PATH")
    source, build = os.path.join(out, "src"), os.path.join(out, "build")
    os.makedirs(source, exist_ok=True)
    archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", source], input=archive.stdout, check=True)
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run(["cmake", "-S", source, "-B", build, *generator, "-DCMAKE_BUILD_TYPE=Release",
          "-DNNFAST_BUILD_PYTHON=ON", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
          f"-DPython_EXECUTABLE={sys.executable}",
          f'-DCMAKE_CXX_FLAGS=-DPYBIND11_BUILD_ABI=\\"_nnfast_{sha[:12]}\\"'], ROOT)
    _run(["cmake", "--build", build, "--target", "_core", "-j", str(os.cpu_count() or 2)], ROOT)


def baseline_core(ref):
    """The ``_core`` module built at git ``ref`` (a commit, tag or branch).

    Raises
    ------
    BaselineUnavailable
        When it cannot be built here.
    """
    if not os.path.isdir(os.path.join(ROOT, ".git")) or shutil.which("git") is None:
        raise BaselineUnavailable("not a git checkout")
    sha = _run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], ROOT)
    out = os.path.join(CACHE, sha)
    found = glob.glob(os.path.join(out, "build", "_core*.so"))
    if not found:
        print(f"building the baseline core at {sha[:12]} (once) ...", file=sys.stderr, flush=True)
        _build(sha, out)
        found = glob.glob(os.path.join(out, "build", "_core*.so"))
    name = f"nnfast_baseline_{sha[:12]}._core"
    loader = importlib.machinery.ExtensionFileLoader(name, found[0])
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    module.commit = sha
    return module
