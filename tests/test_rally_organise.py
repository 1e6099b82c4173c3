"""Organising a rally with ``calculatice rally``: create, register, open, close, list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from calculatice.catalogue import load_bank
from calculatice.cli import main
from calculatice.rally.definition import load_definition
from calculatice.rally.organise import definition_of_rally, is_open, round_for_class
from calculatice.seances import CODE_ALPHABET, open_seance
from calculatice.store import open_store

PROJECT = Path(__file__).resolve().parents[1]
EDITION_2027 = PROJECT / "data" / "rallies" / "2027.yaml"
BANK = PROJECT / "exercices"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rally.sqlite'}"


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK)


@pytest.fixture
def rally_cli(runner: CliRunner, db_url: str, bank, monkeypatch: pytest.MonkeyPatch):
    """Runs ``calculatice rally ...`` on the test database and bank.

    The bank is read once for the module: reading it takes most of a second,
    and these tests are about the rally, not about reading the bank.
    """
    monkeypatch.setattr("calculatice.rally.cli._load", lambda _folder: bank)

    def run(*arguments: str):
        return runner.invoke(main, ["rally", "--db", db_url, "--bank", str(BANK), *arguments])

    return run


def register(rally_cli, name: str, level: str, *extra: str):
    return rally_cli(
        "register", "2027", "--school", "0590001A", "--school-name", "École Jean Macé",
        "--district", "Lille 1", "--class", name, "--level", level, *extra,
    )  # fmt: skip


def test_create_stores_the_rally_with_a_secret_seed(rally_cli, db_url: str) -> None:
    created = rally_cli("create", str(EDITION_2027))

    assert created.exit_code == 0, created.output
    assert created.output == "Rallye 2027 créé : Rallye calcul@TICE 2027\n"
    with open_store(db_url) as store:
        [rally] = store.rallies()
        assert (rally.edition, rally.status, len(rally.seed)) == ("2027", "scheduled", 32)
        assert rally.seed not in EDITION_2027.read_text(encoding="utf-8")
        rounds = rally.definition["round_seances"]
        assert set(rounds) == {"cm", "6e"}
        # The round's séance belongs to no class: the Voilà pupil page refuses its code.
        assert store.seance_by_code(rounds["cm"]).classroom_id is None


def test_creating_an_edition_twice_is_refused(rally_cli) -> None:
    rally_cli("create", str(EDITION_2027))

    again = rally_cli("create", str(EDITION_2027))

    assert again.exit_code == 1
    assert "edition : le rallye « 2027 » existe déjà." in again.output


def test_broken_definition_is_refused_without_a_traceback(rally_cli, tmp_path: Path) -> None:
    broken = tmp_path / "2028.yaml"
    broken.write_text(
        EDITION_2027.read_text(encoding="utf-8").replace("cm1-un-tiers-de", "cm1-un-quart-de"),
        encoding="utf-8",
    )

    refused = rally_cli("create", str(broken))

    assert refused.exit_code == 1
    assert "rounds[1].exercises[9].exercise : « cm1-un-quart-de » n'est pas dans" in (
        refused.output
    )
    assert "Traceback" not in refused.output


def test_registration_outside_its_window_needs_late(rally_cli) -> None:
    rally_cli("create", str(EDITION_2027))

    refused = register(rally_cli, "CM2 A", "CM2")
    accepted = register(rally_cli, "CM2 A", "CM2", "--late")

    assert refused.exit_code == 1
    assert "ouvertes du 01/03/2027 08:00 au 07/05/2027 18:00" in refused.output
    assert accepted.exit_code == 0, accepted.output
    code = accepted.stdout.strip()
    assert re.fullmatch(rf"[{CODE_ALPHABET}]{{3}}-[{CODE_ALPHABET}]{{3}}", code)


def test_registered_class_gets_the_round_of_its_level(rally_cli, db_url: str, bank) -> None:
    rally_cli("create", str(EDITION_2027))
    code = register(rally_cli, "6e B", "6e", "--late").stdout.strip().replace("-", "")

    with open_store(db_url) as store:
        classroom = store.classroom_by_code(code)
        school = store.school_by_code("0590001A")
        served = round_for_class(store, bank, classroom)

    assert (classroom.name, classroom.level, school.district) == ("6e B", "6e", "Lille 1")
    assert served.round.key == "6e"
    assert served.context == "rally:2027:6e"
    assert len(served.seance.exercises) == 15


def test_level_without_a_round_is_refused(rally_cli, db_url: str) -> None:
    rally_cli("create", str(EDITION_2027))

    refused = register(rally_cli, "CE2", "CE2", "--late")

    assert refused.exit_code == 1
    assert "Aucune épreuve pour le niveau CE2 (niveaux servis : CM1, CM2, 6e)." in refused.output
    with open_store(db_url) as store:
        assert store.classrooms() == []


def test_open_then_close_makes_a_training_seance_per_class(rally_cli, db_url: str, bank) -> None:
    rally_cli("create", str(EDITION_2027))
    register(rally_cli, "CM1 A", "CM1", "--late")
    register(rally_cli, "6e B", "6e", "--late")

    opened = rally_cli("open", "2027")
    with open_store(db_url) as store:
        rally = store.rally_by_edition("2027")
        assert rally.status == "open"
        assert is_open(rally, definition_of_rally(rally, bank))
    closed = rally_cli("close", "2027")
    reopened = rally_cli("open", "2027")

    assert opened.output == "Rallye 2027 ouvert.\n"
    assert closed.exit_code == 0, closed.output
    lines = closed.stdout.splitlines()
    assert [line.split(" : ")[0] for line in lines] == ["CM1 A (CM1)", "6e B (6e)"]
    assert reopened.exit_code == 1
    assert "ne peut pas rouvrir" in reopened.output
    with open_store(db_url) as store:
        rally = store.rally_by_edition("2027")
        assert rally.status == "closed" and rally.closed_at is not None
        training_code = lines[0].rsplit(" ", 1)[1].replace("-", "")
        training = open_seance(store, bank, training_code)
        # Training is the rally's round, replayable at will, for the class that did it.
        assert training.classroom_id == store.classroom_by_code(store.classrooms()[0].code).id
        assert [exercise.id for exercise in training.exercises][:2] == [
            "cm1-tables-en-vitesse",
            "cm1-completer-a-l-unite",
        ]
        assert training.exercises[0].common.questions == 12
        assert all(exercise.common.replayable for exercise in training.exercises)


def test_closing_again_makes_no_second_training_seance(rally_cli) -> None:
    rally_cli("create", str(EDITION_2027))
    register(rally_cli, "CM1 A", "CM1", "--late")
    rally_cli("close", "2027")

    again = rally_cli("close", "2027")

    assert again.exit_code == 0
    assert again.stdout == ""
    assert "0 séance d'entraînement" in again.output


def test_list_shows_state_window_and_codes(rally_cli) -> None:
    rally_cli("create", str(EDITION_2027))
    code = register(rally_cli, "CM2 A", "CM2", "--late").stdout.strip()

    listed = rally_cli("list")

    assert listed.output.splitlines() == [
        "2027  programmé, pas ouvert aux binômes ; "
        "période du 10/05/2027 08:00 au 21/05/2027 18:00",
        f"    {code}  CM2  CM2 A (épreuve cm)",
    ]


def test_scheduled_rally_is_open_inside_its_window_only(rally_cli, db_url: str, bank) -> None:
    rally_cli("create", str(EDITION_2027))
    definition = load_definition(EDITION_2027, bank)

    with open_store(db_url) as store:
        rally = store.rally_by_edition("2027")

    assert is_open(rally, definition, datetime(2027, 5, 12, 9, tzinfo=UTC))
    assert not is_open(rally, definition, datetime(2027, 5, 9, 9, tzinfo=UTC))
    assert not is_open(rally, definition, datetime(2027, 5, 22, 9, tzinfo=UTC))
