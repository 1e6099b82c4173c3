"""Teachers' accounts, their desk (own classes only) and the follow-up of a class."""

from __future__ import annotations

import pytest

from calculatice.cli import main
from calculatice.pupil import PupilGateway
from calculatice.seances import SeanceItem, open_seance
from calculatice.store import open_store
from calculatice.teacher import (
    NOT_YOUR_CLASS,
    WRONG_SIGN_IN,
    TeacherDesk,
    TeacherError,
    TeacherPage,
    add_teacher_account,
    authenticate,
    follow_up_csv,
    html_table,
)

PASSWORD = "tables-de-7"
ITEMS = [
    SeanceItem("cm1-tables-en-vitesse", {"questions": 2}),
    SeanceItem("cm1-un-tiers-de", {"questions": 2}),
]


@pytest.fixture
def school(store):
    school = store.add_school("0590001A", "École Jean Macé")
    mine = store.add_classroom(school.id, "CM1 A", "CM1")
    other = store.add_classroom(school.id, "CM1 B", "CM1")
    alice = add_teacher_account(store, "alice", "Mme Alice", PASSWORD, [mine.id])
    add_teacher_account(store, "bruno", "M. Bruno", "autre-mot-de-passe", [other.id])
    return {"mine": mine, "other": other, "alice": alice}


@pytest.fixture
def desk(store, bank, school) -> TeacherDesk:
    return TeacherDesk(store, bank, school["alice"])


def play(store, bank, code: str, name: str, responses: list[str | None], clock) -> None:
    """A pupil joins and gives responses to the first exercise (``None``: skip to « Suite »)."""
    gateway = PupilGateway(lambda: store, lambda: bank, clock)
    gateway.handle({"type": "join", "code": code, "name": name})
    if not responses:
        return gateway
    gateway.handle({"type": "begin"})
    for number, typed in enumerate(responses):
        clock.now += 3
        reply = gateway.handle({"type": "answer", "response": typed, "key": f"{name}{number}"})
        if not reply.get("exercise_done"):
            gateway.handle({"type": "next"})
    if reply.get("exercise_done"):
        gateway.handle({"type": "next"})
    return gateway


def solutions(store, bank, code: str, classroom_id: int, name: str) -> list[str]:
    seance = open_seance(store, bank, code)
    pupil = store.find_pupil(classroom_id, name)
    return [q.solution for q in seance.exercises[0].questions(f"{seance.code}/{pupil.id}/0")]


def wrong_for(solution: str) -> str:
    return "1" if solution != "1" else "2"


def test_passwords_are_stored_as_argon2_hashes(store, school):
    from sqlalchemy import text

    with store.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT password_hash FROM teachers WHERE login = 'alice'")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_short_password_is_refused_in_french(store):
    with pytest.raises(TeacherError, match="au moins 8 caractères"):
        add_teacher_account(store, "court", "Court", "1234")


def test_the_right_password_signs_in(store, school):
    teacher = authenticate(store, "alice", PASSWORD)
    assert (teacher.login, teacher.display_name) == ("alice", "Mme Alice")


@pytest.mark.parametrize(
    ("login", "password"),
    [("alice", "tables-de-8"), ("alice", ""), ("personne", PASSWORD), ("bruno", PASSWORD)],
)
def test_a_wrong_password_or_login_is_refused(store, school, login, password):
    assert authenticate(store, login, password) is None


def test_a_teacher_sees_their_own_classes_only(desk, school):
    assert [room.name for room in desk.classrooms()] == ["CM1 A"]
    other = school["other"].id
    for action in (
        lambda: desk.seances(other),
        lambda: desk.follow_up(other, 1),
        lambda: desk.create_seance(other, "Intrus", ITEMS),
    ):
        with pytest.raises(TeacherError, match=NOT_YOUR_CLASS):
            action()


