"""Two server processes behind Debian's nginx, one database: a pair's round across both.

The database is one SQLite file (the processes of one machine) or PostgreSQL.
Needs nginx, and ``$CALCULATICE_TEST_PG_URL`` for PostgreSQL
(scripts/start-postgres.sh), where it runs in a schema of its own so that
other tests emptying ``public`` do not disturb it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from calculatice.rally.organise import definition_of_rally, register_class
from calculatice.store import open_store
from calculatice.web.launch import free_ports

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = PROJECT / "deploy" / "rally-cluster.sh"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_schemas
) -> Iterator[str]:
    if shutil.which("nginx") is None:
        _missing("needs nginx (apt-get install nginx-light)")
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('database') / 'rally.sqlite'}"
        return
    with postgres_schemas("rally") as url:
        yield url


@pytest.fixture(scope="module")
def cluster(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx's port; the two processes listen on the next two."""
    folder = tmp_path_factory.mktemp("cluster")
    port = free_ports(3)
    environment = {**os.environ, "CALCULATICE_RALLY_SECRET": "cluster-test", "HOME": str(folder)}
    started = subprocess.run(
        [str(SCRIPT), "start", db_url, "2", str(port), str(folder)],
        env=environment, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr
        yield port
    finally:
        subprocess.run([str(SCRIPT), "stop", str(folder)], timeout=60, check=False)


def test_two_processes_behind_nginx_serve_one_round(
    cluster: int, db_url: str, open_rally_class
) -> None:
    code = open_rally_class(db_url)

    with httpx.Client(base_url=f"http://127.0.0.1:{cluster}", timeout=20) as client:
        joined = client.post("/rallye/api", json={"type": "join", "code": code,
                                                  "name": "Léa et Tom"}).json()  # fmt: skip
        replies = [client.post("/rallye/api", json={"type": "begin"}).json()]
        for number in range(5):
            message = {"type": "answer", "response": "7", "key": f"k{number}"}
            replies.append(client.post("/rallye/api", json=message).json())
            replies.append(client.post("/rallye/api", json=message).json())
            replies.append(client.post("/rallye/api", json={"type": "next"}).json())
        page = client.get("/rallye")
        cookies = client.cookies
    # Then each answer to the other process in turn, as a restart or a join elsewhere
    # would send it: each one notices what the other stored and carries on from there.
    # "Suite" is not stored, so a rebuilt session may show the feedback again first.
    answers = []
    for number in range(5, 9):
        port = cluster + 1 + number % 2
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=cookies) as direct:
            state = direct.post("/rallye/api", json={"type": "state"}).json()
            if state["screen"] == "feedback":
                state = direct.post("/rallye/api", json={"type": "next"}).json()
            message = {"type": "answer", "response": "7", "key": f"k{number}"}
            answers.append((state, direct.post("/rallye/api", json=message).json()))

    assert joined["screen"] == "title" and joined["exercise"]["count"] == 15
    assert page.status_code == 200 and "httpTransport" in page.text
    assert [reply.get("error") for reply in replies] == [None] * 16
    assert replies[-1]["screen"] == "question" and replies[-1]["number"] == 6
    for number, (state, answered) in enumerate(answers, start=6):
        assert (state["screen"], state["number"]) == ("question", number)
        assert (answered["screen"], answered["number"]) == ("feedback", number)
        assert "error" not in answered
    with open_store(db_url) as store:
        [pupil] = store.pupils_of(store.classroom_by_code(code).id)
        [attempt] = [one for one in _attempts(store, pupil.id)]
        keys = [answer.client_key for answer in store.answers_of(attempt.id)]
    assert attempt.context == "rally:2027:cm"
    assert keys == [f"k{number}" for number in range(9)]


def test_a_browser_that_loaded_the_page_joins_and_answers_on_one_process(
    cluster: int, db_url: str, open_rally_class, bank
) -> None:
    code = _another_class(db_url, open_rally_class, bank)
    processes = [f"http://127.0.0.1:{cluster + number}/rallye/status" for number in (1, 2)]
    before = [httpx.get(url).json() for url in processes]

    for letter in "ABCDEFGH":
        with httpx.Client(base_url=f"http://127.0.0.1:{cluster}", timeout=20) as browser:
            assert browser.get("/rallye").status_code == 200
            join = {"type": "join", "code": code, "name": f"Léa et {letter}"}
            reply = browser.post("/rallye/api", json=join).json()
            for number in range(3):
                reply = reply.get("then", reply)
                assert reply["screen"] == "question"
                message = {"type": "answer", "response": "7", "key": f"{letter}{number}"}
                reply = browser.post("/rallye/api", json={**message, "suite": 500}).json()
                assert reply["screen"] == "feedback" and reply["number"] == number + 1
    after = [httpx.get(url).json() for url in processes]

    # Each pair's session was made at its join and every answer found it there:
    # none was rebuilt, and each is held by one process only.
    assert [one["rebuilt"] for one in after] == [one["rebuilt"] for one in before]
    assert sum(one["sessions"] for one in after) == sum(one["sessions"] for one in before) + 8
    with open_store(db_url) as store:
        classroom = store.classroom_by_code(code)
        pupils = store.pupils_of(classroom.id)
        attempts = [one for pupil in pupils for one in _attempts(store, pupil.id)]
        answers = sum(len(store.answers_of(attempt.id)) for attempt in attempts)
    assert len(pupils) == 8 and answers == 24


def _another_class(db_url: str, open_rally_class, bank) -> str:
    """A class of its own in the module's rally (made by the first test that needs it)."""
    with open_store(db_url) as store:
        rally = store.rally_by_edition("2027")
        if rally is None:
            return open_rally_class(db_url)
        classroom = register_class(
            store, rally, definition_of_rally(rally, bank), school_code="0590001A",
            class_name="CM2 B", level="CM2", late=True,
        )  # fmt: skip
    return classroom.code


def _attempts(store, pupil_id: int):
    code = store.rally_by_edition("2027").definition["round_seances"]["cm"]
    return store.attempts_of(pupil_id, store.seance_by_code(code).id)
