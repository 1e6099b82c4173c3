"""The pupil page's back end: join a séance with its code and a first name, then play it.

:class:`PupilGateway` speaks the player's protocol with one more screen in
front, ``join``. Every answer goes to the store as it is given
(:class:`StoreRecorder`); a pupil who reloads the page and joins again with
the same name is put back where they were, from the answers in the store.

The steps of a join (:func:`read_name`, :func:`admit`, :func:`resume_session`)
serve both the gateway, which plays one pupil in the page's own kernel, and
:class:`~calculatice.pupil_service.PupilService`, which plays every pupil of
``calculatice serve`` while their kernels only relay
(:mod:`calculatice.pupil_relay`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from calculatice.catalogue import Bank, Exercise, default_bank_folder, load_bank, load_exercise
from calculatice.engines.base import Question
from calculatice.errors import CalculaticeError, StoreUnavailable
from calculatice.player.session import AnswerRecord, PlayerSession
from calculatice.scoring import Result
from calculatice.seances import Seance, SeanceError, open_seance
from calculatice.store.database import is_outage

log = logging.getLogger(__name__)

NNBSP = "\u202f"
NAME_MAX = 40
# Letters of any alphabet, joined by single spaces, hyphens or apostrophes.
_NAME = re.compile(r"^[^\W\d_]+(?:[ \-'’][^\W\d_]+)*$")
_PAIR = re.compile(r"\s+(?:et|&)\s+", re.IGNORECASE)
_EXERCISE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")

JOIN_PROBLEMS = {
    "code": f"Ce code ne correspond à aucune séance{NNBSP}: vérifie-le avec ton enseignant.",
    "name_empty": f"Écris ton prénom (ou vos deux prénoms{NNBSP}: «{NNBSP}Léa et Tom{NNBSP}»).",
    "name_long": f"Ce prénom est trop long{NNBSP}: {NAME_MAX} lettres au plus.",
    "name_chars": "Écris seulement ton prénom, avec des lettres (pas de chiffres ni de signes).",
    "closed": "Cette séance n'est pas ouverte aux élèves.",
    "broken": f"Cette séance ne peut pas démarrer{NNBSP}: préviens ton enseignant.",
    "internal": f"Un problème est survenu{NNBSP}: recharge la page.",
}


def clean_name(typed: Any) -> tuple[str, bool]:
    """A first name (or two, for a pair) as typed, tidied; raises ``ValueError`` with a key.

    Returns the name to show and whether it names a pair (« Léa et Tom »).
    The error's argument is a key of :data:`JOIN_PROBLEMS`.
    """
    name = " ".join(str(typed or "").split())
    if not name:
        raise ValueError("name_empty")
    if len(name) > NAME_MAX:
        raise ValueError("name_long")
    parts = _PAIR.split(name)
    if not all(_NAME.match(part) for part in parts):
        raise ValueError("name_chars")
    return " et ".join(parts), len(parts) > 1


class ExerciseFiles:
    """The bank read one exercise at a time, as a séance asks for them.

    Loading the whole bank checks every file and draws sample questions from
    each: about a second of CPU, paid by every pupil's kernel when the class
    joins at once. A séance needs only its own exercises: each is read from
    the file named after it (the bank requires ``<id>.yaml``) and checked as
    the bank checks it. Anything else (no such file, two of them) is left to
    the whole bank, so that the answer is always the bank's.

    Parameters
    ----------
    folder
        The bank folder; by default :func:`~calculatice.catalogue.default_bank_folder`.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_bank_folder()
        self._exercises: dict[str, Exercise] = {}
        self._bank: Bank | None = None

    def get(self, exercise_id: str) -> Exercise:
        """The exercise with this id, as :meth:`Bank.get` gives it."""
        if exercise_id not in self._exercises:
            self._exercises[exercise_id] = self._read(exercise_id)
        return self._exercises[exercise_id]

    def _read(self, exercise_id: str) -> Exercise:
        found = (
            sorted(self.folder.rglob(f"{exercise_id}.yaml"))
            if _EXERCISE_ID.match(exercise_id)
            else []
        )
        if len(found) == 1:
            exercise = load_exercise(found[0])
            if exercise.id == exercise_id:
                return exercise
        if self._bank is None:
            self._bank = load_bank(self.folder)
        return self._bank.get(exercise_id)


