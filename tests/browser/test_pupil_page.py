"""The pupil page in Chromium, against a live ``calculatice serve``: what a pupil sees and
what the database keeps.

Each test makes its own séance, so it knows the exercise's options, and computes the
expected answers from the bank the way the player draws them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from playwright.sync_api import Page, expect

from calculatice.catalogue import load_bank
from calculatice.pupil import JOIN_PROBLEMS
from calculatice.seances import format_code, open_seance

# The live_server fixture's type, from tests/browser/conftest.py (not importable by name).
LiveServer = Any
PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser

NNBSP = "\u202f"
# A loaded 2-core machine may take a while to start a kernel: wait on elements, generously.
expect.set_options(timeout=60_000)

TABLES = "ce2-toutes-les-tables"


# ---------------------------------------------------------------------------- helpers


def open_page(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/")
    expect(page.locator(".cq-player")).to_have_attribute("data-screen", "join")


def join(page: Page, server: LiveServer, code: str, name: str) -> None:
    open_page(page, server)
    fill_join(page, code, name)


def fill_join(page: Page, code: str, name: str) -> None:
    page.get_by_test_id("code").fill(code)
    page.get_by_test_id("name").fill(name)
    page.get_by_test_id("join").click()


def screen_is(page: Page, screen: str) -> None:
    expect(page.locator(".cq-player")).to_have_attribute("data-screen", screen)


def questions_for(server: LiveServer, code: str, name: str, position: int = 0):
    """The questions the player drew for this pupil at this place (first run)."""
    with server.store() as store:
        seance = open_seance(store, load_bank(PROJECT / "exercices"), code)
        pupil = store.find_pupil(seance.classroom_id, name)
        assert pupil is not None, f"{name} is not in the database"
        exercise = seance.exercises[position]
        return pupil.id, seance.id, exercise.questions(f"{seance.code}/{pupil.id}/{position}")


def stored(server: LiveServer, pupil_id: int, seance_id: int):
    """The pupil's attempts at the séance and, for each, its answers in order."""
    with server.store() as store:
        attempts = store.attempts_of(pupil_id, seance_id)
        return attempts, [store.answers_of(attempt.id) for attempt in attempts]


def answer(page: Page, typed: str, colour: str) -> None:
    """Type an answer, validate it and wait for the feedback of that colour."""
    page.get_by_test_id("answer").fill(typed)
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", colour)


def go_on(page: Page, number: int, total: int) -> None:
    """Press « Suite » and wait for question ``number``."""
    page.get_by_test_id("next").click()
    screen_is(page, "question")
    expect(page.get_by_test_id("progress")).to_have_text(f"Question {number} sur {total}")


def wrong(solution: str) -> str:
    return str(int(solution) + 1)


def summary(answers) -> list[tuple[int, int, str | None, str]]:
    return [(a.question_index, a.attempt_number, a.typed, a.outcome) for a in answers]


# ---------------------------------------------------------------------------- scenarios


