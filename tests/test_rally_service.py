"""The rally service in-process: bounded sessions, and several processes on one store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from calculatice.catalogue import Bank, load_bank
from calculatice.rally.handlers import rally_handlers
from calculatice.rally.organise import create_rally, definition_of_rally, register_class
from calculatice.rally.service import PROBLEMS, PairTokens, RallyService
from calculatice.store import Store, connect_store, open_store

PROJECT = Path(__file__).resolve().parents[1]
EDITION_2027 = PROJECT / "data" / "rallies" / "2027.yaml"
DURING = datetime(2027, 5, 12, 9, tzinfo=UTC)
BEFORE = datetime(2027, 5, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(PROJECT / "exercices")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rally.sqlite'}"


@pytest.fixture
def code(db_url: str, rally_class) -> str:
    """The code of a CM2 class registered in the 2027 rally (scheduled, not opened by hand)."""
    return rally_class(db_url)


@pytest.fixture
def services(db_url: str, bank: Bank) -> Iterator[list[RallyService]]:
    """Services as two processes would hold them: same store file, same secret."""
    made: list[RallyService] = []

    def make(**options) -> RallyService:
        options.setdefault("now", lambda: DURING)
        made.append(
            RallyService(lambda: connect_store(db_url), b"secret", lambda: bank, **options)
        )
        return made[-1]

    yield make
    for service in made:
        service.close()


def test_scheduled_rally_opens_with_its_window(services, code: str) -> None:
    early = services(now=lambda: BEFORE)
    during = services()

    refused, no_token = early.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    joined, token = during.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})

    assert refused["screen"] == "join" and no_token is None
    assert refused["error"].startswith("Le rallye n'est pas encore ouvert")
    assert joined["screen"] == "title" and token


def test_a_pair_joining_again_in_other_case_is_the_same_pair(
    services, code: str, db_url: str
) -> None:
    service, other_process = services(), services()
    _reply, token = service.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    service.handle(token, {"type": "begin"})
    service.handle(token, {"type": "answer", "response": "5", "key": "first"})

    again, same = other_process.handle(None, {"type": "join", "code": code, "name": "léa et tom"})

    assert same == token
    # Back on the feedback of its first answer, under the name it first typed.
    assert again["screen"] == "feedback" and again["number"] == 1
    assert again["who"]["name"] == "Léa et Tom"
    with open_store(db_url) as store:
        pupils = store.pupils_of(store.classroom_by_code(code).id)
    assert [pupil.display_name for pupil in pupils] == ["Léa et Tom"]


def test_a_class_registered_after_a_refused_code_is_found_at_once(
    services, db_url: str, bank: Bank
) -> None:
    service = services()
    with open_store(db_url) as store:
        rally = create_rally(store, bank, EDITION_2027)
    # The code the class will get is unknown before it registers: a pair mistypes one.
    refused, _none = service.handle(None, {"type": "join", "code": "ZZZZZZ", "name": "Léa et Tom"})
    with open_store(db_url) as store:
        classroom = register_class(
            store, rally, definition_of_rally(rally, bank), school_code="0590002B",
            class_name="CM2 B", level="CM2", late=True,
        )  # fmt: skip

    joined, token = service.handle(
        None, {"type": "join", "code": classroom.code, "name": "Léa et Tom"}
    )

    assert refused["field"] == "code"
    assert joined["screen"] == "title" and token


def test_the_service_is_ready_for_the_loop_only_once_warmed_up(services) -> None:
    service = services()
    assert service.backend is None

    service.warm_up()

    assert service.backend == "sqlite"
    assert service.sessions_in_memory == 0


def test_a_warm_up_that_fails_is_logged_and_the_first_message_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_bank() -> Bank:
        raise OSError("exercices/ is missing")

    service = RallyService(lambda: connect_store("sqlite://"), b"secret", broken_bank)

    service.warm_up()
    reply, token = service.handle(None, {"type": "join", "code": "ABCDEF", "name": "Léa et Tom"})

    assert service.backend is None
    assert "could not open its store or load the bank" in caplog.text
    assert reply == {"screen": "join", "error": PROBLEMS["internal"]} and token is None
    service.close()


def test_sessions_in_memory_stay_bounded_and_evicted_pairs_resume(services, code: str) -> None:
    service = services(max_sessions=2)
    tokens = []
    for name in ("Léa et Tom", "Inès et Noé", "Zoé et Hugo"):
        _reply, token = service.handle(None, {"type": "join", "code": code, "name": name})
        service.handle(token, {"type": "begin"})
        service.handle(token, {"type": "answer", "response": "5", "key": "first"})
        tokens.append(token)

    back = service.handle(tokens[0], {"type": "next"})[0]

    assert service.sessions_in_memory == 2
    assert back["screen"] == "question" and back["number"] == 2
    assert back["who"]["name"] == "Léa et Tom"


def test_a_session_another_process_moved_on_is_rebuilt(services, code: str, db_url: str) -> None:
    first, second = services(), services()
    _reply, token = first.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    first.handle(token, {"type": "begin"})
    first.handle(token, {"type": "answer", "response": "1", "key": "a"})
    # The next requests land on the other process, which rebuilds the session.
    second.handle(token, {"type": "next"})
    on_second = second.handle(token, {"type": "answer", "response": "2", "key": "b"})[0]

    back_on_first = first.handle(token, {"type": "next"})[0]

    assert on_second["number"] == 2
    assert back_on_first["screen"] == "question" and back_on_first["number"] == 3
    with open_store(db_url) as store:
        assert _keys(store) == ["a", "b"]


def test_a_rebuilt_session_redoes_the_lost_suite_but_not_for_a_retried_answer(
    services, code: str, db_url: str
) -> None:
    first, second, third = services(), services(), services()
    _reply, token = first.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    first.handle(token, {"type": "begin"})
    answered = first.handle(token, {"type": "answer", "response": "1", "key": "a"})[0]
    first.handle(token, {"type": "next"})  # "Suite" is not stored
    # The first process is gone: the page's last answer was not acknowledged, it retries.
    retried = second.handle(token, {"type": "answer", "response": "1", "key": "a"})[0]
    # Another page was on question 2 already: its answer counts on question 2.
    moved_on = third.handle(token, {"type": "answer", "response": "2", "key": "b"})[0]

    assert answered["screen"] == "feedback" and answered["question_done"]
    assert (retried["screen"], retried["number"], retried["feedback"]) == (
        "feedback",
        1,
        answered["feedback"],
    )
    assert (moved_on["screen"], moved_on["number"], "error" in moved_on) == ("feedback", 2, False)
    with open_store(db_url) as store:
        assert _keys(store) == ["a", "b"]


def test_a_rebuilt_session_goes_into_the_exercise_the_pair_began(
    services, code: str, db_url: str
) -> None:
    first, second = services(), services()
    _reply, token = first.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    reply = first.handle(token, {"type": "begin"})[0]
    number = 0
    while not reply.get("exercise_done"):
        if reply["screen"] == "feedback":
            reply = first.handle(token, {"type": "next"})[0]
        message = {"type": "answer", "response": "1", "key": f"first-{number}"}
        reply = first.handle(token, message)[0]
        number += 1
    first.handle(token, {"type": "next"})
    # The first process is gone: "Exercice suivant" reaches a rebuilt session.
    title = services().handle(token, {"type": "continue"})[0]
    first = services()
    begun = first.handle(token, {"type": "begin"})[0]  # stored: an attempt, no answer yet
    # The first process is gone; the page, on question 1 of exercise 2, answers.
    answered = second.handle(token, {"type": "answer", "response": "1", "key": "second"})[0]

    assert (title["screen"], title["exercise"]["number"], "error" in title) == ("title", 2, False)
    assert (begun["screen"], begun["exercise"]["number"], begun["number"]) == ("question", 2, 1)
    assert (answered["screen"], answered["exercise"]["number"], answered["number"]) == (
        "feedback",
        2,
        1,
    )
    assert "error" not in answered
    assert answered["question"] == begun["question"]
    with open_store(db_url) as store:
        [pupil] = store.pupils_of(store.classrooms()[0].id)
        attempts = store.attempts_of(pupil.id, round_seance_id(store))
        assert [attempt.position for attempt in attempts] == [0, 1]
        assert [a.client_key for a in store.answers_of(attempts[1].id)] == ["second"]
        assert _keys(store) == [f"first-{index}" for index in range(number)] + ["second"]


def _drawn_ahead(reply: dict) -> dict:
    """The screen the page draws on its own from a reply's ``"then"``s: a question or the end."""
    while reply.get("then"):
        reply = reply["then"]
    return reply