class StoreRecorder:
    """Writes what a :class:`PlayerSession` tells into the store, one commit per event."""

    def __init__(self, store, pupil_id: int, seance: Seance, seed: str) -> None:
        self._store = store
        self._pupil_id = pupil_id
        self._seance = seance
        self._seed = seed
        self._attempt_by_position: dict[int, int] = {}
        self._runs: dict[int, int] = {}

    @contextmanager
    def writing_to(self, writes) -> Iterator[None]:
        """Send the events to ``writes`` rather than to the store for a while.

        ``writes`` has the store's ``start_attempt``, ``record_answer`` and
        ``finish_attempt``: the rally's group commit on PostgreSQL
        (:class:`calculatice.store.batched.PendingWrites`) keeps one message's
        rows there and writes them with other pairs' in one statement.
        """
        store, self._store = self._store, writes
        try:
            yield
        finally:
            self._store = store

    def restore(self, attempts: Sequence[Any]) -> None:
        """Continue after a reload: later answers go to the latest attempt of each exercise."""
        for attempt in attempts:
            self._attempt_by_position[attempt.position] = attempt.id
            self._runs[attempt.position] = self._runs.get(attempt.position, 0) + 1

    def exercise_started(
        self, position: int, exercise: Exercise, questions: Sequence[Question]
    ) -> None:
        run = self._runs.get(position, 0) + 1
        self._runs[position] = run
        seed = f"{self._seed}/{position}" + (f"/{run}" if run > 1 else "")
        self._attempt_by_position[position] = self._store.start_attempt(
            self._pupil_id,
            exercise.id,
            seed=seed,
            total=len(questions),
            options=exercise.option_values(),
            seance_id=self._seance.id,
            position=position,
        )

    def answer_given(self, position: int, record: AnswerRecord) -> None:
        self._store.record_answer(
            self._attempt_by_position[position],
            question_index=record.question_index,
            attempt_number=record.attempt_number,
            question_shown=record.question_shown,
            expected=record.expected,
            typed=record.typed,
            read_as=record.read_as,
            outcome=record.outcome,
            response_ms=record.response_ms,
            client_key=record.client_key,
        )

    def exercise_finished(self, position: int, result: Result) -> None:
        self._store.finish_attempt(
            self._attempt_by_position[position],
            score=result.score,
            total=result.total,
            duration_ms=round(result.seconds * 1000),
        )


def stored_answers(store, pupil_id: int, seance_id: int) -> tuple[list[Any], list[AnswerRecord]]:
    """The pupil's attempts at a séance and their answers, as the player records them."""
    attempts = store.attempts_of(pupil_id, seance_id)
    answers: dict[int, list[Any]] = {}
    for answer in store.answers_in_seance(pupil_id, seance_id):
        answers.setdefault(answer.attempt_id, []).append(answer)
    records: list[AnswerRecord] = []
    runs: dict[int, int] = {}
    for attempt in attempts:
        runs[attempt.position] = runs.get(attempt.position, 0) + 1
        for answer in answers.get(attempt.id, ()):
            records.append(
                AnswerRecord(
                    position=attempt.position,
                    question_index=answer.question_index,
                    attempt_number=answer.attempt_number,
                    question_shown=answer.question_shown,
                    expected=answer.expected,
                    typed=answer.typed,
                    read_as=answer.read_as,
                    outcome=answer.outcome,
                    response_ms=answer.response_ms,
                    client_key=answer.client_key,
                    play=runs[attempt.position],
                    timer=answer.outcome == "timeout",
                )
            )
    return attempts, records