def test_a_pupil_plays_every_feedback_and_the_database_keeps_each_answer(
    page: Page, live_server: LiveServer
) -> None:
    code = live_server.new_seance(f"{TABLES}:questions=4:question_seconds=10:attempts=2")
    join(page, live_server, format_code(code), "Zoé")
    screen_is(page, "title")
    expect(page.get_by_test_id("who")).to_contain_text("Zoé")
    expect(page.get_by_test_id("timing")).to_have_text("Tu as 10\u00a0s pour chaque question.")
    pupil_id, seance_id, questions = questions_for(live_server, code, "Zoé")
    solutions = [question.solution for question in questions]

    page.get_by_test_id("begin").click()
    screen_is(page, "question")
    feedback = page.get_by_test_id("feedback")
    correction = page.get_by_test_id("correction")

    # 1: right at once.
    expect(page.get_by_test_id("prompt")).to_have_text(questions[0].prompt)
    answer(page, solutions[0], "green")
    expect(feedback).to_contain_text(f"Bravo{NNBSP}!")
    expect(correction).to_be_hidden()
    expect(page.get_by_test_id("score")).to_have_text(f"Score{NNBSP}: 1")

    # 2: wrong, then right on the second attempt.
    go_on(page, 2, 4)
    expect(page.get_by_test_id("prompt")).to_have_text(questions[1].prompt)
    answer(page, wrong(solutions[1]), "orange")
    expect(feedback).to_contain_text("Essaie encore.")
    expect(page.get_by_test_id("next")).to_be_hidden()
    answer(page, f" {solutions[1]} ", "green")
    expect(page.get_by_test_id("score")).to_have_text(f"Score{NNBSP}: 2")

    # 3: wrong twice: red, and the correction.
    go_on(page, 3, 4)
    expect(page.get_by_test_id("prompt")).to_have_text(questions[2].prompt)
    answer(page, wrong(solutions[2]), "orange")
    answer(page, wrong(solutions[2]), "red")
    expect(feedback).to_contain_text("Ce n'est pas ça.")
    expect(correction).to_be_visible()
    expect(correction).to_have_text(questions[2].correction)

    # 4: nothing typed (blue, no attempt used), then a wrong answer left unvalidated
    # until the time runs out.
    go_on(page, 4, 4)
    expect(page.get_by_test_id("prompt")).to_have_text(questions[3].prompt)
    answer(page, "", "blue")
    expect(feedback).to_contain_text("Écris une réponse.")
    late = wrong(solutions[3])
    page.get_by_test_id("answer").fill(late)
    expect(feedback).to_contain_text(f"Temps écoulé{NNBSP}!", timeout=40_000)
    expect(feedback).to_have_attribute("data-colour", "red")
    expect(correction).to_have_text(questions[3].correction)
    expect(page.get_by_test_id("answer")).not_to_be_editable()

    page.get_by_test_id("next").click()
    screen_is(page, "result")
    expect(page.get_by_test_id("result-score")).to_have_text("2 sur 4")
    stars = page.get_by_test_id("stars")
    expect(stars).to_have_attribute("aria-label", "2 étoiles sur 5")
    expect(stars.locator(".cq-filled")).to_have_count(2)
    expect(page.get_by_test_id("result-time")).to_have_text(
        re.compile(rf"^Temps{NNBSP}: \d+\u00a0s$")
    )
    page.get_by_test_id("continue").click()
    screen_is(page, "end")
    expect(page.get_by_test_id("end-score")).to_have_text(f"Score{NNBSP}: 2 sur 4")

    attempts, answers = stored(live_server, pupil_id, seance_id)
    assert len(attempts) == 1
    [attempt] = attempts
    assert (attempt.exercise_id, attempt.position, attempt.score, attempt.total) == (
        TABLES,
        0,
        2,
        4,
    )
    assert attempt.finished
    assert summary(answers[0]) == [
        (0, 1, solutions[0], "right"),
        (1, 1, wrong(solutions[1]), "wrong"),
        (1, 2, f" {solutions[1]} ", "right"),
        (2, 1, wrong(solutions[2]), "wrong"),
        (2, 2, wrong(solutions[2]), "wrong"),
        (3, 0, "", "empty"),
        (3, 1, late, "timeout"),
    ]
    assert [a.question_shown for a in answers[0]] == [
        questions[i].prompt for i in (0, 1, 1, 2, 2, 3, 3)
    ]
    assert [a.expected for a in answers[0]] == [solutions[i] for i in (0, 1, 1, 2, 2, 3, 3)]


def test_a_reload_resumes_where_the_pupil_was_without_the_code_again(
    page: Page, live_server: LiveServer
) -> None:
    code = live_server.new_seance(f"{TABLES}:questions=3:question_seconds=0:attempts=2")
    join(page, live_server, code, "Hugo")
    screen_is(page, "title")
    pupil_id, seance_id, questions = questions_for(live_server, code, "Hugo")
    solutions = [question.solution for question in questions]
    page.get_by_test_id("begin").click()
    screen_is(page, "question")
    answer(page, solutions[0], "green")
    go_on(page, 2, 3)
    answer(page, wrong(solutions[1]), "orange")

    # Reload on an orange feedback: the same question, still open, the same score.
    page.reload()
    screen_is(page, "feedback")
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "orange")
    expect(page.get_by_test_id("progress")).to_have_text("Question 2 sur 3")
    expect(page.get_by_test_id("prompt")).to_have_text(questions[1].prompt)
    expect(page.get_by_test_id("score")).to_have_text(f"Score{NNBSP}: 1")
    expect(page.get_by_test_id("who")).to_contain_text("Hugo")
    answer(page, solutions[1], "green")
    expect(page.get_by_test_id("score")).to_have_text(f"Score{NNBSP}: 2")
    go_on(page, 3, 3)

    # Reload on a question: "Suite" is not stored, so the feedback of the last answer.
    page.reload()
    screen_is(page, "feedback")
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "green")
    expect(page.get_by_test_id("prompt")).to_have_text(questions[1].prompt)
    expect(page.get_by_test_id("score")).to_have_text(f"Score{NNBSP}: 2")
    go_on(page, 3, 3)
    expect(page.get_by_test_id("prompt")).to_have_text(questions[2].prompt)
    answer(page, wrong(solutions[2]), "orange")
    answer(page, wrong(solutions[2]), "red")
    page.get_by_test_id("next").click()
    screen_is(page, "result")
    expect(page.get_by_test_id("result-score")).to_have_text("2 sur 3")

    attempts, answers = stored(live_server, pupil_id, seance_id)
    assert [(a.position, a.score, a.total) for a in attempts] == [(0, 2, 3)]
    assert summary(answers[0]) == [
        (0, 1, solutions[0], "right"),
        (1, 1, wrong(solutions[1]), "wrong"),
        (1, 2, solutions[1], "right"),
        (2, 1, wrong(solutions[2]), "wrong"),
        (2, 2, wrong(solutions[2]), "wrong"),
    ]


