"""The face every result of the improve layer shows (``summary``, ``to_frame``, ``to_dict``, ``_repr_html_``,
``plot``), checked the same way for each result type."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd


def check_face(result: Any) -> None:
    """Summary in English and Danish (titled, no message id left unrendered), a DataFrame, JSON-ready
    ``to_dict()``, an HTML fragment with the headline, and a Plotly figure with data."""
    import plotly.graph_objects as go

    for lang in ("en", "da"):
        text = result.summary(lang)
        assert text.startswith(result.title().render(lang)), text[:200]
        assert "(" not in result.title().render(lang) or "=" not in result.title().render(lang)
        headline = result.headline()
        if headline is not None:
            assert headline.render(lang) in text
    assert result.summary("da") != result.summary("en")
    assert isinstance(result.to_frame(), pd.DataFrame)
    json.dumps(result.to_dict(), ensure_ascii=False)
    html = result._repr_html_()
    assert html.startswith('<div class="hitrate-result">') and "<h4>" in html
    fig = result.plot("da")
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
