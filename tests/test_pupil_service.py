"""The server's side of the pupil page: every pupil of a process, behind signed tokens."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from calculatice.catalogue import Bank
from calculatice.errors import StoreUnavailable
from calculatice.pupil import JOIN_PROBLEMS, PupilGateway
from calculatice.pupil_service import PupilService
from calculatice.seances import format_code, open_seance
from calculatice.store import Store

SECRET = b"pupil-service-tests"


def still() -> float:
    """A players' clock that never moves: no deadline passes during a test."""
    return 1000.0


@pytest.fixture
def code(demo_code: str) -> str:
    return demo_code


@pytest.fixture
def service(store: Store, bank: Bank) -> PupilService:
    return PupilService(lambda: store, SECRET, lambda: bank, clock=still)


def join(service: PupilService, code: str, name: str) -> tuple[dict, str]:
    reply, token = service.handle(None, {"type": "join", "code": code, "name": name})
    assert reply["screen"] == "title", reply
    assert token
    return reply, token


def questions_of(store: Store, bank: Bank, code: str, name: str):
    seance = open_seance(store, bank, code)
    pupil = store.find_pupil(seance.classroom_id, name)
    return pupil.id, seance.id, seance.exercises[0].questions(f"{seance.code}/{pupil.id}/0")


def test_a_join_gives_the_title_screen_and_a_token_naming_the_pupil_and_seance(
    service, store, bank, code
) -> None:
    reply, token = join(service, format_code(code).lower(), "Léa")
    assert reply["who"] == {"name": "Léa", "seance": "Séance de démonstration"}
    pupil_id, seance_id, _questions = questions_of(store, bank, code, "Léa")
    assert service.tokens.read(token) == (pupil_id, seance_id)
    assert PupilService(lambda: store, b"another secret").tokens.read(token) is None


def test_the_replies_are_the_gateways(service, store, bank, code) -> None:
    gateway = PupilGateway(lambda: store, lambda: bank, still)
    messages = [{"type": "begin"}, {"type": "answer", "response": "1", "key": "k1"}]
    reply, token = join(service, code, "Léa")
    assert reply == gateway.handle({"type": "join", "code": code, "name": "Léa"})
    for message in messages:
        assert service.handle(token, message) == (gateway.handle(message), None)


@pytest.mark.parametrize(
    ("name", "typed_code", "problem", "field"),
    [
        ("Léa", "ZZZ-ZZZ", "code", "code"),
        ("<img src=x onerror=alert(1)>", None, "name_chars", "name"),
        ("", None, "name_empty", "name"),
    ],
)
def test_a_refused_join_says_why_in_french_and_adds_nobody(
    service, store, code, name, typed_code, problem, field
) -> None:
    message = {"type": "join", "code": typed_code or code, "name": name}
    reply, token = service.handle(None, message)
    assert reply == {"screen": "join", "error": JOIN_PROBLEMS[problem], "field": field}
    assert token is None
    assert [room for room in store.classrooms() if store.pupils_of(room.id)] == []


def test_without_a_token_or_with_a_forged_one_the_page_goes_back_to_join(
    service, store, bank, code
) -> None:
    _reply, token = join(service, code, "Léa")
    pupil_id, seance_id, _questions = questions_of(store, bank, code, "Léa")
    forged = f"{pupil_id}.{seance_id}.{'0' * 32}"
    assert service.handle(None, {"type": "begin"}) == ({"screen": "join"}, None)
    assert service.handle(forged, {"type": "begin"}) == ({"screen": "join"}, None)
    assert service.handle(token, "not even a dict")[0]["screen"] == "title"


def test_a_retried_answer_is_stored_once(service, store, bank, code) -> None:
    _reply, token = join(service, code, "Léa")
    service.handle(token, {"type": "begin"})
    first = service.handle(token, {"type": "answer", "response": "1", "key": "same"})
    again = service.handle(token, {"type": "answer", "response": "1", "key": "same"})
    assert first == again
    pupil_id, seance_id, _questions = questions_of(store, bank, code, "Léa")
    [attempt] = store.attempts_of(pupil_id, seance_id)
    assert [(a.typed, a.client_key) for a in store.answers_of(attempt.id)] == [("1", "same")]


