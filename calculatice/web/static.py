"""Static files sent gzipped, each compressed once per server rather than once per pupil.

The pupil page's first visit fetches about 5.2 MB of JavaScript and CSS
(Voilà's bundles, the widget managers, the page template's style). Gzipped
it is about 1.4 MB, under DESIGN.md's 2 MB; but tornado's own
``compress_response`` compresses every response as it goes out, about
0.15 s of CPU per first visit: 4.5 s of the server's time when a class of
30 opens the page at once. Here a file is compressed the first time it is
asked for, kept in memory with its modification time and size, and sent as
it is to every later browser that accepts gzip.
"""

from __future__ import annotations

import gzip
import os
import threading
from typing import Any

from tornado import web

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_BYTES = 1024
"""Smaller files are left to tornado, which compresses them on the fly: cheap at that size."""
LEVEL = 9
"""Paid once per file, so the strongest level costs nothing later."""


class GzipCache:
    """Compressed copies of files, keyed by path, dropped when the file changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: dict[str, tuple[int, int, bytes]] = {}

    def compressed(self, path: str) -> bytes:
        """The file's content, gzipped; compressed again only if the file changed."""
        status = os.stat(path)
        with self._lock:
            kept = self._copies.get(path)
        if kept is not None and kept[:2] == (status.st_mtime_ns, status.st_size):
            return kept[2]
        with open(path, "rb") as file:
            body = gzip.compress(file.read(), compresslevel=LEVEL, mtime=0)
        with self._lock:
            self._copies[path] = (status.st_mtime_ns, status.st_size, body)
        return body

    def __contains__(self, path: str) -> bool:
        with self._lock:
            return path in self._copies


CACHE = GzipCache()


class _InstanceOrClass:
    """A method that runs ``on_instance`` when called on a handler, the next classmethod else.

    Tornado's ``StaticFileHandler.get`` asks the instance for the content
    (``self.get_content``), while its version hash asks the class
    (``cls.get_content``): only the first must see the compressed copy.
    """

    def __init__(self, on_instance) -> None:
        self.on_instance = on_instance

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return super(PrecompressedMixin, owner).get_content
        return self.on_instance.__get__(instance, owner)


class PrecompressedMixin:
    """Put before a ``tornado.web.StaticFileHandler`` subclass to serve its files gzipped."""

    _gzipped: bytes | None = None

    def set_extra_headers(self, path: str) -> None:
        super().set_extra_headers(path)  # type: ignore[misc]
        self._gzipped = self._compressed_body()
        if self._gzipped is not None:
            self.set_header("Content-Encoding", "gzip")  # type: ignore[attr-defined]
            self.set_header("Vary", "Accept-Encoding")  # type: ignore[attr-defined]

    def get_content_size(self) -> int:
        if self._gzipped is not None:
            return len(self._gzipped)
        return super().get_content_size()  # type: ignore[misc]

    def _content(self, abspath: str, start: int | None = None, end: int | None = None):
        if self._gzipped is not None:
            return self._gzipped
        return super(PrecompressedMixin, type(self)).get_content(abspath, start, end)

    get_content = _InstanceOrClass(_content)

    def _compressed_body(self) -> bytes | None:
        request = self.request  # type: ignore[attr-defined]
        if request.headers.get("Range") or "gzip" not in request.headers.get(
            "Accept-Encoding", ""
        ):
            return None
        content_type = self.get_content_type() or ""  # type: ignore[attr-defined]
        if not content_type.startswith(COMPRESSIBLE):
            return None
        path = self.absolute_path  # type: ignore[attr-defined]
        if os.path.getsize(path) < MIN_BYTES:
            return None
        return CACHE.compressed(path)


def precompressed(handler: type) -> type:
    """The handler class serving gzipped copies, if it serves static files; else itself."""
    if not (isinstance(handler, type) and issubclass(handler, web.StaticFileHandler)):
        return handler
    if issubclass(handler, PrecompressedMixin):
        return handler
    return type(f"Precompressed{handler.__name__}", (PrecompressedMixin, handler), {})
