"""Take the README's picture of the pupil page: a question with its feedback and correction.

Starts ``calculatice serve`` on loopback with a throw-away SQLite database (as the
browser tests do), makes a séance in the demo class, plays it in Debian's Chromium
and writes ``docs/images/eleve.png``. Run it from the project folder::

    .venv/bin/python scripts/screenshot_pupil.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from calculatice.catalogue import load_bank
from calculatice.demo import DEMO_CLASS
from calculatice.seances import create_seance, format_code, open_seance, parse_item
from calculatice.store import open_store
from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable, running_server

PROJECT = Path(__file__).resolve().parents[1]
BANK = PROJECT / "exercices"
OUTPUT = PROJECT / "docs" / "images" / "eleve.png"
EXERCISE = "6e-multiplier-par-9-99-101:questions=8"
PUPIL = "Léa"


def new_seance(db_url: str) -> str:
    with open_store(db_url) as store:
        [classroom] = [room for room in store.classrooms() if room.name == DEMO_CLASS]
        seance = create_seance(
            store, load_bank(BANK), "Calcul malin", [parse_item(EXERCISE)], classroom.id
        )
        return seance.code


def solutions_for(db_url: str, code: str) -> list[str]:
    with open_store(db_url) as store:
        seance = open_seance(store, load_bank(BANK), code)
        pupil = store.find_pupil(seance.classroom_id, PUPIL)
        questions = seance.exercises[0].questions(f"{seance.code}/{pupil.id}/0")
        return [question.solution for question in questions]


def take_picture(url: str, db_url: str, code: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        context = browser.new_context(
            locale="fr-FR", viewport={"width": 820, "height": 360}, device_scale_factor=1
        )
        page = context.new_page()
        page.set_default_timeout(60_000)
        player = page.locator(".cq-player")
        page.goto(f"{url}/")
        expect(player).to_have_attribute("data-screen", "join", timeout=60_000)
        page.get_by_test_id("code").fill(format_code(code))
        page.get_by_test_id("name").fill(PUPIL)
        page.get_by_test_id("join").click()
        page.get_by_test_id("begin").click()
        solutions = solutions_for(db_url, code)
        feedback = page.get_by_test_id("feedback")
        page.get_by_test_id("answer").fill(solutions[0])
        page.get_by_test_id("validate").click()
        expect(feedback).to_have_attribute("data-colour", "green")
        page.get_by_test_id("next").click()
        expect(player).to_have_attribute("data-screen", "question")
        for colour in ("orange", "red"):
            page.get_by_test_id("answer").fill("1 000")
            page.get_by_test_id("validate").click()
            expect(feedback).to_have_attribute("data-colour", colour)
        page.get_by_test_id("correction").wait_for(state="visible")
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT))
        page.close(run_before_unload=True)
        context.close()
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="calculatice-screenshot-") as name:
        folder = Path(name)
        db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
        options = ["--pool-size", "1", "--fill-delay", "0"]
        with running_server(folder, db_url, options) as server:
            take_picture(server.url, db_url, new_seance(db_url))
    print(f"Written {OUTPUT.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
