"""The pupil page's back end for every pupil of a server: the kernels only relay to it.

:class:`PupilService` speaks the protocol of
:class:`~calculatice.pupil.PupilGateway` (``join`` with a séance code and a
first name, then the player's messages, ``who`` in every reply), for all the
pupils of one ``calculatice serve`` at once. A join returns a signed token
naming the pupil and the séance; the pupil's kernel sends it with every
later message (:mod:`calculatice.pupil_relay`). Sessions live in a bounded
LRU; a token whose session is not in memory has it rebuilt from the answers
in the store, as a reload would. A join always rebuilds from the store, as
a new kernel would have, so a reloaded page lands where it does with the
gateway.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calculatice.catalogue import Bank
from calculatice.errors import StoreUnavailable
from calculatice.player.recent import RecentSessions
from calculatice.player.session import PlayerSession
from calculatice.pupil import (
    JOIN_PROBLEMS,
    ExerciseFiles,
    JoinRefused,
    admit,
    read_name,
    resume_session,
    who,
)
from calculatice.rally.service import PairTokens
from calculatice.seances import Seance, open_seance
from calculatice.store.database import is_outage

log = logging.getLogger(__name__)

MAX_SESSIONS = 500
"""Pupils kept in memory (about 0.25 MB each): many classes at once; beyond, the least
recently seen is rebuilt from the store when they come back."""


@dataclass
class _Seat:
    """A pupil at a séance in memory; the lock makes their messages come one at a time."""

    session: PlayerSession
    who: dict[str, str]
    lock: threading.Lock


class PupilService:
    """The pupil page of every kernel of a server, each answer in the store before its reply.

    Parameters
    ----------
    store_factory
        Called once, on the first message, to open the store.
    secret
        The key of the tokens' signatures; random by default: tokens live
        as long as the process, and so do the kernels that hold them.
    bank_loader
        Called once for what séances read their exercises from: by default
        the séance's own files (:class:`~calculatice.pupil.ExerciseFiles`).
    max_sessions
        Pupils kept in memory; see :data:`MAX_SESSIONS`.
    clock
        The players' clock for deadlines, in seconds.

    Notes
    -----
    :meth:`handle` is thread-safe and raises nothing but
    :class:`~calculatice.errors.StoreUnavailable` (answered 503 by the HTTP
    handler); the handler runs it in worker threads.
    """

    def __init__(
        self,
        store_factory: Callable[[], Any],
        secret: bytes | None = None,
        bank_loader: Callable[[], Bank | ExerciseFiles] = ExerciseFiles,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = PairTokens(secret if secret is not None else secrets.token_bytes(32))
        self._store_factory = store_factory
        self._bank_loader = bank_loader
        self._clock = clock
        self._setup_lock = threading.Lock()
        self._opened: tuple[Any, Bank | ExerciseFiles] | None = None
        self._seats: RecentSessions[tuple[int, int], _Seat] = RecentSessions(max_sessions)

    @property
    def sessions_in_memory(self) -> int:
        """How many pupils are held in memory now."""
        return len(self._seats)

    def handle(self, token: str | None, message: Any) -> tuple[dict[str, Any], str | None]:
        """Answer one message; returns the reply and the token to keep.

        The token returned is a new one after a join, ``""`` when the kernel
        must forget its token (the séance is gone), ``None`` to keep it as
        it is.

        Raises
        ------
        StoreUnavailable
            The database could not be reached; the pupil's session in memory
            is dropped, to be rebuilt from the store. Any other failure is a
            reply.
        """
        identity = None
        try:
            if isinstance(message, dict) and message.get("type") == "join":
                return self._join(message)
            identity = self.tokens.read(token)
            if identity is None:
                return {"screen": "join"}, None
            seat = self._seat(identity)
            if seat is None:
                return {"screen": "join"}, ""
            with seat.lock:
                return {**seat.session.handle(message), "who": seat.who}, None
        except Exception as error:
            kind = message.get("type") if isinstance(message, dict) else type(message).__name__
            if is_outage(error):
                log.warning("Pupil message of type %r not played: database unavailable", kind)
                # The session may be part-way through the message: rebuilt from the store
                # when the pupil sends it again.
                seat = None if identity is None else self._seats.get(identity)
                if seat is not None:
                    self._seats.discard(identity, seat)
                raise StoreUnavailable(str(error)) from error
            log.exception("Pupil page failed on a message of type %r", kind)
            # The player's session raises nothing else: what failed is a join or a
            # rebuild, so the pupil is back on the join screen, whose button tries again.
            return {"screen": "join", "error": JOIN_PROBLEMS["internal"]}, None

    def warm_up(self) -> None:
        """Open the store and read French number names now, not when a class joins at once."""
        from calculatice.numbers import write_number

        self._resources()
        write_number(1000)

    def close(self) -> None:
        """Close the store, if it was opened."""
        if self._opened is not None:
            self._opened[0].close()

    def _join(self, message: dict) -> tuple[dict[str, Any], str | None]:
        try:
            name, is_pair = read_name(message)
            store, bank = self._resources()
            seance, pupil = admit(store, bank, message.get("code"), name, is_pair)
        except JoinRefused as refused:
            return refused.reply(), None
        seat = self._keep((pupil.id, seance.id), seance, pupil.display_name)
        log.info("Pupil %s joined séance %s", pupil.id, seance.code)
        with seat.lock:
            reply = {**seat.session.handle({"type": "state"}), "who": seat.who}
        return reply, self.tokens.sign(pupil.id, seance.id)

    def _seat(self, identity: tuple[int, int]) -> _Seat | None:
        """The pupil's seat in memory, else rebuilt from the store; ``None`` if gone."""
        seat = self._seats.get(identity)
        if seat is not None:
            return seat
        pupil_id, seance_id = identity
        store, bank = self._resources()
        pupil = store.pupil(pupil_id)
        records = store.seances_of(pupil.classroom_id) if pupil is not None else []
        codes = [record.code for record in records if record.id == seance_id]
        seance = open_seance(store, bank, codes[0]) if codes else None
        if seance is None:
            return None
        log.info("Pupil %s came back to séance %s: session rebuilt", pupil_id, seance.code)
        return self._keep(identity, seance, pupil.display_name)

    def _keep(self, identity: tuple[int, int], seance: Seance, name: str) -> _Seat:
        """A seat built from the store for this pupil and séance, kept in memory."""
        store, _bank = self._resources()
        session = resume_session(store, seance, identity[0], self._clock)
        seat = _Seat(session, who(name, seance), threading.Lock())
        self._seats.put(identity, seat)
        return seat

    def _resources(self) -> tuple[Any, Bank | ExerciseFiles]:
        with self._setup_lock:
            if self._opened is None:
                self._opened = (self._store_factory(), self._bank_loader())
            return self._opened
