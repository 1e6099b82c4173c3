"""The inspector's page in Chromium, served by ``calculatice serve``: its figures are drawn.

The server loads no plotly front-end extension, so this checks that the
figures still appear (drawn by the page's own widget), that the page lists no
participant, and that the pupil page still loads no plotly.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGE = "/voila/render/inspection.ipynb"


def test_inspection_page_draws_its_figures_and_tables(live_server, page):
    page.goto(f"{live_server.url}{PAGE}")

    page.wait_for_selector(".calculatice-figure .main-svg", timeout=90_000)
    page.wait_for_function(
        "document.querySelectorAll('.calculatice-figure .main-svg').length >= 5",
        timeout=30_000,
    )

    text = page.inner_text("body")
    assert "Participants par circonscription" in text
    assert "64 participants" in text
    assert "Réussite par niveau" in text
    # The sample's classes all have 8 participants: none may be shown.
    assert "8 classes non montrées, de moins de 10 participants" in text
    assert "1e820d724b74121ea664" not in page.content()
    page.goto("about:blank")


def test_pupil_page_loads_no_plotly(live_server, page):
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url))

    page.goto(f"{live_server.url}/voila/render/eleve.ipynb")
    page.wait_for_selector("input", timeout=60_000)

    assert not [url for url in scripts if "plotly" in url.lower()]
    assert "Plotly" not in page.evaluate("Object.keys(window).join(' ')")
    page.goto("about:blank")
