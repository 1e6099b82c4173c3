"""The player's protocol: screens, marking, time, records, resuming, and no leaked answer."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import pytest

from calculatice.catalogue import Bank, Exercise
from calculatice.engines.base import (
    Engine,
    Kind,
    Outcome,
    Question,
    Response,
    Verdict,
    all_engines,
    check_response,
)
from calculatice.numbers import write_number
from calculatice.options import CommonOptions, EngineOptions
from calculatice.player.session import (
    ERROR_INTERNAL,
    ERROR_NOT_NOW,
    ERROR_NOT_REPLAYABLE,
    ERROR_UNREADABLE,
    AnswerRecord,
    MemoryRecorder,
    PlayerSession,
    duration_text,
    timing_text,
)
from calculatice.scoring import GRACE_SECONDS

NNBSP = "\u202f"
NBSP = "\u00a0"


# ---------------------------------------------------------------- stub engines, one per kind

# Answers no prompt, label or score contains, so that a leak shows in the JSON text.
SECRET = 7391


def _stub_question(kind: Kind, index: int) -> Question:
    secret = SECRET + 1000 * index
    if kind is Kind.CHOICE:
        return Question(
            prompt=f"Choix n°{index} : lequel ?",
            kind=kind,
            expected=2,
            solution="charlie",
            correction="La bonne case était charlie.",
            choices=("alpha", "bravo", "charlie"),
        )
    if kind is Kind.MULTI:
        return Question(
            prompt=f"Plusieurs n°{index} : lesquels ?",
            kind=kind,
            expected=frozenset({0, 2}),
            solution="alpha ; charlie",
            correction="Il fallait alpha et charlie.",
            choices=("alpha", "bravo", "charlie"),
        )
    if kind is Kind.GRID:
        return Question(
            prompt=f"Mur n°{index} : complète.",
            kind=kind,
            expected=(Fraction(secret), Fraction(secret + 1)),
            solution=f"{secret} ; {secret + 1}",
            correction=f"Le mur complet : {secret} / {secret + 1}",
            cells=("haut", "bas"),
            layout={"type": "wall", "rows": [[None], [None, 1]]},
        )
    if kind is Kind.EXPRESSION:
        return Question(
            prompt=f"Calcul n°{index} : trouve la cible.",
            kind=kind,
            expected=Fraction(secret),
            solution=f"7 × {secret}",
            correction=f"Par exemple : 7 × {secret}",
        )
    return Question(
        prompt=f"Question n°{index} : combien ?",
        kind=kind,
        expected=Fraction(secret),
        solution=str(secret),
        correction=f"La réponse était {secret}.",
        svg='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><title>dessin</title></svg>'
        if kind is Kind.PICTURE
        else None,
        flash_text="3 + 280 + 97" if kind is Kind.FLASH else "",
        flash_seconds=3.0 if kind is Kind.FLASH else 0.0,
    )


class StubEngine(Engine):
    """Questions of one kind with answers that appear nowhere else."""

    title = "Moteur d'essai"
    description = "Pour les tests du lecteur."

    def __init__(self, kind: Kind, fail_on_check: bool = False) -> None:
        self.kind = kind
        self.name = f"stub_{kind.value}"
        self.fail_on_check = fail_on_check

    def generate(self, options: EngineOptions, rng: random.Random) -> Question:
        return _stub_question(self.kind, rng.randrange(10**6))

    def check(self, question: Question, response: Response | None) -> Verdict:
        if self.fail_on_check:
            raise RuntimeError("a broken engine")
        if question.kind is not Kind.EXPRESSION:
            return check_response(question, response)
        text = response.replace(" ", "") if isinstance(response, str) else ""
        if not text:
            return Verdict(Outcome.EMPTY)
        right = text == question.solution.replace(" ", "")
        return Verdict(Outcome.RIGHT if right else Outcome.WRONG, response)


@dataclass(frozen=True)
class StubExercise(Exercise):
    """An exercise whose engine is given rather than looked up in the registry."""

    stub: Engine | None = field(default=None, compare=False)

    def engine_object(self) -> Engine:
        return self.stub


def stub_exercise(
    kind: Kind = Kind.NUMBER, title: str = "Exercice d'essai", **common: Any
) -> Exercise:
    """A small exercise of one kind: 3 questions, 2 attempts, no time limit unless given."""
    options = {"questions": 3, "attempts": 2, **common}
    return StubExercise(
        id=f"stub-{kind.value}",
        title=title,
        levels=("CE1",),
        theme="addition",
        engine=f"stub_{kind.value}",
        options=EngineOptions(),
        common=CommonOptions(**options),
        instructions="Réponds vite.",
        stub=StubEngine(kind),
    )


def wrong_response(session: PlayerSession) -> Response:
    """A readable response that the engine marks wrong for the question on screen."""
    question = current_question(session)
    expected = question.expected
    if question.kind is Kind.CHOICE:
        candidates = [index for index in range(len(question.choices)) if index != expected]
    elif question.kind is Kind.MULTI:
        candidates = [[index] for index in range(len(question.choices))]
    elif question.kind is Kind.GRID:
        candidates = [[write_number(value + 1) for value in expected]]
    elif question.kind is Kind.EXPRESSION:
        candidates = ["1 + 1", "2 × 3", "9 − 1"]
    else:
        candidates = [write_number(expected + 1), "12"]
    engine = session.exercises[session.position].engine_object()
    for candidate in candidates:
        if engine.check(question, candidate).outcome is Outcome.WRONG:
            return candidate
    raise AssertionError(f"no wrong response found for {question}")


def empty_response(question: Question) -> Response:
    """A response the engine cannot read: asks again, costs nothing."""
    if question.kind is Kind.MULTI:
        return []
    if question.kind is Kind.GRID:
        return [""] * len(question.cells)
    if question.kind is Kind.CHOICE:
        return -1
    return "  "


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@pytest.fixture
def make_session(clock, recorder: MemoryRecorder):
    """A session over the given exercises, with the fake clock and the memory recorder."""

    def make(*exercises: Exercise, seed: str = "classe-a") -> PlayerSession:
        return PlayerSession(list(exercises) or [stub_exercise()], seed, recorder, clock)

    return make


def answer(session: PlayerSession, response: Response, key: str | None = None) -> dict:
    message = {"type": "answer", "response": response}
    if key is not None:
        message["key"] = key
    return session.handle(message)


def current_question(session: PlayerSession) -> Question:
    """The question on screen, as the test (not the browser) may know it."""
    return session._questions[session._shown_index]


def right(session: PlayerSession) -> dict:
    return answer(session, current_question(session).right_response())


def wrong(session: PlayerSession) -> dict:
    return answer(session, wrong_response(session))


def without_time(reply: dict) -> dict:
    """A reply without what depends on the clock: time left, duration (also after "Suite")."""
    kept = {key: value for key, value in reply.items() if key not in ("time", "duration_text")}
    if "then" in kept:
        kept["then"] = without_time(kept["then"])
    return kept


# ---------------------------------------------------------------- screens and marking


def test_title_screen_describes_the_exercise_before_it_starts(make_session):
    session = make_session(stub_exercise(question_seconds=10), stub_exercise())

    reply = session.handle({"type": "state"})

    assert reply["screen"] == "title"
    assert reply["exercise"] == {
        "title": "Exercice d'essai",
        "instructions": "Réponds vite.",
        "position": 0,
        "number": 1,
        "count": 2,
        "play": 0,
        "questions": 3,
        "attempts": 2,
        "timing": f"Tu as 10{NBSP}s pour chaque question.",
    }


def test_begin_shows_question_one_and_records_the_start(make_session, recorder):
    session = make_session()

    reply = session.handle({"type": "begin"})

    assert reply["screen"] == "question"
    assert reply["number"] == 1
    assert reply["total"] == 3
    assert reply["score"] == 0
    assert (reply["attempt"], reply["attempts"]) == (1, 2)
    assert reply["time"] is None
    assert reply["keypad"] is False
    assert reply["question"] == current_question(session).public()
    [(position, exercise, questions)] = recorder.started
    assert position == 0
    assert exercise is session.exercises[0]
    assert questions == session._questions
    assert questions == session.exercises[0].questions("classe-a/0")


def test_right_answer_is_green_and_next_shows_the_next_question(make_session, clock):
    session = make_session()
    session.handle({"type": "begin"})
    clock.advance(2.5)

    feedback = right(session)

    assert feedback["screen"] == "feedback"
    assert feedback["feedback"] == "right"
    assert feedback["colour"] == "green"
    assert feedback["message"] == f"Bravo{NNBSP}!"
    assert feedback["score"] == 1
    assert feedback["question_done"] is True
    assert feedback["exercise_done"] is False
    assert "correction" not in feedback
    following = session.handle({"type": "next"})
    assert following["screen"] == "question"
    assert following["number"] == 2
    assert following["score"] == 1


def test_wrong_then_right_is_orange_then_green(make_session, recorder):
    session = make_session()
    session.handle({"type": "begin"})

    retry = answer(session, "12")
    assert (retry["feedback"], retry["colour"]) == ("retry", "orange")
    assert retry["message"] == "Essaie encore."
    assert retry["question_done"] is False
    assert retry["attempt"] == 2
    assert retry["read_as"] == "12"

    green = right(session)
    assert (green["feedback"], green["colour"]) == ("right", "green")
    assert green["score"] == 1
    assert [record.outcome for record in recorder.answers] == ["wrong", "right"]
    assert [record.attempt_number for record in recorder.answers] == [1, 2]


def test_wrong_twice_is_red_with_the_correction(make_session):
    session = make_session()
    session.handle({"type": "begin"})
    question = current_question(session)

    wrong(session)
    red = wrong(session)

    assert (red["feedback"], red["colour"]) == ("corrected", "red")
    assert red["message"] == f"Ce n'est pas ça. La réponse était{NNBSP}:"
    assert red["correction"] == question.correction
    assert red["question_done"] is True
    assert red["score"] == 0


def test_empty_answer_is_blue_and_uses_no_attempt(make_session, recorder):
    session = make_session()
    session.handle({"type": "begin"})

    blue = answer(session, "   ")

    assert (blue["feedback"], blue["colour"]) == ("empty", "blue")
    assert blue["message"] == "Écris une réponse."
    assert blue["question_done"] is False
    assert blue["attempt"] == 1
    assert recorder.answers[-1].outcome == "empty"
    assert recorder.answers[-1].attempt_number == 0
    # Still two attempts: two wrong answers are needed for the correction.
    assert wrong(session)["feedback"] == "retry"
    assert wrong(session)["feedback"] == "corrected"


def test_unreadable_text_is_empty_not_wrong(make_session):
    session = make_session()
    session.handle({"type": "begin"})

    assert answer(session, "douze")["feedback"] == "empty"


def test_question_timer_is_given_as_time_left(make_session, clock):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    clock.advance(4)

    reply = session.handle({"type": "state"})

    assert reply["time"] == {"question_ms": 6000, "limit_ms": 10000}
    assert wrong(session)["time"] == {"question_ms": 6000, "limit_ms": 10000}


def test_timeout_with_a_right_answer_in_the_box_counts(make_session, clock, recorder):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    typed = str(current_question(session).right_response())
    clock.advance(10.05)

    reply = session.handle({"type": "timeout", "response": typed})

    assert reply["feedback"] == "right"
    assert reply["score"] == 1
    assert reply["question_done"] is True
    record = recorder.answers[-1]
    assert (record.outcome, record.timer, record.typed) == ("right", True, typed)
    assert record.response_ms == 10050


def test_timeout_with_a_wrong_answer_shows_the_correction(make_session, clock):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    question = current_question(session)
    clock.advance(10)

    reply = session.handle({"type": "timeout", "response": "3"})

    assert (reply["feedback"], reply["colour"]) == ("timeout", "red")
    assert reply["message"] == f"Temps écoulé{NNBSP}!"
    assert reply["correction"] == question.correction
    assert reply["time"] is None


def test_timeout_before_the_server_deadline_changes_nothing(make_session, clock, recorder):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    clock.advance(9.7)

    reply = session.handle({"type": "timeout", "response": "3"})

    assert reply["screen"] == "question"
    assert reply["time"] == {"question_ms": 300, "limit_ms": 10000}
    assert recorder.answers == []


def test_timeout_of_an_untimed_exercise_changes_nothing(make_session, clock):
    session = make_session()
    session.handle({"type": "begin"})
    clock.advance(600)

    assert session.handle({"type": "timeout", "response": None})["screen"] == "question"


def test_a_very_late_browser_timeout_does_not_mark_its_box(make_session, clock):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    typed = str(current_question(session).right_response())
    clock.advance(60)

    reply = session.handle({"type": "timeout", "response": typed})

    assert reply["feedback"] == "timeout"
    assert reply["score"] == 0


def test_an_answer_after_the_deadline_is_a_timeout(make_session, clock, recorder):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    clock.advance(10 + GRACE_SECONDS + 0.1)

    reply = right(session)

    assert reply["feedback"] == "timeout"
    assert reply["score"] == 0
    assert recorder.answers[-1].timer is True
    assert recorder.answers[-1].typed == str(current_question(session).right_response())


def test_the_server_notices_an_overdue_question_on_any_message(make_session, clock):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    clock.advance(10 + GRACE_SECONDS + 1)

    reply = session.handle({"type": "state"})

    assert reply["screen"] == "feedback"
    assert reply["feedback"] == "timeout"
    assert reply["question_done"] is True


def test_exercise_timer_ends_the_exercise(make_session, clock, recorder):
    session = make_session(stub_exercise(questions=4, exercise_seconds=60))
    session.handle({"type": "begin"})
    assert session.handle({"type": "state"})["time"] == {"exercise_ms": 60000, "limit_ms": 60000}
    clock.advance(20)
    right(session)
    session.handle({"type": "next"})
    clock.advance(40)

    reply = session.handle({"type": "timeout", "response": "1"})

    assert reply["feedback"] == "timeout"
    assert reply["exercise_done"] is True
    result = session.handle({"type": "next"})
    assert result["screen"] == "result"
    assert result["time_up"] is True
    assert result["score_text"] == "1 sur 4"
    assert result["not_reached"] == 2
    assert result["duration_text"] == f"1{NBSP}min 00{NBSP}s"
    assert recorder.finished[-1][1].not_reached == 2


def test_exercise_timer_running_out_during_a_feedback_goes_to_the_result(
    make_session, clock, recorder
):
    session = make_session(stub_exercise(questions=3, exercise_seconds=30))
    session.handle({"type": "begin"})
    clock.advance(10)
    feedback = right(session)
    assert feedback["time"] == {"exercise_ms": 20000, "limit_ms": 30000}
    clock.advance(20)

    reply = session.handle({"type": "timeout", "response": None})

    assert reply["screen"] == "result"
    assert reply["time_up"] is True
    assert reply["not_reached"] == 2
    record = recorder.answers[-1]
    assert (record.question_index, record.outcome, record.response_ms) == (1, "timeout", None)


def test_pressing_suite_after_the_exercise_time_gives_the_result(make_session, clock):
    session = make_session(stub_exercise(questions=3, exercise_seconds=30))
    session.handle({"type": "begin"})
    right(session)
    clock.advance(31)

    assert session.handle({"type": "next"})["screen"] == "result"


def test_result_screen_values(make_session, clock):
    session = make_session(stub_exercise(questions=3), stub_exercise())
    session.handle({"type": "begin"})
    clock.advance(30)
    right(session)
    session.handle({"type": "next"})
    clock.advance(35)
    wrong(session)
    right(session)
    session.handle({"type": "next"})
    wrong(session)
    last = wrong(session)
    assert last["exercise_done"] is True

    result = session.handle({"type": "next"})
    then = result.pop("then")

    assert (then["screen"], then["exercise"]["number"]) == ("title", 2)
    assert result == {
        "screen": "result",
        "exercise": {
            "title": "Exercice d'essai",
            "instructions": "Réponds vite.",
            "position": 0,
            "number": 1,
            "count": 2,
            "play": 1,
        },
        "score": 2,
        "total": 3,
        "score_text": "2 sur 3",
        "duration_text": f"1{NBSP}min 05{NBSP}s",
        "stars": 3,
        "stars_max": 5,
        "right_first_attempt": 1,
        "show_first_attempt_row": True,
        "not_reached": 0,
        "time_up": False,
        "replayable": True,
        "has_next": True,
    }


def _finish_exercise(session: PlayerSession) -> dict:
    """Answer every question left right and go to the result."""
    reply = session.handle({"type": "state"})
    for _ in range(100):
        if reply["screen"] == "result":
            return reply
        if reply["screen"] == "question" or not reply["question_done"]:
            reply = right(session)
        else:
            reply = session.handle({"type": "next"})
    raise AssertionError(f"the exercise does not end: {reply}")


def test_replay_starts_a_new_run_with_new_questions(make_session, recorder):
    session = make_session(stub_exercise(questions=5))
    session.handle({"type": "begin"})
    first_questions = list(session._questions)
    _finish_exercise(session)

    reply = session.handle({"type": "replay"})

    assert reply["screen"] == "question"
    assert (reply["number"], reply["score"], reply["exercise"]["play"]) == (1, 0, 2)
    assert session._questions == session.exercises[0].questions("classe-a/0/2")
    assert session._questions != first_questions
    assert len(recorder.started) == 2
    right(session)
    assert recorder.answers[-1].play == 2


def test_replay_is_refused_when_the_exercise_is_not_replayable(make_session):
    session = make_session(stub_exercise(replayable=False))
    session.handle({"type": "begin"})
    result = _finish_exercise(session)
    assert result["replayable"] is False

    reply = session.handle({"type": "replay"})

    assert reply["screen"] == "result"
    assert reply["error"] == ERROR_NOT_REPLAYABLE


def test_continue_goes_to_the_next_title_then_to_the_end(make_session, recorder):
    session = make_session(stub_exercise(title="Premier"), stub_exercise(title="Second"))
    session.handle({"type": "begin"})
    assert _finish_exercise(session)["has_next"] is True

    title = session.handle({"type": "continue"})
    assert title["screen"] == "title"
    assert (title["exercise"]["title"], title["exercise"]["number"]) == ("Second", 2)
    session.handle({"type": "begin"})
    assert session._questions == session.exercises[1].questions("classe-a/1")
    wrong(session)
    wrong(session)
    session.handle({"type": "next"})
    result = _finish_exercise(session)
    assert result["has_next"] is False

    end = session.handle({"type": "continue"})

    assert end == {
        "screen": "end",
        "summary": [
            {"title": "Premier", "score": 3, "total": 3, "score_text": "3 sur 3"},
            {"title": "Second", "score": 2, "total": 3, "score_text": "2 sur 3"},
        ],
        "score": 5,
        "total": 6,
        "score_text": "5 sur 6",
    }
    assert [position for position, _ in recorder.finished] == [0, 1]
    assert session.handle({"type": "state"}) == end


def test_an_answer_key_seen_before_returns_the_same_reply_and_records_nothing(
    make_session, recorder
):
    session = make_session()
    session.handle({"type": "begin"})
    first = answer(session, "12", key="abc")

    again = answer(session, "12", key="abc")

    assert again == first
    assert again["feedback"] == "retry"
    assert len(recorder.answers) == 1
    assert recorder.answers[0].client_key == "abc"
    # A new key is a new validation: the second wrong answer.
    assert answer(session, "12", key="abd")["feedback"] == "corrected"
    assert answer(session, "12", key="abd")["feedback"] == "corrected"
    assert len(recorder.answers) == 2


@pytest.mark.parametrize(
    "message",
    [
        "begin",
        None,
        ["answer"],
        {},
        {"type": "fly"},
        {"type": 3},
        {"type": "answer"},
        {"type": "answer", "response": None},
        {"type": "answer", "response": {"value": 3}},
        {"type": "answer", "response": True},
        {"type": "answer", "response": [1, [2]]},
        {"type": "answer", "response": "9" * 10_000},
        {"type": "answer", "response": "3", "key": 5},
        {"type": "answer", "response": "3", "key": ""},
        {"type": "timeout", "response": {"a": 1}},
    ],
)
def test_a_malformed_message_gets_a_french_error_and_the_screen(make_session, recorder, message):
    session = make_session()
    session.handle({"type": "begin"})

    reply = session.handle(message)

    assert reply["error"] == ERROR_UNREADABLE
    assert reply["screen"] == "question"
    assert reply["question"] == current_question(session).public()
    assert recorder.answers == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ([], {"type": "next"}),
        ([], {"type": "answer", "response": "3"}),
        ([], {"type": "continue"}),
        ([{"type": "begin"}], {"type": "begin"}),
        ([{"type": "begin"}], {"type": "next"}),
        ([{"type": "begin"}], {"type": "replay"}),
    ],
)
def test_an_action_on_the_wrong_screen_gets_a_french_error(make_session, setup, message):
    session = make_session()
    for earlier in setup:
        session.handle(earlier)
    screen = session.screen

    reply = session.handle(message)

    assert reply["error"] == ERROR_NOT_NOW
    assert reply["screen"] == screen == session.screen


def test_an_answer_after_the_question_is_done_is_refused(make_session, recorder):
    session = make_session()
    session.handle({"type": "begin"})
    right(session)

    reply = answer(session, "4", key="late")

    assert reply["error"] == ERROR_NOT_NOW
    assert reply["screen"] == "feedback"
    assert len(recorder.answers) == 1


def test_a_failing_engine_gets_a_french_error_and_an_english_log(make_session, caplog):
    exercise = stub_exercise()
    broken = replace(exercise, stub=StubEngine(Kind.NUMBER, fail_on_check=True))
    session = make_session(broken)
    session.handle({"type": "begin"})

    with caplog.at_level(logging.ERROR, logger="calculatice.player.session"):
        reply = answer(session, "3")

    assert reply["error"] == ERROR_INTERNAL
    assert reply["screen"] == "question"
    assert "failed on a message of type 'answer'" in caplog.text


def test_records_hold_what_was_shown_typed_and_read(make_session, clock, recorder):
    session = make_session(
        stub_exercise(Kind.FLASH), stub_exercise(Kind.CHOICE), stub_exercise(Kind.GRID)
    )
    session.handle({"type": "begin"})
    question = current_question(session)
    clock.advance(1.234)
    answer(session, " 12,0 ", key="k-1")
    record = recorder.answers[-1]
    assert record == AnswerRecord(
        position=0,
        question_index=0,
        attempt_number=1,
        question_shown=f"{question.prompt} 3 + 280 + 97",
        expected=question.solution,
        typed=" 12,0 ",
        read_as="12",
        outcome="wrong",
        response_ms=1234,
        client_key="k-1",
        play=1,
        timer=False,
    )

    _finish_exercise(session)
    session.handle({"type": "continue"})
    session.handle({"type": "begin"})
    answer(session, 1)
    assert (recorder.answers[-1].typed, recorder.answers[-1].read_as) == ("1", "bravo")
    _finish_exercise(session)
    session.handle({"type": "continue"})
    session.handle({"type": "begin"})
    answer(session, ["1", "2,5"])
    assert recorder.answers[-1].typed == '["1", "2,5"]'
    assert recorder.answers[-1].position == 2


def test_a_bank_exercise_plays_through(bank: Bank, clock, recorder):
    exercise = bank.get("cp-ajouter-10").with_overrides({"questions": 2})
    session = PlayerSession([exercise], "bank", recorder, clock)
    session.handle({"type": "begin"})

    result = _finish_exercise(session)

    assert result["score_text"] == "2 sur 2"
    assert [record.outcome for record in recorder.answers] == ["right", "right"]


def test_timing_and_duration_texts_are_french():
    assert timing_text(CommonOptions(exercise_seconds=90)) == (
        f"Tu as 1{NBSP}min 30{NBSP}s pour tout l'exercice."
    )
    assert timing_text(CommonOptions(question_seconds=8)) == (
        f"Tu as 8{NBSP}s pour chaque question."
    )
    assert timing_text(CommonOptions()) == "Pas de limite de temps."
    assert duration_text(120) == f"2{NBSP}min"


# ---------------------------------------------------------------- resuming


def _play_a_seance(session: PlayerSession, clock) -> list[dict]:
    """A séance with every kind of event: retries, empties, a replay, time-outs, two exercises."""
    script: list[dict] = [{"type": "begin"}]
    replies = [session.handle(script[0])]

    def send(message: dict) -> None:
        clock.advance(1.5)
        replies.append(session.handle(message))

    def send_answer(response: Response) -> None:
        send({"type": "answer", "response": response, "key": f"key-{len(replies)}"})

    send_answer("  ")
    send_answer(wrong_response(session))
    send_answer(current_question(session).right_response())
    send({"type": "next"})
    send_answer(wrong_response(session))
    send_answer(wrong_response(session))
    send({"type": "next"})
    send_answer(current_question(session).right_response())
    send({"type": "next"})
    send({"type": "replay"})
    send_answer(current_question(session).right_response())
    send({"type": "next"})
    clock.advance(10)
    send({"type": "timeout", "response": str(current_question(session).right_response())})
    send({"type": "next"})
    clock.advance(11)
    send({"type": "timeout", "response": "1"})
    send({"type": "next"})
    send({"type": "continue"})
    send({"type": "begin"})
    send_answer(current_question(session).right_response())
    clock.advance(40)
    send({"type": "timeout", "response": None})
    return replies


def _seance() -> list[Exercise]:
    return [
        stub_exercise(Kind.NUMBER, title="Nombres", question_seconds=10),
        stub_exercise(Kind.CHOICE, title="Choix", questions=4, exercise_seconds=30),
    ]


def test_the_scripted_seance_covers_every_event(clock, recorder):
    session = PlayerSession(_seance(), "resume", recorder, clock)

    replies = _play_a_seance(session, clock)

    assert [reply.get("error") for reply in replies] == [None] * len(replies)
    assert replies[-1]["screen"] == "result"
    assert replies[-1]["not_reached"] == 3
    outcomes = [(record.outcome, record.timer) for record in recorder.answers]
    assert outcomes == [
        ("empty", False),
        ("wrong", False),
        ("right", False),
        ("wrong", False),
        ("wrong", False),
        ("right", False),
        ("right", False),
        ("right", True),
        ("timeout", True),
        ("right", False),
        ("timeout", True),
    ]


@pytest.mark.parametrize("answers_kept", range(12))
def test_resume_after_n_answers_lands_on_the_same_screen(clock, answers_kept):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    _play_a_seance(original, clock)
    records = recorder.answers[:answers_kept]
    # The screen the pupil saw right after that answer, from a session stopped there.
    witness = PlayerSession(_seance(), "resume", MemoryRecorder(), clock)
    expected = _replay_until(witness, clock, answers_kept)

    resumed_recorder = MemoryRecorder()
    resumed = PlayerSession.resume(_seance(), "resume", resumed_recorder, records, clock)
    reply = resumed.handle({"type": "state"})

    assert without_time(reply) == without_time(expected)
    assert {
        position: replace(result, seconds=0) for position, result in resumed.results.items()
    } == {position: replace(result, seconds=0) for position, result in witness.results.items()}
    assert resumed_recorder == MemoryRecorder()


def _replay_until(session: PlayerSession, clock, answers: int) -> dict:
    """Play the scripted séance, stopping right after the given number of answers."""
    recorder = MemoryRecorder()
    session._recorder = recorder
    if answers == 0:
        return session.handle({"type": "state"})
    original_handle = session.handle
    last: dict = {}

    class _Stop(Exception):
        pass

    def counting_handle(message: dict) -> dict:
        nonlocal last
        reply = original_handle(message)
        if len(recorder.answers) >= answers:
            last = reply
            raise _Stop
        return reply

    session.handle = counting_handle
    with pytest.raises(_Stop):
        _play_a_seance(session, clock)
    return last


def test_a_resumed_session_goes_on_like_the_original(clock):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    original.handle({"type": "begin"})
    wrong(original)
    right(original)
    original.handle({"type": "next"})

    resumed = PlayerSession.resume(_seance(), "resume", MemoryRecorder(), recorder.answers, clock)

    assert resumed.handle({"type": "state"})["screen"] == "feedback"
    assert without_time(resumed.handle({"type": "next"})) == without_time(
        original.handle({"type": "state"})
    )
    for session in (original, resumed):
        wrong(session)
        wrong(session)
    assert resumed.handle({"type": "state"}) == original.handle({"type": "state"})


def test_resume_gives_the_same_reply_to_a_retried_answer_key(clock):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    original.handle({"type": "begin"})
    first = answer(original, "12", key="retry-me")

    resumed = PlayerSession.resume(_seance(), "resume", MemoryRecorder(), recorder.answers, clock)
    again = answer(resumed, "12", key="retry-me")

    assert without_time(again) == without_time(first)
    assert resumed.handle({"type": "state"})["attempt"] == 2


def test_resume_keeps_the_time_spent_answering(clock):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    original.handle({"type": "begin"})
    clock.advance(3)
    wrong(original)
    clock.advance(2)
    wrong(original)
    original.handle({"type": "next"})
    clock.advance(4)
    wrong(original)
    clock.advance(100)

    resumed = PlayerSession.resume(_seance(), "resume", MemoryRecorder(), recorder.answers, clock)

    reply = resumed.handle({"type": "state"})
    assert (reply["number"], reply["feedback"]) == (2, "retry")
    assert reply["time"] == {"question_ms": 6000, "limit_ms": 10000}


def test_resume_rebuilds_a_finished_exercise_and_its_duration(clock):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    original.handle({"type": "begin"})
    for seconds in (2, 3, 4):
        clock.advance(seconds)
        right(original)
        original.handle({"type": "next"})

    resumed = PlayerSession.resume(_seance(), "resume", MemoryRecorder(), recorder.answers, clock)

    assert resumed.results[0] == replace(original.results[0], seconds=9.0)
    assert resumed.handle({"type": "next"})["score_text"] == "3 sur 3"
    assert resumed.handle({"type": "continue"})["exercise"]["title"] == "Choix"


def test_resume_stops_at_an_answer_that_does_not_fit(clock, caplog):
    recorder = MemoryRecorder()
    original = PlayerSession(_seance(), "resume", recorder, clock)
    original.handle({"type": "begin"})
    wrong(original)
    stray = replace(recorder.answers[0], position=1)

    with caplog.at_level(logging.WARNING, logger="calculatice.player.session"):
        resumed = PlayerSession.resume(
            _seance(), "resume", MemoryRecorder(), [recorder.answers[0], stray], clock
        )

    reply = resumed.handle({"type": "state"})
    assert (reply["screen"], reply["feedback"], reply["attempt"]) == ("feedback", "retry", 2)
    assert "Stopped replaying stored answers at record 2 of 2" in caplog.text


# ---------------------------------------------------------------- no answer leaks


def _assert_nothing_given_away(reply: dict, question: Question) -> None:
    """Neither the answer nor the correction is in a reply while its question is open."""
    text = json.dumps(reply, ensure_ascii=False)
    for key in ("expected", "solution", "correction"):
        assert f'"{key}"' not in text
    assert reply["question"] == question.public()
    # Numbers such as a score or a time may equal a short answer: look at texts only.
    texts = list(_texts({key: value for key, value in reply.items() if key != "question"}))
    assert question.solution not in texts
    assert not any(question.correction in text for text in texts)


def _texts(value: Any):
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _open_replies(session: PlayerSession, clock) -> list[tuple[dict, Question]]:
    """Every kind of reply a pupil gets while the first question is open.

    The first is what the title page holds for "Commencer": that question, drawn ahead.
    """
    ahead = session.handle({"type": "state"})["then"]
    replies = [(session.handle({"type": "begin"}), current_question(session))]
    question = current_question(session)
    replies.insert(0, (ahead, question))
    mistake = wrong_response(session)
    for message in (
        {"type": "state"},
        {"type": "answer", "response": empty_response(question), "key": "e"},
        {"type": "timeout", "response": mistake},
        {"type": "next"},
        {"type": "answer", "response": mistake, "key": "w"},
        {"type": "answer", "response": mistake, "key": "w"},
        {"type": "fly"},
    ):
        clock.advance(0.5)
        replies.append((session.handle(message), question))
    assert replies[-1][0]["feedback"] == "retry"
    return replies


@pytest.mark.parametrize("kind", list(Kind))
def test_no_answer_leaks_while_the_question_is_open(make_session, clock, kind):
    session = make_session(stub_exercise(kind, question_seconds=20))

    replies = _open_replies(session, clock)

    for reply, question in replies:
        _assert_nothing_given_away(reply, question)
        if kind not in (Kind.CHOICE, Kind.MULTI):
            # These answers are in no prompt or label: not even the whole JSON text holds them.
            assert question.solution not in json.dumps(reply, ensure_ascii=False)
    done = wrong(session)
    assert done["correction"] == replies[0][1].correction


@pytest.mark.parametrize("engine_name", sorted(all_engines()))
def test_no_answer_leaks_with_any_registered_engine(clock, engine_name):
    engine = all_engines()[engine_name]
    exercise = Exercise(
        id=f"leak-{engine_name.replace('_', '-')}",
        title="Fuite",
        levels=("CM1",),
        theme="addition",
        engine=engine_name,
        options=engine.options({}),
        common=CommonOptions(questions=3, attempts=2, question_seconds=20),
    )
    session = PlayerSession([exercise], "no-leak", MemoryRecorder(), clock)

    for reply, question in _open_replies(session, clock):
        _assert_nothing_given_away(reply, question)


# ---------------------------------------------------------------- "Suite" without a round trip


def after_suite(session: PlayerSession, suite_ms: Any, response: Response | None = None, **extra):
    """Answer the question a feedback's ``"then"`` showed, "Suite" pressed ``suite_ms`` ago.

    Without ``response``, the right one (as the test, not the browser, may know it).
    """
    if response is None:
        response = session._questions[session._run.question].right_response()
    return session.handle({"type": "answer", "response": response, "suite": suite_ms, **extra})


def test_a_done_question_s_feedback_carries_what_suite_shows(make_session):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})

    then = right(session)["then"]

    assert then == session.handle({"type": "next"})
    assert (then["screen"], then["number"], then["score"], then["attempt"]) == (
        "question",
        2,
        1,
        1,
    )
    assert then["time"] == {"question_ms": 10_000, "limit_ms": 10_000}


def test_an_open_question_s_feedback_carries_nothing_ahead(make_session):
    session = make_session()
    session.handle({"type": "begin"})

    assert "then" not in answer(session, "  ")
    assert "then" not in wrong(session)


def test_the_question_ahead_gives_no_answer_away(make_session):
    session = make_session(stub_exercise(question_seconds=20))
    session.handle({"type": "begin"})
    then = right(session)["then"]

    session.handle({"type": "next"})
    question = current_question(session)
    assert then["question"] == question.public()
    _assert_nothing_given_away(then, question)
    assert question.solution not in json.dumps(then, ensure_ascii=False)


def test_an_answer_after_a_local_suite_is_timed_from_when_the_page_drew_it(
    make_session, clock, recorder
):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    right(session)
    clock.advance(6.5)  # 5 s reading the feedback, then 1.5 s on question 2

    reply = after_suite(session, 1500, key="q2")

    assert (reply["screen"], reply["number"], reply["feedback"]) == ("feedback", 2, "right")
    assert reply["score"] == 2
    assert (recorder.answers[-1].question_index, recorder.answers[-1].response_ms) == (1, 1500)


def test_the_page_s_moment_is_bounded_by_what_the_server_knows(make_session, clock, recorder):
    session = make_session(stub_exercise(question_seconds=10, questions=4))
    session.handle({"type": "begin"})
    right(session)
    clock.advance(3)

    after_suite(session, 60_000)  # "Suite" cannot come before the feedback was sent
    assert recorder.answers[-1].response_ms == 3000
    clock.advance(2)
    assert after_suite(session, -5)["error"] == ERROR_UNREADABLE
    assert (session.screen, len(recorder.answers)) == ("feedback", 2)
    clock.advance(1)
    after_suite(session, 0)  # nor after the message came
    assert recorder.answers[-1].response_ms == 0


def test_a_question_drawn_ahead_times_out_from_when_the_page_drew_it(
    make_session, clock, recorder
):
    session = make_session(stub_exercise(question_seconds=10))
    session.handle({"type": "begin"})
    right(session)
    clock.advance(14 + GRACE_SECONDS)

    late = after_suite(session, 12_000 + GRACE_SECONDS * 1000)
    assert (late["number"], late["feedback"]) == (2, "timeout")
    assert recorder.answers[-1].outcome == "timeout"
    assert session.handle({"type": "next"})["number"] == 3
    clock.advance(3)
    # "Suite" went through the server this time: a "suite" left in a message changes nothing.
    assert after_suite(session, 0)["number"] == 3
    assert recorder.answers[-1].response_ms == 3000


def test_a_retried_answer_after_a_local_suite_moves_on_once(make_session, clock, recorder):
    session = make_session()
    session.handle({"type": "begin"})
    right(session)
    clock.advance(2)

    first = after_suite(session, 1000, key="k2")
    again = after_suite(session, 1000, key="k2")

    assert again == first
    assert (first["number"], session.screen) == (2, "feedback")
    assert [record.question_index for record in recorder.answers] == [0, 1]


def test_suite_on_the_last_question_shows_the_result_then_the_next_title(make_session, clock):
    session = make_session(stub_exercise(questions=1), stub_exercise(title="Deuxième"))
    session.handle({"type": "begin"})

    then = right(session)["then"]
    assert (then["screen"], then["score_text"], then["has_next"]) == ("result", "1 sur 1", True)
    clock.advance(4)

    title = session.handle({"type": "continue", "suite": 2500})
    assert (title["screen"], title["exercise"]["title"]) == ("title", "Deuxième")


def answer_shown(session: PlayerSession, reply: dict, suite_ms: int, key: str) -> dict:
    """Follow ``reply``'s ``"then"`` to the question the page drew on its own, and answer it.

    The right response is drawn from the seed as the session draws it (the
    test, not the browser, may know it); the page's question must be that one.
    """
    shown = reply
    while shown["screen"] != "question":
        shown = shown["then"]
    header = shown["exercise"]
    question = session._draw(header["position"], header["play"])[shown["number"] - 1]
    assert shown["question"] == question.public()
    message = {"type": "answer", "response": question.right_response(), "key": key}
    return session.handle({**message, "suite": suite_ms})


def test_a_result_leads_to_the_next_title_and_the_title_to_its_first_question(make_session):
    session = make_session(
        stub_exercise(questions=1), stub_exercise(title="Deuxième", question_seconds=10)
    )
    session.handle({"type": "begin"})

    result = right(session)["then"]
    title = result["then"]
    opening = title["then"]

    assert (title["screen"], title["exercise"]["title"], title["exercise"]["play"]) == (
        "title",
        "Deuxième",
        0,
    )
    assert session.handle({"type": "next"}) == result
    assert session.handle({"type": "continue"}) == title
    assert session.handle({"type": "begin"}) == opening
    assert (opening["number"], opening["score"], opening["exercise"]["play"]) == (1, 0, 1)
    assert opening["time"] == {"question_ms": 10_000, "limit_ms": 10_000}


def test_terminer_asks_the_server_so_that_a_reload_finds_the_end(make_session):
    session = make_session(stub_exercise(questions=1))
    session.handle({"type": "begin"})

    result = right(session)["then"]
    session.handle({"type": "next"})
    end = session.handle({"type": "continue"})

    assert (result["has_next"], "then" in result) == (False, False)
    assert (end["screen"], end["score_text"]) == ("end", "1 sur 1")
    assert session.handle({"type": "state"}) == end


def test_between_exercises_a_pair_sends_nothing_but_answers(make_session, clock, recorder):
    session = make_session(
        stub_exercise(questions=2, question_seconds=10),
        stub_exercise(title="Deuxième", questions=2, exercise_seconds=60),
    )
    reply = session.handle({"type": "state"})
    replies = []
    for number in range(4):
        clock.advance(2.5)
        reply = answer_shown(session, reply, 1000, key=f"k{number}")
        replies.append(reply)

    assert [(r["exercise"]["number"], r["number"], r["feedback"]) for r in replies] == [
        (1, 1, "right"),
        (1, 2, "right"),
        (2, 1, "right"),
        (2, 2, "right"),
    ]
    # Each question, and the second exercise's clock, started when the page drew them.
    assert [record.response_ms for record in recorder.answers] == [1000] * 4
    assert replies[2]["time"]["exercise_ms"] == 59_000
    assert [(position, len(questions)) for position, _e, questions in recorder.started] == [
        (0, 2),
        (1, 2),
    ]
    assert [position for position, _result in recorder.finished] == [0, 1]
    assert (reply["then"]["screen"], "then" in reply["then"]) == ("result", False)


def test_commencer_cannot_be_placed_before_the_title_was_sent(make_session, clock, recorder):
    session = make_session(stub_exercise(question_seconds=10))
    title = session.handle({"type": "state"})
    clock.advance(3)

    reply = answer_shown(session, title, 60_000, key="a")

    assert (reply["number"], reply["feedback"]) == (1, "right")
    assert recorder.answers[-1].response_ms == 3000


def test_an_answer_from_a_page_that_moved_on_alone_resumes_and_retries_once(
    make_session, clock, recorder
):
    exercises = [stub_exercise(questions=1), stub_exercise(title="Deuxième", questions=2)]
    session = make_session(*exercises)
    done = answer_shown(session, session.handle({"type": "state"}), 800, key="a")
    clock.advance(4)
    first = answer_shown(session, done, 1200, key="b")

    # The process is gone; the reply to "b" was lost: the page sends it again.
    after_b, after_a = MemoryRecorder(), MemoryRecorder()
    resumed = PlayerSession.resume(exercises, "classe-a", after_b, recorder.answers, clock)
    again = answer_shown(resumed, done, 1200, key="b")
    # "b" never reached the store: a session rebuilt from "a" alone follows the page.
    rebuilt = PlayerSession.resume(exercises, "classe-a", after_a, recorder.answers[:1], clock)
    followed = answer_shown(rebuilt, done, 1200, key="b")

    assert (first["exercise"]["number"], first["number"]) == (2, 1)
    assert without_time(again) == without_time(first)
    assert (after_b.started, after_b.answers) == ([], [])
    assert without_time(followed) == without_time(first)
    assert [(record.position, record.client_key) for record in after_a.answers] == [(1, "b")]
    assert [position for position, _e, _q in after_a.started] == [1]


@pytest.mark.parametrize("suite", ["1500", None, True, -1, 1e12, [1]])
def test_a_malformed_suite_gets_a_french_error_and_the_feedback(make_session, recorder, suite):
    session = make_session()
    session.handle({"type": "begin"})
    right(session)

    reply = session.handle({"type": "state", "suite": suite})

    assert reply["error"] == ERROR_UNREADABLE
    assert (reply["screen"], reply["number"]) == ("feedback", 1)
