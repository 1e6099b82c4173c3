"""The rally page's HTTP handlers, added to the Voilà server: no kernel per pair.

``GET /rallye`` serves a small page that loads the player's ES module and
talks to ``POST /rallye/api``, one JSON message per request. The pair's
signed token travels in an HttpOnly cookie, so a reload puts the pair back
where it was. The player's work (drawing, grading, writing the answer) runs
on the server's loop when the store is SQLite, where a commit is quicker
than a thread switch. On PostgreSQL the loop plays a pair's message at once
too, but its writes wait for a batch that many pairs' messages share
(:mod:`calculatice.store.batched`), and the reply goes out once that batch
is committed; joins and pairs not in memory, which read the store, go to a
small thread pool (see :data:`WORKERS_VARIABLE`), so that the loop keeps
answering other pairs and Voilà's pages meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tornado import httputil, web
from tornado.ioloop import IOLoop

from calculatice.errors import StoreUnavailable
from calculatice.rally.service import PROBLEMS, RallyService
from calculatice.web.bodies import json_message

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
PAGE = PACKAGE / "static" / "rallye.html"
PLAYER_STATIC = PACKAGE.parent / "player" / "static"
COOKIE = "calculatice_rallye"
COOKIE_DAYS = 30
ROUTE_COOKIE = "calculatice_route"
"""Set by the page, before any pair joins: nginx sends all of a browser's messages, its join
included, to one process (``deploy/nginx-rally.conf.template``). Random, and nothing else."""
SECRET_VARIABLE = "CALCULATICE_RALLY_SECRET"
"""Signs the pairs' tokens; set the same value in every process behind one address."""
WORKERS_VARIABLE = "CALCULATICE_RALLY_WORKERS"
"""Threads for the messages the loop does not play itself on PostgreSQL (default :data:`WORKERS`).

On SQLite every message is answered on the server's loop itself: a commit
there takes a few tens of microseconds (WAL, no sync but at checkpoints),
much less than handing the message to a thread and back under the
interpreter's lock, which doubled the CPU a request costs. On PostgreSQL
the loop plays the messages of pairs in memory and batches their writes;
joins, and pairs whose session must first be read back from the store, go
to these threads. ``0`` answers every message on the loop, one statement at
a time, whatever the database.
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
    """``GET /rallye``: the page, with the server's base URL written into it.

    A browser without a route cookie gets one (:data:`ROUTE_COOKIE`). Behind
    nginx it keeps the pair's join on the process that will serve the pair's
    answers: without it a join went to any process, and half the pairs were
    rebuilt from the store by another at their first answer (about 5 ms of
    CPU each, while hundreds join a second).
    """

    def initialize(self, base: str) -> None:
        self.base = base

    def get(self) -> None:
        if not _cookie(self.request.headers.get("Cookie", ""), ROUTE_COOKIE):
            path = f"{self.base}/rallye"
            self.add_header(
                "Set-Cookie",
                _set_cookie(secrets.token_hex(8), path, COOKIE_DAYS, self.request.protocol,
                            ROUTE_COOKIE),
            )  # fmt: skip
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )
        self.finish(PAGE.read_text(encoding="utf-8").replace("{base}", self.base))


class RallyStatusHandler(web.RequestHandler):
    """``GET /rallye/status``: what this process holds, for whoever watches a rally day.

    Counts only: the pairs' sessions in memory, and how many were rebuilt
    from the store because the pair was last served by another process (or
    before a restart). Behind nginx, rebuilds should stay near zero outside
    a process's restart; many of them mean that pairs are not sticking to one
    process. Read on each process's own port.
    """

    def initialize(self, service: RallyService) -> None:
        self.service = service

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish({"sessions": self.service.sessions_in_memory, "rebuilt": self.service.rebuilt})


class RallyApi:
    """``POST /rallye/api``: one player message in, the screen to draw out.

    A plain callable on Tornado's router rather than a ``RequestHandler``: a
    request costs the server a fifth less CPU (0.67 ms against 0.84, answers
    included, in ``benchmarks/rally_cpu.py``) without the handler's machinery
    (its instance, default headers, output transforms, flush, the access
    log), which a rally day pays thousands of times a second. What it did
    that this endpoint needs is done here: the JSON body checked, the pair's
    HttpOnly cookie read and set, replies never cached nor compressed, no
    traceback ever sent.
    """

    def __init__(self, service: RallyService, executor: ThreadPoolExecutor | None) -> None:
        self.service = service
        self.executor = executor
        self._settling: set[asyncio.Future] = set()
        """Replies waiting for their writes' batch (held: the loop keeps weak references)."""

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        with _failures_answered(request):
            if request.method != "POST":
                _respond(request, 405, {"error": PROBLEMS["internal"]}, [("Allow", "POST")])
                return
            message = json_message(request)
            if message is None:
                _respond(request, 200, {"screen": "join", "error": PROBLEMS["internal"]})
                return
            token = _cookie(request.headers.get("Cookie", ""))
            if self.executor is None or self.service.backend == "sqlite":
                self._reply(request, token, *self.service.handle(token, message))
                return
            ahead = self.service.play_ahead(token, message)
            if ahead is not None:
                settling = asyncio.ensure_future(self._settle(request, token, message, ahead))
                self._settling.add(settling)
                settling.add_done_callback(self._settling.discard)
                return
            self._in_thread(request, token, message)

    def _in_thread(
        self, request: httputil.HTTPServerRequest, token: str | None, message: Any
    ) -> None:
        """Play the message in a worker thread; the reply goes out when it is done."""
        future = IOLoop.current().run_in_executor(
            self.executor, self.service.handle, token, message
        )
        future.add_done_callback(partial(self._reply_from, request, token))

    async def _settle(
        self, request: httputil.HTTPServerRequest, token: str | None, message: Any, ahead
    ) -> None:
        """Reply to a message played ahead once its writes are committed (PostgreSQL)."""
        with _failures_answered(request):
            reply = await self.service.settle(ahead)
            if reply is None:
                # The pair moved on in another process: rebuilt from the store, played again.
                self._in_thread(request, token, message)
                return
            self._reply(request, token, reply, token)

    def _reply_from(self, request: httputil.HTTPServerRequest, token: str | None, future) -> None:
        with _failures_answered(request):
            self._reply(request, token, *future.result())

    def _reply(
        self,
        request: httputil.HTTPServerRequest,
        token: str | None,
        reply: dict[str, Any],
        kept: str | None,
    ) -> None:
        path = request.path.rsplit("/api", 1)[0] or "/"
        headers = []
        if kept == "":
            headers.append(("Set-Cookie", _set_cookie("", path, -365, request.protocol)))
        elif kept is not None and kept != token:
            headers.append(("Set-Cookie", _set_cookie(kept, path, COOKIE_DAYS, request.protocol)))
        _respond(request, 200, reply, headers)


