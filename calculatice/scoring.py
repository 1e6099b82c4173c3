"""The marking rules: attempts, time-outs, score, stars, and the speed-accuracy score.

:class:`ExerciseRun` holds the marking state of one exercise done by a pupil
(or a pair). It knows nothing of the screen: the player tells it when a
question is shown, what each validation was (an
:class:`~calculatice.engines.base.Outcome`) and when a timer ran out, and it
answers with a :class:`Step` that says which feedback to show. Time is
always passed in (``now``, in seconds on any clock, the same for every call),
so that the rules are tested without waiting and the server, not the browser,
is the judge of time.

The historical rules (calcul@TICE):

- an empty (unreadable) answer asks again and costs no attempt (blue);
- a wrong answer with attempts left asks again (orange); on the last attempt
  the correction is shown (red);
- a right answer wins one point (green);
- when a timer runs out, what is in the answer box is marked anyway: a right
  answer counts, otherwise the correction is shown;
- when the whole-exercise timer runs out, the exercise ends and the questions
  not yet shown are *not reached* (0 in the score).

The module also holds the speed-accuracy score of Math Garden (Klinkenberg,
Straatemeier and van der Maas, 2011) used by adaptive practice:
:func:`speed_accuracy_score`, :func:`expected_speed_accuracy` and
:func:`update_ratings`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from enum import StrEnum

from calculatice.engines.base import Outcome
from calculatice.errors import ExerciseFinishedError
from calculatice.options import CommonOptions

logger = logging.getLogger(__name__)

STARS = 5
"""How many stars the result shows, filled in proportion to the score."""

GRACE_SECONDS = 0.5
"""How late after a deadline an answer may reach the server and still be marked as usual.

