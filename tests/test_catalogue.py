"""The exercise bank: its size, its coverage of the levels, and the refusal of bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from calculatice.catalogue import LEVELS, Bank, check_file, load_bank, load_exercise
from calculatice.errors import BankError, UnknownExerciseError

GOOD = """\
id: ce1-essai
title: Essai
levels: [CE1]
theme: multiplication
engine: multiplication_facts
options:
  tables: "2;3"
  questions: 5
"""


def write(folder: Path, theme: str, name: str, text: str) -> Path:
    path = folder / theme / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_bank_is_valid(bank: Bank) -> None:
    assert [f"{p.path}: {p.field}: {p.reason}" for p in bank.problems] == []


def test_bank_has_at_least_120_exercises(bank: Bank) -> None:
    assert len(bank) >= 120


def test_every_level_has_at_least_15_exercises(bank: Bank) -> None:
    per_level = Counter(level for exercise in bank.exercises.values() for level in exercise.levels)
    assert {level: per_level[level] >= 15 for level in LEVELS} == dict.fromkeys(LEVELS, True)


def test_every_exercise_draws_its_questions(bank: Bank) -> None:
    for exercise in bank.exercises.values():
        questions = exercise.questions(seed=11)
        assert len(questions) == exercise.common.questions, exercise.id


def test_a_good_file_loads(tmp_path: Path) -> None:
    exercise = load_exercise(write(tmp_path, "multiplication", "ce1-essai", GOOD))
    assert exercise.options.tables == (2, 3)
    assert exercise.common.questions == 5
    assert exercise.theme_name == "Multiplication"
    assert len(exercise.questions(seed=1)) == 5


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("levels: [CE1]", "levels: [CE7]"), "levels", "niveau inconnu « CE7 »"),
        (("engine: multiplication_facts", "engine: tables"), "engine", "moteur inconnu"),
        (('tables: "2;3"', 'tables: "3-2"'), "options.tables", "à l'envers"),
        (("questions: 5", "questions: 0"), "options.questions", "au moins 1"),
        (("questions: 5", "colour: red"), "options.colour", "option inconnue"),
        (("title: Essai\n", ""), "title", "champ obligatoire manquant"),
        (("id: ce1-essai", "id: ce1-autre"), "id", "nom du fichier"),
        (("id: ce1-essai", "id: CE1 Essai"), "id", "minuscules"),
        (("theme: multiplication", "theme: addition"), "theme", "dossier « addition/ »"),
        (("theme: multiplication", "theme: magie"), "theme", "thème inconnu"),
        (("levels: [CE1]", "levels: [CE1]\nauthor: moi"), "author", "champ inconnu"),
    ],
)
def test_a_broken_file_is_refused_with_its_path_field_and_reason(
    tmp_path: Path, change: tuple[str, str], field: str, reason: str
) -> None:
    path = write(tmp_path, "multiplication", "ce1-essai", GOOD.replace(*change))
    problems = check_file(path)
    assert [(problem.path, problem.field) for problem in problems] == [(str(path), field)]
    assert reason in problems[0].reason
    with pytest.raises(BankError):
        load_exercise(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "multiplication", "ce1-essai", GOOD + "options: [unclosed\n")
    [problem] = check_file(path)
    assert problem.field == ""
    assert "YAML invalide ligne" in problem.reason


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    [problem] = check_file(write(tmp_path, "multiplication", "ce1-essai", "- just\n- a list\n"))
    assert "doit décrire un exercice" in problem.reason


def test_two_files_with_one_id_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "multiplication", "ce1-essai", GOOD)
    other = tmp_path / "copie" / "multiplication" / "ce1-essai.yaml"
    other.parent.mkdir(parents=True)
    other.write_text(GOOD, encoding="utf-8")
    loaded = load_bank(tmp_path)
    assert len(loaded) == 1
    assert [(problem.field, "déjà utilisé" in problem.reason) for problem in loaded.problems] == [
        ("id", True)
    ]


def test_bank_selection_filters_by_level_theme_and_words(bank: Bank) -> None:
    chosen = bank.select(levels=["CE2"], themes=["multiplication"], words="tables")
    assert chosen
    assert all("CE2" in exercise.levels for exercise in chosen)
    assert all(exercise.theme == "multiplication" for exercise in chosen)
    assert all("tables" in f"{exercise.id} {exercise.title}".casefold() for exercise in chosen)


def test_unknown_exercise_is_a_french_error(bank: Bank) -> None:
    with pytest.raises(UnknownExerciseError, match="n'est pas dans la banque"):
        bank.get("cm9-nothing")


def test_overrides_are_validated(bank: Bank) -> None:
    exercise = bank.get("ce2-toutes-les-tables")
    adjusted = exercise.with_overrides({"questions": 4, "tables": "7"})
    assert adjusted.common.questions == 4
    assert {question.features["table"] for question in adjusted.questions(seed=2)} == {7}
    assert exercise.common.questions == 12  # the bank's exercise is untouched
