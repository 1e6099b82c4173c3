"""The player's logic for one séance: JSON-like messages in, JSON-like replies out.

:class:`PlayerSession` knows nothing of widgets, HTTP or the database. The
browser sends one small message per action (``begin``, ``answer``…); the
session draws the questions, grades each answer with the exercise's engine,
applies the marking rules of :class:`~calculatice.scoring.ExerciseRun`, tells
a :class:`Recorder` what happened, and answers with the whole screen to
draw. The same object serves the Voilà widget and the kernel-less rally page.

Every reply carries ``"screen"`` (``title``, ``question``, ``feedback``,
``result`` or ``end``) and everything needed to draw that screen from
scratch, so that a reloaded page redraws from any reply. Nothing in a reply
gives the answer away while its question is open: questions travel as
:meth:`~calculatice.engines.base.Question.public`, and the correction only
once the question is done.

The server is the judge of time: the browser's timer only asks the server
to check its own deadlines. One moment is the page's to tell: when it drew
a question without asking. A reply whose screen the pupil leaves by a
button that records nothing carries ``"then"``, the screen that button leads
to: a feedback that ends a question, the next question (as public as ever)
or the exercise's result; a result, the next exercise's title page (not the
end: "Terminer" asks, so that a reload finds the pair there); a title page,
the exercise's first question. The page draws it at once
without a round trip ("Suite", "Exercice suivant", "Commencer"), and its
next message says, in ``"suite"``, how many milliseconds ago it drew the
last of them. The session then makes the same moves, up to the screen the
message comes from, taking that moment within what it knows: not before its
last reply was sent, not after the message came. The rally page's load is
halved by "Suite" alone (see ``benchmarks/README.md``); between exercises a
pair then sends nothing but its answers. A page whose code was altered could
claim a question was shown later than it was, gaining thinking time; it
never gains an answer, which stays on the server until the question is done.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from calculatice.catalogue import Exercise
from calculatice.engines.base import Outcome, Question, Response, Verdict
from calculatice.errors import CalculaticeError, StoreUnavailable
from calculatice.options import CommonOptions
from calculatice.scoring import STARS, ExerciseRun, Feedback, Result, Step

logger = logging.getLogger(__name__)

NNBSP = "\u202f"
"""Narrow no-break space, put before « : ; ! ? » in French."""
NBSP = "\u00a0"
"""No-break space, between a number and its unit."""

MAX_TEXT_LENGTH = 200
"""Longest text accepted in a response or a cell: far beyond any answer box."""
MAX_ITEMS = 100
"""Most items accepted in a list response (choices picked, grid cells)."""
MAX_KEY_LENGTH = 100
"""Longest client key accepted for an answer."""
LATE_TIMEOUT_SECONDS = 5.0
"""How late after a deadline the browser's time-out may come and still have its box marked.

The browser's timer fires at the deadline, give or take the network and a
busy tab; a time-out much later than that comes from a page that held the
question open, so what its box holds is not marked.
"""

ERROR_UNREADABLE = f"Message incompris{NNBSP}: recharge la page."
ERROR_NOT_NOW = "Cette action n'est pas possible sur cet écran."
ERROR_NOT_REPLAYABLE = "Cet exercice ne peut pas être recommencé."
ERROR_INTERNAL = f"Un problème est survenu{NNBSP}: recharge la page."

_MESSAGE_TYPES = ("state", "begin", "answer", "timeout", "next", "replay", "continue")
_SENT_FROM = {
    "answer": "question",
    "timeout": "question",
    "begin": "title",
    "continue": "result",
    "replay": "result",
}
"""The screen each message is sent from: how far the moves a ``"suite"`` tells of go."""

ClientMessage = dict[str, Any]
"""A message from the browser: ``{"type": ..., ...}``."""
Reply = dict[str, Any]
"""A reply to the browser: ``{"screen": ..., ...}``, JSON-ready."""


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One validation (or time-out) of one question, as the store keeps it.

    Attributes
    ----------
    position
        0-based place of the exercise in the séance.
    question_index
        0-based index of the question in the exercise.
    attempt_number
        The attempt the validation used, 1-based; 0 when it used none (an
        empty answer, or a time-out with nothing readable in the box).
    question_shown
        The question as shown: its prompt, then its flash text if any.
    expected
        The expected answer written the French way (the question's ``solution``).
    typed
        What the pupil sent, verbatim: the typed text, or the JSON of the
        index or list for choice, multi and grid questions; ``None`` when
        nothing was sent (a time-out noticed by the server).
    read_as
        The value the engine read, written back (empty when unreadable).
    outcome
        ``"right"``, ``"wrong"``, ``"empty"`` or ``"timeout"``.
    response_ms
        Milliseconds from when the question was first shown to this
        validation; ``None`` when the question was never shown (the exercise
        timer ran out before it: the question was not reached).
    client_key
        The browser's key of the validation, which makes retries harmless.
    play
        Which run of the exercise: 1 the first time, 2 after one "Recommencer"…
    timer
        Whether a timer running out produced this record, rather than "Valider".
    """

    position: int
    question_index: int
    attempt_number: int
    question_shown: str
    expected: str
    typed: str | None
    read_as: str
    outcome: str
    response_ms: int | None
    client_key: str | None
    play: int = 1
    timer: bool = False


