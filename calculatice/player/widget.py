"""The player as a Jupyter widget (anywidget), for notebooks and Voilà pages.

The widget holds a :class:`~calculatice.player.session.PlayerSession` and
relays messages: the browser sends one custom message per action (never one
per keystroke or timer tick), the session answers, and the widget sends the
reply back with the request's id. The only synced value is the first screen,
so that the page draws without a round trip; no synced value ever holds an
answer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from calculatice.player.session import ERROR_INTERNAL, PlayerSession, Reply

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
"""Where the player's front end lives: ``player.js`` and ``player.css``."""


class PlayerWidget(anywidget.AnyWidget):
    """A séance in a notebook cell or a Voilà page.

    Parameters
    ----------
    session
        The séance to play; the widget only relays its messages.
    **kwargs
        Passed to :class:`anywidget.AnyWidget` (layout and the like).
    """

    # Read once here rather than given as paths: anywidget would watch the files.
    _esm = (STATIC / "player.js").read_text(encoding="utf-8")
    _css = (STATIC / "player.css").read_text(encoding="utf-8")

    _initial = traitlets.Dict(help="The first screen, drawn with no round trip.").tag(sync=True)

    def __init__(self, session: PlayerSession, **kwargs: Any) -> None:
        super().__init__(_initial=session.handle({"type": "state"}), **kwargs)
        self.session = session
        self.on_msg(self._on_custom_message)

    def handle_request(self, request: Any) -> dict[str, Any]:
        """Answer one request from the front end: ``{"id": ..., "message": {...}}``.

        Returns the response, ``{"id": ..., "reply": {...}}``; an error becomes a
        French message in the reply, never an exception.
        """
        request_id = request.get("id") if isinstance(request, dict) else None
        message = request.get("message") if isinstance(request, dict) else None
        try:
            reply = self.session.handle(message)
        except Exception:
            # The session never raises on purpose; whatever does must not reach the page.
            logger.exception("The player widget failed on a request")
            reply = self._fallback_reply()
        return {"id": request_id, "reply": reply}

    def _on_custom_message(self, widget: Any, content: Any, buffers: Any) -> None:
        try:
            self.send(self.handle_request(content))
        except Exception:
            # Callbacks' exceptions are invisible in Voilà: log them at least.
            logger.exception("The player widget could not send its reply")

    def _fallback_reply(self) -> Reply:
        return {"screen": self.session.screen, "error": ERROR_INTERNAL}