@contextmanager
def _failures_answered(request: httputil.HTTPServerRequest) -> Iterator[None]:
    """Answer a failure of the block: 503 while the database is out of reach, else a French
    message (500), logged, never a traceback."""
    try:
        yield
    except StoreUnavailable:
        _respond_unavailable(request)
    except Exception:
        log.exception("Rally page failed on a request")
        _respond(request, 500, {"screen": "join", "error": PROBLEMS["internal"]})


def _respond(
    request: httputil.HTTPServerRequest,
    status: int,
    reply: dict[str, Any],
    extra: list[tuple[str, str]] = (),
) -> None:
    """Send a JSON reply, never cached, and end the request (the connection stays open)."""
    # As Tornado writes JSON: "</" escaped, so that a reply never closes a script.
    body = json.dumps(reply).replace("</", "<\\/").encode()
    headers = httputil.HTTPHeaders()
    headers.add("Content-Type", "application/json; charset=UTF-8")
    headers.add("Cache-Control", "no-store")
    headers.add("Content-Length", str(len(body)))
    for name, value in extra:
        headers.add(name, value)
    start = httputil.ResponseStartLine("HTTP/1.1", status, httputil.responses[status])
    request.connection.write_headers(start, headers, body)
    request.connection.finish()


def _respond_unavailable(request: httputil.HTTPServerRequest) -> None:
    """503 while the database cannot be reached: the page waits and sends the message again.

    ``player.js`` treats a 503 as a network failure (as it does a proxy's),
    with its « Connexion interrompue » banner, for up to a minute.
    """
    _respond(request, 503, {"error": PROBLEMS["unavailable"]}, [("Retry-After", "1")])


def _set_cookie(value: str, path: str, days: int, protocol: str, name: str = COOKIE) -> str:
    """A ``Set-Cookie`` value for one of our cookies, the pair's token unless ``name`` says
    otherwise (``days`` < 0: forget it)."""
    expires = httputil.format_timestamp(time.time() + days * 86_400)
    secure = "; Secure" if protocol == "https" else ""
    max_age = "; Max-Age=0" if days < 0 else ""
    return (
        f"{name}={value}; Path={path}; Expires={expires}{max_age}; HttpOnly; "
        f"SameSite=Strict{secure}"
    )


def _cookie(header: str, wanted: str = COOKIE) -> str | None:
    """The pair's token (or another of our cookies) from a ``Cookie`` header, or ``None``.

    Tornado's ``get_cookie`` parses every cookie with :mod:`http.cookies`, a
    tenth of the request's time here; ours are plain (``digits.digits.hex``, hex).
    """
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == wanted:
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
        (rf"{base}/rallye/api", RallyApi(service, executor)),
        (rf"{base}/rallye/status", RallyStatusHandler, {"service": service}),
        (
            rf"{base}/rallye/player/(player\.js|player\.css)",
            web.StaticFileHandler,
            {"path": str(PLAYER_STATIC)},
        ),
    ]
