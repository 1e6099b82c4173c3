"""Reading the JSON message of a request to one of the server's own endpoints.

The rally page and the pupil page's endpoint take one small JSON message per
request; anything else (too large, another content type, not JSON) is refused
the same way by both, with a reply of their own.
"""

from __future__ import annotations

import json
from typing import Any

from tornado import httputil

MAX_BODY_BYTES = 16_384
"""Largest message accepted: a player's message is a few hundred bytes."""


def json_message(request: httputil.HTTPServerRequest) -> Any:
    """The JSON value a request carries, or ``None`` when it carries none that is acceptable."""
    if len(request.body) > MAX_BODY_BYTES:
        return None
    if not request.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return None
