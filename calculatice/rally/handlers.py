"""The rally page's HTTP handlers, added to the Voilà server: no kernel per pair.

``GET /rallye`` serves a small page that loads the player's ES module and
talks to ``POST /rallye/api``, one JSON message per request. The pair's
signed token travels in an HttpOnly cookie, so a reload puts the pair back
where it was. The player's work (drawing, grading, writing the answer) runs
on the server's loop when the store is SQLite, where a commit is quicker
than a thread switch, and in a small thread pool on PostgreSQL, so that the
loop keeps answering other pairs and Voilà's pages while a commit waits on
the network (see :data:`WORKERS_VARIABLE`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tornado import web
from tornado.ioloop import IOLoop

from calculatice.rally.service import PROBLEMS, RallyService

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
PAGE = PACKAGE / "static" / "rallye.html"
PLAYER_STATIC = PACKAGE.parent / "player" / "static"
COOKIE = "calculatice_rallye"
COOKIE_DAYS = 30
SECRET_VARIABLE = "CALCULATICE_RALLY_SECRET"
"""Signs the pairs' tokens; set the same value in every process behind one address."""
MAX_BODY_BYTES = 16_384
"""Largest message accepted: a player message is a few hundred bytes."""
WORKERS_VARIABLE = "CALCULATICE_RALLY_WORKERS"
"""Threads that run the players' work when the store is PostgreSQL (default :data:`WORKERS`).

On SQLite every message is answered on the server's loop itself: a commit
there takes a few tens of microseconds (WAL, no sync but at checkpoints),
much less than handing the message to a thread and back under the
interpreter's lock, which doubled the CPU a request costs. A PostgreSQL
commit waits on the network: there the messages that draw questions or
record answers go to the threads, so that the loop keeps answering. ``0``
answers every message on the loop whatever the database.
"""
WORKERS = 4


def _secret() -> bytes:
    configured = os.environ.get(SECRET_VARIABLE, "")
    if configured:
        return configured.encode()
    # Without a configured secret, tokens are valid in this process only: a restart
    # sends pairs back to the join screen, where their names find their answers again.
    log.warning("%s is not set: pair tokens will not survive a restart", SECRET_VARIABLE)
    return secrets.token_bytes(32)


class RallyPageHandler(web.RequestHandler):
    """``GET /rallye``: the page, with the server's base URL written into it."""

    def initialize(self, base: str) -> None:
        self.base = base

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )
        self.finish(PAGE.read_text(encoding="utf-8").replace("{base}", self.base))


class RallyApiHandler(web.RequestHandler):
    """``POST /rallye/api``: one player message in, the screen to draw out."""

    def initialize(self, service: RallyService, executor: ThreadPoolExecutor | None) -> None:
        self.service = service
        self.executor = executor

    def prepare(self) -> None:
        # The server gzips what it sends (for Voilà's 5 MB of JavaScript): a reply
        # here is one JSON screen, about a kilobyte, where gzip would cost ~20 µs
        # of CPU per answer to save a few hundred bytes. Tornado has no public
        # switch per handler; its transforms for this request are dropped here.
        self._transforms = [
            transform
            for transform in self._transforms
            if not isinstance(transform, web.GZipContentEncoding)
        ]

    def check_xsrf_cookie(self) -> None:
        # No form posts here: JSON bodies only (a cross-site page cannot send one
        # without a preflight) and a SameSite=Strict cookie stand in for the token.
        return

    def post(self) -> Awaitable[None] | None:
        # Not a coroutine: on SQLite the message is answered here and now, and
        # Tornado awaits only what is returned (the worker thread's answer).
        self.set_header("Cache-Control", "no-store")
        message = self._message()
        if message is None:
            self.finish({"screen": "join", "error": PROBLEMS["internal"]})
            return None
        token = _cookie(self.request.headers.get("Cookie", ""))
        if (
            self.executor is None
            or self.service.backend == "sqlite"
            or self.service.is_light(token, message)
        ):
            self._reply(token, *self.service.handle(token, message))
            return None
        return self._in_worker(token, message)

    async def _in_worker(self, token: str | None, message: Any) -> None:
        reply, kept = await IOLoop.current().run_in_executor(
            self.executor, self.service.handle, token, message
        )
        self._reply(token, reply, kept)

    def _reply(self, token: str | None, reply: dict[str, Any], kept: str | None) -> None:
        if kept == "":
            self.clear_cookie(COOKIE, path=self._cookie_path())
        elif kept is not None and kept != token:
            self.set_cookie(
                COOKIE,
                kept,
                path=self._cookie_path(),
                expires_days=COOKIE_DAYS,
                httponly=True,
                samesite="Strict",
                secure=self.request.protocol == "https",
            )
        self.finish(reply)

    def _message(self) -> Any:
        if len(self.request.body) > MAX_BODY_BYTES:
            return None
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            return None
        try:
            return json.loads(self.request.body)
        except ValueError:
            return None

    def _cookie_path(self) -> str:
        return self.request.path.rsplit("/api", 1)[0] or "/"


def _cookie(header: str) -> str | None:
    """The pair's token from a ``Cookie`` header, or ``None``.

    Tornado's ``get_cookie`` parses every cookie with :mod:`http.cookies`, a
    tenth of the request's time here; the token is plain ``digits.digits.hex``.
    """
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value.strip('"') or None
    return None


def rally_handlers(base_url: str, service: RallyService | None = None) -> list[tuple]:
    """The rally page's handlers, as ``(pattern, handler, kwargs)`` for the Voilà server.

    Parameters
    ----------
    base_url
        The server's base URL without its trailing slash (``""`` at the root).
    service
        The pairs' service; by default one on the store of ``$CALCULATICE_DB_URL``.
    """
    from calculatice.store import connect_store

    base = base_url.rstrip("/")
    if service is None:
        service = RallyService(connect_store, _secret())
    workers = int(os.environ.get(WORKERS_VARIABLE, "") or WORKERS)
    executor = (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rallye") if workers else None
    )
    # The store and the bank are ready before the first pair comes, without delaying
    # the server's start.
    threading.Thread(target=service.warm_up, name="rallye-warm-up", daemon=True).start()
    return [
        (rf"{base}/rallye/?", RallyPageHandler, {"base": base}),
        (rf"{base}/rallye/api", RallyApiHandler, {"service": service, "executor": executor}),
        (
            rf"{base}/rallye/player/(player\.js|player\.css)",
            web.StaticFileHandler,
            {"path": str(PLAYER_STATIC)},
        ),
    ]
