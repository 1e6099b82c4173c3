"""The tidy answer table: built from the store, written and read back, malformed files refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from calculatice.analytics.errors import TableError
from calculatice.analytics.simulate import RallyShape, simulate
from calculatice.analytics.tidy import COLUMNS, read_store, read_table, write_table
from calculatice.cli import main
from calculatice.store import open_store


@pytest.fixture
def store_with_answers(tmp_path: Path):
    """A store with one pupil pair who answered three times, one question never shown."""
    store = open_store(f"sqlite:///{tmp_path / 'results.sqlite'}")
    school = store.add_school("0590001A", "École Jean Macé", district="Lille 3", sector="rep")
    classroom = store.add_classroom(school.id, "CE1 A", "CE1")
    pupil = store.add_pupil(classroom.id, "Léa et Tom", is_pair=True)
    attempt = store.start_attempt(
        pupil.id, "ce1-additions-en-une-minute", seed="1", total=12, context="rallye-2026"
    )
    at = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)
    answers = [
        (0, 1, "7 + 6 = …", "13", "12", "12", "wrong", 4100),
        (0, 2, "7 + 6 = …", "13", "13", "13", "right", 2300),
        (1, 0, "7 + 2 = …", "9", None, "", "timeout", None),
    ]
    for question, attempt_number, shown, expected, typed, read_as, outcome, ms in answers:
        store.record_answer(
            attempt,
            question_index=question,
            attempt_number=attempt_number,
            question_shown=shown,
            expected=expected,
            typed=typed,
            read_as=read_as,
            outcome=outcome,
            response_ms=ms,
            answered_at=at,
        )
    yield store
    store.close()


def test_store_gives_one_row_per_answer_without_names(store_with_answers):
    table = read_store(store_with_answers)

    assert list(table.columns) == list(COLUMNS)
    assert list(table["outcome"]) == ["wrong", "right", "not_reached"]
    assert list(table["typed"].fillna("∅")) == ["12", "13", "∅"]
    assert set(table["engine"]) == {"addition_facts"}
    assert set(table["rally"]) == {"rallye-2026"}
    assert (table["district"] == "Lille 3").all() and (table["sector"] == "rep").all()
    assert (table["level"] == "CE1").all()
    flat = table.astype(str).to_numpy().ravel().tolist()
    assert not any("Léa" in str(cell) or "Macé" in str(cell) for cell in flat)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_survives_a_round_trip(tmp_path: Path, suffix: str):
    table = simulate(RallyShape(districts=1, schools=1, classes=1, pairs=3, exercises=1))
    path = write_table(table, tmp_path / f"answers{suffix}")

    read_back = read_table(path)

    pd.testing.assert_frame_equal(read_back, table)


def _broken_csv(tmp_path: Path) -> Path:
    table = simulate(RallyShape(districts=1, schools=1, classes=1, pairs=2, exercises=1))
    path = write_table(table, tmp_path / "answers.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fields = lines[3].split(",")
    fields[header.index("outcome")] = "perdu"
    lines[3] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_csv_is_refused_with_line_column_and_reason(tmp_path: Path):
    path = _broken_csv(tmp_path)

    with pytest.raises(TableError) as refused:
        read_table(path)

    assert refused.value.problems == [(4, "outcome", "« perdu » n'est pas une valeur permise")]


def test_missing_column_is_named(tmp_path: Path):
    table = simulate(RallyShape(districts=1, schools=1, classes=1, pairs=2, exercises=1))
    path = tmp_path / "answers.parquet"
    table.drop(columns=["sector"]).to_parquet(path)

    with pytest.raises(TableError) as refused:
        read_table(path)

    assert (None, "sector") in [(row, column) for row, column, _ in refused.value.problems]


def test_command_reports_a_malformed_file_in_french_without_traceback(
    tmp_path: Path, runner, monkeypatch
):
    monkeypatch.setenv("CALCULATICE_KEY", "une-clé-de-test-assez-longue")
    path = _broken_csv(tmp_path)

    result = runner.invoke(
        main, ["anonymise", "--input", str(path), "--output", str(tmp_path / "out.csv")]
    )

    assert result.exit_code == 1
    assert "ligne 4, colonne « outcome »" in result.output
    assert "Traceback" not in result.output
