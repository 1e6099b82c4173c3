"""The rally page's back end without a kernel: one object serves every pair of a process.

:class:`RallyService` speaks the player's protocol over plain HTTP: a pair
joins with its class code and first names, gets a signed token (kept by the
page in an HttpOnly cookie), and every later message is played on its
:class:`~calculatice.player.session.PlayerSession`. Sessions live in a
bounded LRU; a pair pushed out of it (or served by another process) is
rebuilt from its answers in the store with :meth:`PlayerSession.resume`.
Each answer is committed before the reply goes back: by the store recorder
itself (:meth:`RallyService.handle`), or on PostgreSQL in a statement that
many pairs' messages share (:meth:`RallyService.play_ahead`, then
:meth:`RallyService.settle`; :mod:`calculatice.store.batched`).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from calculatice.catalogue import Bank, Exercise, load_bank
from calculatice.engines.base import Question
from calculatice.errors import StoreUnavailable
from calculatice.player.recent import RecentSessions
from calculatice.player.session import PlayerSession
from calculatice.pupil import NNBSP, StoreRecorder, clean_name, stored_answers
from calculatice.rally.definition import RallyDefinition
from calculatice.rally.organise import RallyRound, is_open, round_for_class
from calculatice.seances import normalise_code
from calculatice.store.batched import PendingWrites, PostgresBatches
from calculatice.store.database import is_outage
from calculatice.store.models import utc_now

log = logging.getLogger(__name__)

MAX_SESSIONS = 5000
"""Pairs kept in memory per process; beyond, the least recently seen is rebuilt when it returns."""
STATUS_SECONDS = 2.0
"""How long a rally's open or closed state is trusted before the store is asked again."""

PROBLEMS = {
    "code": f"Ce code ne correspond à aucune classe inscrite au rallye{NNBSP}: "
    "vérifie-le avec ton enseignant.",
    "name_empty": f"Écrivez vos deux prénoms{NNBSP}: «{NNBSP}Léa et Tom{NNBSP}».",
    "name_long": "Ces prénoms sont trop longs.",
    "name_chars": (
        "Écrivez seulement vos prénoms, avec des lettres (pas de chiffres ni de signes)."
    ),
    "internal": f"Un problème est survenu{NNBSP}: recharge la page.",
    "unavailable": f"Le serveur est occupé{NNBSP}: attends, la page réessaie toute seule…",
}


class RallyRecorder(StoreRecorder):
    """The store recorder, with the attempts marked ``rally:<edition>:<round>``."""

    def __init__(self, store, pupil_id: int, rally_round: RallyRound, seed: str) -> None:
        super().__init__(store, pupil_id, rally_round.seance, seed)
        self._context = rally_round.context
        self.progress = (0, 0)
        """Attempts and answers in the store as this process last wrote or read them."""
        self._unanswered: dict[int, int] = {}
        self._latest: int | None = None
        self._latest_answers = 0

    def restore_progress(self, attempts: Sequence[Any], records: Sequence[Any]) -> None:
        """Start counting from what the store held when the session was rebuilt.

        ``attempts`` oldest first and their answers' ``records``, as
        :func:`calculatice.pupil.stored_answers` reads them.
        """
        self.progress = (len(attempts), len(records))
        self._latest = attempts[-1].id if attempts else None
        latest_position = attempts[-1].position if attempts else None
        self._latest_answers = sum(1 for one in records if one.position == latest_position)

    def mark(self) -> tuple[int, int | None, int]:
        """Where the pair stands, cheap to check in the store: its attempts, the latest, and
        that one's answers (:class:`calculatice.store.batched.PendingWrites`).

        A process that served the pair meanwhile changed one of the three: it
        began an exercise (one more attempt) or answered in the latest one;
        answers never go to an older exercise in a rally.
        """
        return self.progress[0], self._latest, self._latest_answers

    def restore_unanswered(self, attempts: dict[int, int]) -> None:
        """Exercises begun before the rebuild with no answer yet: attempt ids by position.

        A rebuilt session does not replay them (it replays answers); when it
        begins one of them again, the attempt already stored is used.
        """
        self._unanswered = dict(attempts)

    def begun(self, position: int) -> bool:
        """Whether the exercise at this position was begun, with no answer, before the rebuild."""
        return position in self._unanswered

    def answer_given(self, position: int, record) -> None:
        super().answer_given(position, record)
        self.progress = (self.progress[0], self.progress[1] + 1)
        if self._attempt_by_position[position] == self._latest:
            self._latest_answers += 1

    def exercise_started(
        self, position: int, exercise: Exercise, questions: Sequence[Question]
    ) -> None:
        if position in self._unanswered:
            # Begun before the rebuild: the same questions (same seed), the same attempt.
            self._attempt_by_position[position] = self._unanswered.pop(position)
            return
        self._latest_answers = 0
        # One go per exercise in a rally, so the seed needs no run number.
        self.progress = (self.progress[0] + 1, self.progress[1])
        self._attempt_by_position[position] = self._store.start_attempt(
            self._pupil_id,
            exercise.id,
            seed=f"{self._seed}/{position}",
            total=len(questions),
            options=exercise.option_values(),
            seance_id=self._seance.id,
            context=self._context,
            position=position,
        )
        self._latest = self._attempt_by_position[position]


