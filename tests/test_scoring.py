"""The marking rules of an exercise, its result, and the speed-accuracy score."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculatice.engines.base import Outcome
from calculatice.errors import CalculaticeError, ExerciseFinishedError
from calculatice.options import CommonOptions
from calculatice.scoring import (
    FEEDBACK_COLOURS,
    FEEDBACK_MESSAGES,
    GRACE_SECONDS,
    STARS,
    TIMEOUT,
    ExerciseRun,
    Feedback,
    Result,
    Step,
    expected_speed_accuracy,
    speed_accuracy_score,
    stars_for,
    update_ratings,
)

START = 1000.0
NNBSP = "\u202f"
NBSP = "\u00a0"

RIGHT, WRONG, EMPTY = Outcome.RIGHT, Outcome.WRONG, Outcome.EMPTY

RunFactory = Callable[..., ExerciseRun]


@pytest.fixture
def make_run() -> RunFactory:
    """An exercise run started at ``START`` with the given common options, first question shown."""

    def make(**options: int) -> ExerciseRun:
        run = ExerciseRun(CommonOptions(**options), started_at=START)
        run.start_question(START)
        return run

    return make


@pytest.fixture
def run(make_run: RunFactory) -> ExerciseRun:
    """Three questions, two attempts each, no time limit."""
    return make_run(questions=3, attempts=2)


def _marks(step: Step) -> tuple[str, Feedback, int, int]:
    """What a step says to the pupil: outcome, feedback, attempt used, points won."""
    return step.outcome, step.feedback, step.attempt, step.points


# Feedback


def test_feedback_colours_follow_calculatice() -> None:
    assert FEEDBACK_COLOURS == {
        Feedback.RIGHT: "green",
        Feedback.RETRY: "orange",
        Feedback.CORRECTED: "red",
        Feedback.EMPTY: "blue",
        Feedback.TIMEOUT: "red",
    }


def test_feedback_messages_are_french_with_narrow_spaces_before_marks() -> None:
    assert {
        Feedback.RIGHT: f"Bravo{NNBSP}!",
        Feedback.RETRY: "Essaie encore.",
        Feedback.CORRECTED: f"Ce n'est pas ça. La réponse était{NNBSP}:",
        Feedback.EMPTY: "Écris une réponse.",
        Feedback.TIMEOUT: f"Temps écoulé{NNBSP}!",
    } == FEEDBACK_MESSAGES


def test_step_gives_its_colour_and_message(run: ExerciseRun) -> None:
    step = run.validate(WRONG, START + 1)
    assert (step.colour, step.message) == ("orange", "Essaie encore.")


# Marking a validation


def test_empty_answer_costs_no_attempt_and_keeps_the_question(run: ExerciseRun) -> None:
    step = run.validate(EMPTY, START + 1)

    assert _marks(step) == ("empty", Feedback.EMPTY, 0, 0)
    assert not step.question_done and not step.correction_shown
    assert (run.question, run.attempt) == (0, 0)


def test_empty_answers_never_run_out_of_attempts(run: ExerciseRun) -> None:
    for second in range(1, 20):
        run.validate(EMPTY, START + second)
    assert (run.question, run.attempt, run.finished) == (0, 0, False)


def test_wrong_answer_with_attempts_left_asks_again_in_orange(run: ExerciseRun) -> None:
    step = run.validate(WRONG, START + 1)

    assert _marks(step) == ("wrong", Feedback.RETRY, 1, 0)
    assert not step.question_done and not step.correction_shown
    assert (run.question, run.attempt) == (0, 1)


def test_wrong_answer_on_last_attempt_shows_the_correction_in_red(run: ExerciseRun) -> None:
    run.validate(WRONG, START + 1)
    step = run.validate(WRONG, START + 2)

    assert _marks(step) == (
        "wrong",
        Feedback.CORRECTED,
        2,
        0,
    )
    assert step.question_done and step.correction_shown and not step.exercise_done
    assert (run.question, run.attempt, run.score) == (1, 0, 0)


def test_single_attempt_wrong_answer_is_corrected_at_once(make_run: RunFactory) -> None:
    run = make_run(questions=3, attempts=1)
    assert run.validate(WRONG, START + 1).feedback is Feedback.CORRECTED


def test_right_answer_wins_one_point_in_green(run: ExerciseRun) -> None:
    step = run.validate(RIGHT, START + 1)

    assert _marks(step) == ("right", Feedback.RIGHT, 1, 1)
    assert step.question_done and not step.correction_shown
    assert (run.question, run.attempt, run.score) == (1, 0, 1)


def test_right_answer_at_first_attempt_counts_in_first_attempt_row(run: ExerciseRun) -> None:
    run.validate(RIGHT, START + 1)
    assert run.right_first_attempt == 1


def test_right_answer_at_second_attempt_is_not_a_first_attempt(run: ExerciseRun) -> None:
    run.validate(WRONG, START + 1)
    step = run.validate(RIGHT, START + 2)

    assert (step.attempt, step.points) == (2, 1)
    assert (run.score, run.right_first_attempt) == (1, 0)


def test_empty_answer_before_right_answer_keeps_it_a_first_attempt(run: ExerciseRun) -> None:
    run.validate(EMPTY, START + 1)
    assert run.validate(RIGHT, START + 2).attempt == 1
    assert run.right_first_attempt == 1


def test_last_question_done_finishes_the_exercise(run: ExerciseRun) -> None:
    run.validate(RIGHT, START + 1)
    run.validate(RIGHT, START + 2)
    step = run.validate(RIGHT, START + 3)

    assert step.exercise_done and run.finished
    assert (step.question, run.score, run.result(START + 50).not_reached) == (2, 3, 0)


def test_validating_a_finished_exercise_raises(make_run: RunFactory) -> None:
    run = make_run(questions=1)
    run.validate(RIGHT, START + 1)

    with pytest.raises(ExerciseFinishedError, match="terminé") as raised:
        run.validate(RIGHT, START + 2)
    assert isinstance(raised.value, CalculaticeError)


def test_timing_out_a_finished_exercise_raises(make_run: RunFactory) -> None:
    run = make_run(questions=1, exercise_seconds=60)
    run.validate(RIGHT, START + 1)

    with pytest.raises(ExerciseFinishedError):
        run.time_out(None, START + 61)


def test_steps_are_kept_in_order(run: ExerciseRun) -> None:
    made = [
        run.validate(EMPTY, START + 1),
        run.validate(WRONG, START + 2),
        run.validate(RIGHT, START + 3),
    ]
    assert run.steps == tuple(made)
    assert [step.question for step in run.steps] == [0, 0, 0]


# Timers


@pytest.mark.parametrize(
    ("exercise_seconds", "question_seconds", "question_deadline", "exercise_deadline"),
    [
        (0, 20, START + 20, None),
        (60, 20, None, START + 60),
        (60, 0, None, START + 60),
        (0, 0, None, None),
    ],
)
def test_question_timer_runs_only_without_exercise_timer(
    make_run: RunFactory,
    exercise_seconds: int,
    question_seconds: int,
    question_deadline: float | None,
    exercise_deadline: float | None,
) -> None:
    run = make_run(exercise_seconds=exercise_seconds, question_seconds=question_seconds)
    assert run.question_deadline() == question_deadline
    assert run.exercise_deadline() == exercise_deadline


def test_question_timer_starts_when_the_question_is_shown(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    run.validate(RIGHT, START + 5)
    assert run.question_deadline() is None

    run.start_question(START + 12)
    assert run.question_deadline() == START + 32


def test_showing_a_question_again_does_not_restart_its_timer(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    run.start_question(START + 15)
    assert run.question_deadline() == START + 20


def test_right_answer_typed_when_time_runs_out_counts(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    step = run.time_out(RIGHT, START + 20)

    assert _marks(step) == ("right", Feedback.RIGHT, 1, 1)
    assert step.question_done and not step.correction_shown and not step.exercise_done
    assert (run.question, run.score, run.right_first_attempt) == (1, 1, 1)


def test_wrong_answer_typed_when_time_runs_out_shows_the_correction(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=3, attempts=3, question_seconds=20)
    step = run.time_out(WRONG, START + 20)

    assert _marks(step) == (TIMEOUT, Feedback.TIMEOUT, 1, 0)
    assert step.question_done and step.correction_shown
    assert (run.question, run.score) == (1, 0)


def test_empty_box_when_time_runs_out_uses_no_attempt(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    run.validate(WRONG, START + 3)

    for typed in (None, EMPTY):
        step = run.time_out(typed, START + 20)
        assert (step.feedback, step.attempt, step.correction_shown) == (Feedback.TIMEOUT, 0, True)
        run.start_question(START + 21)


def test_time_out_without_any_timer_is_refused(run: ExerciseRun) -> None:
    with pytest.raises(ValueError, match="no time limit"):
        run.time_out(RIGHT, START + 10)


def test_exercise_timer_ends_the_exercise_and_leaves_questions_not_reached(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=5, exercise_seconds=60)
    run.validate(RIGHT, START + 10)
    run.start_question(START + 11)
    step = run.time_out(None, START + 60)

    assert (step.question, step.feedback, step.points) == (1, Feedback.TIMEOUT, 0)
    assert step.question_done and step.exercise_done and step.correction_shown
    assert run.finished
    result = run.result(START + 60)
    assert (result.score, result.total, result.not_reached) == (1, 5, 3)


def test_right_answer_typed_when_exercise_timer_ends_counts(make_run: RunFactory) -> None:
    run = make_run(questions=5, exercise_seconds=60)
    step = run.time_out(RIGHT, START + 60)

    assert (step.feedback, step.points, step.exercise_done) == (Feedback.RIGHT, 1, True)
    assert (run.score, run.result(START + 60).not_reached) == (1, 4)


def test_exercise_timer_ending_before_next_question_is_shown_leaves_it_not_reached(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=5, exercise_seconds=60)
    run.validate(RIGHT, START + 59)
    step = run.time_out(None, START + 60)

    assert (step.question, step.exercise_done, step.correction_shown) == (1, True, False)
    assert run.result(START + 60).not_reached == 4


def test_exercise_timer_ending_on_last_question_reaches_every_question(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=2, attempts=1, exercise_seconds=60)
    run.validate(WRONG, START + 10)
    run.start_question(START + 11)
    run.time_out(None, START + 60)
    assert run.result(START + 60).not_reached == 0


def test_validation_within_grace_after_deadline_is_marked_as_usual(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=3, question_seconds=20)
    step = run.validate(WRONG, START + 20 + GRACE_SECONDS)
    assert step.feedback is Feedback.RETRY


def test_validation_after_deadline_and_grace_is_a_time_out(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    step = run.validate(RIGHT, START + 20 + GRACE_SECONDS + 0.01)

    assert (step.outcome, step.feedback, step.points) == (TIMEOUT, Feedback.TIMEOUT, 0)
    assert step.question_done and step.correction_shown and not step.exercise_done
    assert (run.question, run.score) == (1, 0)


def test_validation_after_exercise_deadline_ends_the_exercise(make_run: RunFactory) -> None:
    run = make_run(questions=3, exercise_seconds=60)
    step = run.validate(RIGHT, START + 61)

    assert (step.feedback, step.exercise_done) == (Feedback.TIMEOUT, True)
    assert run.finished and run.result(START + 61).not_reached == 2


def test_grace_is_half_a_second() -> None:
    assert GRACE_SECONDS == 0.5


def test_expire_if_due_waits_for_deadline_and_grace(make_run: RunFactory) -> None:
    run = make_run(questions=3, question_seconds=20)
    assert run.expire_if_due(None, START + 20.5) is None
    assert (run.question, run.steps) == (0, ())


def test_expire_if_due_times_out_after_grace_and_counts_a_typed_right_answer(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=3, question_seconds=20)
    step = run.expire_if_due(RIGHT, START + 21)

    assert step is not None and (step.feedback, step.points) == (Feedback.RIGHT, 1)
    assert run.question == 1


def test_expire_if_due_does_nothing_without_a_timer_or_once_finished(
    make_run: RunFactory,
) -> None:
    untimed = make_run(questions=1)
    assert untimed.expire_if_due(None, START + 10_000) is None

    finished = make_run(questions=1, exercise_seconds=60)
    finished.time_out(None, START + 60)
    assert finished.expire_if_due(None, START + 120) is None


# The result


def test_result_gives_score_total_duration_stars_and_first_attempts(
    make_run: RunFactory,
) -> None:
    run = make_run(questions=4, attempts=2)
    for second, outcome in enumerate([RIGHT, WRONG, RIGHT, WRONG, WRONG, RIGHT], start=1):
        run.validate(outcome, START + 10 * second)

    assert run.result(START + 200) == Result(
        score=3,
        total=4,
        seconds=60.0,
        stars=3,
        right_first_attempt=2,
        show_first_attempt_row=True,
        not_reached=0,
    )


def test_first_attempt_row_is_shown_only_with_several_attempts(make_run: RunFactory) -> None:
    assert make_run(attempts=2).result(START).show_first_attempt_row
    assert not make_run(attempts=1).result(START).show_first_attempt_row


def test_result_of_an_unfinished_exercise_is_a_snapshot(run: ExerciseRun) -> None:
    run.validate(RIGHT, START + 5)
    result = run.result(START + 30)
    assert (result.score, result.seconds, result.not_reached) == (1, 30.0, 0)


def test_duration_stops_at_the_exercise_time_limit(make_run: RunFactory) -> None:
    run = make_run(questions=3, exercise_seconds=60)
    run.time_out(None, START + 60.4)
    assert run.result(START + 100).seconds == 60.0


_STAR_CASES = [(0, 10, 0), (1, 10, 0), (2, 10, 1), (5, 10, 2), (9, 10, 4), (10, 10, 5)]


@pytest.mark.parametrize(("score", "total", "stars"), [*_STAR_CASES, (1, 1, 5), (2, 3, 3)])
def test_stars_are_proportional_to_the_score_rounded_down(
    score: int, total: int, stars: int
) -> None:
    assert stars_for(score, total) == stars


def test_stars_refuse_an_impossible_score() -> None:
    with pytest.raises(ValueError):
        stars_for(11, 10)


@given(st.integers(1, 50).flatmap(lambda total: st.tuples(st.integers(0, total), st.just(total))))
def test_stars_fill_every_star_only_for_a_full_score(score_total: tuple[int, int]) -> None:
    score, total = score_total
    stars = stars_for(score, total)
    assert 0 <= stars <= STARS
    assert (stars == STARS) == (score == total)
    assert stars / STARS <= score / total


def test_score_text_reads_n_sur_total() -> None:
    assert _result(score=7, total=10).score_text() == "7 sur 10"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, f"0{NBSP}s"),
        (42, f"42{NBSP}s"),
        (42.4, f"42{NBSP}s"),
        (59.6, f"1{NBSP}min 00{NBSP}s"),
        (65, f"1{NBSP}min 05{NBSP}s"),
        (600, f"10{NBSP}min 00{NBSP}s"),
        (3725, f"62{NBSP}min 05{NBSP}s"),
    ],
)
def test_duration_text_gives_french_minutes_and_seconds(seconds: float, text: str) -> None:
    assert _result(seconds=seconds).duration_text() == text


def _result(score: int = 0, total: int = 10, seconds: float = 0.0) -> Result:
    return Result(
        score=score,
        total=total,
        seconds=seconds,
        stars=stars_for(score, total),
        right_first_attempt=0,
        show_first_attempt_row=False,
        not_reached=0,
    )


# Any sequence of actions keeps the rules


_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["validate", "time_out", "show"]),
        st.sampled_from([RIGHT, WRONG, EMPTY, None]),
        st.floats(0, 15),
    ),
    max_size=40,
)
_OPTIONS = st.builds(
    CommonOptions,
    questions=st.integers(1, 6),
    attempts=st.integers(1, 4),
    exercise_seconds=st.sampled_from([0, 60]),
    question_seconds=st.sampled_from([0, 10]),
)


@given(options=_OPTIONS, actions=_ACTIONS)
def test_any_sequence_of_answers_keeps_the_marking_rules(
    options: CommonOptions, actions: list[tuple[str, Outcome | None, float]]
) -> None:
    run = ExerciseRun(options, started_at=START)
    now = START
    timed = options.exercise_seconds > 0 or options.timed_per_question
    for action, outcome, gap in actions:
        if run.finished:
            break
        now += gap
        attempt_before, question_before = run.attempt, run.question
        if action == "show":
            run.start_question(now)
            continue
        if action == "time_out" and timed:
            step = run.time_out(outcome, now)
        else:
            step = run.validate(outcome or EMPTY, now)

        assert 0 <= run.attempt <= options.attempts
        assert step.points == (1 if step.feedback is Feedback.RIGHT else 0)
        if step.feedback is Feedback.EMPTY:
            assert (run.attempt, run.question) == (attempt_before, question_before)
        assert step.question_done == (step.feedback not in (Feedback.EMPTY, Feedback.RETRY))
        assert 0 <= run.right_first_attempt <= run.score <= options.questions

    result = run.result(now)
    assert result.score == sum(step.points for step in run.steps) <= result.total
    assert 0 <= result.stars <= STARS
    done = [step.question for step in run.steps if step.question_done]
    assert done == list(range(len(done)))
    if run.finished:
        last = run.steps[-1]
        unshown = last.feedback is Feedback.TIMEOUT and not last.correction_shown
        cut_by_timer = options.exercise_seconds > 0 and unshown
        assert len(done) - cut_by_timer + result.not_reached == options.questions


# The speed-accuracy score


@pytest.mark.parametrize(
    ("correct", "seconds", "score"),
    [
        (True, 0, 1.0),
        (True, 5, 0.5),
        (False, 5, -0.5),
        (False, 2.5, -0.75),
        (True, -1, 1.0),
        (True, 10, 0.0),
        (False, 12, 0.0),
        (None, 3, 0.0),
    ],
)
def test_speed_accuracy_score_rewards_fast_right_answers(
    correct: bool | None, seconds: float, score: float
) -> None:
    assert speed_accuracy_score(correct, seconds, 10) == pytest.approx(score)


def test_speed_accuracy_score_refuses_a_limit_that_is_not_positive() -> None:
    with pytest.raises(ValueError):
        speed_accuracy_score(True, 1, 0)


def _reference_expected(delta: float) -> float:
    """coth(Δ) − 1/Δ at 60 digits, from exponentials: the cancellation costs nothing here."""
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(delta)
        growth = (2 * exact).exp()
        return float((growth + 1) / (growth - 1) - 1 / exact)


_SERIES_AND_FORMULA = [1e-8, 1e-4, 0.01, 0.0999999, 0.1, 0.3, 1.0, 2.0, 5.0, 30.0, 1e4]


@pytest.mark.parametrize("delta", _SERIES_AND_FORMULA)
def test_expected_score_matches_its_formula(delta: float) -> None:
    assert expected_speed_accuracy(delta) == pytest.approx(_reference_expected(delta), rel=1e-13)


def test_expected_score_known_values() -> None:
    assert expected_speed_accuracy(0.0) == 0.0
    assert expected_speed_accuracy(1.0) == pytest.approx(0.313035285499331, rel=1e-14)
    assert expected_speed_accuracy(2.0) == pytest.approx(0.537314720727548, rel=1e-14)
    assert expected_speed_accuracy(1e-6) == pytest.approx(1e-6 / 3, rel=1e-12)


def test_expected_score_tends_to_one_for_a_strong_pupil() -> None:
    assert expected_speed_accuracy(1e6) == pytest.approx(1 - 1e-6, abs=1e-15)
    assert expected_speed_accuracy(-math.inf) == -1.0


_DELTAS = st.floats(-1e6, 1e6, allow_nan=False)


@given(_DELTAS)
def test_expected_score_is_odd(delta: float) -> None:
    assert expected_speed_accuracy(-delta) == -expected_speed_accuracy(delta)


@given(_DELTAS)
def test_expected_score_lies_strictly_between_minus_one_and_one(delta: float) -> None:
    assert abs(expected_speed_accuracy(delta)) < 1


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_expected_score_never_leaves_minus_one_to_one(delta: float) -> None:
    assert abs(expected_speed_accuracy(delta)) <= 1


@given(_DELTAS, _DELTAS)
def test_expected_score_grows_with_ability(first: float, second: float) -> None:
    low, high = sorted((first, second))
    assert expected_speed_accuracy(low) <= expected_speed_accuracy(high)


def test_ratings_move_towards_a_better_than_expected_score() -> None:
    ability, difficulty = update_ratings(1.0, 1.0, 0.5, k=0.4)
    assert (ability, difficulty) == pytest.approx((1.2, 0.8))


def test_ratings_stay_when_the_score_is_the_expected_one() -> None:
    expected = expected_speed_accuracy(1.5)
    assert update_ratings(2.0, 0.5, expected, k=0.3) == pytest.approx((2.0, 0.5))


@given(
    st.floats(-20, 20),
    st.floats(-20, 20),
    st.floats(-1, 1),
    st.floats(0, 1),
)
def test_rating_updates_keep_the_sum_and_move_in_opposite_directions(
    ability: float, difficulty: float, score: float, k: float
) -> None:
    new_ability, new_difficulty = update_ratings(ability, difficulty, score, k)
    assert new_ability + new_difficulty == pytest.approx(ability + difficulty, abs=1e-9)
    assert (new_ability - ability) * (new_difficulty - difficulty) <= 0


@pytest.mark.parametrize(("score", "k"), [(1.5, 0.1), (-1.01, 0.1), (0.5, -0.1)])
def test_rating_updates_refuse_a_bad_score_or_step(score: float, k: float) -> None:
    with pytest.raises(ValueError):
        update_ratings(0.0, 0.0, score, k)