def test_a_pair_sending_only_answers_crosses_exercises_on_any_process(
    services, code: str, db_url: str
) -> None:
    first = services()
    reply, token = first.handle(None, {"type": "join", "code": code, "name": "Léa et Tom"})
    keys = []
    while not (reply["screen"] == "feedback" and reply.get("exercise_done")):
        assert _drawn_ahead(reply)["screen"] == "question"
        keys.append(f"first-{len(keys)}")
        message = {"type": "answer", "response": "1", "key": keys[-1], "suite": 300}
        reply = first.handle(token, message)[0]
        assert "error" not in reply
    shown = _drawn_ahead(reply)
    # The first process is gone: the page answers question 1 of exercise 2, drawn on its
    # own through the result and the title, on another process; that reply is lost too.
    message = {"type": "answer", "response": "1", "key": "second", "suite": 2000}
    answered = services().handle(token, message)[0]
    retried = services().handle(token, message)[0]

    assert (shown["exercise"]["number"], shown["number"]) == (2, 1)
    assert (answered["screen"], answered["exercise"]["number"], answered["number"]) == (
        "feedback",
        2,
        1,
    )
    assert "error" not in answered and answered["question"] == shown["question"]
    assert retried["feedback"] == answered["feedback"] and "error" not in retried
    with open_store(db_url) as store:
        [pupil] = store.pupils_of(store.classrooms()[0].id)
        attempts = store.attempts_of(pupil.id, round_seance_id(store))
        assert [attempt.position for attempt in attempts] == [0, 1]
        assert _keys(store) == [*keys, "second"]