class Recorder(Protocol):
    """What the player tells as things happen; the store implements it.

    Each method is called once, when the event happens, never when a
    session is rebuilt by :meth:`PlayerSession.resume`.
    """

    def exercise_started(
        self, position: int, exercise: Exercise, questions: Sequence[Question]
    ) -> None:
        """An exercise (or a new run of it) started, with the questions drawn for it."""

    def answer_given(self, position: int, record: AnswerRecord) -> None:
        """A question was validated or timed out."""

    def exercise_finished(self, position: int, result: Result) -> None:
        """An exercise ended (its last question done, or its timer ran out)."""


class NullRecorder:
    """A recorder that keeps nothing: for previews and trials."""

    def exercise_started(
        self, position: int, exercise: Exercise, questions: Sequence[Question]
    ) -> None:
        """Forget it."""

    def answer_given(self, position: int, record: AnswerRecord) -> None:
        """Forget it."""

    def exercise_finished(self, position: int, result: Result) -> None:
        """Forget it."""


@dataclass
class MemoryRecorder:
    """A recorder that keeps every event in lists: for tests and quick trials."""

    started: list[tuple[int, Exercise, list[Question]]] = field(default_factory=list)
    answers: list[AnswerRecord] = field(default_factory=list)
    finished: list[tuple[int, Result]] = field(default_factory=list)

    def exercise_started(
        self, position: int, exercise: Exercise, questions: Sequence[Question]
    ) -> None:
        """Keep the exercise and its questions."""
        self.started.append((position, exercise, list(questions)))

    def answer_given(self, position: int, record: AnswerRecord) -> None:
        """Keep the answer."""
        self.answers.append(record)

    def exercise_finished(self, position: int, result: Result) -> None:
        """Keep the result."""
        self.finished.append((position, result))


