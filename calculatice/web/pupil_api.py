"""``POST {base}/eleve/api``: the pupil pages' kernels hand their players' messages to the server.

One JSON body per message, ``{"token": ..., "message": {...}}``, answered
with ``{"token": ..., "reply": {...}}`` (:mod:`calculatice.web.relay`). Only
the server's own kernels may call it: each request must carry the key the
server drew at its start and gave its kernels in their environment; a
browser, which knows no key, is refused. The players' work runs in a small
thread pool, so the server's loop keeps serving pages and websockets while a
commit waits on the disk.
"""

from __future__ import annotations

import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado import web
from tornado.ioloop import IOLoop

from calculatice.errors import StoreUnavailable
from calculatice.pupil_service import PupilService
from calculatice.web.bodies import json_message
from calculatice.web.relay import API_PATH, KEY_HEADER

log = logging.getLogger(__name__)

WORKERS = 8
"""Threads that run the players' work; the store's commits overlap in them."""


class PupilApiHandler(web.RequestHandler):
    """One relayed message in, the reply and the pupil's token out."""

    def initialize(self, service: PupilService, executor: ThreadPoolExecutor, key: str) -> None:
        self.service = service
        self.executor = executor
        self.key = key

    def check_xsrf_cookie(self) -> None:
        # Called by kernels, not by pages: the relay key stands in for the XSRF token.
        return

    async def post(self) -> None:
        self.set_header("Cache-Control", "no-store")
        given = self.request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.key.encode()):
            raise web.HTTPError(403)
        body = self._body()
        if body is None:
            raise web.HTTPError(400)
        try:
            reply, token = await IOLoop.current().run_in_executor(
                self.executor, self.service.handle, body.get("token"), body.get("message")
            )
        except StoreUnavailable:
            # The kernel shows the pupil's screen again with the error; sent again, the
            # message is played on a session rebuilt from the store.
            raise web.HTTPError(503) from None
        self.finish({"token": token, "reply": reply})

    def _body(self) -> dict[str, Any] | None:
        body = json_message(self.request)
        if not isinstance(body, dict) or not isinstance(body.get("token") or "", str):
            return None
        return body

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # No page and no traceback: the kernel only reads the status.
        self.finish({"status": status_code})


def pupil_api_handlers(base_url: str, key: str, service: PupilService | None = None) -> list:
    """The endpoint's handler, as ``(pattern, handler, kwargs)`` for the Voilà server.

    Parameters
    ----------
    base_url
        The server's base URL without its trailing slash (``""`` at the root).
    key
        The key each request must carry (:data:`~calculatice.web.relay.KEY_HEADER`).
    service
        The pupils' service; by default one on the store of ``$CALCULATICE_DB_URL``,
        warmed up in the background at once.
    """
    from calculatice.store import connect_store

    if not key:
        raise ValueError("the pupil endpoint needs a key")
    executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="eleve")
    if service is None:
        service = PupilService(connect_store)
        executor.submit(_warm_up, service)
    arguments = {"service": service, "executor": executor, "key": key}
    return [(rf"{base_url.rstrip('/')}{API_PATH}", PupilApiHandler, arguments)]


def _warm_up(service: PupilService) -> None:
    try:
        service.warm_up()
    except Exception:
        log.exception("The pupil service could not warm up: the first join will")
