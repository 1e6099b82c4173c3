"""The pupil page's kernel as a relay: the widget, the endpoint it calls and its key."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tornado import web
from tornado.ioloop import IOLoop

from calculatice.catalogue import Bank
from calculatice.player.widget import PlayerWidget
from calculatice.pupil import JOIN_PROBLEMS
from calculatice.pupil_relay import RelayPlayerWidget, pupil_page
from calculatice.pupil_service import PupilService
from calculatice.seances import open_seance
from calculatice.store import Store
from calculatice.web.bodies import MAX_BODY_BYTES
from calculatice.web.launch import free_port, running_server
from calculatice.web.pupil_api import pupil_api_handlers
from calculatice.web.relay import (
    API_PATH,
    ERROR_INTERNAL,
    KEY_HEADER,
    KEY_VARIABLE,
    URL_VARIABLE,
    RelayClient,
    relay_environment,
)

KEY = "relay-key-for-tests"
HEAVY = ["sqlalchemy", "pydantic", "babel", "numpy", "yaml", "calculatice.engines"]


@pytest.fixture
def code(demo_code: str) -> str:
    return demo_code


@contextmanager
def endpoint(service: PupilService, port: int | None = None) -> Iterator[str]:
    """The endpoint served by tornado in a thread of its own, on a loopback port."""
    port = port or free_port()
    started = threading.Event()
    loops: list[IOLoop] = []

    def serve() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        server = web.Application(pupil_api_handlers("/base", KEY, service)).listen(
            port, "127.0.0.1"
        )
        loops.append(IOLoop.current())
        started.set()
        loops[0].start()
        server.stop()
        loops[0].close(all_fds=True)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield f"http://127.0.0.1:{port}/base{API_PATH}"
    finally:
        loops[0].add_callback(loops[0].stop)
        thread.join(10)


@pytest.fixture
def url(store: Store, bank: Bank) -> Iterator[str]:
    with endpoint(PupilService(lambda: store, b"secret", lambda: bank)) as address:
        yield address


def relay(widget: RelayPlayerWidget, message: dict, request_id: str = "v-1") -> dict:
    response = widget.handle_request({"id": request_id, "message": message})
    assert response["id"] == request_id
    return response["reply"]


def test_importing_the_relay_imports_nothing_heavy() -> None:
    probe = (
        "import json, sys\n"
        "import calculatice.pupil_relay\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('calculatice'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    heavy, ours = (json.loads(line) for line in done.stdout.splitlines())
    assert heavy == []
    assert ours == [
        "calculatice",
        "calculatice.pupil_relay",
        "calculatice.web",
        "calculatice.web.relay",
    ]


def test_the_relay_widget_plays_a_seance_through_the_server(url, store, bank, code) -> None:
    widget = RelayPlayerWidget(RelayClient(url, KEY))
    assert widget._initial == {"screen": "join"}
    reply = relay(widget, {"type": "join", "code": code, "name": "Léa"})
    assert (reply["screen"], reply["who"]["name"]) == ("title", "Léa")
    assert relay(widget, {"type": "begin"})["screen"] == "question"

    seance = open_seance(store, bank, code)
    pupil = store.find_pupil(seance.classroom_id, "Léa")
    question = seance.exercises[0].questions(f"{seance.code}/{pupil.id}/0")[0]
    answer = {"type": "answer", "response": question.solution, "key": "k1"}
    reply = relay(widget, answer, "v-2")
    assert (reply["screen"], reply["feedback"], reply["score"]) == ("feedback", "right", 1)
    assert relay(widget, answer, "v-3") == reply
    [attempt] = store.attempts_of(pupil.id, seance.id)
    assert [(a.typed, a.outcome) for a in store.answers_of(attempt.id)] == [
        (question.solution, "right")
    ]

    # A new kernel (a reload) joins again and finds the pupil by name.
    again = RelayPlayerWidget(RelayClient(url, KEY))
    reply = relay(again, {"type": "join", "code": code, "name": "léa"})
    assert (reply["screen"], reply["number"], reply["score"]) == ("feedback", 1, 1)


def test_the_relay_widget_shows_the_join_problems(url, code) -> None:
    widget = RelayPlayerWidget(RelayClient(url, KEY))
    reply = relay(widget, {"type": "join", "code": code, "name": "<b>Léa</b>"})
    assert reply == {"screen": "join", "error": JOIN_PROBLEMS["name_chars"], "field": "name"}
    assert relay(widget, {"type": "begin"}) == {"screen": "join"}


def test_a_server_out_of_reach_gives_the_french_error_on_the_last_screen(
    url, store, bank, code
) -> None:
    service = PupilService(lambda: store, b"secret", lambda: bank)
    with endpoint(service) as short_lived:
        widget = RelayPlayerWidget(RelayClient(short_lived, KEY, timeout=5))
        title = relay(widget, {"type": "join", "code": code, "name": "Léa"})
    reply = relay(widget, {"type": "begin"})
    assert reply == {**title, "error": ERROR_INTERNAL}
    assert JOIN_PROBLEMS["internal"] == ERROR_INTERNAL
    assert "Traceback" not in json.dumps(reply)


def test_a_connection_the_server_closed_is_opened_again(store, bank, code) -> None:
    service = PupilService(lambda: store, b"secret", lambda: bank)
    port = free_port()
    with endpoint(service, port) as address:
        widget = RelayPlayerWidget(RelayClient(address, KEY))
        assert relay(widget, {"type": "join", "code": code, "name": "Léa"})["screen"] == "title"
    # The same server again (its kept-alive connections closed): the page goes on.
    with endpoint(service, port):
        reply = relay(widget, {"type": "begin"})
    assert (reply["screen"], reply["number"], reply["who"]["name"]) == ("question", 1, "Léa")


def test_the_endpoint_refuses_calls_without_the_key(url, code) -> None:
    message = {"token": None, "message": {"type": "join", "code": code, "name": "Léa"}}
    for headers in ({}, {KEY_HEADER: "guessed"}, {KEY_HEADER: ""}):
        refused = httpx.post(url, json=message, headers=headers)
        assert refused.status_code == 403
        assert "Traceback" not in refused.text
    accepted = httpx.post(url, json=message, headers={KEY_HEADER: KEY})
    assert accepted.status_code == 200
    assert accepted.json()["reply"]["screen"] == "title"
    assert accepted.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"token": 12, "message": {}}).encode(),
        json.dumps({"token": None, "message": "x" * MAX_BODY_BYTES}).encode(),
    ],
)
def test_the_endpoint_refuses_what_is_not_a_relayed_message(url, body: bytes) -> None:
    headers = {KEY_HEADER: KEY, "Content-Type": "application/json"}
    assert httpx.post(url, content=body, headers=headers).status_code == 400


def test_the_page_relays_under_the_server_and_plays_in_the_kernel_elsewhere(
    monkeypatch, url
) -> None:
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    assert isinstance(pupil_page(), PlayerWidget)
    monkeypatch.setenv(URL_VARIABLE, url)
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    assert isinstance(pupil_page(), RelayPlayerWidget)


@pytest.mark.parametrize(
    ("host", "base", "expected"),
    [
        ("127.0.0.1", "/", "http://127.0.0.1:8866/eleve/api"),
        ("0.0.0.0", "/", "http://127.0.0.1:8866/eleve/api"),
        ("localhost", "/classe/", "http://127.0.0.1:8866/classe/eleve/api"),
        ("192.168.1.20", "", "http://192.168.1.20:8866/eleve/api"),
        ("::1", "/", "http://[::1]:8866/eleve/api"),
    ],
)
def test_kernels_are_told_where_the_server_listens(host: str, base: str, expected: str) -> None:
    assert relay_environment(host, 8866, base, "k") == {URL_VARIABLE: expected, KEY_VARIABLE: "k"}


def test_calculatice_serve_refuses_the_endpoint_to_a_browser(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    with running_server(tmp_path, db_url, ["--pool-size", "0"]) as server:
        address = f"{server.url}{API_PATH}"
        message = {"token": None, "message": {"type": "state"}}
        assert httpx.post(address, json=message).status_code == 403
        assert httpx.post(address, json=message, headers={KEY_HEADER: "x"}).status_code == 403
        assert httpx.get(address).status_code == 405


def test_a_locked_database_is_answered_503_and_nothing_is_stored(url, store, bank, code) -> None:
    """SQLite held by another writer past its busy timeout: the kernel is told to try again.

    (The relay widget then draws the pupil's screen again with an error, as
    for any failure on the way.)
    """
    client = RelayClient(url, KEY)
    _reply, token = client.exchange(None, {"type": "join", "code": code, "name": "Léa"})
    shown, _kept = client.exchange(token, {"type": "begin"})
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(ValueError, match="answered 503"):
            client.exchange(token, {"type": "answer", "response": "1", "key": "k1"})
    finally:
        other.execute("ROLLBACK")
        other.close()
        client.close()

    seance = open_seance(store, bank, code)
    pupil = store.find_pupil(seance.classroom_id, "Léa")
    [attempt] = store.attempts_of(pupil.id, seance.id)
    assert shown["screen"] == "question"
    assert store.answers_of(attempt.id) == []