class _BadMessage(Exception):
    """A message the session cannot act on: French text for the pupil, English for the log."""

    def __init__(self, reason: str, french: str = ERROR_UNREADABLE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.french = french


class _ReplayMismatch(Exception):
    """A stored answer does not fit where the replay has got to."""


class PlayerSession:
    """One pupil (or pair) doing a séance: the whole protocol of the player.

    Parameters
    ----------
    exercises
        The séance's exercises, in order, overrides already applied.
    seed
        The séance's seed: exercise ``position`` draws its questions with the
        seed ``f"{seed}/{position}"``, and its ``n``-th run (after
        "Recommencer") with ``f"{seed}/{position}/{n}"``.
    recorder
        Told of every start, answer and result; :class:`NullRecorder` when ``None``.
    clock
        Returns the time in seconds; every deadline is on this clock.

    Notes
    -----
    :meth:`handle` is the only entry point once the session is built, and
    it raises nothing but the recorder's
    :class:`~calculatice.errors.StoreUnavailable`: a bad message gets the
    current screen with a French ``"error"``, and the reason is logged in
    English.
    """

    def __init__(
        self,
        exercises: Iterable[Exercise],
        seed: str,
        recorder: Recorder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exercises: tuple[Exercise, ...] = tuple(exercises)
        if not self.exercises:
            raise ValueError("a séance needs at least one exercise")
        self.seed = str(seed)
        self._recorder: Recorder = recorder if recorder is not None else NullRecorder()
        self._clock = clock
        self._replaying = False

        self._screen = "title"
        self._position = 0
        self._play = 0
        self._questions: list[Question] = []
        self._run: ExerciseRun | None = None
        self._shown_index = 0
        self._shown_at: float | None = None
        self._step: Step | None = None
        self._read_as = ""
        self._replied_at = 0.0
        self._time_up = False
        self._results: dict[int, Result] = {}
        # Questions drawn for a "then" before their run starts, by (position, play).
        self._drawn: dict[tuple[int, int], list[Question]] = {}
        # Replies already given for the current question, by client key: a retried
        # request gets the same reply. Cleared at each question, so memory stays small.
        self._replies_by_key: dict[str, Reply] = {}

    @classmethod
    def resume(
        cls,
        exercises: Iterable[Exercise],
        seed: str,
        recorder: Recorder | None,
        answers_so_far: Iterable[AnswerRecord],
        clock: Callable[[], float] = time.monotonic,
    ) -> PlayerSession:
        """Rebuild a session from its stored answers, after a page reload or a restart.

        The answers are replayed, in order, through the same rules, without
        being recorded again: the pupil lands on the screen that followed
        their last answer, with the same score, and finished exercises have
        their results. Moves that record nothing ("Suite", "Exercice
        suivant") are not stored, so the pupil may have to press the button
        again. A stored answer that does not fit (the séance changed) stops
        the replay there, with a warning in the log.

        The records hold response times, not clock times (a restarted
        process has a new clock), so the answers are replayed on a timeline
        made of those response times and ending at the resume: a timed
        exercise keeps the time spent answering, but gets back the time
        spent reading feedback and the time since the last answer.

        Parameters
        ----------
        exercises, seed, recorder, clock
            As for the constructor; the same exercises and seed as before.
        answers_so_far
            The :class:`AnswerRecord` objects recorded so far, in order.

        Returns
        -------
        PlayerSession
            The session, ready for its next message.
        """
        session = cls(exercises, seed, recorder, clock)
        session._replay(list(answers_so_far))
        return session

    @property
    def screen(self) -> str:
        """The screen the pupil is on: title, question, feedback, result or end."""
        return self._screen

    @property
    def position(self) -> int:
        """0-based place of the current exercise in the séance."""
        return self._position

    @property
    def results(self) -> dict[int, Result]:
        """The result of each finished exercise (its last run), by position."""
        return dict(self._results)

    def handle(self, message: ClientMessage) -> Reply:
        """Act on one message from the browser and return the screen to draw.

        Parameters
        ----------
        message
            ``{"type": "state" | "begin" | "answer" | "timeout" | "next" |
            "replay" | "continue", ...}``; ``answer`` carries ``response``
            and ``key``, ``timeout`` carries ``response``. Any message may
            carry ``"suite"``: the page drew a reply's ``"then"`` (and maybe
            that one's) that many milliseconds ago, and the session makes
            the moves it made ("Suite", "Exercice suivant", "Commencer"), at
            that moment, as far as the screen the message comes from.

        Returns
        -------
        dict
            The reply: ``"screen"`` and what draws it, plus ``"error"`` (French)
            when the message could not be acted on. Never raises, but
            :class:`~calculatice.errors.StoreUnavailable` from the recorder:
            the session may then be part-way through the message, and must
            be rebuilt from the store before it plays another.
        """
        now = self._clock()
        try:
            reply = self._act(message, now)
        except _BadMessage as error:
            logger.warning("Rejected a player message: %s", error.reason)
            return self._error_reply(error.french)
        except StoreUnavailable:
            # The recorder could not write: the server answers "try again" and plays
            # the message again on a session rebuilt from what the store holds.
            raise
        except Exception:
            logger.exception("The player failed on a message of type %r", _type_of(message))
            return self._error_reply(ERROR_INTERNAL)
        self._replied_at = now
        return reply

    def _act(self, message: ClientMessage, now: float) -> Reply:
        kind = _message_type(message)
        key = _client_key(message) if kind == "answer" else None
        if key is not None and key in self._replies_by_key:
            # A retried answer gets its first reply; its first copy followed any "Suite".
            return self._replies_by_key[key]
        self._follow_suite(message, kind, now)
        if kind == "answer":
            return self._answer(message, key, now)
        if kind == "timeout":
            return self._timeout(message, now)
        if self._expire_overdue(now):
            # Time ran out before this message came: the new screen answers it.
            return self._reply(now)
        return getattr(self, f"_on_{kind}")(now)

    # ------------------------------------------------------------------ messages

    def _on_state(self, now: float) -> Reply:
        return self._reply(now)

    def _on_begin(self, now: float) -> Reply:
        self._require_screen("title", "begin")
        self._start_play(now)
        return self._reply(now)

    def _follow_suite(self, message: ClientMessage, kind: str, now: float) -> None:
        """Make the moves the page made on its own, if the message says so and they are due.

        The page followed ``"then"`` from its last reply: "Suite" on a
        finished question, then maybe "Exercice suivant" and "Commencer".
        The session follows as far as the screen the message comes from (an
        answer: a question; "Recommencer": the result). The moment the page
        drew its last screen, as it says, starts the question's timer and
        the exercise's, within what the server knows: not before the last
        reply went out, not after this message came in. A message that
        carries ``"suite"`` where there is nothing left to do (a copy sent
        again, an older page) changes nothing.
        """
        if "suite" not in message:
            return
        elapsed = _suite_seconds(message["suite"])
        moment = min(now, max(self._replied_at, now - elapsed))
        target = _SENT_FROM.get(kind)
        while True:
            if self._screen == "feedback" and not self._question_open():
                self._leave_feedback(moment)
            elif self._screen == "result" and target in ("title", "question") and self._has_next:
                self._go_to_next_exercise()
            elif self._screen == "title" and target == "question":
                self._start_play(moment)
            else:
                return

    def _on_next(self, now: float) -> Reply:
        if self._screen != "feedback" or self._question_open():
            raise _BadMessage(f"'next' on the {self._screen} screen", ERROR_NOT_NOW)
        self._leave_feedback(now)
        return self._reply(now)

    def _on_replay(self, now: float) -> Reply:
        self._require_screen("result", "replay")
        if not self._exercise.common.replayable:
            raise _BadMessage(
                f"'replay' of exercise {self._position}, which is not replayable",
                ERROR_NOT_REPLAYABLE,
            )
        self._start_play(now)
        return self._reply(now)

    def _on_continue(self, now: float) -> Reply:
        self._require_screen("result", "continue")
        self._go_to_next_exercise()
        return self._reply(now)

    def _answer(self, message: ClientMessage, key: str | None, now: float) -> Reply:
        response = _response(message, required=True)
        if not self._question_open():
            raise _BadMessage(f"an answer on the {self._screen} screen", ERROR_NOT_NOW)

        verdict = self._check(response)
        # The run turns a validation that came after a deadline into a time-out.
        step = self._run.validate(verdict.outcome, now)
        timer = step.feedback is Feedback.TIMEOUT
        return self._apply_step(
            step, typed=_verbatim(response), read_as=verdict.read_as, key=key, timer=timer, now=now
        )

    def _timeout(self, message: ClientMessage, now: float) -> Reply:
        response = _response(message, required=False)
        run = self._run
        if self._question_open():
            deadline = self._open_deadline()
            if deadline is None or now < deadline:
                # The browser's timer ran ahead of the server's: the reply gives the time left.
                return self._reply(now)
            if now > deadline + LATE_TIMEOUT_SECONDS:
                # Too late to be the browser's timer: do not mark a box held open for long.
                response = None
            verdict = self._check(response) if response is not None else None
            step = run.time_out(verdict.outcome if verdict else None, now)
            read_as = verdict.read_as if verdict else ""
            return self._apply_step(
                step, typed=_verbatim(response), read_as=read_as, key=None, timer=True, now=now
            )
        if self._screen == "feedback" and run is not None and not run.finished:
            # The exercise timer also runs while the pupil reads a feedback.
            deadline = run.exercise_deadline()
            if deadline is not None and now >= deadline:
                step = run.time_out(None, now)
                return self._apply_step(
                    step, typed=None, read_as="", key=None, timer=True, now=now, shown=False
                )
        return self._reply(now)

    # ------------------------------------------------------------------ state changes

    def _start_play(self, now: float) -> None:
        """Start the current exercise, or a new run of it: draw, record, show question 1."""
        self._play += 1
        exercise = self._exercise
        drawn = self._drawn.pop((self._position, self._play), None)
        self._questions = drawn or self._draw(self._position, self._play)
        self._drawn.clear()
        self._run = ExerciseRun(exercise.common, started_at=now)
        self._time_up = False
        self._results.pop(self._position, None)
        if not self._replaying:
            self._recorder.exercise_started(self._position, exercise, list(self._questions))
        self._show_question(now)

    def _show_question(self, now: float) -> None:
        """Put the run's current question on screen; its timer starts now."""
        self._run.start_question(now)
        self._shown_index = self._run.question
        self._shown_at = now
        self._step = None
        self._read_as = ""
        self._replies_by_key.clear()
        self._screen = "question"

    def _leave_feedback(self, now: float) -> None:
        """ "Suite" after a finished question: the next question, or the result."""
        if self._run.finished:
            self._screen = "result"
        else:
            self._show_question(now)

    def _go_to_next_exercise(self) -> None:
        if self._position + 1 >= len(self.exercises):
            self._screen = "end"
            return
        self._position += 1
        self._play = 0
        self._questions = []
        self._run = None
        self._step = None
        self._screen = "title"

    def _apply_step(
        self,
        step: Step,
        *,
        typed: str | None,
        read_as: str,
        key: str | None,
        timer: bool,
        now: float,
        shown: bool = True,
    ) -> Reply:
        """Record what a validation or a time-out did and move to the screen that follows.

        ``shown`` is false for a question the exercise timer ended before it
        was shown: the pupil goes straight to the result.
        """
        question = self._questions[step.question]
        record = AnswerRecord(
            position=self._position,
            question_index=step.question,
            attempt_number=step.attempt,
            question_shown=_question_text(question),
            expected=question.solution,
            typed=typed,
            read_as=read_as,
            outcome=step.outcome,
            response_ms=_milliseconds(now - self._shown_at) if shown else None,
            client_key=key,
            play=self._play,
            timer=timer,
        )
        if not self._replaying:
            self._recorder.answer_given(self._position, record)

        self._step = step
        self._read_as = read_as
        if step.exercise_done:
            self._finish(now, time_up=timer and self._run.options.exercise_seconds > 0)
        self._screen = "feedback" if shown else "result"

        reply = self._reply(now)
        if key is not None:
            self._replies_by_key[key] = reply
        return reply

    def _finish(self, now: float, time_up: bool) -> None:
        result = self._run.result(now)
        self._results[self._position] = result
        self._time_up = time_up
        if not self._replaying:
            self._recorder.exercise_finished(self._position, result)

    def _expire_overdue(self, now: float) -> bool:
        """Apply a time-out whose deadline passed with no word from the browser.

        Returns whether it did. The grace period of
        :meth:`~calculatice.scoring.ExerciseRun.expire_if_due` leaves time for the
        browser's own time-out, which carries the answer box, to arrive first.
        """
        run = self._run
        if run is None or run.finished or self._screen not in ("question", "feedback"):
            return False
        shown = self._question_open()
        step = run.expire_if_due(None, now)
        if step is None:
            return False
        self._apply_step(step, typed=None, read_as="", key=None, timer=True, now=now, shown=shown)
        return True

    # ------------------------------------------------------------------ resuming

    def _replay(self, records: list[AnswerRecord]) -> None:
        # Each answer is replayed at the time it was given after its question was shown,
        # on a timeline that ends now; time spent on feedback screens is not stored, so
        # it is left out: durations are rebuilt a little short, never long.
        moment = self._clock() - _answering_seconds(records)
        self._replaying = True
        try:
            for number, record in enumerate(records):
                try:
                    moment = self._replay_record(record, moment)
                except (_ReplayMismatch, CalculaticeError, ValueError) as error:
                    logger.warning(
                        "Stopped replaying stored answers at record %d of %d (%s): %s",
                        number + 1,
                        len(records),
                        record,
                        error,
                    )
                    break
        finally:
            self._replaying = False

    def _replay_record(self, record: AnswerRecord, moment: float) -> float:
        """Move to where the stored answer was given, then apply it as it was applied.

        ``moment`` is when the previous answer was replayed; returns when this one was.
        """
        self._move_to(record, moment)
        run = self._run
        if record.question_index != run.question:
            raise _ReplayMismatch(
                f"the answer is for question {record.question_index}, "
                f"the replay is at question {run.question}"
            )
        if record.response_ms is not None:
            moment = max(moment, self._shown_at + record.response_ms / 1000)
        if record.timer:
            # Give time_out what it was given then, read back from what it did.
            if record.outcome == Outcome.RIGHT:
                typed = Outcome.RIGHT
            elif record.attempt_number > run.attempt:
                typed = Outcome.WRONG
            else:
                typed = None
            step = run.time_out(typed, moment)
        else:
            step = run.validate(Outcome(record.outcome), moment)
        if step.outcome != record.outcome:
            raise _ReplayMismatch(f"replayed as {step.outcome}, stored as {record.outcome}")
        self._apply_step(
            step,
            typed=record.typed,
            read_as=record.read_as,
            key=record.client_key,
            timer=record.timer,
            now=moment,
            shown=record.response_ms is not None,
        )
        return moment

    def _move_to(self, record: AnswerRecord, now: float) -> None:
        """Press the buttons the pupil pressed between two stored answers."""
        target = (record.position, record.play)
        # Each loop presses one button; a séance needs at most a few per exercise.
        for _ in range(4 * len(self.exercises) + 4):
            here = (self._position, self._play)
            if here == target and self._question_open():
                return
            if self._screen == "title" and record.position == self._position:
                self._start_play(now)
            elif self._screen == "feedback" and not self._question_open():
                if here == target and record.response_ms is None and not self._run.finished:
                    return
                self._leave_feedback(now)
            elif self._screen == "result" and record.position == self._position:
                if record.play <= self._play or not self._exercise.common.replayable:
                    break
                self._start_play(now)
            elif self._screen == "result" and record.position > self._position:
                self._go_to_next_exercise()
            else:
                break
        raise _ReplayMismatch(
            f"cannot reach exercise {record.position}, run {record.play} "
            f"from the {self._screen} screen of exercise {self._position}, run {self._play}"
        )

    # ------------------------------------------------------------------ helpers

    @property
    def _exercise(self) -> Exercise:
        return self.exercises[self._position]

    def _draw(self, position: int, play: int) -> list[Question]:
        """The questions of a run of an exercise: from its seed, the same at every draw."""
        base = f"{self.seed}/{position}"
        return self.exercises[position].questions(base if play == 1 else f"{base}/{play}")

    def _drawn_ahead(self, position: int, play: int) -> list[Question]:
        """The questions of a run a "then" shows before it starts, kept for when it does."""
        key = (position, play)
        if key not in self._drawn:
            self._drawn[key] = self._draw(position, play)
        return self._drawn[key]

    @property
    def _has_next(self) -> bool:
        return self._position + 1 < len(self.exercises)

    def _question_open(self) -> bool:
        """Whether the question on screen still takes answers (not done, not timed out)."""
        if self._screen == "question":
            return True
        step = self._step
        return self._screen == "feedback" and step is not None and not step.question_done

    def _open_deadline(self) -> float | None:
        """The earliest deadline of the open question: its own, or the exercise's."""
        deadlines = [self._run.question_deadline(), self._run.exercise_deadline()]
        present = [deadline for deadline in deadlines if deadline is not None]
        return min(present) if present else None

    def _require_screen(self, screen: str, kind: str) -> None:
        if self._screen != screen:
            raise _BadMessage(f"{kind!r} on the {self._screen} screen", ERROR_NOT_NOW)

    def _check(self, response: Response | None) -> Verdict:
        question = self._questions[self._shown_index]
        return self._exercise.engine_object().check(question, response)

    # ------------------------------------------------------------------ replies

    def _reply(self, now: float) -> Reply:
        builders = {
            "title": self._title_reply,
            "question": self._question_reply,
            "feedback": self._feedback_reply,
            "result": self._result_reply,
            "end": self._end_reply,
        }
        return builders[self._screen](now)

    def _error_reply(self, french: str) -> Reply:
        try:
            reply = self._reply(self._clock())
        except Exception:
            logger.exception("The player could not draw its %s screen", self._screen)
            reply = {"screen": self._screen}
        return {**reply, "error": french}

    def _header(self, position: int | None = None, play: int | None = None) -> dict[str, Any]:
        """The exercise's part of a screen: the current one, or another a "then" leads to."""
        position = self._position if position is None else position
        exercise = self.exercises[position]
        return {
            "title": exercise.title,
            "instructions": exercise.instructions,
            "position": position,
            "number": position + 1,
            "count": len(self.exercises),
            "play": self._play if play is None else play,
        }

    def _title_reply(self, now: float, position: int | None = None) -> Reply:
        """The title page of the current exercise, or of exercise ``position`` (a "then")."""
        position = self._position if position is None else position
        common = self.exercises[position].common
        return {
            "screen": "title",
            "exercise": {
                **self._header(position, 0),
                "questions": common.questions,
                "attempts": common.attempts,
                "timing": timing_text(common),
            },
            "then": self._opening_reply(position),
        }

    def _opening_reply(self, position: int) -> Reply:
        """What "Commencer" leads to, drawn by the page without asking: the first question of
        the exercise's first run, with its whole time."""
        common = self.exercises[position].common
        questions = self._drawn_ahead(position, 1)
        if common.exercise_seconds:
            limit = common.exercise_seconds * 1000
            time_left = {"exercise_ms": limit, "limit_ms": limit}
        else:
            time_left = _whole_question_time(common)
        return _question_screen(
            self._header(position, 1), common, questions[0], 0, score=0, attempt=1, time=time_left
        )

    def _question_reply(self, now: float) -> Reply:
        run = self._run
        return _question_screen(
            self._header(),
            run.options,
            self._questions[self._shown_index],
            self._shown_index,
            score=run.score,
            attempt=run.attempt + 1,
            time=self._time(now),
        )

    def _feedback_reply(self, now: float) -> Reply:
        step = self._step
        reply = {
            **self._question_reply(now),
            "screen": "feedback",
            "attempt": step.attempt if step.question_done else self._run.attempt + 1,
            "feedback": step.feedback.value,
            "colour": step.colour,
            "message": step.message,
            "read_as": self._read_as,
            "question_done": step.question_done,
            "exercise_done": step.exercise_done,
        }
        if step.correction_shown:
            reply["correction"] = self._questions[step.question].correction
        if step.question_done:
            reply["then"] = self._after_suite_reply(now)
        return reply

    def _after_suite_reply(self, now: float) -> Reply:
        """What "Suite" leads to, drawn by the page without asking: see :meth:`_follow_suite`.

        The next question as it will be when shown, with its whole time, or
        the exercise's result.
        """
        run = self._run
        if run.finished:
            return self._result_reply(now)
        common = run.options
        time_left = self._time(now) if common.exercise_seconds else _whole_question_time(common)
        return _question_screen(
            self._header(),
            common,
            self._questions[run.question],
            run.question,
            score=run.score,
            attempt=1,
            time=time_left,
        )

    def _result_reply(self, now: float) -> Reply:
        result = self._results[self._position]
        reply = {
            "screen": "result",
            "exercise": self._header(),
            "score": result.score,
            "total": result.total,
            "score_text": result.score_text(),
            "duration_text": result.duration_text(),
            "stars": result.stars,
            "stars_max": STARS,
            "right_first_attempt": result.right_first_attempt,
            "show_first_attempt_row": result.show_first_attempt_row,
            "not_reached": result.not_reached,
            "time_up": self._time_up,
            "replayable": self._exercise.common.replayable,
            "has_next": self._has_next,
        }
        if self._has_next:
            # What "Exercice suivant" leads to. "Terminer" asks the server, so that the end
            # it shows is where a reload finds the pair.
            reply["then"] = self._title_reply(now, self._position + 1)
        return reply

    def _end_reply(self, now: float) -> Reply:
        summary = []
        for position, exercise in enumerate(self.exercises):
            result = self._results.get(position)
            summary.append(
                {
                    "title": exercise.title,
                    "score": result.score if result else 0,
                    "total": result.total if result else exercise.common.questions,
                    "score_text": result.score_text() if result else "non fait",
                }
            )
        score = sum(item["score"] for item in summary)
        total = sum(item["total"] for item in summary)
        return {
            "screen": "end",
            "summary": summary,
            "score": score,
            "total": total,
            "score_text": f"{score} sur {total}",
        }

    def _time(self, now: float) -> dict[str, int] | None:
        """What the shrinking bar needs: the time left and the full duration, in ms."""
        run = self._run
        if run is None or run.finished:
            return None
        common = run.options
        if common.exercise_seconds:
            left = run.exercise_deadline() - now
            return {"exercise_ms": _milliseconds(left), "limit_ms": common.exercise_seconds * 1000}
        deadline = run.question_deadline()
        if deadline is None or not self._question_open():
            return None
        return {
            "question_ms": _milliseconds(deadline - now),
            "limit_ms": common.question_seconds * 1000,
        }


def _question_screen(
    header: dict[str, Any],
    common: CommonOptions,
    question: Question,
    index: int,
    *,
    score: int,
    attempt: int,
    time: dict[str, int] | None,
) -> Reply:
    """A question's screen: the question as public as ever, never its answer."""
    return {
        "screen": "question",
        "exercise": header,
        "question": question.public(),
        "number": index + 1,
        "total": common.questions,
        "score": score,
        "attempt": attempt,
        "attempts": common.attempts,
        "time": time,
        "keypad": common.keypad,
    }


def _whole_question_time(common: CommonOptions) -> dict[str, int] | None:
    """A question's timer as it starts, when each question has its own; else ``None``."""
    if not common.timed_per_question:
        return None
    limit = common.question_seconds * 1000
    return {"question_ms": limit, "limit_ms": limit}


def timing_text(common: CommonOptions) -> str:
    """The French sentence that tells the pupil how much time they have."""
    if common.exercise_seconds:
        return f"Tu as {duration_text(common.exercise_seconds)} pour tout l'exercice."
    if common.question_seconds:
        return f"Tu as {duration_text(common.question_seconds)} pour chaque question."
    return "Pas de limite de temps."


def duration_text(seconds: int) -> str:
    """A whole number of seconds in French: ``"45 s"``, ``"2 min"``, ``"1 min 30 s"``."""
    minutes, seconds = divmod(int(seconds), 60)
    if not minutes:
        return f"{seconds}{NBSP}s"
    if not seconds:
        return f"{minutes}{NBSP}min"
    return f"{minutes}{NBSP}min {seconds}{NBSP}s"


def _answering_seconds(records: Iterable[AnswerRecord]) -> float:
    """Time spent on questions, from the stored answers: the longest response time of each."""
    longest: dict[tuple[int, int, int], int] = {}
    for record in records:
        if record.response_ms is not None:
            question = (record.position, record.play, record.question_index)
            longest[question] = max(longest.get(question, 0), record.response_ms)
    return sum(longest.values()) / 1000


def _question_text(question: Question) -> str:
    return f"{question.prompt} {question.flash_text}" if question.flash_text else question.prompt


def _milliseconds(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _suite_seconds(value: Any) -> float:
    """The ``"suite"`` of a message, milliseconds ago, in seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise _BadMessage(f"'suite' must be milliseconds, not {value!r:.60}")
    return value / 1000


def _type_of(message: Any) -> Any:
    return message.get("type") if isinstance(message, dict) else type(message).__name__


def _message_type(message: Any) -> str:
    if not isinstance(message, dict):
        raise _BadMessage(f"a message must be an object, not {type(message).__name__}")
    kind = message.get("type")
    if kind not in _MESSAGE_TYPES:
        raise _BadMessage(f"unknown message type {kind!r}")
    return kind


def _client_key(message: ClientMessage) -> str | None:
    key = message.get("key")
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        raise _BadMessage(f"the answer key must be a short text, not {key!r:.60}")
    return key


def _response(message: ClientMessage, required: bool) -> Response | None:
    """The ``response`` of a message, checked for shape only; the engine reads its content."""
    if "response" not in message and required:
        raise _BadMessage("an answer without a response")
    response = message.get("response")
    if response is None:
        if required:
            raise _BadMessage("an answer with a null response")
        return None
    if _is_item(response):
        return response
    if isinstance(response, list) and len(response) <= MAX_ITEMS and all(map(_is_item, response)):
        return response
    raise _BadMessage(f"a response must be a text, a whole number or a list, not {response!r:.60}")


def _is_item(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_LENGTH
    # bool is an int in Python, but never a pupil's answer.
    return isinstance(value, int) and not isinstance(value, bool)


def _verbatim(response: Response | None) -> str | None:
    """What the pupil sent, as text: typed text as is, an index or a list as JSON."""
    if response is None or isinstance(response, str):
        return response
    return json.dumps(response, ensure_ascii=False)


__all__ = [
    "ERROR_INTERNAL",
    "ERROR_NOT_NOW",
    "ERROR_NOT_REPLAYABLE",
    "ERROR_UNREADABLE",
    "AnswerRecord",
    "MemoryRecorder",
    "NullRecorder",
    "PlayerSession",
    "Recorder",
    "duration_text",
    "timing_text",
]