def _keys(store: Store) -> list[str]:
    [pupil] = store.pupils_of(store.classrooms()[0].id)
    keys = []
    for attempt in store.attempts_of(pupil.id, round_seance_id(store)):
        keys += [answer.client_key for answer in store.answers_of(attempt.id)]
    return keys


def test_remembered_tokens_are_only_those_found_good() -> None:
    tokens = PairTokens(b"secret", remembered=2)
    good = tokens.sign(7, 3)
    forged = f"8.3.{good.rpartition('.')[2]}"

    assert tokens.read(good) == (7, 3)
    assert tokens.read(good) == (7, 3)
    assert tokens.read(forged) is None
    assert PairTokens(b"other").read(good) is None
    others = [tokens.sign(number, 3) for number in (1, 2, 3)]
    assert [tokens.read(token) for token in others] == [(1, 3), (2, 3), (3, 3)]
    assert tokens.read(good) == (7, 3)
    assert tokens.read(None) is None and tokens.read("") is None


def test_the_rally_handlers_warm_the_service_up_as_the_server_starts(services) -> None:
    service = services()

    rally_handlers("", service)
    deadline = time.monotonic() + 30
    while service.backend is None and time.monotonic() < deadline:
        time.sleep(0.01)

    assert service.backend == "sqlite"


def round_seance_id(store: Store) -> int:
    """The séance of the 2027 rally's CM round, where its pairs' attempts are stored."""
    code = store.rally_by_edition("2027").definition["round_seances"]["cm"]
    return store.seance_by_code(code).id
