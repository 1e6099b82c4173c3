"""The rally page against a real ``calculatice serve``: join, answer, retry, reload, window.

One server for the module, on a SQLite file prepared beforehand with three
rallies: 2027 opened by hand (a CM2 class), 2099 scheduled in the future, and
a short one for the browser (13 exercises of one question each).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from calculatice.catalogue import load_bank
from calculatice.player.session import ERROR_NOT_REPLAYABLE
from calculatice.rally.definition import load_definition
from calculatice.rally.organise import create_rally, open_rally, register_class
from calculatice.rally.service import PROBLEMS
from calculatice.store import Store, open_store
from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable, running_server

PROJECT = Path(__file__).resolve().parents[1]
BANK = PROJECT / "exercices"
EDITION_2027 = PROJECT / "data" / "rallies" / "2027.yaml"
SHORT_ROUND = [
    "cm1-tables-en-vitesse",
    "cm1-multiplier-par-5",
    "cm1-retirer-9-19-29-39",
    "cm1-entier-fois-10-100-1000",
    "cm1-soustraire-des-centaines",
    "cm1-un-chiffre-fois-des-centaines",
    "cm1-multiplier-par-11-et-21",
    "cm1-divisions-et-facteurs",
    "cm1-completer-a-l-unite",
    "cm1-decimal-fois-10-ou-divise-par-10",
    "cm1-ajouter-un-dixieme-un-centieme",
    "cm1-un-tiers-de",
    "cm1-multiples-de-25-et-50",
]
FIRST_EXERCISE = {"questions": 10, "question_seconds": 18}
PUBLIC_KEYS = {
    "prompt", "kind", "choices", "cells", "layout", "svg", "flash_seconds", "flash_text",
    "allow_fraction", "max_length",
}  # fmt: skip


@dataclass(frozen=True)
class RallyServer:
    url: str
    db_url: str
    codes: dict[str, str]

    def store(self) -> Store:
        return open_store(self.db_url)


def _write_rally(folder: Path, edition: str, changes: dict[str, Any]) -> Path:
    """The 2027 edition with some fields changed, and a first exercise with time to spare.

    The first exercise gets 18 s a question instead of 6, so that a loaded test
    machine does not run a question's time out between two requests of a test.
    """
    raw = yaml.safe_load(EDITION_2027.read_text(encoding="utf-8"))
    raw["rounds"][0]["exercises"][0]["overrides"] = FIRST_EXERCISE
    raw.update(edition=edition, **changes)
    path = folder / f"{edition}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _prepare(folder: Path, db_url: str) -> dict[str, str]:
    """Three rallies and one class in each; returns the class codes by edition."""
    bank = load_bank(BANK)
    future = {
        "registration": {"opens": "2020-01-01T08:00:00+01:00", "closes": "2099-05-01T08:00+02:00"},
        "window": {"opens": "2099-05-10T08:00:00+02:00", "closes": "2099-05-21T18:00:00+02:00"},
    }  # fmt: skip
    short = {
        "title": "Rallye court",
        "rounds": [
            {
                "key": "court",
                "title": "Épreuve courte",
                "levels": ["CM1"],
                "exercises": [
                    {
                        "exercise": name,
                        "overrides": {"questions": 1, "attempts": 1, "question_seconds": 60},
                    }
                    for name in SHORT_ROUND
                ],
            }
        ],
    }
    codes = {}
    with open_store(db_url) as store:
        for edition, path, level, opened in (
            ("2027", _write_rally(folder, "2027", {}), "CM2", True),
            ("2099", _write_rally(folder, "2099", future), "CM2", False),
            ("court", _write_rally(folder, "court", short), "CM1", True),
        ):
            rally = create_rally(store, bank, path)
            checked = load_definition(path, bank)
            classroom = register_class(
                store, rally, checked, school_code="0590001A", class_name=f"{level} {edition}",
                level=level, late=True,
            )  # fmt: skip
            if opened:
                open_rally(store, rally)
            codes[edition] = classroom.code
    return codes


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_schemas,
) -> Iterator[RallyServer]:
    """The server on an SQLite file (messages played on the loop, one commit each), then on
    PostgreSQL (played ahead on the loop, written in batches: calculatice.store.batched)."""
    folder = tmp_path_factory.mktemp("rally-server")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            db_url = f"sqlite:///{folder / 'rally.sqlite'}"
        else:
            db_url = stack.enter_context(postgres_schemas("rally_http"))
        codes = _prepare(folder, db_url)
        options = ["--no-demo", "--pool-size", "0"]
        secret = {"CALCULATICE_RALLY_SECRET": "test-secret"}
        with running_server(folder, db_url, options, secret) as running:
            yield RallyServer(running.url, db_url, codes)


class Pair:
    """A pair's browser, as far as HTTP goes: a cookie jar and the API."""

    def __init__(self, server: RallyServer, cookies: httpx.Cookies | None = None) -> None:
        self.client = httpx.Client(base_url=server.url, cookies=cookies, timeout=10)
        self.replies: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post("/rallye/api", json=message)
        assert response.status_code == 200
        self.replies.append(response.json())
        return response.json()

    def join(self, code: str, name: str) -> dict[str, Any]:
        return self.send({"type": "join", "code": code, "name": name})