def test_a_wrong_code_and_a_name_in_html_are_refused_in_french(
    page: Page, live_server: LiveServer
) -> None:
    join(page, live_server, "ZZZ-ZZZ", "Léa")
    error = page.get_by_test_id("error")
    expect(error).to_have_text(JOIN_PROBLEMS["code"])
    screen_is(page, "join")
    expect(page.get_by_test_id("code")).to_have_attribute("aria-invalid", "true")

    page.get_by_test_id("code").fill(live_server.demo_code)
    page.get_by_test_id("name").fill("<b>Léa</b>")
    page.get_by_test_id("join").click()
    expect(page.get_by_test_id("name")).to_have_attribute("aria-invalid", "true")
    expect(error).to_have_text(JOIN_PROBLEMS["name_chars"])
    screen_is(page, "join")
    expect(page.get_by_test_id("who")).to_be_hidden()
    # The name stays text in its box, and nothing of it became an element.
    expect(page.get_by_test_id("name")).to_have_value("<b>Léa</b>")
    assert page.locator("b").count() == 0
    with live_server.store() as store:
        names = [
            pupil.display_name for room in store.classrooms() for pupil in store.pupils_of(room.id)
        ]
    assert [name for name in names if "<" in name] == []


def test_the_page_kernel_refuses_code_sent_from_the_browser(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    open_page(page, live_server)
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    kernel_id = config["kernelId"]
    port = urlsplit(live_server.url).port
    target = tmp_path / "written-by-the-browser"
    url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}"

    def message(kind: str, content: dict) -> str:
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": kind,
            "session": uuid.uuid4().hex,
            "username": "eleve",
            "version": "5.3",
            "date": "2026-01-01T00:00:00Z",
        }
        return json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {},
                "content": content,
                "channel": "shell",
                "buffers": [],
            }
        )

    with connect(url, open_timeout=30) as socket:
        # The channel is open and answers what it allows...
        socket.send(message("kernel_info_request", {}))
        deadline = time.monotonic() + 30
        replies: list[str] = []
        while time.monotonic() < deadline:
            reply = json.loads(socket.recv(timeout=30))
            replies.append(reply["msg_type"])
            if reply["msg_type"] == "kernel_info_reply":
                break
        assert "kernel_info_reply" in replies
        # ...but not code.
        code = f"open({str(target)!r}, 'w').write('pwned')"
        socket.send(message("execute_request", {"code": code, "silent": False}))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                reply = json.loads(socket.recv(timeout=0.5))
            except TimeoutError:
                continue
            assert reply["msg_type"] != "execute_reply"
    assert not target.exists()
    refusals = [
        line
        for line in live_server.log.read_text().splitlines()
        if '"execute_request", which is not allowed' in line
    ]
    assert refusals


def test_the_page_asks_no_third_party_and_shows_no_traceback(
    page: Page, live_server: LiveServer
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))

    def no_error_text() -> None:
        text = page.locator("body").inner_text()
        assert "Traceback" not in text
        assert "Error" not in text

    open_page(page, live_server)
    no_error_text()
    fill_join(page, live_server.demo_code, "Inès")
    screen_is(page, "title")
    page.get_by_test_id("begin").click()
    screen_is(page, "question")
    page.get_by_test_id("answer").fill("n'importe quoi")
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "blue")
    no_error_text()

    assert requests, "the page made no request at all"
    outside = [
        url
        for url in requests + sockets
        if urlsplit(url).scheme not in ("blob", "data") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert outside == []
    assert any(urlsplit(url).path.startswith("/api/kernels/") for url in sockets)
    assert crashes == []


def test_the_page_kernel_only_relays_and_stays_small(page: Page, live_server: LiveServer) -> None:
    open_page(page, live_server)
    kernel_id = json.loads(page.locator("#jupyter-config-data").text_content())["kernelId"]
    fill_join(page, live_server.demo_code, "Nina")
    screen_is(page, "title")
    page.get_by_test_id("begin").click()
    screen_is(page, "question")
    answer(page, "", "blue")

    [kernel] = [
        process
        for process in psutil.process_iter(["cmdline"])
        if f"kernel-{kernel_id}.json" in " ".join(process.info["cmdline"] or [])
    ]
    # The server played the séance: the kernel never loaded pydantic (nor the store).
    assert not [m.path for m in kernel.memory_maps() if "pydantic_core" in m.path]
    assert kernel.memory_full_info().uss <= 45e6
    with live_server.store() as store:
        seance = open_seance(store, load_bank(PROJECT / "exercices"), live_server.demo_code)
        nina = store.find_pupil(seance.classroom_id, "Nina")
        [attempt] = store.attempts_of(nina.id, seance.id)
        assert [a.outcome for a in store.answers_of(attempt.id)] == ["empty"]


def test_the_server_log_says_where_it_listens_without_trust_warnings(
    live_server: LiveServer,
) -> None:
    # Jupyter warns when it reads an untrusted notebook: once per kernel the pool starts.
    deadline = time.monotonic() + 90
    while "is filled with" not in live_server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    log = live_server.log.read_text()
    assert "Kernel pool of eleve.ipynb is filled with 2 kernel(s)" in log
    assert "Page élève : http://127.0.0.1:" in log
    assert "not trusted" not in log