def test_follow_up_of_a_class(store, bank, desk, school, clock):
    room = school["mine"].id
    seance = desk.create_seance(room, "Tables et tiers", ITEMS)
    # Léa: the first question right, the second wrong (one attempt each): 1 sur 2.
    play(store, bank, seance.code, "Léa", [], clock)
    lea = solutions(store, bank, seance.code, room, "Léa")
    play(store, bank, seance.code, "Léa", [lea[0], wrong_for(lea[1])], clock)
    # Tom joins but does not begin; Zoé answers one question wrong and stops there.
    play(store, bank, seance.code, "Tom", [], clock)
    play(store, bank, seance.code, "Zoé", [], clock)
    zoe = solutions(store, bank, seance.code, room, "Zoé")
    play(store, bank, seance.code, "Zoé", [wrong_for(zoe[0])], clock)

    results = desk.follow_up(room, seance.id)

    by_name = {pupil.name: pupil for pupil in results.pupils}
    assert list(by_name) == ["Léa", "Tom", "Zoé"]
    assert (by_name["Léa"].started, by_name["Léa"].finished) == (1, 1)
    assert (by_name["Léa"].score, by_name["Léa"].total) == (1, 2)
    assert by_name["Léa"].status(2) == "en cours"
    assert by_name["Tom"].status(2) == "pas commencé"
    assert (by_name["Zoé"].started, by_name["Zoé"].finished) == (1, 0)
    assert (results.started, results.finished) == (2, 0)

    first, second = results.exercises
    assert (first.title, first.finished, first.success) == ("Les tables en vitesse", 1, 0.5)
    [lea_attempt] = [a for a in store.attempts_of(store.find_pupil(room, "Léa").id, seance.id)]
    assert first.median_seconds == lea_attempt.duration_ms / 1000
    assert (second.finished, second.success, second.median_seconds) == (0, None, None)

    wrong = {(w.question, w.expected, w.given): w.count for w in results.wrong_answers}
    assert sum(wrong.values()) == 2
    assert all(w.exercise == "Les tables en vitesse" for w in results.wrong_answers)
    assert {expected for _, expected, _ in wrong} == {lea[1], zoe[0]}


def test_follow_up_as_csv_for_a_french_spreadsheet(store, bank, desk, school, clock):
    room = school["mine"].id
    seance = desk.create_seance(room, "Tables", ITEMS[:1])
    play(store, bank, seance.code, "Léa", [], clock)
    lea = solutions(store, bank, seance.code, room, "Léa")
    play(store, bank, seance.code, "Léa", lea, clock)
    lines = follow_up_csv(desk.follow_up(room, seance.id)).splitlines()
    assert lines[0] == "élève;exercice;titre;score;sur;durée (s)"
    name, position, title, score, total, seconds = lines[1].split(";")
    assert (name, position, title, score, total) == ("Léa", "1", "Les tables en vitesse", "2", "2")
    assert "," in seconds


def test_names_are_escaped_in_tables():
    table = html_table(["Élève"], [["<img src=x onerror=alert(1)>"]])
    assert "<img" not in table
    assert "&lt;img src=x onerror=alert(1)&gt;" in table


def test_page_shows_nothing_of_a_class_before_signing_in(store, bank, school):
    page = TeacherPage(lambda: store, lambda: bank, sign_in_delay=0.0)
    assert [type(child).__name__ for child in page.widget.children] == [
        "HTML",
        "Text",
        "Password",
        "Button",
        "Label",
    ]
    page.login.value, page.password.value = "alice", "mauvais-mot"
    page.sign_in_button.click()
    assert page.sign_in_message.value == WRONG_SIGN_IN
    assert page.desk is None
    assert page.password.value == ""