An answer travels from the browser to the server (and the question from the
server to the browser) in a fraction of a second; half a second absorbs that
latency on a loaded rally day without giving a pupil noticeable extra time.
"""

TIMEOUT = "timeout"
"""The outcome of a :class:`Step` when a timer ran out with no right answer."""

_NBSP = "\u00a0"
_NNBSP = "\u202f"


class Feedback(StrEnum):
    """The feedback a step gives the pupil; each has its colour and its French message."""

    RIGHT = "right"
    """Green: one point, the question is done."""
    RETRY = "retry"
    """Orange: wrong with attempts left; the answer box is focused again."""
    CORRECTED = "corrected"
    """Red: wrong on the last attempt; the correction is shown."""
    EMPTY = "empty"
    """Blue: nothing readable was typed; no attempt is used."""
    TIMEOUT = "timeout"
    """Red: the time ran out with no right answer; the correction is shown."""


FEEDBACK_COLOURS: dict[Feedback, str] = {
    Feedback.RIGHT: "green",
    Feedback.RETRY: "orange",
    Feedback.CORRECTED: "red",
    Feedback.EMPTY: "blue",
    Feedback.TIMEOUT: "red",
}
"""The colour of each feedback, as in calcul@TICE."""

FEEDBACK_MESSAGES: dict[Feedback, str] = {
    Feedback.RIGHT: f"Bravo{_NNBSP}!",
    Feedback.RETRY: "Essaie encore.",
    Feedback.CORRECTED: f"Ce n'est pas ça. La réponse était{_NNBSP}:",
    Feedback.EMPTY: "Écris une réponse.",
    Feedback.TIMEOUT: f"Temps écoulé{_NNBSP}!",
}
"""The short French message of each feedback; the player adds the correction after it."""


@dataclass(frozen=True)
class Step:
    """What one validation (or a time-out) did.

    Attributes
    ----------
    question
        0-based index of the question the step applied to.
    attempt
        1-based number of the attempt the step used; 0 when none was used
        (an empty answer, or a time-out with nothing readable in the box).
    outcome
        ``"right"``, ``"wrong"``, ``"empty"`` or ``"timeout"`` (:data:`TIMEOUT`).
    feedback
        The feedback to show.
    points
        Points won by this step: 1 or 0.
    question_done
        The question is finished (right, corrected, or timed out).
    exercise_done
        The exercise is finished (its last question is done, or its timer ran out).
    correction_shown
        The player must show the question's correction.
    """

    question: int
    attempt: int
    outcome: str
    feedback: Feedback
    points: int
    question_done: bool
    exercise_done: bool
    correction_shown: bool

    @property
    def colour(self) -> str:
        """The colour of the feedback (``"green"``, ``"orange"``, ``"red"``, ``"blue"``)."""
        return FEEDBACK_COLOURS[self.feedback]

    @property
    def message(self) -> str:
        """The French message of the feedback."""
        return FEEDBACK_MESSAGES[self.feedback]


@dataclass(frozen=True)
class Result:
    """The result page of an exercise: score, duration, stars.

    Attributes
    ----------
    score
        Points won: one per question answered right.
    total
        Points possible: the number of questions (one scored try each).
    seconds
        How long the exercise took, at most its time limit when it has one.
    stars
        Filled stars out of :data:`STARS`: ``STARS × score / total`` rounded
        down, so only a full score fills every star and a zero score none
        (9 out of 10 gives 4 stars).
    right_first_attempt
        Questions answered right at the first attempt.
    show_first_attempt_row
        Whether the result shows the right-at-first-attempt row: only when
        the exercise allows more than one attempt per question.
    not_reached
        Questions never shown because the exercise timer ran out.
    """

    score: int
    total: int
    seconds: float
    stars: int
    right_first_attempt: int
    show_first_attempt_row: bool
    not_reached: int

    def score_text(self) -> str:
        """The score the French way: ``"7 sur 10"``."""
        return f"{self.score} sur {self.total}"

    def duration_text(self) -> str:
        """The duration in French minutes and seconds: ``"1 min 05 s"``, ``"42 s"``.

        Seconds are rounded to the nearest; a no-break space (U+00A0) joins
        each number to its unit so that a line never breaks between them.
        """
        minutes, seconds = divmod(math.floor(self.seconds + 0.5), 60)
        if minutes == 0:
            return f"{seconds}{_NBSP}s"
        return f"{minutes}{_NBSP}min {seconds:02d}{_NBSP}s"


def stars_for(score: int, total: int) -> int:
    """Filled stars out of :data:`STARS` for a score: in proportion, rounded down.

    Parameters
    ----------
    score
        Points won, between 0 and ``total``.
    total
        Points possible, at least 1.

    Returns
    -------
    int
        ``STARS × score // total``: 5 for a full score, 0 for none.
    """
    if total < 1 or not 0 <= score <= total:
        raise ValueError(f"score {score} out of {total} is not a valid score")
    return STARS * score // total


class ExerciseRun:
    """The marking state of one exercise being done by a pupil (or a pair).

    The exercise timer, when the options give one, starts at ``started_at``.
    A question's own timer (only when
    :attr:`~calculatice.options.CommonOptions.timed_per_question`) starts when
    :meth:`start_question` says the question is shown; until then the question
    has no deadline, so time spent reading the previous feedback is not
    counted against it.

    Parameters
    ----------
    options
        The exercise's common options: questions, attempts, time limits.
    started_at
        When the exercise started, in seconds, on the clock used for every ``now``.
    """

    def __init__(self, options: CommonOptions, started_at: float) -> None:
        self.options = options
        self.started_at = started_at
        self._question = 0
        self._attempt = 0
        self._score = 0
        self._right_first_attempt = 0
        self._not_reached = 0
        self._shown = False
        self._question_started_at: float | None = None
        self._finished_at: float | None = None
        self._steps: list[Step] = []

    @property
    def question(self) -> int:
        """Index of the current question (the last one handled once the exercise is finished)."""
        return self._question

    @property
    def attempt(self) -> int:
        """Attempts used on the current question (empty answers use none)."""
        return self._attempt

    @property
    def finished(self) -> bool:
        """Whether the exercise is over: no validation is accepted any more."""
        return self._finished_at is not None

    @property
    def score(self) -> int:
        """Points won so far."""
        return self._score

    @property
    def right_first_attempt(self) -> int:
        """Questions answered right at their first attempt so far."""
        return self._right_first_attempt

    @property
    def not_reached(self) -> int:
        """Questions never shown because the exercise timer ran out."""
        return self._not_reached

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step so far, in order, for the store."""
        return tuple(self._steps)

    def question_deadline(self) -> float | None:
        """When the current question's time ends, or ``None`` when it has no timer.

        ``None`` too before :meth:`start_question` and once the exercise is finished.
        """
        if self.finished or not self.options.timed_per_question:
            return None
        if self._question_started_at is None:
            return None
        return self._question_started_at + self.options.question_seconds

    def exercise_deadline(self) -> float | None:
        """When the whole exercise's time ends, or ``None`` when it has no time limit."""
        if self.options.exercise_seconds == 0:
            return None
        return self.started_at + self.options.exercise_seconds

    def start_question(self, now: float) -> None:
        """Record that the current question is shown: its own timer starts at ``now``.

        Only the first call for a question counts, so that showing the question
        again (a reloaded page) does not give it more time.

        Raises
        ------
        ExerciseFinishedError
            When the exercise is already finished.
        """
        self._ensure_running()
        if self._question_started_at is None:
            self._question_started_at = now
        self._shown = True

    def validate(self, outcome: Outcome, now: float) -> Step:
        """Mark one validation of the current question.

        A validation that reaches the server more than :data:`GRACE_SECONDS`
        after a deadline is a time-out: it came after the time ran out, so the
        answer is not marked (the player reports what was in the box when its
        own timer ran out through :meth:`time_out`).

        Parameters
        ----------
        outcome
            The checking of the pupil's response: right, wrong or empty.
        now
            When the validation reached the server, in seconds.

        Returns
        -------
        Step
            What the validation did, with the feedback to show.

        Raises
        ------
        ExerciseFinishedError
            When the exercise is already finished.
        """
        self._ensure_running()
        if self._is_due(now):
            logger.debug("validation of question %d came after its deadline", self._question)
            return self.time_out(None, now)

        if not self._shown:
            # A validation proves the question was shown, even if the player did not say so.
            self.start_question(now)
        outcome = Outcome(outcome)
        if outcome is Outcome.EMPTY:
            return self._record(self._step(Outcome.EMPTY, Feedback.EMPTY, attempt=0), now)

        self._attempt += 1
        if outcome is Outcome.RIGHT:
            return self._record(self._win(), now)
        if self._attempt < self.options.attempts:
            return self._record(self._step(Outcome.WRONG, Feedback.RETRY), now)
        step = self._step(Outcome.WRONG, Feedback.CORRECTED, done=True, correction=True)
        return self._record(step, now)

    def time_out(self, typed: Outcome | None, now: float) -> Step:
        """Mark the current question when its timer (or the exercise timer) ran out.

        What was in the answer box is marked anyway: a right answer counts
        (green, one point); anything else ends the question with the
        correction. When the exercise has a time limit, the timer that ran out
        is the exercise's: the exercise ends and the questions not yet shown
        are not reached. A question that was never shown, with nothing typed,
        is not reached either and gets no correction.

        Parameters
        ----------
        typed
            The checking of what was in the answer box but not validated, or
            ``None`` when nothing is known of it (a time-out noticed by the server).
        now
            When the time-out reached the server, in seconds.

        Returns
        -------
        Step
            What the time-out did; ``exercise_done`` is true when the exercise ended.

        Raises
        ------
        ExerciseFinishedError
            When the exercise is already finished.
        ValueError
            When the exercise has no time limit at all, so no timer can run out.
        """
        self._ensure_running()
        exercise_timer = self.options.exercise_seconds > 0
        if not exercise_timer and not self.options.timed_per_question:
            raise ValueError("this exercise has no time limit, so no timer can run out")

        # Something typed in the box proves the question was on screen.
        reached = self._shown or typed is not None
        typed = None if typed is None else Outcome(typed)
        readable = typed is not None and typed is not Outcome.EMPTY
        if readable:
            self._attempt += 1
        if typed is Outcome.RIGHT:
            step = self._win()
        else:
            attempt = self._attempt if readable else 0
            step = self._step(
                TIMEOUT, Feedback.TIMEOUT, attempt=attempt, done=True, correction=reached
            )

        if exercise_timer:
            step = self._end_by_timer(step, reached)
        return self._record(step, now)

    def expire_if_due(self, typed: Outcome | None, now: float) -> Step | None:
        """Apply :meth:`time_out` if a deadline has passed, else do nothing.

        A deadline has passed when ``now`` is more than :data:`GRACE_SECONDS`
        after it, so that the player's own time-out, which carries the answer
        box, has time to arrive first. A finished exercise has nothing to expire.

        Returns
        -------
        Step or None
            The time-out's step, or ``None`` when no deadline has passed.
        """
        if self.finished or not self._is_due(now):
            return None
        return self.time_out(typed, now)

    def result(self, now: float) -> Result:
        """The result page: score, total, duration, stars, first-attempt row.

        For an exercise not yet finished it is a snapshot at ``now``.
        """
        end = self._finished_at if self._finished_at is not None else now
        seconds = max(0.0, end - self.started_at)
        if self.options.exercise_seconds:
            # The server notices a time-out a little late; the pupil had the time limit only.
            seconds = min(seconds, float(self.options.exercise_seconds))
        total = self.options.questions
        return Result(
            score=self._score,
            total=total,
            seconds=seconds,
            stars=stars_for(self._score, total),
            right_first_attempt=self._right_first_attempt,
            show_first_attempt_row=self.options.attempts > 1,
            not_reached=self._not_reached,
        )

    def _ensure_running(self) -> None:
        if self.finished:
            raise ExerciseFinishedError(
                f"L'exercice est terminé{_NNBSP}: aucune réponse n'est plus acceptée "
                f"(question {self._question + 1} sur {self.options.questions})."
            )

    def _is_due(self, now: float) -> bool:
        deadlines = (self.question_deadline(), self.exercise_deadline())
        return any(
            deadline is not None and now > deadline + GRACE_SECONDS for deadline in deadlines
        )

    def _win(self) -> Step:
        """The current question is right: one point (the attempt is already counted)."""
        self._score += 1
        if self._attempt == 1:
            self._right_first_attempt += 1
        return self._step(Outcome.RIGHT, Feedback.RIGHT, points=1, done=True)

    def _step(
        self,
        outcome: str,
        feedback: Feedback,
        *,
        attempt: int | None = None,
        points: int = 0,
        done: bool = False,
        correction: bool = False,
    ) -> Step:
        last_question = self._question == self.options.questions - 1
        return Step(
            question=self._question,
            attempt=self._attempt if attempt is None else attempt,
            outcome=str(outcome),
            feedback=feedback,
            points=points,
            question_done=done,
            exercise_done=done and last_question,
            correction_shown=correction,
        )

    def _end_by_timer(self, step: Step, reached: bool) -> Step:
        """The exercise timer ran out: every question after the current one is not reached."""
        self._not_reached = self.options.questions - self._question - (1 if reached else 0)
        return replace(step, question_done=True, exercise_done=True)

    def _record(self, step: Step, now: float) -> Step:
        """Keep the step and move on: to the next question, or to the end of the exercise."""
        self._steps.append(step)
        if step.exercise_done:
            self._finished_at = now
        elif step.question_done:
            self._question += 1
            self._attempt = 0
            self._shown = False
            self._question_started_at = None
        return step