@pytest.fixture
def new_pair(server: RallyServer) -> Iterator[Any]:
    """Opens pairs' clients (optionally with another's cookies), all closed at the end."""
    opened: list[Pair] = []

    def make(cookies: httpx.Cookies | None = None) -> Pair:
        opened.append(Pair(server, cookies))
        return opened[-1]

    yield make
    for one in opened:
        one.client.close()


@pytest.fixture
def pair(new_pair) -> Pair:
    return new_pair()


def _names(request: pytest.FixtureRequest) -> str:
    """Names of a pair unique to the test, letters only."""
    letters = "".join(char for char in request.node.name.title() if char.isalpha())
    return f"Léa et {letters[-30:]}"


def _pupil(store: Store, code: str, name: str):
    classroom = store.classroom_by_code(code)
    return store.find_pupil(classroom.id, name)


def test_page_loads_the_player_from_the_server_only(server: RallyServer) -> None:
    page = httpx.get(f"{server.url}/rallye")
    script = httpx.get(f"{server.url}/rallye/player/player.js")

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert 'from "/rallye/player/player.js"' in page.text
    assert "httpTransport(api)" in page.text
    assert "https://" not in page.text and "http://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert script.status_code == 200
    assert "export function httpTransport" in script.text


def test_page_gives_a_browser_one_route_cookie_and_keeps_it(server: RallyServer) -> None:
    with httpx.Client(base_url=server.url) as browser:
        first = browser.get("/rallye")
        route = browser.cookies.get("calculatice_route")
        again = browser.get("/rallye")
    other = httpx.get(f"{server.url}/rallye")

    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"calculatice_route={route};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/rallye;" in cookie
    assert len(route) == 16 and int(route, 16) >= 0
    assert "set-cookie" not in again.headers
    assert other.cookies.get("calculatice_route") not in (None, route)


def test_status_counts_the_sessions_held_and_rebuilt(
    server: RallyServer, new_pair, request: pytest.FixtureRequest
) -> None:
    before = httpx.get(f"{server.url}/rallye/status").json()
    pair = new_pair()
    pair.join(server.codes["2027"], _names(request))
    joined = httpx.get(f"{server.url}/rallye/status")
    # The same names joining again, in another browser, find the session in memory.
    new_pair().join(server.codes["2027"], _names(request))
    again = httpx.get(f"{server.url}/rallye/status").json()

    assert joined.headers["cache-control"] == "no-store"
    assert joined.json() == {"sessions": before["sessions"] + 1, "rebuilt": before["rebuilt"]}
    assert again == joined.json()


def test_first_visit_shows_the_join_screen(pair: Pair) -> None:
    assert pair.send({"type": "state"}) == {"screen": "join"}


def test_unknown_code_is_refused_in_french(pair: Pair) -> None:
    reply = pair.join("ZZZ-ZZZ", "Léa et Tom")

    assert reply == {"screen": "join", "error": PROBLEMS["code"], "field": "code"}
    assert pair.client.cookies.get("calculatice_rallye") is None


def test_names_with_digits_are_refused(pair: Pair, server: RallyServer) -> None:
    reply = pair.join(server.codes["2027"], "Léa et T0m")

    assert reply["error"] == PROBLEMS["name_chars"] and reply["field"] == "name"


