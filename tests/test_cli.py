"""The ``calculatice`` command as a designer uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from calculatice.cli import main


def test_bank_check_passes_on_the_bank(runner: CliRunner, bank_copy: Path) -> None:
    result = runner.invoke(main, ["bank", "check", "--bank", str(bank_copy)])
    assert result.exit_code == 0, result.output
    assert "exercices valides" in result.output


def test_bank_check_fails_with_one_line_per_problem(runner: CliRunner, bank_copy: Path) -> None:
    broken = bank_copy / "multiplication" / "ce2-toutes-les-tables.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("tables: 2-9", "tables: 9-2"))
    (bank_copy / "division" / "cm2-vide.yaml").write_text("id: cm2-vide\n", encoding="utf-8")
    result = runner.invoke(main, ["bank", "check", "--bank", str(bank_copy)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{broken}: options.tables: L'intervalle « 9-2 » va à l'envers : écrire 2-9." in lines
    assert any(line.startswith(f"{bank_copy}/division/cm2-vide.yaml: title:") for line in lines)


def test_bank_list_filters_by_level(runner: CliRunner, bank_copy: Path) -> None:
    result = runner.invoke(
        main, ["bank", "list", "--bank", str(bank_copy), "--level", "CM1", "--json"]
    )
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert listed and all("CM1" in exercise["levels"] for exercise in listed)


def test_preview_prints_the_same_questions_for_the_same_seed(
    runner: CliRunner, bank_copy: Path
) -> None:
    command = ["bank", "preview", "ce2-toutes-les-tables", "--seed", "7", "--bank", str(bank_copy)]
    first, again = runner.invoke(main, command), runner.invoke(main, command)
    assert first.exit_code == 0
    assert first.output == again.output
    assert "réponse :" in first.output and "correction :" in first.output
    other = runner.invoke(main, [*command[:-3], "8", "--bank", str(bank_copy)])
    assert other.output != first.output


def test_preview_answers_are_right(runner: CliRunner, bank_copy: Path) -> None:
    result = runner.invoke(
        main,
        [
            "bank",
            "preview",
            "ce2-toutes-les-tables",
            "--seed",
            "7",
            "--json",
            "--bank",
            str(bank_copy),
        ],
    )
    for question in json.loads(result.stdout)["questions"]:
        left, right = question["prompt"].split(" = ")[0].split(" × ")
        assert int(left) * int(right) == question["expected"]


def test_unknown_exercise_gives_a_french_message_and_status_1(
    runner: CliRunner, bank_copy: Path
) -> None:
    result = runner.invoke(main, ["bank", "preview", "cm9-rien", "--bank", str(bank_copy)])
    assert result.exit_code == 1
    assert "n'est pas dans la banque" in result.output
    assert "Traceback" not in result.output


def test_engines_show_documents_options_from_their_declaration(runner: CliRunner) -> None:
    result = runner.invoke(main, ["engines", "show", "multiplication_facts"])
    assert result.exit_code == 0
    assert "tables (Tables) = '2-5' ; de 0 à 10000" in result.output


def test_installed_command_runs(bank_copy: Path) -> None:
    command = [sys.executable, "-m", "calculatice", "bank", "check", "--bank", str(bank_copy)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def test_a_calculatice_option_object_is_imported_into_the_bank(
    runner: CliRunner, bank_copy: Path, tmp_path: Path
) -> None:
    options = tmp_path / "options.json"
    options.write_text(
        json.dumps({"totalQuestion": 5, "totalEssai": 1, "tempsExo": 60, "tables": "6;7"}),
        encoding="utf-8",
    )
    command = [
        "bank",
        "import",
        "--bank",
        str(bank_copy),
        str(options),
        "--id",
        "cm1-t67",
        "--title",
        "Tables de 6 et 7",
        "--level",
        "CM1",
        "--theme",
        "multiplication",
        "--engine",
        "multiplication_facts",
    ]
    assert runner.invoke(main, command).exit_code == 0
    written = bank_copy / "multiplication" / "cm1-t67.yaml"
    assert "exercise_seconds: 60" in written.read_text(encoding="utf-8")
    listed = runner.invoke(main, ["bank", "list", "--bank", str(bank_copy), "--json"])
    assert "cm1-t67" in {exercise["id"] for exercise in json.loads(listed.stdout)}

    again = runner.invoke(main, command)
    assert again.exit_code == 1
    assert "déjà cet identifiant" in again.output


def test_an_import_with_a_bad_option_names_it(
    runner: CliRunner, bank_copy: Path, tmp_path: Path
) -> None:
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"totalQuestion": 0}), encoding="utf-8")
    result = runner.invoke(
        main,
        [
            "bank",
            "import",
            "--bank",
            str(bank_copy),
            str(options),
            "--id",
            "cm1-x",
            "--title",
            "X",
            "--level",
            "CM1",
            "--theme",
            "multiplication",
            "--engine",
            "multiplication_facts",
        ],
    )
    assert result.exit_code == 1
    assert "options.questions" in result.output
    assert not (bank_copy / "multiplication" / "cm1-x.yaml").exists()
