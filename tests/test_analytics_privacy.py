"""Keyed pseudonyms, the key commands, and small-cell suppression that totals cannot undo."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calculatice.analytics.privacy import (
    anonymise,
    pseudonym,
    publish,
    recoverable_cells,
    suppress_small_cells,
    with_margins,
)
from calculatice.analytics.simulate import RallyShape, simulate
from calculatice.cli import main

KEY = b"0123456789abcdef0123456789abcdef"


def test_pseudonym_depends_on_the_key_and_the_kind():
    assert pseudonym(KEY, "school", "42") == pseudonym(KEY, "school", "42")
    assert pseudonym(KEY, "school", "42") != pseudonym(b"another-secret-key-0000", "school", "42")
    assert pseudonym(KEY, "school", "42") != pseudonym(KEY, "class", "42")
    assert len(pseudonym(KEY, "school", "42")) == 20


def test_anonymise_replaces_ids_and_keeps_district_level_and_sector():
    table = simulate(RallyShape(districts=2, schools=1, classes=1, pairs=2, exercises=1))

    anonymised = anonymise(table, KEY)

    for column in ("participant_id", "class_id", "school_id"):
        assert not set(anonymised[column]) & set(table[column])
        assert anonymised[column].nunique() == table[column].nunique()
    for column in ("district", "level", "sector", "outcome"):
        assert anonymised[column].equals(table[column])


def test_key_new_writes_a_private_key_and_never_overwrites(tmp_path: Path, runner):
    path = tmp_path / "cle.txt"

    first = runner.invoke(main, ["key", "new", str(path)])
    again = runner.invoke(main, ["key", "new", str(path)])

    assert first.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert again.exit_code == 1
    assert "existe déjà" in again.output


def test_anonymise_refuses_to_run_without_a_key(tmp_path: Path, runner, monkeypatch):
    monkeypatch.delenv("CALCULATICE_KEY", raising=False)
    table = tmp_path / "answers.csv"
    table.write_text("rally\n", encoding="utf-8")

    result = runner.invoke(
        main, ["anonymise", "--input", str(table), "--output", str(tmp_path / "out.csv")]
    )

    assert result.exit_code == 1
    assert "Aucune clé de pseudonymisation" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_anonymise_command_writes_pseudonyms(tmp_path: Path, runner):
    key_file = tmp_path / "cle.txt"
    runner.invoke(main, ["key", "new", str(key_file)])
    source = tmp_path / "answers.parquet"
    runner.invoke(
        main,
        [
            "simulate",
            "--districts",
            "1",
            "--schools",
            "1",
            "--classes",
            "1",
            "--pairs",
            "2",
            "--exercises",
            "1",
            "--output",
            str(source),
        ],
    )

    result = runner.invoke(
        main,
        [
            "anonymise",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "out.parquet"),
            "--key-file",
            str(key_file),
        ],
    )

    assert result.exit_code == 0, result.output
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert not set(out["participant_id"]) & set(pd.read_parquet(source)["participant_id"])


COUNTS = pd.DataFrame(
    {"public": [120, 45, 8, 60], "rep": [30, 4, 25, 40], "rep_plus": [15, 22, 18, 12]},
    index=["Lille 1", "Lille 2", "Roubaix", "Tourcoing"],
)


def test_every_cell_about_fewer_than_ten_pupils_is_hidden():
    hidden = suppress_small_cells(COUNTS)

    assert hidden.loc["Roubaix", "public"]
    assert hidden.loc["Lille 2", "rep"]
    assert not hidden.loc["Lille 1", "public"]


def test_no_hidden_cell_can_be_worked_out_from_the_totals():
    hidden = suppress_small_cells(COUNTS)
    grid = with_margins(COUNTS)

    assert recoverable_cells(hidden.to_numpy()) == []
    # Every row and column with a hidden cell hides at least two.
    for line in list(hidden.to_numpy()) + list(hidden.to_numpy().T):
        assert line.sum() != 1
    published = publish(grid, hidden)
    assert np.isnan(published.loc["Roubaix", "public"])
    assert published.loc["Lille 1", "public"] == 120


def test_a_lone_row_reveals_nothing_through_its_total():
    counts = pd.DataFrame({"public": [5, 50, 70]}, index=["A", "B", "C"])

    hidden = suppress_small_cells(counts)

    assert hidden.loc["A", "public"] and hidden.loc["A", "Total"]
    assert recoverable_cells(hidden.to_numpy()) == []


@pytest.mark.parametrize("seed", range(20))
def test_random_tables_never_leak_a_hidden_cell(seed: int):
    rng = np.random.default_rng(seed)
    counts = pd.DataFrame(rng.integers(0, 40, size=(6, 4)))

    hidden = suppress_small_cells(counts)

    assert recoverable_cells(hidden.to_numpy()) == []
    assert hidden.to_numpy()[:6, :4][counts.to_numpy() < 10].all()