def test_join_sets_an_httponly_token_and_shows_the_first_exercise(
    server: RallyServer, request: pytest.FixtureRequest
) -> None:
    response = httpx.post(
        f"{server.url}/rallye/api",
        json={"type": "join", "code": server.codes["2027"].lower(), "name": _names(request)},
    )

    reply = response.json()
    assert reply["screen"] == "title"
    assert reply["exercise"]["title"] == "Les tables en vitesse"
    assert reply["exercise"]["count"] == 15
    assert reply["who"] == {
        "name": _names(request),
        "seance": "Rallye calcul@TICE 2027 — Épreuve CM1-CM2",
    }
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("calculatice_rallye=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/rallye" in cookie


def test_each_answer_is_stored_with_the_rally_context(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    pair.join(server.codes["2027"], _names(request))
    pair.send({"type": "begin"})

    reply = pair.send({"type": "answer", "response": "1000", "key": "q1"})

    assert reply["screen"] == "feedback" and reply["colour"] == "red"
    with server.store() as store:
        pupil = _pupil(store, server.codes["2027"], _names(request))
        [attempt] = store.attempts_of(pupil.id, store.seance_by_code(_round_code(store)).id)
        [answer] = store.answers_of(attempt.id)
    assert pupil.is_pair
    assert (attempt.context, attempt.exercise_id, attempt.total) == (
        "rally:2027:cm",
        "cm1-tables-en-vitesse",
        10,
    )
    assert (answer.typed, answer.outcome, answer.client_key) == ("1000", "wrong", "q1")
    assert reply["correction"].endswith(f"= {answer.expected}")


def _round_code(store: Store) -> str:
    return store.rally_by_edition("2027").definition["round_seances"]["cm"]


def test_replies_go_out_plain_and_never_cached(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    """A kilobyte of JSON is not worth gzipping; the browser must not keep it either."""
    pair.join(server.codes["2027"], _names(request))
    pair.send({"type": "begin"})

    response = pair.client.post(
        "/rallye/api", json={"type": "answer", "response": "7", "key": "z"}
    )

    assert "gzip" in pair.client.headers["accept-encoding"]
    assert response.json()["screen"] == "feedback"
    assert int(response.headers["content-length"]) == len(response.content) > 1024
    assert "content-encoding" not in response.headers and "vary" not in response.headers
    assert response.headers["cache-control"] == "no-store"


def test_retried_answer_is_recorded_once(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    pair.join(server.codes["2027"], _names(request))
    pair.send({"type": "begin"})

    first = pair.send({"type": "answer", "response": "3", "key": "retry-1"})
    again = pair.send({"type": "answer", "response": "3", "key": "retry-1"})

    assert again == first
    with server.store() as store:
        pupil = _pupil(store, server.codes["2027"], _names(request))
        [attempt] = store.attempts_of(pupil.id, store.seance_by_code(_round_code(store)).id)
        assert [answer.client_key for answer in store.answers_of(attempt.id)] == ["retry-1"]


def test_reload_resumes_where_the_pair_was(
    pair: Pair, new_pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    pair.join(server.codes["2027"], _names(request))
    pair.send({"type": "begin"})
    pair.send({"type": "answer", "response": "1", "key": "a"})
    before = pair.send({"type": "next"})

    after_reload = new_pair(pair.client.cookies).send({"type": "state"})
    rejoined = new_pair().join(server.codes["2027"], _names(request).upper())

    assert before["screen"] == "question" and before["number"] == 2
    for reply in (after_reload, rejoined):
        assert reply["screen"] == "question"
        assert reply["number"] == 2
        assert reply["question"] == before["question"]
        assert reply["who"]["name"] == _names(request)


def test_forged_token_goes_back_to_the_join_screen(new_pair) -> None:
    forged = new_pair(httpx.Cookies({"calculatice_rallye": "1.1.0123456789abcdef"}))

    assert forged.send({"type": "state"}) == {"screen": "join"}


def test_leave_forgets_the_token(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    pair.join(server.codes["2027"], _names(request))

    left = pair.send({"type": "leave"})

    assert left == {"screen": "join"}
    assert pair.send({"type": "state"}) == {"screen": "join"}


def test_no_reply_holds_the_answer_before_it_is_given(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    bank = load_bank(BANK)
    pair.join(server.codes["2027"], _names(request))
    with server.store() as store:
        rally = store.rally_by_edition("2027")
        pupil = _pupil(store, server.codes["2027"], _names(request))
    exercise = bank.get("cm1-tables-en-vitesse").with_overrides(FIRST_EXERCISE)
    drawn = exercise.questions(f"{rally.seed}/cm/{pupil.id}/0")
    reply = pair.send({"type": "begin"})

    for number, question in enumerate(drawn, start=1):
        assert reply["screen"] == "question" and reply["number"] == number
        assert set(reply["question"]) <= PUBLIC_KEYS
        assert reply["question"] == question.public()
        assert not {"correction", "solution", "expected"} & _all_keys(reply)
        reply = pair.send({"type": "answer", "response": "0", "key": f"k{number}"})
        assert reply["correction"] == question.correction
        reply = pair.send({"type": "next"})

    assert reply["screen"] == "result"


def _all_keys(reply: Any) -> set[str]:
    if isinstance(reply, dict):
        return set(reply).union(*(_all_keys(value) for value in reply.values()))
    if isinstance(reply, list):
        return set().union(*(_all_keys(value) for value in reply))
    return set()


def test_an_exercise_cannot_be_replayed_during_the_rally(
    pair: Pair, server: RallyServer, request: pytest.FixtureRequest
) -> None:
    pair.join(server.codes["2027"], _names(request))
    pair.send({"type": "begin"})
    for number in range(10):
        pair.send({"type": "answer", "response": "0", "key": f"k{number}"})
        result = pair.send({"type": "next"})

    replay = pair.send({"type": "replay"})

    assert result["screen"] == "result" and result["replayable"] is False
    assert replay["screen"] == "result"
    assert replay["error"] == ERROR_NOT_REPLAYABLE


def test_outside_the_window_a_clear_message(pair: Pair, server: RallyServer) -> None:
    reply = pair.join(server.codes["2099"], "Léa et Tom")

    assert reply["screen"] == "join"
    assert reply["error"] == (
        "Le rallye n'est pas encore ouvert\u202f: il aura lieu du 10/05/2099 à 8\u202fh00 "
        "au 21/05/2099 à 18\u202fh00."
    )
    assert pair.client.cookies.get("calculatice_rallye") is None


def test_bad_json_gets_a_french_message(server: RallyServer) -> None:
    response = httpx.post(
        f"{server.url}/rallye/api",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {"screen": "join", "error": PROBLEMS["internal"]}
    assert json.dumps(response.json())


def test_other_methods_and_oversized_bodies_get_a_french_message(server: RallyServer) -> None:
    fetched = httpx.get(f"{server.url}/rallye/api")
    huge = httpx.post(
        f"{server.url}/rallye/api",
        json={"type": "answer", "response": "1" * 20_000, "key": "k"},
    )

    assert fetched.status_code == 405 and fetched.headers["allow"] == "POST"
    assert fetched.json() == {"error": PROBLEMS["internal"]}
    assert huge.status_code == 200
    assert huge.json() == {"screen": "join", "error": PROBLEMS["internal"]}
    for response in (fetched, huge):
        assert "Traceback" not in response.text
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.browser
def test_a_pair_does_a_short_round_reloads_midway_and_sees_its_score(
    server: RallyServer, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect, sync_playwright

    bank = load_bank(BANK)
    name = "Zoé et Hugo"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        page = browser.new_context(locale="fr-FR").new_page()
        page.set_default_timeout(20_000)
        sent: list[str] = []
        page.on(
            "request",
            lambda sent_request: (
                sent.append(sent_request.post_data_json["type"])
                if sent_request.url.endswith("/rallye/api")
                else None
            ),
        )
        page.goto(f"{server.url}/rallye")
        page.get_by_test_id("code").fill(server.codes["court"])
        page.get_by_test_id("name").fill(name)
        page.get_by_test_id("join").click()
        expect(page.get_by_test_id("who")).to_contain_text(name)
        with server.store() as store:
            rally = store.rally_by_edition("court")
            pupil = _pupil(store, server.codes["court"], name)
        screen = page.locator(".cq-player")
        for position, exercise_id in enumerate(SHORT_ROUND):
            if position == 6:
                page.reload()
                # "Suite" and "Exercice suivant" store nothing: the page is back on the
                # last answer's feedback, and goes on from there.
                expect(screen).to_have_attribute("data-screen", "feedback")
                expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "green")
                page.get_by_test_id("next").click()
                expect(screen).to_have_attribute("data-screen", "result")
                page.get_by_test_id("continue").click()
            expect(screen).to_have_attribute("data-screen", "title")
            page.get_by_test_id("begin").click()
            question = (
                bank.get(exercise_id)
                .with_overrides({"questions": 1})
                .questions(f"{rally.seed}/court/{pupil.id}/{position}")[0]
            )
            # The first four wrong, the others right: 9 out of 13.
            typed = "99999" if position < 4 else question.solution
            page.get_by_test_id("answer").fill(typed)
            page.get_by_test_id("validate").click()
            colour = "red" if position < 4 else "green"
            expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", colour)
            page.get_by_test_id("next").click()
            expect(page.locator(".cq-player")).to_have_attribute("data-screen", "result")
            page.get_by_test_id("continue").click()
        expect(page.get_by_test_id("end-score")).to_contain_text("9 sur 13")
        # Between exercises the page sent nothing but answers (and its screen when loaded);
        # "Terminer" asked for the end.
        answers = ["answer"] * len(SHORT_ROUND)
        assert sent == ["state", "join", *answers[:6], "state", *answers[6:], "continue"]
        page.reload()
        expect(page.get_by_test_id("end-score")).to_contain_text("9 sur 13")
        # « Ce n'est pas moi » forgets the pair's token: the next pair types its own names.
        page.get_by_test_id("not-me").click()
        expect(page.locator(".cq-player")).to_have_attribute("data-screen", "join")
        expect(page.get_by_test_id("name")).to_have_value("")
        browser.close()


@pytest.mark.browser
def test_suite_draws_the_next_question_at_once_and_its_time_starts_there(
    server: RallyServer, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect, sync_playwright

    name = _names(request)
    sent: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        page = browser.new_context(locale="fr-FR").new_page()
        page.set_default_timeout(20_000)
        page.on(
            "request",
            lambda sent_request: (
                sent.append(sent_request.post_data_json)
                if sent_request.url.endswith("/rallye/api")
                else None
            ),
        )
        page.goto(f"{server.url}/rallye")
        page.get_by_test_id("code").fill(server.codes["2027"])
        page.get_by_test_id("name").fill(name)
        page.get_by_test_id("join").click()
        page.get_by_test_id("begin").click()
        with server.store() as store:
            rally = store.rally_by_edition("2027")
            pupil = _pupil(store, server.codes["2027"], name)
        questions = (
            load_bank(BANK)
            .get("cm1-tables-en-vitesse")
            .with_overrides(FIRST_EXERCISE)
            .questions(f"{rally.seed}/cm/{pupil.id}/0")
        )
        page.get_by_test_id("answer").fill(questions[0].solution)
        page.get_by_test_id("validate").click()
        expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "green")
        before_suite = len(sent)

        pressed = time.monotonic()
        page.get_by_test_id("next").click()
        expect(page.get_by_test_id("prompt")).to_have_text(questions[1].prompt)
        expect(page.get_by_test_id("progress")).to_have_text("Question 2 sur 10")
        assert len(sent) == before_suite  # no request for "Suite"
        page.wait_for_timeout(1200)
        page.get_by_test_id("answer").fill(questions[1].solution)
        page.get_by_test_id("validate").click()
        expect(page.get_by_test_id("score")).to_have_text("Score\u202f: 2")
        waited_ms = 1000 * (time.monotonic() - pressed)
        browser.close()

    assert [message["type"] for message in sent[before_suite:]] == ["answer"]
    assert 1200 <= sent[-1]["suite"] <= waited_ms
    with server.store() as store:
        seance = store.seance_by_code(_round_code(store))
        [attempt] = store.attempts_of(pupil.id, seance.id)
        first, second = store.answers_of(attempt.id)
    assert (first.outcome, second.outcome) == ("right", "right")
    assert second.response_ms == sent[-1]["suite"]