def speed_accuracy_score(
    correct: bool | None, response_seconds: float, limit_seconds: float
) -> float:
    """Math Garden's speed-accuracy score of one answer: ``S = (2x − 1)(1 − t/d)``.

    A fast right answer scores near 1, a fast wrong answer near −1, and any
    answer near the time limit near 0, so guessing fast does not pay.

    Parameters
    ----------
    correct
        ``True`` for right, ``False`` for wrong, ``None`` when no answer was given.
    response_seconds
        The response time ``t``; a negative time (clocks out of step) counts as 0.
    limit_seconds
        The item's time limit ``d``, positive.

    Returns
    -------
    float
        The score, between −1 and 1; 0 when there was no answer before the limit.
    """
    if not limit_seconds > 0:
        raise ValueError(f"the time limit must be positive, not {limit_seconds}")
    if correct is None or response_seconds >= limit_seconds:
        return 0.0
    speed = 1.0 - max(response_seconds, 0.0) / limit_seconds
    return speed if correct else -speed


# Below this |Δ|, coth(Δ) − 1/Δ loses digits to cancellation, so its Taylor series is used.
_SERIES_BELOW = 0.1
# Taylor coefficients of coth(x) − 1/x in odd powers x, x³, x⁵, x⁷, x⁹ (2²ⁿ B₂ₙ / (2n)!).
_SERIES = (1 / 3, -1 / 45, 2 / 945, -1 / 4725, 2 / 93555)


