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


def _attempts(store, pupil_id: int):
    code = store.rally_by_edition("2027").definition["round_seances"]["cm"]
    return store.attempts_of(pupil_id, store.seance_by_code(code).id)
