"""scikit-learn's HTML repr (Jupyter) links nnfast's estimators to their own API pages."""

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nnfast import MLPClassifier, MLPRegressor
from nnfast._base import DOCS_URL


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_html_repr_links_to_the_api_page(Estimator):
    # docs/api.rst's autosummary writes each estimator's page to generated/.
    page = f"{DOCS_URL}generated/nnfast.{Estimator.__name__}.html"
    assert Estimator()._get_doc_link() == page
    html = Estimator()._repr_html_()
    assert f'href="{page}"' in html
    assert 'href="https://scikit-learn.org' not in html  # not scikit-learn's own MLP page
    # Inside a pipeline too, beside scikit-learn's links for its own estimators.
    html = make_pipeline(StandardScaler(), Estimator())._repr_html_()
    assert f'href="{page}"' in html