@dataclass
class _Pair:
    """A pair in memory: its session, its round, and a lock so its messages come one at a time."""

    session: PlayerSession
    recorder: RallyRecorder
    rally_round: RallyRound
    who: dict[str, str]
    lock: threading.Lock
    checked: Any = None
    """The store's change mark when the session was last found fresh (see :meth:`_fresh`)."""


@dataclass
class Ahead:
    """A message played at once on a pair's session, its writes not committed yet."""

    pupil_id: int
    pair: _Pair
    reply: dict[str, Any]
    pending: PendingWrites


class PairTokens:
    """Signed pair tokens: ``pupil.classroom.signature``, HMAC-SHA256 with a server secret.

    Every request of a pair brings its token: the ones found good are
    remembered (up to ``remembered``, then forgotten all at once), so that
    the signature is computed once per pair rather than once per request.
    """

    def __init__(self, secret: bytes, remembered: int = 4 * MAX_SESSIONS) -> None:
        self._secret = secret
        self._remembered = remembered
        self._good: dict[str, tuple[int, int]] = {}

    def sign(self, pupil_id: int, classroom_id: int) -> str:
        payload = f"{pupil_id}.{classroom_id}"
        return f"{payload}.{self._signature(payload)}"

    def read(self, token: str | None) -> tuple[int, int] | None:
        """The ``(pupil_id, classroom_id)`` a token names, or ``None`` if it is not ours."""
        known = self._good.get(token) if token else None
        if known is not None:
            return known
        if not token or token.count(".") != 2:
            return None
        payload, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature, self._signature(payload)):
            return None
        pupil, classroom = payload.split(".")
        if not (pupil.isdigit() and classroom.isdigit()):
            return None
        identity = int(pupil), int(classroom)
        if len(self._good) >= self._remembered:
            self._good.clear()
        self._good[token] = identity
        return identity

    def _signature(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]


