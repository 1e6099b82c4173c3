"""Take the README's picture of the rally page: a pair's question with its green feedback.

Starts ``calculatice serve`` on loopback with a throw-away SQLite database holding
the 2027 rally, opened, and one registered CM2 class; a pair joins in Debian's
Chromium, begins the round and answers its first question right; the page is
written to ``docs/images/rallye.png``. Run it from the project folder::

    .venv/bin/python scripts/screenshot_rally.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from calculatice.catalogue import load_bank
from calculatice.rally.organise import (
    create_rally,
    definition_of_rally,
    open_rally,
    register_class,
    round_for_class,
)
from calculatice.store import open_store
from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable, running_server

PROJECT = Path(__file__).resolve().parents[1]
BANK = PROJECT / "exercices"
EDITION = PROJECT / "data" / "rallies" / "2027.yaml"
OUTPUT = PROJECT / "docs" / "images" / "rallye.png"
PAIR = "Léa et Tom"


def registered_class(db_url: str) -> str:
    """The 2027 rally, opened, with one CM2 class; the class code."""
    bank = load_bank(BANK)
    with open_store(db_url) as store:
        rally = create_rally(store, bank, EDITION)
        classroom = register_class(
            store, rally, definition_of_rally(rally, bank), school_code="0590001A",
            class_name="CM2 B", level="CM2", late=True,
        )  # fmt: skip
        open_rally(store, rally)
        return classroom.code


def first_solution(db_url: str, code: str) -> str:
    """The answer to the pair's first question, drawn as the server draws it."""
    with open_store(db_url) as store:
        classroom = store.classroom_by_code(code)
        rally_round = round_for_class(store, load_bank(BANK), classroom)
        [pair] = store.pupils_of(classroom.id)
        exercise = rally_round.round.exercises[0]
        return exercise.questions(f"{rally_round.seed_for(pair.id)}/0")[0].solution


def take_picture(url: str, db_url: str, code: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 820, "height": 420}, device_scale_factor=1
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        player = page.locator(".cq-player")
        page.goto(f"{url}/rallye")
        expect(player).to_have_attribute("data-screen", "join")
        page.get_by_test_id("code").fill(code)
        page.get_by_test_id("name").fill(PAIR)
        page.get_by_test_id("join").click()
        page.get_by_test_id("begin").click()
        expect(player).to_have_attribute("data-screen", "question")
        page.get_by_test_id("answer").fill(first_solution(db_url, code))
        page.get_by_test_id("validate").click()
        expect(page.get_by_test_id("feedback")).to_have_attribute("data-colour", "green")
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT))
        context.close()
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="calculatice-screenshot-") as name:
        folder = Path(name)
        db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
        code = registered_class(db_url)
        secret = {"CALCULATICE_RALLY_SECRET": "screenshot"}
        with running_server(folder, db_url, ["--no-demo", "--pool-size", "0"], secret) as server:
            take_picture(server.url, db_url, code)
    print(f"Written {OUTPUT.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
