"""Sphinx configuration of nnfast's documentation.

    pip install ".[docs]" && python -m sphinx -W --keep-going -b html docs build/docs

The API reference is generated from the docstrings (numpydoc); the gallery runs every
script in examples/ (sphinx-gallery) and shows what it printed.
"""

import nnfast

project = "nnfast"
author = "the nnfast developers"
copyright = "2026, the nnfast developers"
release = version = nnfast.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
}
# Offline builds (CI has no network): intersphinx links resolve only when reachable.
intersphinx_disabled_reftypes = ["*"]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/",  # run every example
    "download_all_examples": False,
}
exclude_patterns = ["_build"]
html_theme = "alabaster"
