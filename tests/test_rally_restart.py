"""The rally page's server killed (SIGKILL) and started again: no acknowledged answer lost.

A pair answers, the server is killed without warning, started again on the
same port and database, and the pair's page sends its last answer again, as
``player.js`` does after a network failure: the answer is stored once, the
token still names the pair, and the round carries on from where it was. The
same when the database, not the server, is out of reach for a while.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from calculatice.store import create_store_engine, open_store
from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable, running_server

SECRET = {"CALCULATICE_RALLY_SECRET": "restart-test"}
OPTIONS = ["--no-demo", "--pool-size", "0"]


@pytest.fixture
def prepared(tmp_path: Path, open_rally_class) -> Iterator[tuple[str, str]]:
    """A SQLite file with the 2027 rally opened and one CM2 class: its URL and the class code."""
    db_url = f"sqlite:///{tmp_path / 'rally.sqlite'}"
    yield db_url, open_rally_class(db_url)


def test_answers_survive_a_kill_and_a_retried_answer_is_stored_once(
    prepared: tuple[str, str], tmp_path: Path
) -> None:
    db_url, code = prepared
    with running_server(tmp_path, db_url, OPTIONS, SECRET) as first:
        client = httpx.Client(base_url=first.url, timeout=20)
        joined = client.post(
            "/rallye/api", json={"type": "join", "code": code, "name": "Léa et Tom"}
        ).json()
        client.post("/rallye/api", json={"type": "begin"})
        before = [
            client.post("/rallye/api", json={"type": "answer", "response": "7", "key": "k0"}),
            client.post("/rallye/api", json={"type": "next"}),
            client.post("/rallye/api", json={"type": "answer", "response": "7", "key": "k1"}),
        ]
        port = first.url.rsplit(":", 1)[1]
        first.process.kill()
        first.process.wait(timeout=20)
        with pytest.raises(httpx.TransportError):
            client.post("/rallye/api", json={"type": "state"})

        with running_server(tmp_path, db_url, OPTIONS, SECRET, int(port)) as second:
            assert second.url == first.url
            # The page had no reply to "k1" (say): it sends it again, then carries on.
            retried = client.post(
                "/rallye/api", json={"type": "answer", "response": "7", "key": "k1"}
            ).json()
            moved_on = client.post("/rallye/api", json={"type": "next"}).json()
            after = client.post(
                "/rallye/api", json={"type": "answer", "response": "7", "key": "k2"}
            ).json()
        client.close()

    assert joined["screen"] == "title"
    assert [response.status_code for response in before] == [200, 200, 200]
    acknowledged = before[2].json()
    assert (acknowledged["screen"], acknowledged["number"]) == ("feedback", 2)
    same = ("screen", "number", "feedback", "read_as", "question_done", "score")
    assert {name: retried[name] for name in same} == {name: acknowledged[name] for name in same}
    assert "error" not in retried
    assert (moved_on["screen"], moved_on["number"]) == ("question", 3)
    assert (after["screen"], after["number"], "error" in after) == ("feedback", 3, False)
    assert _stored_keys(db_url, code) == ["k0", "k1", "k2"]


def _stored_keys(db_url: str, code: str) -> list[str | None]:
    """The answers' keys of the class's one pair, as stored, in order."""
    with open_store(db_url) as store:
        [pupil] = store.pupils_of(store.classroom_by_code(code).id)
        [attempt] = store.attempts_of(pupil.id, _round_seance(store))
        return [answer.client_key for answer in store.answers_of(attempt.id)]


def _round_seance(store) -> int:
    code = store.rally_by_edition("2027").definition["round_seances"]["cm"]
    return store.seance_by_code(code).id


@pytest.mark.browser
def test_the_page_waits_through_a_restart_and_its_answer_lands_once(
    prepared: tuple[str, str], tmp_path: Path
) -> None:
    """Chromium on the rally page while the server is killed: a banner, then the feedback."""
    from playwright.sync_api import expect, sync_playwright

    db_url, code = prepared
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        page = browser.new_context(locale="fr-FR").new_page()
        page.set_default_timeout(30_000)
        feedback = page.get_by_test_id("feedback")
        with running_server(tmp_path, db_url, OPTIONS, SECRET) as first:
            page.goto(f"{first.url}/rallye")
            page.get_by_test_id("code").fill(code)
            page.get_by_test_id("name").fill("Léa et Tom")
            page.get_by_test_id("join").click()
            page.get_by_test_id("begin").click()
            page.get_by_test_id("answer").fill("999")
            page.get_by_test_id("validate").click()
            expect(feedback).to_have_attribute("data-colour", re.compile("orange|red"))
            if page.get_by_test_id("next").count():  # red: the correction, then « Suite »
                page.get_by_test_id("next").click()
            expect(page.get_by_test_id("answer")).to_be_editable()
            first.process.kill()
            first.process.wait(timeout=20)
            page.get_by_test_id("answer").fill("888")
            page.get_by_test_id("validate").click()
            banner = page.get_by_test_id("reconnecting")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text("réessaie")
            port = int(first.url.rsplit(":", 1)[1])
            with running_server(tmp_path, db_url, OPTIONS, SECRET, port):
                expect(feedback).to_have_attribute(
                    "data-colour", re.compile("orange|red"), timeout=60_000
                )
                expect(banner).to_be_hidden()
                assert page.get_by_test_id("lost").count() == 0
        browser.close()

    with open_store(db_url) as store:
        [pupil] = store.pupils_of(store.classroom_by_code(code).id)
        [attempt] = store.attempts_of(pupil.id, _round_seance(store))
        typed = [answer.typed for answer in store.answers_of(attempt.id)]
    assert typed == ["999", "888"]


@contextlib.contextmanager
def _database_closed(db_url: str) -> Iterator[None]:
    """PostgreSQL refuses the database and ends its connections, as while it restarts."""
    database = make_url(db_url).database
    # From another database, so that this connection is not refused too.
    admin = create_store_engine(make_url(db_url).set(database="postgres"), migrating=True)
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )
            yield
        finally:
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    admin.dispose()


def test_a_database_outage_makes_the_page_wait_and_loses_no_answer(
    pg_schema_url: str, open_rally_class, tmp_path: Path
) -> None:
    """PostgreSQL out of reach: 503 (the page waits and sends again), then the round goes on."""
    code = open_rally_class(pg_schema_url)
    with running_server(tmp_path, pg_schema_url, OPTIONS, SECRET) as server:
        client = httpx.Client(base_url=server.url, timeout=20)

        def post(message: dict) -> httpx.Response:
            return client.post("/rallye/api", json=message)

        post({"type": "join", "code": code, "name": "Léa et Tom"})
        post({"type": "begin"})
        first = post({"type": "answer", "response": "7", "key": "k0"}).json()
        post({"type": "next"})
        with _database_closed(pg_schema_url):
            refused = [post({"type": "answer", "response": "7", "key": "k1"}) for _ in range(2)]
            redraw = post({"type": "state"})
        retried = post({"type": "answer", "response": "7", "key": "k1"}).json()
        moved_on = post({"type": "next"}).json()
        after = post({"type": "answer", "response": "7", "key": "k2"}).json()
        client.close()

    assert (first["screen"], first["number"]) == ("feedback", 1)
    assert [response.status_code for response in [*refused, redraw]] == [503, 503, 503]
    assert refused[0].headers["Retry-After"] == "1"
    assert "réessaie" in refused[0].json()["error"]
    assert "answer" not in refused[0].text and "expected" not in refused[0].text
    assert (retried["screen"], retried["number"], "error" in retried) == ("feedback", 2, False)
    assert (moved_on["screen"], moved_on["number"]) == ("question", 3)
    assert (after["screen"], after["number"], "error" in after) == ("feedback", 3, False)
    assert _stored_keys(pg_schema_url, code) == ["k0", "k1", "k2"]