def expected_speed_accuracy(ability_minus_difficulty: float) -> float:
    """The expected speed-accuracy score ``E(Δ) = coth(Δ) − 1/Δ``, 0 at ``Δ = 0``.

    Computed on ``|Δ|`` and given the sign of ``Δ``, so that ``E(−Δ) = −E(Δ)``
    holds exactly; near 0 the Taylor series replaces the formula, whose two
    terms nearly cancel. ``|E| < 1`` for every finite ``Δ``, although in
    floating point it rounds to 1 beyond ``|Δ| ≈ 10¹⁶``.

    Parameters
    ----------
    ability_minus_difficulty
        ``Δ``: the pupil's rating minus the item's.

    Returns
    -------
    float
        The expected score, between −1 and 1, increasing with ``Δ``.
    """
    delta = abs(ability_minus_difficulty)
    if delta < _SERIES_BELOW:
        square = delta * delta
        # Horner's scheme on the series in powers of Δ².
        expected = 0.0
        for coefficient in reversed(_SERIES):
            expected = expected * square + coefficient
        expected *= delta
    else:
        expected = 1.0 / math.tanh(delta) - 1.0 / delta
    return math.copysign(expected, ability_minus_difficulty)


def update_ratings(
    ability: float, difficulty: float, score: float, k: float
) -> tuple[float, float]:
    """Update a pupil's and an item's ratings after one answer, Elo-like.

    ``ability += K (S − E)`` and ``difficulty += K (E − S)``, where ``E`` is
    :func:`expected_speed_accuracy` of ``ability − difficulty``: a better
    score than expected raises the pupil and lowers the item, by the same
    amount.

    Parameters
    ----------
    ability
        The pupil's rating before the answer.
    difficulty
        The item's rating before the answer.
    score
        The answer's :func:`speed_accuracy_score`, between −1 and 1.
    k
        The step size ``K``, not negative; the caller shrinks it as a rating settles.

    Returns
    -------
    tuple of float
        The new ``(ability, difficulty)``.
    """
    if not -1.0 <= score <= 1.0:
        raise ValueError(f"a speed-accuracy score lies between -1 and 1, not {score}")
    if not k >= 0:
        raise ValueError(f"the step size K must not be negative, not {k}")
    surprise = score - expected_speed_accuracy(ability - difficulty)
    return ability + k * surprise, difficulty - k * surprise


__all__ = [
    "FEEDBACK_COLOURS",
    "FEEDBACK_MESSAGES",
    "GRACE_SECONDS",
    "STARS",
    "TIMEOUT",
    "ExerciseRun",
    "Feedback",
    "Result",
    "Step",
    "expected_speed_accuracy",
    "speed_accuracy_score",
    "stars_for",
    "update_ratings",
]
