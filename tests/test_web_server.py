"""The server's own set-up steps that run before Voilà starts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import zmq
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from nbformat.sign import NotebookNotary

from calculatice.web.server import ZMQ_SOCKETS, give_room_for_pages, trust_dashboards

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


def test_the_kernels_context_holds_more_sockets_than_libzmq_s_default() -> None:
    manager = AsyncMappingKernelManager()

    give_room_for_pages(manager)

    context = manager.context
    assert context.get(zmq.MAX_SOCKETS) == ZMQ_SOCKETS
    # Past libzmq's default of 1,023 a new socket fails with "Too many open files".
    sockets = [context.socket(zmq.DEALER) for _ in range(1_100)]
    for one in sockets:
        one.close(linger=0)
    context.term()
