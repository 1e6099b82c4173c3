"""The pupil page's widget under ``calculatice serve``: the player, played by the server.

A pupil's kernel holds only :class:`RelayPlayerWidget`: it forwards each
message of ``player.js`` to the server's ``/eleve/api`` endpoint with the
pupil's token (:mod:`calculatice.web.relay`), and sends the reply back as
it came. The server joins, draws, grades and stores
(:class:`~calculatice.pupil_service.PupilService`), so the kernel imports
neither the store nor the engines: it stays a few megabytes above a bare
kernel, thirty times over for a class.

Outside ``calculatice serve`` (the notebook opened in JupyterLab, or by
nbval) there is no server to relay to: :func:`pupil_page` then plays in the
kernel, as :mod:`calculatice.pupil` does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from calculatice.web.relay import ERROR_INTERNAL, RelayClient

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "player" / "static"
"""The player's front end, shared with :class:`~calculatice.player.widget.PlayerWidget`."""
JOIN_SCREEN = {"screen": "join"}


class RelayPlayerWidget(anywidget.AnyWidget):
    """The player on the pupil page, each message answered by the server.

    The messages are those of :class:`~calculatice.player.widget.PlayerWidget`
    (``{"id": ..., "message": ...}`` in, ``{"id": ..., "reply": ...}`` out),
    so ``player.js`` cannot tell the two apart. Whatever goes wrong on the
    way becomes the French error on the screen the pupil was on, never an
    exception.

    Parameters
    ----------
    client
        The connection to the server's endpoint.
    **kwargs
        Passed to :class:`anywidget.AnyWidget`.
    """

    # Read once here rather than given as paths: anywidget would watch the files.
    _esm = (STATIC / "player.js").read_text(encoding="utf-8")
    _css = (STATIC / "player.css").read_text(encoding="utf-8")

    _initial = traitlets.Dict(help="The first screen, drawn with no round trip.").tag(sync=True)

    def __init__(self, client: RelayClient, **kwargs: Any) -> None:
        super().__init__(_initial=dict(JOIN_SCREEN), **kwargs)
        self._client = client
        self._token: str | None = None
        self._last: dict[str, Any] = dict(JOIN_SCREEN)
        self.on_msg(self._on_custom_message)

    def handle_request(self, request: Any) -> dict[str, Any]:
        """Relay one request from the front end; returns ``{"id": ..., "reply": {...}}``."""
        request_id = request.get("id") if isinstance(request, dict) else None
        message = request.get("message") if isinstance(request, dict) else None
        try:
            reply, kept = self._client.exchange(self._token, message)
        except Exception:
            logger.exception("The pupil page could not reach the server")
            # The last screen drawn again, with the error: player.js needs a whole screen.
            return {"id": request_id, "reply": {**self._last, "error": ERROR_INTERNAL}}
        if kept is not None:
            self._token = kept or None
        if not reply.get("error"):
            self._last = reply
        return {"id": request_id, "reply": reply}

    def _on_custom_message(self, widget: Any, content: Any, buffers: Any) -> None:
        try:
            self.send(self.handle_request(content))
        except Exception:
            # Callbacks' exceptions are invisible in Voilà: log them at least.
            logger.exception("The pupil page could not send its reply")


def pupil_page() -> anywidget.AnyWidget:
    """The pupil page's one widget, for ``dashboards/eleve.ipynb``.

    Under ``calculatice serve``, a :class:`RelayPlayerWidget` on the server's
    endpoint; elsewhere, the player in this kernel
    (:func:`calculatice.pupil.pupil_page`).
    """
    client = RelayClient.from_environment()
    if client is None:
        from calculatice.pupil import pupil_page as page_in_this_kernel

        return page_in_this_kernel()
    logging.basicConfig(level=logging.WARNING)
    return RelayPlayerWidget(client)
