"""The server's own set-up steps that run before Voilà starts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from calculatice.web.server import trust_dashboards

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"


def test_the_dashboards_are_signed_once_in_the_private_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    pages = sorted(DASHBOARDS.glob("*.ipynb"))
    before = {path.name: path.read_bytes() for path in pages}

    first = trust_dashboards(DASHBOARDS)
    again = trust_dashboards(DASHBOARDS)

    assert [path.name for path in first] == ["eleve.ipynb", "enseignant.ipynb", "inspection.ipynb"]
    assert again == []
    notary = NotebookNotary()
    assert Path(notary.data_dir) == tmp_path / "data"
    assert all(notary.check_signature(nbformat.read(path, as_version=4)) for path in pages)
    # Signing writes to the store, never to the notebooks themselves.
    assert {path.name: path.read_bytes() for path in pages} == before
