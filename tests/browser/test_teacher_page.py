"""The teacher page in Chromium, against a live ``calculatice serve``: sign in, compose a
séance, hand its code to a pupil who does it on the pupil page, and see the results."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from calculatice.catalogue import load_bank
from calculatice.demo import DEMO_CLASS
from calculatice.seances import normalise_code, open_seance
from calculatice.teacher import WRONG_SIGN_IN, add_teacher_account

LiveServer = Any
PROJECT = Path(__file__).resolve().parents[2]
PASSWORD = "navigateur-2026"

pytestmark = pytest.mark.browser
expect.set_options(timeout=60_000)


@pytest.fixture
def teacher_login(live_server: LiveServer) -> str:
    """A teacher of the demo class, with a login of their own for this test."""
    login = f"prof-{uuid.uuid4().hex[:8]}"
    with live_server.store() as store:
        [room] = [room for room in store.classrooms() if room.name == DEMO_CLASS]
        add_teacher_account(store, login, "Mme <i>Test</i>", PASSWORD, [room.id])
    return login


def sign_in(page: Page, login: str, password: str) -> None:
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def set_option(page: Page, name: str, value: int) -> None:
    """Type a value into an option of the generated form (slider readout or number box)."""
    option = page.locator(f".calculatice-option-{name}")
    expect(option).to_be_visible()
    readout = option.locator(".widget-readout")
    if readout.count():
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
        page.keyboard.press("Enter")
    else:
        option.locator("input").fill(str(value))
        option.locator("input").press("Enter")


def test_a_teacher_composes_a_seance_and_sees_a_pupils_results(
    page: Page, browser, live_server: LiveServer, teacher_login: str, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/voila/render/enseignant.ipynb")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    expect(page.get_by_text("CM1 de démonstration")).to_have_count(0)

    sign_in(page, teacher_login, "pas-le-bon")
    expect(page.get_by_text(WRONG_SIGN_IN)).to_be_visible()
    sign_in(page, teacher_login, PASSWORD)
    # The display name is text, not markup.
    expect(page.get_by_text("Bonjour Mme <i>Test</i>.")).to_be_visible()

    page.get_by_label("Mots").fill("tables en vitesse")
    page.get_by_role("button", name="Chercher").click()
    # Wait for the new results: the class's level listed them all before.
    expect(page.get_by_text("1 exercice trouvé.")).to_be_visible()
    page.locator(".calculatice-found select").select_option(label="Les tables en vitesse — CM1")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.locator(".calculatice-chosen option")).to_have_count(1)
    page.locator(".calculatice-chosen select").select_option(index=0)
    page.get_by_role("button", name="Options…").click()
    set_option(page, "questions", 2)
    set_option(page, "question_seconds", 0)
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator(".calculatice-chosen option")).to_contain_text(["options changées"])
    page.get_by_label("Titre").fill("Séance du navigateur")
    page.get_by_role("button", name="Créer la séance").click()
    code = page.locator(".seance-code").inner_text()
    sheet = page.get_by_role("link", name="Fiche à imprimer pour la classe")
    expect(sheet).to_have_attribute("href", _starts_with("data:text/html"))

    bank = load_bank(PROJECT / "exercices")
    pupil = browser.new_context(locale="fr-FR").new_page()
    try:
        pupil.goto(f"{live_server.url}/")
        pupil.get_by_test_id("code").fill(code)
        pupil.get_by_test_id("name").fill("Inès")
        pupil.get_by_test_id("join").click()
        pupil.get_by_test_id("begin").click()
        with live_server.store() as store:
            seance = open_seance(store, bank, normalise_code(code))
            assert seance.exercises[0].common.questions == 2
            inès = store.find_pupil(seance.classroom_id, "Inès")
            questions = seance.exercises[0].questions(f"{seance.code}/{inès.id}/0")
        pupil.get_by_test_id("answer").fill(questions[0].solution)
        pupil.get_by_test_id("validate").click()
        expect(pupil.get_by_test_id("feedback")).to_have_attribute("data-colour", "green")
        pupil.get_by_test_id("next").click()
        wrong = str(int(questions[1].solution) + 1)
        pupil.get_by_test_id("answer").fill(wrong)
        pupil.get_by_test_id("validate").click()
        expect(pupil.get_by_test_id("feedback")).to_have_attribute("data-colour", "red")
        pupil.get_by_test_id("next").click()
        expect(pupil.get_by_test_id("result-score")).to_have_text("1 sur 2")
    finally:
        pupil.close(run_before_unload=True)
        pupil.context.close()

    page.get_by_text("Suivre la classe").click()
    page.get_by_role("button", name="Rafraîchir").click()
    expect(page.get_by_text("1 a commencé")).to_be_visible()
    pupils = page.locator(".calculatice-table").first
    expect(pupils).to_contain_text("Inès")
    expect(pupils).to_contain_text("1/2")
    errors = page.locator(".calculatice-table").nth(2)
    expect(errors).to_contain_text(questions[1].prompt)
    expect(errors).to_contain_text(wrong)
    # The bar chart is drawn by plotly in the page, one bar per pupil of the class.
    expect(page.locator(".js-plotly-plot .xtick text", has_text="Inès")).to_have_count(1)
    expect(page.locator(".js-plotly-plot .bars .point").first).to_be_attached()
    csv_link = page.get_by_role("link", name="Télécharger en CSV")
    expect(csv_link).to_have_attribute("href", _starts_with("data:text/csv"))
    page.screenshot(path=str(tmp_path / "teacher-page.png"), full_page=True)


def _starts_with(prefix: str) -> re.Pattern:
    return re.compile(f"^{re.escape(prefix)}")
