"""Take the README's picture of the teacher page: a class's results after a séance.

Starts ``calculatice serve`` on loopback with a throw-away SQLite database,
gives the demo class a teacher and a séance, lets a few pupils play it through
the pupil page's own back end (:class:`~calculatice.pupil.PupilGateway`: the
same joins, grading and store as in the browser), then signs the teacher in
with Debian's Chromium and writes ``docs/images/enseignant.png``. Run it from
the project folder::

    .venv/bin/python scripts/screenshot_teacher.py
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from calculatice.catalogue import load_bank
from calculatice.demo import DEMO_CLASS
from calculatice.pupil import PupilGateway
from calculatice.seances import create_seance, format_code, open_seance, parse_item
from calculatice.store import open_store
from calculatice.teacher import add_teacher_account
from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable, running_server

PROJECT = Path(__file__).resolve().parents[1]
BANK = PROJECT / "exercices"
OUTPUT = PROJECT / "docs" / "images" / "enseignant.png"
EXERCISES = ["cm1-tables-en-vitesse:questions=6", "ce2-toutes-les-tables:questions=6"]
LOGIN, PASSWORD = "mdurand", "mot-de-passe-demo"
# First names and how often each gets a question right; the last two stop after one exercise.
PUPILS = {"Léa": 0.95, "Tom": 0.8, "Inès": 0.7, "Hugo": 0.6, "Zoé": 0.9, "Nathan": 0.5}
STOP_EARLY = {"Hugo", "Nathan"}


def prepare(db_url: str) -> str:
    """The teacher's account and a séance of the demo class; the séance's code."""
    bank = load_bank(BANK)
    with open_store(db_url) as store:
        [classroom] = [room for room in store.classrooms() if room.name == DEMO_CLASS]
        add_teacher_account(store, LOGIN, "Mme Durand", PASSWORD, [classroom.id])
        items = [parse_item(spec) for spec in EXERCISES]
        return create_seance(store, bank, "Tables du lundi", items, classroom.id).code


class ThinkingClock:
    """The players' clock, moved on by each pupil's thinking time rather than waited for."""

    def __init__(self, chance: random.Random) -> None:
        self.chance = chance
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def think(self) -> None:
        self.now += self.chance.lognormvariate(0.8, 0.4)


def play(db_url: str, code: str) -> None:
    """Each pupil joins and answers, right or wrong as their rate says."""
    bank = load_bank(BANK)
    chance = random.Random(2027)
    clock = ThinkingClock(chance)
    for name, skill in PUPILS.items():
        gateway = PupilGateway(lambda: open_store(db_url), lambda: bank, clock)
        reply = gateway.handle({"type": "join", "code": code, "name": name})
        with open_store(db_url) as store:
            seance = open_seance(store, bank, code)
            pupil = store.find_pupil(seance.classroom_id, name)
        drawn = {}
        while reply["screen"] != "end":
            screen = reply["screen"]
            if screen == "title":
                if name in STOP_EARLY and reply["exercise"]["position"] > 0:
                    break
                reply = gateway.handle({"type": "begin"})
            elif screen == "question" or (screen == "feedback" and not reply["question_done"]):
                position = reply["exercise"]["position"]
                if position not in drawn:
                    drawn[position] = seance.exercises[position].questions(
                        f"{seance.code}/{pupil.id}/{position}"
                    )
                solution = drawn[position][reply["number"] - 1].solution
                typed = solution if chance.random() < skill else str(int(solution) + 1)
                clock.think()
                key = f"{name}-{position}-{reply['number']}-{reply['attempt']}-{screen}"
                reply = gateway.handle({"type": "answer", "response": typed, "key": key})
            elif screen == "feedback":
                reply = gateway.handle({"type": "next"})
            else:
                reply = gateway.handle({"type": "continue"})


def take_picture(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        page = browser.new_context(
            locale="fr-FR", viewport={"width": 1000, "height": 900}, device_scale_factor=1
        ).new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{url}/voila/render/enseignant.ipynb")
        page.get_by_label("Identifiant").fill(LOGIN)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_text("Suivre la classe").click()
        page.get_by_role("button", name="Rafraîchir").click()
        expect(page.get_by_text("4 ont terminé")).to_be_visible()
        expect(page.locator(".js-plotly-plot .bars .point").first).to_be_attached()
        page.wait_for_timeout(1000)  # plotly's transition
        page.screenshot(path=str(OUTPUT), full_page=True)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="calculatice-screenshot-") as name:
        folder = Path(name)
        db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
        with running_server(folder, db_url, ["--pool-size", "0"]) as server:
            code = prepare(db_url)
            play(db_url, code)
            print(f"Séance {format_code(code)} played by {len(PUPILS)} pupils")
            take_picture(server.url)
    print(f"Written {OUTPUT.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
