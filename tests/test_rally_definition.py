"""Rally definitions: the 2027 edition is accepted, broken caps and unknown exercises refused."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from calculatice.catalogue import Bank, load_bank
from calculatice.rally.definition import (
    EXERCISE_CAP_SECONDS,
    RallyError,
    load_definition,
    parse_definition,
)

PROJECT = Path(__file__).resolve().parents[1]
EDITION_2027 = PROJECT / "data" / "rallies" / "2027.yaml"


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(PROJECT / "exercices")


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(EDITION_2027.read_text(encoding="utf-8"))


def refusal(raw: dict, bank: Bank) -> str:
    with pytest.raises(RallyError) as caught:
        parse_definition(raw, bank, "2027.yaml")
    return str(caught.value)


def test_edition_2027_has_a_round_per_level_within_the_caps(bank: Bank) -> None:
    definition = load_definition(EDITION_2027, bank)

    assert definition.edition == "2027"
    assert [one.key for one in definition.rounds] == ["cm", "6e"]
    assert definition.round_for_level("CM1").key == "cm"
    assert definition.round_for_level("6e").key == "6e"
    assert definition.round_for_level("CE2") is None
    for one in definition.rounds:
        assert 13 <= len(one.exercises) <= 17
        assert one.seconds <= 45 * 60
        assert not any(exercise.common.replayable for exercise in one.exercises)
    assert definition.window.opens == datetime(2027, 5, 10, 6, tzinfo=UTC)
    assert definition.window.contains(datetime(2027, 5, 15, 10, tzinfo=UTC))
    assert not definition.window.contains(datetime(2027, 5, 21, 16, tzinfo=UTC))


def test_overrides_are_frozen_into_the_round(bank: Bank) -> None:
    cm = load_definition(EDITION_2027, bank).round_by_key("cm")

    first = cm.exercises[0]
    assert (first.id, first.common.questions, first.common.question_seconds) == (
        "cm1-tables-en-vitesse",
        12,
        6,
    )
    assert cm.items[0].overrides == {"questions": 12, "question_seconds": 6}


def test_round_with_twelve_exercises_is_refused(raw: dict, bank: Bank) -> None:
    del raw["rounds"][0]["exercises"][12:]

    assert refusal(raw, bank) == (
        "2027.yaml : rounds[1].exercises : 12 exercices ; une épreuve en a de 13 à 17."
    )


def test_round_with_eighteen_exercises_is_refused(raw: dict, bank: Bank) -> None:
    exercises = raw["rounds"][1]["exercises"]
    exercises.extend(copy.deepcopy(exercises[:3]))

    assert "rounds[2].exercises : 18 exercices" in refusal(raw, bank)


def test_exercise_longer_than_three_minutes_is_refused(raw: dict, bank: Bank) -> None:
    raw["rounds"][0]["exercises"][1]["overrides"] = {"questions": 10, "question_seconds": 20}

    message = refusal(raw, bank)

    assert message.startswith("2027.yaml : rounds[1].exercises[2] : ")
    assert "cm1-completer-a-l-unite" in message
    assert "3\u00a0min 20\u00a0s" in message
    assert EXERCISE_CAP_SECONDS == 180


def test_exercise_without_time_limit_is_refused(raw: dict, bank: Bank) -> None:
    raw["rounds"][0]["exercises"][1]["overrides"] = {"question_seconds": 0}

    assert "n'a pas de limite de temps" in refusal(raw, bank)


def test_round_longer_than_45_minutes_is_refused(raw: dict, bank: Bank) -> None:
    for item in raw["rounds"][0]["exercises"]:
        item["overrides"] = {"exercise_seconds": 180}
    raw["rounds"][0]["exercises"].append(copy.deepcopy(raw["rounds"][0]["exercises"][0]))

    assert refusal(raw, bank) == (
        "2027.yaml : rounds[1].exercises : "
        "l'épreuve dure jusqu'à 48\u00a0min ; 45\u00a0min au plus."
    )


def test_unknown_exercise_is_refused(raw: dict, bank: Bank) -> None:
    raw["rounds"][1]["exercises"][4]["exercise"] = "6e-tables-de-99"

    assert refusal(raw, bank) == (
        "2027.yaml : rounds[2].exercises[5].exercise : « 6e-tables-de-99 » n'est pas dans "
        "la banque."
    )


def test_invalid_override_is_refused_with_the_option(raw: dict, bank: Bank) -> None:
    raw["rounds"][0]["exercises"][0]["overrides"]["questions"] = 0

    message = refusal(raw, bank)

    assert message.startswith("2027.yaml : rounds[1].exercises[1].overrides : ")
    assert "questions" in message


def test_datetime_without_timezone_is_refused(raw: dict, bank: Bank) -> None:
    raw["window"]["opens"] = "2027-05-10T08:00:00"

    message = refusal(raw, bank)

    assert message.startswith("2027.yaml : window.opens : ")
    assert "fuseau horaire" in message


def test_window_ending_before_it_starts_is_refused(raw: dict, bank: Bank) -> None:
    raw["window"]["closes"] = raw["window"]["opens"]

    assert refusal(raw, bank) == ("2027.yaml : window.closes : la fin doit venir après le début.")


def test_level_served_by_two_rounds_is_refused(raw: dict, bank: Bank) -> None:
    raw["rounds"][1]["levels"] = ["CM2", "6e"]

    assert refusal(raw, bank) == (
        "2027.yaml : rounds[2].levels : le niveau CM2 est déjà servi par l'épreuve « cm »."
    )


def test_unreadable_yaml_names_the_file_and_line(tmp_path: Path, bank: Bank) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("edition: 2027\nrounds: [\n", encoding="utf-8")

    with pytest.raises(RallyError, match=r"broken\.yaml, ligne 3 : ce n'est pas du YAML"):
        load_definition(broken, bank)
