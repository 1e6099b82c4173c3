"""The pupil page's back end: joining a séance, every answer stored, resuming after a reload."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from calculatice.catalogue import Bank, load_bank
from calculatice.errors import UnknownExerciseError
from calculatice.pupil import JOIN_PROBLEMS, ExerciseFiles, PupilGateway, clean_name
from calculatice.seances import format_code, open_seance
from calculatice.store import Store

BANK_FOLDER_FOR_FILES = Path(__file__).resolve().parent.parent / "exercices"


def gateway_for(store: Store, bank: Bank, clock: Callable[[], float]) -> PupilGateway:
    return PupilGateway(lambda: store, lambda: bank, clock)


def first_questions(store: Store, bank: Bank, code: str, name: str):
    """The questions of the séance's first exercise, as drawn for this pupil."""
    seance = open_seance(store, bank, code)
    [pupil] = [p for p in store.pupils_of(seance.classroom_id) if p.display_name == name]
    return seance.exercises[0].questions(f"{seance.code}/{pupil.id}/0")


@pytest.mark.parametrize(
    ("typed", "name", "pair"),
    [
        ("  Léa ", "Léa", False),
        ("léa   et  TOM", "léa et TOM", True),
        ("Jean-Édouard", "Jean-Édouard", False),
        ("N'Golo", "N'Golo", False),
        ("Zoé & Inès", "Zoé et Inès", True),
    ],
)
def test_names_are_tidied(typed: str, name: str, pair: bool) -> None:
    assert clean_name(typed) == (name, pair)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("<b>Léa</b>", "name_chars"),
        ("<script>alert(1)</script>", "name_chars"),
        ("Léa2", "name_chars"),
        ("x" * 41, "name_long"),
    ],
)
def test_bad_names_are_refused(typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clean_name(typed)


def test_page_starts_on_the_join_screen(store, bank, clock) -> None:
    assert gateway_for(store, bank, clock).handle({"type": "state"}) == {"screen": "join"}


def test_wrong_code_is_refused_politely(store, bank, clock, demo_code) -> None:
    reply = gateway_for(store, bank, clock).handle(
        {"type": "join", "code": "ZZZ-ZZZ", "name": "Léa"}
    )
    assert reply == {"screen": "join", "error": JOIN_PROBLEMS["code"], "field": "code"}


def test_name_written_as_html_is_refused_with_a_french_message(
    store, bank, clock, demo_code
) -> None:
    reply = gateway_for(store, bank, clock).handle(
        {"type": "join", "code": demo_code, "name": "<img src=x onerror=alert(1)>"}
    )
    assert reply["error"] == JOIN_PROBLEMS["name_chars"]
    assert store.pupils_of(1) == []


def test_code_is_read_whatever_its_case_and_dash(store, bank, clock, demo_code) -> None:
    typed = format_code(demo_code).lower()
    reply = gateway_for(store, bank, clock).handle({"type": "join", "code": typed, "name": "Léa"})
    assert reply["screen"] == "title"
    assert reply["who"] == {"name": "Léa", "seance": "Séance de démonstration"}


def test_every_answer_is_stored_as_given(store, bank, clock, demo_code) -> None:
    gateway = gateway_for(store, bank, clock)
    gateway.handle({"type": "join", "code": demo_code, "name": "Léa"})
    gateway.handle({"type": "begin"})
    question = first_questions(store, bank, demo_code, "Léa")[0]
    clock.now += 2.5
    wrong = gateway.handle({"type": "answer", "response": "abc", "key": "k1"})
    right = gateway.handle({"type": "answer", "response": question.solution, "key": "k2"})
    assert (wrong["feedback"], right["feedback"]) == ("empty", "right")

    [pupil] = store.pupils_of(1)
    [attempt] = store.attempts_of(pupil.id, open_seance(store, bank, demo_code).id)
    answers = store.answers_of(attempt.id)
    assert [(a.typed, a.outcome, a.attempt_number) for a in answers] == [
        ("abc", "empty", 0),
        (question.solution, "right", 1),
    ]
    assert answers[1].response_ms == 2500
    assert answers[1].question_shown == question.prompt


def test_a_retried_answer_is_stored_once(store, bank, clock, demo_code) -> None:
    gateway = gateway_for(store, bank, clock)
    gateway.handle({"type": "join", "code": demo_code, "name": "Léa"})
    gateway.handle({"type": "begin"})
    first = gateway.handle({"type": "answer", "response": "1", "key": "same"})
    again = gateway.handle({"type": "answer", "response": "1", "key": "same"})
    assert first == again
    [attempt] = store.attempts_of(store.pupils_of(1)[0].id, 1)
    assert len(store.answers_of(attempt.id)) == 1


def test_a_reload_resumes_where_the_pupil_was(store, bank, clock, demo_code) -> None:
    gateway = gateway_for(store, bank, clock)
    gateway.handle({"type": "join", "code": demo_code, "name": "Léa"})
    gateway.handle({"type": "begin"})
    questions = first_questions(store, bank, demo_code, "Léa")
    for number in range(2):
        answer = {"type": "answer", "response": questions[number].solution, "key": f"a{number}"}
        gateway.handle(answer)
        gateway.handle({"type": "next"})

    reloaded = gateway_for(store, bank, clock)
    reply = reloaded.handle({"type": "join", "code": demo_code, "name": "LÉA"})
    # "Suite" is not stored: the pupil sees the last feedback again, then goes on.
    assert (reply["screen"], reply["number"], reply["score"]) == ("feedback", 2, 2)
    reply = reloaded.handle({"type": "next"})
    assert (reply["screen"], reply["number"], reply["score"]) == ("question", 3, 2)
    assert len(store.pupils_of(1)) == 1


def test_a_locked_database_is_an_error_then_the_session_is_rebuilt(
    store, bank, clock, demo_code
) -> None:
    """SQLite held past its busy timeout: a French error, then the answer sent again counts."""
    gateway = gateway_for(store, bank, clock)
    gateway.handle({"type": "join", "code": demo_code, "name": "Léa"})
    gateway.handle({"type": "begin"})
    questions = first_questions(store, bank, demo_code, "Léa")
    gateway.handle({"type": "answer", "response": questions[0].solution, "key": "a0"})
    gateway.handle({"type": "next"})
    second = {"type": "answer", "response": questions[1].solution, "key": "a1"}
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        refused = gateway.handle(second)
    finally:
        other.execute("ROLLBACK")
        other.close()

    # Rebuilt from the store: the first answer's feedback again ("Suite" is not stored).
    back = gateway.handle({"type": "state"})
    gateway.handle({"type": "next"})
    answered = gateway.handle(second)
    assert (refused["screen"], refused["error"]) == ("question", JOIN_PROBLEMS["internal"])
    assert (back["screen"], back["number"], back["score"]) == ("feedback", 1, 1)
    assert (answered["screen"], answered["number"], answered["score"]) == ("feedback", 2, 2)
    [attempt] = store.attempts_of(store.pupils_of(1)[0].id, 1)
    assert [answer.client_key for answer in store.answers_of(attempt.id)] == ["a0", "a1"]


def test_a_pair_is_one_participant(store, bank, clock, demo_code) -> None:
    gateway_for(store, bank, clock).handle(
        {"type": "join", "code": demo_code, "name": "Léa et Tom"}
    )
    [pair] = store.pupils_of(1)
    assert (pair.display_name, pair.is_pair) == ("Léa et Tom", True)


def test_messages_before_joining_lead_back_to_the_join_screen(store, bank, clock) -> None:
    gateway = gateway_for(store, bank, clock)
    assert gateway.handle({"type": "answer", "response": "3"})["screen"] == "join"
    assert gateway.handle("not even a dict")["screen"] == "join"


def test_exercise_files_read_only_the_seance_exercises_and_match_the_bank(
    store: Store, bank: Bank, demo_code: str
) -> None:
    files = ExerciseFiles(BANK_FOLDER_FOR_FILES)
    seance = open_seance(store, files, demo_code)
    expected = open_seance(store, bank, demo_code)
    assert seance.exercises == expected.exercises
    assert sorted(files._exercises) == sorted({e.id for e in expected.exercises})


def test_exercise_files_refuse_what_the_bank_refuses(bank_copy: Path) -> None:
    # The bank wants each exercise in a file named after its id.
    original = next(bank_copy.rglob("cm1-un-tiers-de.yaml"))
    original.rename(original.with_name("renamed.yaml"))
    with pytest.raises(UnknownExerciseError):
        load_bank(bank_copy).get("cm1-un-tiers-de")
    with pytest.raises(UnknownExerciseError):
        ExerciseFiles(bank_copy).get("cm1-un-tiers-de")