class RallyService:
    """Every pair of one process: join, then the player's messages, each answer stored at once.

    Parameters
    ----------
    store_factory
        Opens the store (once, when first needed).
    secret
        Signs the pair tokens; the same in every process behind one address.
    bank_loader
        Loads the bank (once).
    max_sessions
        Pairs kept in memory; see :data:`MAX_SESSIONS`.
    now
        The wall-clock time, timezone-aware: the rally window is checked on it.
    clock
        The players' clock for deadlines, in seconds.

    Notes
    -----
    :meth:`handle` is thread-safe and raises nothing but
    :class:`~calculatice.errors.StoreUnavailable` (answered 503 by the HTTP
    handler); on PostgreSQL the handler runs it in a worker thread so that
    the server's loop keeps answering.
    """

    def __init__(
        self,
        store_factory: Callable[[], Any],
        secret: bytes,
        bank_loader: Callable[[], Bank] = load_bank,
        max_sessions: int = MAX_SESSIONS,
        now: Callable[[], datetime] = utc_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = PairTokens(secret)
        self._store_factory = store_factory
        self._bank_loader = bank_loader
        self._now = now
        self._clock = clock
        self._setup_lock = threading.Lock()
        self._store = None
        self._bank: Bank | None = None
        self._pairs: RecentSessions[int, _Pair] = RecentSessions(max_sessions)
        self._rounds: dict[int, RallyRound | None] = {}
        self._status: dict[int, tuple[float, str]] = {}
        self._classrooms: dict[str, Any] = {}
        self._backend: str | None = None
        self._batches: PostgresBatches | None = None
        self.rebuilt = 0
        """Sessions of pairs already known rebuilt from the store (a pair new at its join is not
        counted): a restart, a pair served by another process, a session pushed out of memory."""

    @property
    def sessions_in_memory(self) -> int:
        """How many pairs are held in memory now."""
        return len(self._pairs)

    def handle(self, token: str | None, message: Any) -> tuple[dict[str, Any], str | None]:
        """Answer one message; returns the reply and the pair token to keep.

        The token returned is ``""`` when the page must forget it (the pair
        left), the same token otherwise, ``None`` when there is none.

        Raises
        ------
        StoreUnavailable
            The database could not be reached (a restart of PostgreSQL, an
            SQLite file locked past its busy timeout). The pair's session in
            memory is dropped, as the message may have moved it on without its
            answer being stored; the same message sent again is played on a
            session rebuilt from the store. Any other failure is a reply.
        """
        try:
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "join":
                return self._join(message)
            if kind == "leave":
                return {"screen": "join"}, ""
            return self._play(token, message)
        except Exception as error:
            if not is_outage(error):
                log.exception("Rally page failed on a message of type %r", _kind(message))
                return {"screen": "join", "error": PROBLEMS["internal"]}, token
            log.warning(
                "Rally message of type %r not played, the database is unavailable: %s",
                _kind(message),
                error,
            )
            identity = self.tokens.read(token)
            pair = None if identity is None else self._pairs.get(identity[0])
            if pair is not None:
                self._pairs.discard(identity[0], pair)
            raise StoreUnavailable(str(error)) from error

    @property
    def backend(self) -> str | None:
        """The store's database (``sqlite``, ``postgresql``), ``None`` until the service is ready.

        Ready means the store open and the bank loaded (:meth:`warm_up`): until
        then the HTTP handler sends every message to its threads, so that the
        server's loop never waits on the setup lock while the bank loads.
        """
        return self._backend

    def warm_up(self) -> None:
        """Open the store and load the bank now, so that the first pairs do not wait for them.

        The server calls it in a thread of its own when it starts: on a rally
        morning the first joins come by the hundred within seconds.
        """
        try:
            self._resources()
        except Exception:
            # The first message will try again, and say what went wrong.
            log.exception("The rally page could not open its store or load the bank")

    def play_ahead(self, token: str | None, message: Any) -> Ahead | None:
        """Play a message at once on a pair's session in memory, keeping its writes for a batch.

        The server's loop does this on PostgreSQL (:mod:`calculatice.store.batched`):
        the session moves on now, its writes are kept, and :meth:`settle` commits
        them with other pairs' before the reply may go out. The pair's lock is
        held until then. ``None`` when the message must go the ordinary way
        (:meth:`handle`, in a worker thread): a join or a leave, a token that is
        not good, a pair not in memory or busy with another message, a store
        other than PostgreSQL, a service not warmed up yet.

        Raises
        ------
        StoreUnavailable
            Ids for new attempts could not be drawn; the pair's session is dropped.
        """
        batches = self._batches
        if batches is None or not isinstance(message, dict):
            return None
        if message.get("type") in ("join", "leave"):
            return None
        identity = self.tokens.read(token)
        pair = None if identity is None else self._pairs.get(identity[0])
        if pair is None or not pair.lock.acquire(blocking=False):
            return None
        pupil_id = identity[0]
        try:
            pending = PendingWrites(
                batches, pupil_id, pair.rally_round.seance.id, pair.recorder.mark()
            )
            with pair.recorder.writing_to(pending):
                reply = self._handle(pair, message)
        except BaseException as error:
            self._pairs.discard(pupil_id, pair)
            pair.lock.release()
            if is_outage(error):
                raise StoreUnavailable(str(error)) from error
            raise
        return Ahead(pupil_id, pair, reply, pending)

    async def settle(self, ahead: Ahead) -> dict[str, Any] | None:
        """Commit the writes of a message played ahead; its reply once they are written.

        ``None`` when they were not written because the pair moved on in another
        process: the session is dropped, and :meth:`handle` must play the
        message again (on a session rebuilt from the store).

        Raises
        ------
        StoreUnavailable
            The database could not be reached; the session is dropped, as for
            :meth:`handle`.
        """
        pair = ahead.pair
        try:
            written = await ahead.pending.batches.commit(ahead.pending)
        except BaseException:
            self._pairs.discard(ahead.pupil_id, pair)
            pair.lock.release()
            raise
        if not written:
            log.info("Pair %s moved on elsewhere: rebuilding its session", ahead.pupil_id)
            self._pairs.discard(ahead.pupil_id, pair)
        pair.lock.release()
        return ahead.reply if written else None

    # Steps.

    def _join(self, message: dict) -> tuple[dict[str, Any], str | None]:
        try:
            name, is_pair = clean_name(message.get("name"))
        except ValueError as problem:
            return _join_screen(str(problem), "name"), None
        store, _bank = self._resources()
        classroom = self._classroom(store, normalise_code(str(message.get("code") or "")))
        rally_round = None if classroom is None else self._round_of(classroom)
        if rally_round is None:
            return _join_screen("code", "code"), None
        closed = self._closed_message(rally_round)
        if closed is not None:
            return {"screen": "join", "error": closed, "field": "code"}, None
        known = _same_name(store.pupil_names(classroom.id), name)
        new = known is None
        if new:
            pupil = store.add_pupil(classroom.id, name, is_pair=is_pair)
            known = pupil.id, pupil.display_name
        pupil_id, display_name = known
        log.info("Pair %s joined rally %s", pupil_id, rally_round.rally.edition)
        token = self.tokens.sign(pupil_id, classroom.id)
        reply = None if new else self._on_cached(pupil_id, {"type": "state"})
        if reply is None:
            pair = self._rebuild(pupil_id, rally_round, display_name, new=new)
            with pair.lock:
                reply = {**pair.session.handle({"type": "state"}), "who": pair.who}
        return reply, token

    def _play(self, token: str | None, message: Any) -> tuple[dict[str, Any], str | None]:
        identity = self.tokens.read(token)
        if identity is None:
            return {"screen": "join"}, None
        pupil_id, classroom_id = identity
        reply = self._on_cached(pupil_id, message)
        if reply is not None:
            return reply, token
        store, _bank = self._resources()
        classroom = store.classroom(classroom_id)
        rally_round = None if classroom is None else self._round_of(classroom)
        pupil = store.pupil(pupil_id) if rally_round is not None else None
        if pupil is None or pupil.classroom_id != classroom_id:
            return {"screen": "join"}, ""
        pair = self._rebuild(pupil_id, rally_round, pupil.display_name, message)
        with pair.lock:
            return self._handle(pair, message), token

    def _on_cached(self, pupil_id: int, message: Any) -> dict[str, Any] | None:
        """The reply of the session in memory, or ``None`` when there is none or it is stale."""
        pair = self._pairs.get(pupil_id)
        if pair is None:
            return None
        with pair.lock:
            if not self._fresh(pupil_id, pair):
                return None
            return self._handle(pair, message)

    def _handle(self, pair: _Pair, message: Any) -> dict[str, Any]:
        """Play one message on a pair's session (its lock held), if the rally is open."""
        closed = self._closed_message(pair.rally_round)
        if closed is not None:
            return {"screen": "join", "error": closed, "field": "code"}
        return {**pair.session.handle(message), "who": pair.who}

    def _fresh(self, pupil_id: int, pair: _Pair) -> bool:
        """Whether the session in memory is still where the store says the pair is.

        Another process behind the same address may have served the pair
        meanwhile (a join lands anywhere): one count query tells, and a stale
        session is dropped and rebuilt rather than played on. On SQLite the
        query is skipped while nothing but this thread's own writes (counted
        by the recorder) reached the database since the last one agreed.
        """
        store = self._store if self._store is not None else self._resources()[0]
        mark = store.change_mark()
        if mark is not None and mark == pair.checked:
            return True
        stored = store.progress_of(pupil_id, pair.rally_round.seance.id)
        if stored == pair.recorder.progress:
            pair.checked = mark
            return True
        log.info("Pair %s moved on elsewhere: rebuilding its session", pupil_id)
        self._pairs.discard(pupil_id, pair)
        return False

    def _rebuild(
        self,
        pupil_id: int,
        rally_round: RallyRound,
        name: str,
        message: Any = None,
        new: bool = False,
    ) -> _Pair:
        """The pair's session rebuilt from its answers in the store, and kept in memory.

        ``message`` is the one the session is rebuilt for: see :func:`_catch_up`.
        A ``new`` pair, added by this very join, has no answers to read.
        """
        store, _bank = self._resources()
        seed = rally_round.seed_for(pupil_id)
        recorder = RallyRecorder(store, pupil_id, rally_round, seed)
        if new:
            attempts, records = [], []
        else:
            attempts, records = stored_answers(store, pupil_id, rally_round.seance.id)
            self.rebuilt += 1
        recorder.restore(attempts)
        recorder.restore_progress(attempts, records)
        answered = {record.position for record in records}
        recorder.restore_unanswered(
            {one.position: one.id for one in attempts if one.position not in answered}
        )
        session = PlayerSession.resume(
            rally_round.round.exercises, seed, recorder, records, self._clock
        )
        stored = {record.client_key for record in records}
        if isinstance(message, dict) and message.get("key") not in stored:
            _catch_up(session, recorder, message)
        # Shown with textContent by the page: a name is never markup.
        who = {"name": name, "seance": rally_round.seance.title}
        pair = _Pair(session, recorder, rally_round, who, threading.Lock())
        self._pairs.put(pupil_id, pair)
        return pair

    def _classroom(self, store, code: str):
        """The class with this code, or ``None``; a class found is kept for the process's life.

        A class's code never changes once given, and a rally's classes are not
        removed while it runs. Codes not found are asked again each time: a
        class registered late must be found at once.
        """
        classroom = self._classrooms.get(code)
        if classroom is None:
            classroom = store.classroom_by_code(code)
            if classroom is not None:
                self._classrooms[code] = classroom
        return classroom

    def _round_of(self, classroom) -> RallyRound | None:
        # A registration never changes once made: cached for the life of the process.
        if classroom.id not in self._rounds:
            store, bank = self._resources()
            self._rounds[classroom.id] = round_for_class(store, bank, classroom)
        return self._rounds[classroom.id]

    def _closed_message(self, rally_round: RallyRound) -> str | None:
        """``None`` while pairs may play, else the French reason."""
        rally = rally_round.rally
        moment = self._clock()
        cached = self._status.get(rally.id)
        if cached is None or moment - cached[0] > STATUS_SECONDS:
            store, _bank = self._resources()
            cached = (moment, store.rally(rally.id).status)
            self._status[rally.id] = cached
        current = _with_status(rally, cached[1])
        if is_open(current, rally_round.definition, self._now()):
            return None
        return closed_text(rally_round.definition, current.status, self._now())

    def _resources(self):
        with self._setup_lock:
            if self._store is None:
                self._store = self._store_factory()
            if self._bank is None:
                self._bank = self._bank_loader()
                # The bank and the modules are loaded for good: keep the garbage
                # collector from walking them again at every full collection. A request
                # allocates hundreds of objects that its end frees without the collector:
                # collecting the youngest every 50,000 allocations rather than 700 costs a
                # request 7 % less CPU (benchmarks/README.md, rally_cpu.py).
                gc.freeze()
                gc.set_threshold(50_000, 20, 20)
            self._backend = self._store.engine.dialect.name
            self._batches = self._store.batched_writes()
            return self._store, self._bank

    def close(self) -> None:
        """Close the store, if it was opened."""
        if self._store is not None:
            self._store.close()


def _catch_up(session: PlayerSession, recorder: RallyRecorder, message: Any) -> None:
    """Press again the buttons a rebuilt session lost, when the page's answer shows them pressed.

    "Suite", "Exercice suivant" and "Commencer" are not stored (beginning an
    exercise stores an attempt, but a rebuilt session replays answers): a
    session rebuilt after a restart (or in another process) shows the last
    answered question's feedback again. An answer can only come from a
    question's screen, so the page had moved on: the session moves on too,
    as far as the store shows the pair went (into an exercise it began), and
    the answer counts instead of being refused; likewise "Exercice suivant"
    and "Commencer" find the screens they were pressed on. Not for a retried
    answer (its key is in the store): it gets its first reply. A page that
    drew those screens itself (from a reply's ``"then"``) says so in its
    answer's ``"suite"``, and the session follows it past what the store
    shows: into an exercise not begun yet, begun by that answer.
    """
    kind = message.get("type") if isinstance(message, dict) else None
    if kind not in ("answer", "continue", "begin"):
        return
    for _ in range(3):
        shown = session.handle({"type": "state"})
        screen, following = shown["screen"], session.position + 1
        if (kind, screen) in (("continue", "result"), ("begin", "title")):
            return
        if screen == "feedback" and shown.get("question_done"):
            finished = shown.get("exercise_done")
            if not finished and kind != "answer":
                return
            if finished and kind == "answer" and not recorder.begun(following):
                return
            session.handle({"type": "next"})
        elif screen == "result" and shown.get("has_next"):
            if kind == "continue" or (kind == "answer" and not recorder.begun(following)):
                return
            session.handle({"type": "continue"})
        elif screen == "title" and kind == "answer" and recorder.begun(session.position):
            session.handle({"type": "begin"})
        else:
            return


def closed_text(definition: RallyDefinition, status: str, now: datetime) -> str:
    """Why pairs cannot play now, in French, with the rally's dates."""
    window = definition.window
    dates = f"du {_moment(window.opens)} au {_moment(window.closes)}"
    if status == "closed" or now >= window.closes:
        return (
            f"Le rallye est terminé{NNBSP}: il avait lieu {dates}. "
            f"Bravo pour votre travail{NNBSP}!"
        )
    return f"Le rallye n'est pas encore ouvert{NNBSP}: il aura lieu {dates}."


def _moment(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y} à {moment.hour}{NNBSP}h{moment:%M}"


def _with_status(rally, status: str):
    return rally if rally.status == status else replace(rally, status=status)


def _same_name(pupils: Sequence[tuple[int, str]], name: str) -> tuple[int, str] | None:
    """Of a class's ``(id, name)``, the first named exactly ``name``, else the first named so in
    other case, or ``None``.

    « Léa et Tom » who typed « léa et tom » after a reload is the same pair.
    """
    exact = next((pupil for pupil in pupils if pupil[1] == name), None)
    if exact is not None:
        return exact
    wanted = name.casefold()
    return next((pupil for pupil in pupils if pupil[1].casefold() == wanted), None)


def _join_screen(problem: str, field: str) -> dict[str, Any]:
    return {"screen": "join", "error": PROBLEMS[problem], "field": field}


def _kind(message: Any) -> Any:
    return message.get("type") if isinstance(message, dict) else type(message).__name__
