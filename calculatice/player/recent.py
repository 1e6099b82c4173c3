"""Players' sessions kept in memory by a server, the least recently used dropped first.

The rally page and the pupil page's endpoint each hold the sessions of
thousands of players in one process; a session dropped here is rebuilt from
the store when its player comes back, so the bound costs time, never answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class RecentSessions(Generic[Key, Value]):
    """A thread-safe mapping of at most ``size`` entries, in order of last use.

    Parameters
    ----------
    size
        Entries kept; putting one more drops the least recently used.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Key, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Value | None:
        """The entry, now the most recently used; ``None`` if it is not kept."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Key, value: Value) -> None:
        """Keep ``value`` as the most recently used, dropping the oldest beyond the size."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def discard(self, key: Key, value: Value) -> None:
        """Forget ``key`` if it still holds this very ``value`` (not one put since)."""
        with self._lock:
            if self._entries.get(key) is value:
                del self._entries[key]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