def test_page_composes_a_seance_and_follows_it(store, bank, school, clock):
    page = TeacherPage(lambda: store, lambda: bank, sign_in_delay=0.0)
    page.login.value, page.password.value = "alice", PASSWORD
    page.sign_in_button.click()
    assert page.greeting.value == "Bonjour Mme Alice."
    assert [label for label, _ in page.class_picker.options] == ["CM1 A (CM1)"]
    assert page.search_level.value == "CM1"

    page.search_words.value = "tables"
    page.search_button.click()
    found = [value for _, value in page.found.options]
    assert "cm1-tables-en-vitesse" in found
    page.found.value = "cm1-tables-en-vitesse"
    page.add_button.click()
    page.search_words.value = "tiers"
    page.search_button.click()
    page.found.value = "cm1-un-tiers-de"
    page.add_button.click()
    page.move(-1)
    assert [item.exercise_id for item in page.items] == [
        "cm1-un-tiers-de",
        "cm1-tables-en-vitesse",
    ]

    page.chosen.index = 1
    form = page.edit_options()
    form.fields["questions"].input.value = 3
    page.apply_button.click()
    assert page.items[1].overrides == {"questions": 3}

    page.seance_title.value = "Lundi"
    page.create_button.click()
    code = page.created.code
    assert "seance-code" in page.created_html.value
    assert "Fiche à imprimer" in page.created_html.value
    assert [e.common.questions for e in open_seance(store, bank, code).exercises][1] == 3

    play(store, bank, code, "Léa", [], clock)
    page.refresh_button.click()
    assert page.follow_summary.value == (
        "1 élève dans la classe\u202f: 0 a commencé, 0 a terminé."
    )
    assert "Léa" in page.pupils_html.value
    assert "Télécharger en CSV" in page.csv_html.value
    assert len(page.chart_box.children) == 1


def test_teacher_add_command_hashes_the_password_and_links_the_class(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with open_store(url) as store:
        school = store.add_school("0590002B", "École")
        store.add_classroom(school.id, "CE1 bleu", "CE1")
    result = runner.invoke(
        main,
        ["teacher", "--db", url, "add", "claire", "--name", "Mme Claire", "--class", "CE1 bleu"],
        env={"CALCULATICE_TEACHER_PASSWORD": "un-long-secret"},
    )
    assert result.exit_code == 0, result.output
    assert "Compte « claire » créé (CE1 bleu)." in result.output
    with open_store(url) as store:
        teacher = authenticate(store, "claire", "un-long-secret")
        assert [room.name for room in TeacherDesk(store, None, teacher).classrooms()] == [
            "CE1 bleu"
        ]


def test_teacher_add_command_asks_the_password_hidden(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = runner.invoke(
        main,
        ["teacher", "--db", url, "add", "denis", "--name", "M. Denis"],
        input="secret-de-denis\nsecret-de-denis\n",
        env={"CALCULATICE_TEACHER_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert "secret-de-denis" not in result.output
    with open_store(url) as store:
        assert authenticate(store, "denis", "secret-de-denis").display_name == "M. Denis"


def test_teacher_add_command_refuses_a_short_password(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = runner.invoke(
        main,
        ["teacher", "--db", url, "add", "eve", "--name", "Ève"],
        env={"CALCULATICE_TEACHER_PASSWORD": "court"},
    )
    assert result.exit_code == 1
    assert "au moins 8 caractères" in result.output


def test_teacher_assign_command_adds_a_class(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with open_store(url) as store:
        school = store.add_school("0590003C", "École")
        store.add_classroom(school.id, "CM2 vert", "CM2")
        add_teacher_account(store, "fanny", "Mme Fanny", "secret-de-fanny")
    result = runner.invoke(
        main, ["teacher", "--db", url, "assign", "fanny", "--class", "CM2 vert"]
    )
    assert result.exit_code == 0, result.output
    unknown = runner.invoke(main, ["teacher", "--db", url, "assign", "gaston", "--class", "1"])
    assert unknown.exit_code == 1
    assert "Aucun enseignant n'a l'identifiant « gaston »." in unknown.output
    with open_store(url) as store:
        teacher = authenticate(store, "fanny", "secret-de-fanny")
        assert [room.name for room in TeacherDesk(store, None, teacher).classrooms()] == [
            "CM2 vert"
        ]
