"""How a pupil page's kernel reaches the server that plays its séance: standard library only.

Under ``calculatice serve`` the pupil page's kernel plays nothing itself: it
relays each message of the player to ``POST {base}/eleve/api`` on the server
that started it, with the token of the pupil it joined. The server tells its
kernels where that is, and the key that opens it, in their environment
(:func:`relay_environment`); a browser knows neither, so it cannot call the
endpoint itself.

This module is imported by the kernels: nothing but the standard library,
so that a pupil's kernel stays small.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

URL_VARIABLE = "CALCULATICE_PUPIL_API"
"""The endpoint's URL, as the kernels reach it (loopback)."""
KEY_VARIABLE = "CALCULATICE_PUPIL_KEY"
"""The key the endpoint asks for; drawn by the server at each start."""
KEY_HEADER = "X-Calculatice-Relay"
"""The request header that carries the key."""
API_PATH = "/eleve/api"
"""The endpoint's path below the server's base URL."""
TIMEOUT_S = 10.0
"""How long the kernel waits for the server: as long as the page waits for the kernel."""
ERROR_INTERNAL = "Un problème est survenu\u202f: recharge la page."
"""What the page shows when the server cannot be reached (the player's own wording)."""

_LOOPBACK = {"", "0.0.0.0", "localhost", "::", "[::]"}


def relay_environment(host: str, port: int, base_url: str, key: str) -> dict[str, str]:
    """The variables that point a kernel at the endpoint of the server listening there.

    A server listening on every address (or on ``localhost``) is reached on
    ``127.0.0.1``; one listening on a single address, on that address.
    """
    address = "127.0.0.1" if host in _LOOPBACK else host
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    base = "/" + base_url.strip("/") if base_url.strip("/") else ""
    return {URL_VARIABLE: f"http://{address}:{port}{base}{API_PATH}", KEY_VARIABLE: key}


class RelayClient:
    """One kernel's connection to the endpoint: a JSON POST per message, kept alive.

    Parameters
    ----------
    url, key
        Where the endpoint is and the key it asks for.
    timeout
        Seconds to wait for a reply.
    """

    def __init__(self, url: str, key: str, timeout: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not an http URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path or "/"
        self._key = key
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    @classmethod
    def from_environment(cls) -> RelayClient | None:
        """The client the server's variables describe; ``None`` outside ``calculatice serve``."""
        url = os.environ.get(URL_VARIABLE, "")
        key = os.environ.get(KEY_VARIABLE, "")
        return cls(url, key) if url and key else None

    def exchange(self, token: str | None, message: Any) -> tuple[dict[str, Any], str | None]:
        """Send one message with the pupil's token; returns the reply and the token to keep.

        Raises ``OSError``, ``http.client.HTTPException`` or ``ValueError``
        when the server cannot be reached, is too slow or answers something
        else than a reply. A connection the server closed while idle is
        opened again once; one that timed out is not tried again.
        """
        body = json.dumps({"token": token, "message": message}).encode()
        try:
            try:
                status, data = self._post(body)
            except (ConnectionError, http.client.HTTPException):
                # A kept-alive connection may have been closed by the server meanwhile;
                # the answer's key makes a message sent twice harmless.
                self.close()
                status, data = self._post(body)
        except BaseException:
            self.close()
            raise
        if status != 200:
            raise ValueError(f"the server answered {status}")
        answer = json.loads(data)
        reply, kept = answer.get("reply"), answer.get("token")
        if not isinstance(reply, dict) or not isinstance(reply.get("screen"), str):
            raise ValueError("the server's answer holds no screen")
        if kept is not None and not isinstance(kept, str):
            raise ValueError("the server's token is not a string")
        return reply, kept

    def _post(self, body: bytes) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        headers = {"Content-Type": "application/json", KEY_HEADER: self._key}
        self._connection.request("POST", self._path, body=body, headers=headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        """Close the connection; the next message opens a new one."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