class JoinRefused(Exception):
    """A join the page refuses: the key of :data:`JOIN_PROBLEMS` and the field to fix."""

    def __init__(self, problem: str, field: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = field

    def reply(self) -> dict[str, Any]:
        """The join screen again, with the problem in French."""
        return {"screen": "join", "error": JOIN_PROBLEMS[self.problem], "field": self.field}


def read_name(message: dict) -> tuple[str, bool]:
    """The name a join message gives, tidied (:func:`clean_name`); raises :class:`JoinRefused`."""
    try:
        return clean_name(message.get("name"))
    except ValueError as problem:
        raise JoinRefused(str(problem), "name") from None


def admit(store, bank: Bank | ExerciseFiles, typed_code: Any, name: str, is_pair: bool):
    """The séance a typed code opens and its pupil of that name, added if new.

    Returns ``(seance, pupil)``; raises :class:`JoinRefused` when the code
    names no séance, a séance closed to pupils or one that cannot be built.
    """
    try:
        seance = open_seance(store, bank, str(typed_code or ""))
    except (SeanceError, CalculaticeError):
        log.exception("Séance %r cannot be built", typed_code)
        raise JoinRefused("broken", "code") from None
    if seance is None:
        raise JoinRefused("code", "code")
    if seance.classroom_id is None:
        raise JoinRefused("closed", "code")
    wanted = name.casefold()
    for pupil in store.pupils_of(seance.classroom_id):
        if pupil.display_name.casefold() == wanted:
            return seance, pupil
    return seance, store.add_pupil(seance.classroom_id, name, is_pair=is_pair)


def resume_session(
    store, seance: Seance, pupil_id: int, clock: Callable[[], float]
) -> PlayerSession:
    """The pupil's session of a séance, rebuilt from their answers in the store."""
    seed = f"{seance.code}/{pupil_id}"
    recorder = StoreRecorder(store, pupil_id, seance, seed)
    attempts, records = stored_answers(store, pupil_id, seance.id)
    recorder.restore(attempts)
    return PlayerSession.resume(seance.exercises, seed, recorder, records, clock)


def who(name: str, seance: Seance) -> dict[str, str]:
    """The pupil and séance shown above the player (``who`` in every reply once joined)."""
    # Shown with textContent by the page: a name is never markup.
    return {"name": name, "seance": seance.title}


class PupilGateway:
    """One pupil page's whole protocol: ``join`` first, then the player's messages.

    Never raises from :meth:`handle`: problems become a French ``error`` on
    the current screen, and are logged. The server serves every pupil of a
    process with :class:`~calculatice.pupil_service.PupilService` instead;
    this one plays in the page's own kernel (a notebook opened outside
    ``calculatice serve``).
    """

    def __init__(
        self,
        store_factory: Callable[[], Any],
        bank_loader: Callable[[], Bank | ExerciseFiles] = load_bank,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store_factory = store_factory
        self._bank_loader = bank_loader
        self._clock = clock
        self._store = None
        self._session: PlayerSession | None = None
        self._who: dict[str, str] = {}
        self._joined: tuple[Seance, int] | None = None
        self._stale = False

    @property
    def screen(self) -> str:
        """The screen the pupil is on: ``join`` until a séance is joined."""
        return self._session.screen if self._session is not None else "join"

    def handle(self, message: Any) -> dict[str, Any]:
        """Answer one message from the browser with the screen to draw."""
        try:
            if isinstance(message, dict) and message.get("type") == "join":
                return self._join(message)
            if self._session is None:
                return {"screen": "join"}
            if self._stale:
                self._rebuild()
            return {**self._session.handle(message), "who": self._who}
        except StoreUnavailable:
            log.warning("Pupil page: the database is unavailable, %r not played", message)
            # The session may be part-way through the message: rebuilt from the store
            # before the next one.
            self._stale = self._session is not None
            return {"screen": self.screen, "error": JOIN_PROBLEMS["internal"]}
        except Exception:
            log.exception("Pupil page failed on %r", message)
            return {"screen": self.screen, "error": JOIN_PROBLEMS["internal"]}

    def _rebuild(self) -> None:
        seance, pupil_id = self._joined
        try:
            self._session = resume_session(self._store, seance, pupil_id, self._clock)
        except Exception as error:
            if is_outage(error):
                raise StoreUnavailable(str(error)) from error
            raise
        self._stale = False

    def _join(self, message: dict) -> dict[str, Any]:
        try:
            name, is_pair = read_name(message)
            if self._store is None:
                self._store = self._store_factory()
            seance, pupil = admit(
                self._store, self._bank_loader(), message.get("code"), name, is_pair
            )
        except JoinRefused as refused:
            return refused.reply()
        self._session = resume_session(self._store, seance, pupil.id, self._clock)
        self._joined, self._stale = (seance, pupil.id), False
        self._who = who(pupil.display_name, seance)
        log.info("Pupil %s joined séance %s", pupil.id, seance.code)
        return {**self._session.handle({"type": "state"}), "who": self._who}


def pupil_page():
    """The pupil page's one widget, played in this kernel: the player, behind the join screen.

    What :func:`calculatice.pupil_relay.pupil_page` (``dashboards/eleve.ipynb``)
    falls back to outside ``calculatice serve``. The store is opened without
    migrating (the server did) and only when a pupil joins, so a preheated
    kernel waits with nothing open. Only the séance's exercises are read
    (:class:`ExerciseFiles`), so that a class joining at once does not load
    the whole bank thirty times over.
    """
    from calculatice.numbers import write_number
    from calculatice.player.widget import PlayerWidget
    from calculatice.store import connect_store

    logging.basicConfig(level=logging.WARNING)
    # Babel reads its French number data on first use: let the preheated kernel pay for it,
    # not the join of a whole class at once.
    write_number(1000)
    return PlayerWidget(PupilGateway(connect_store, ExerciseFiles))
