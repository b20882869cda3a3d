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
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# The methods inherited from scikit-learn's mixins (score) cite labels of scikit-learn's
# own documentation (:ref:`accuracy_score`), which an offline build cannot resolve.
suppress_warnings = ["ref.ref"]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/",  # run every example
    "download_all_examples": False,
}
exclude_patterns = ["_build"]
html_theme = "alabaster"