def test_a_pupil_pushed_out_of_memory_is_rebuilt_from_the_store(store, bank, code) -> None:
    service = PupilService(lambda: store, SECRET, lambda: bank, max_sessions=1, clock=still)
    _reply, lea = join(service, code, "Léa")
    service.handle(lea, {"type": "begin"})
    _pupil, _seance, questions = questions_of(store, bank, code, "Léa")
    right = {"type": "answer", "response": questions[0].solution, "key": "a0"}
    assert service.handle(lea, right)[0]["feedback"] == "right"
    assert service.handle(lea, {"type": "next"})[0]["number"] == 2
    join(service, code, "Tom")
    assert service.sessions_in_memory == 1

    # Rebuilt from her answer in the store: "Suite" is not stored, so its feedback again.
    reply, kept = service.handle(lea, {"type": "state"})
    assert (reply["screen"], reply["number"], reply["score"], kept) == ("feedback", 1, 1, None)
    assert reply["who"]["name"] == "Léa"
    reply, _kept = service.handle(lea, {"type": "next"})
    assert (reply["screen"], reply["number"], reply["score"]) == ("question", 2, 1)
    assert service.sessions_in_memory == 1


def test_a_join_again_resumes_from_the_store_as_a_new_kernel_would(
    service, store, bank, code
) -> None:
    _reply, token = join(service, code, "Hugo")
    service.handle(token, {"type": "begin"})
    _pupil, _seance, questions = questions_of(store, bank, code, "Hugo")
    service.handle(token, {"type": "answer", "response": questions[0].solution, "key": "a0"})
    service.handle(token, {"type": "next"})

    reply, again = service.handle(None, {"type": "join", "code": code, "name": "HUGO"})
    assert (reply["screen"], reply["number"], reply["score"]) == ("feedback", 1, 1)
    assert again == token
    assert [p.display_name for p in store.pupils_of(store.pupil(1).classroom_id)] == ["Hugo"]


def test_a_token_for_a_seance_that_is_gone_is_forgotten(service, store, bank, code) -> None:
    join(service, code, "Léa")
    pupil_id, _seance, _questions = questions_of(store, bank, code, "Léa")
    stranger = service.tokens.sign(pupil_id, 999)
    assert service.handle(stranger, {"type": "begin"}) == ({"screen": "join"}, "")


def test_pupils_playing_at_once_each_have_every_answer_stored(service, store, bank, code) -> None:
    names = ["Léa", "Tom", "Zoé", "Inès", "Hugo", "Nina"]

    def play(name: str) -> list[str]:
        _reply, token = join(service, code, name)
        service.handle(token, {"type": "begin"})
        feedback = []
        for number in range(3):
            answer = {"type": "answer", "response": "1", "key": f"{name}-{number}"}
            reply, _kept = service.handle(token, answer)
            feedback.append(reply["screen"])
            if reply.get("question_done", True):
                service.handle(token, {"type": "next"})
        return feedback

    with ThreadPoolExecutor(max_workers=6) as pool:
        screens = list(pool.map(play, names))
    assert screens == [["feedback"] * 3] * len(names)
    for name in names:
        pupil_id, seance_id, _questions = questions_of(store, bank, code, name)
        [attempt] = store.attempts_of(pupil_id, seance_id)
        assert [a.client_key for a in store.answers_of(attempt.id)] == [
            f"{name}-{number}" for number in range(3)
        ]


def test_a_failing_store_becomes_a_french_error_not_an_exception(bank, code) -> None:
    def broken_store():
        raise OSError("disk gone")

    service = PupilService(broken_store, SECRET, lambda: bank)
    reply, token = service.handle(None, {"type": "join", "code": code, "name": "Léa"})
    assert (reply, token) == ({"screen": "join", "error": JOIN_PROBLEMS["internal"]}, None)


def test_a_locked_database_drops_the_session_and_nothing_is_stored_twice(
    service, store, bank, code
) -> None:
    """SQLite held by another writer past its busy timeout: an outage, not a wrong answer.

    The session is dropped, as it may be part-way through the answer, and
    rebuilt from the store when the pupil comes back: on the feedback of the
    last stored answer, as after any rebuild ("Suite" is not stored).
    """
    _reply, token = join(service, code, "Léa")
    service.handle(token, {"type": "begin"})
    _pupil, _seance, questions = questions_of(store, bank, code, "Léa")
    service.handle(token, {"type": "answer", "response": questions[0].solution, "key": "a0"})
    service.handle(token, {"type": "next"})
    second = {"type": "answer", "response": questions[1].solution, "key": "a1"}
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="injoignable"):
            service.handle(token, second)
        assert service.sessions_in_memory == 0
    finally:
        other.execute("ROLLBACK")
        other.close()

    back, _kept = service.handle(token, {"type": "state"})
    service.handle(token, {"type": "next"})
    answered, _kept = service.handle(token, second)
    again, _kept = service.handle(token, second)
    pupil_id, seance_id, _questions = questions_of(store, bank, code, "Léa")
    [attempt] = store.attempts_of(pupil_id, seance_id)
    assert (back["screen"], back["number"], back["score"]) == ("feedback", 1, 1)
    assert (answered["screen"], answered["number"], answered["score"]) == ("feedback", 2, 2)
    assert again == answered
    assert [a.client_key for a in store.answers_of(attempt.id)] == ["a0", "a1"]
