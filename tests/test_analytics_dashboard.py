"""The inspector's tables and figures: aggregates only, small cells hidden, French figures.

Also the report notebook (papermill ``parameters`` tag, one offline HTML file
per district) and the dashboard notebook run headless.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from calculatice.analytics import reports
from calculatice.analytics.aggregates import (
    Selection,
    dashboard_tables,
    load_answers,
    select,
)
from calculatice.analytics.dashboard import french_number, inspection_page, report_html
from calculatice.analytics.figures import SEPARATORS, dashboard_figures
from calculatice.analytics.privacy import MIN_PUPILS
from calculatice.analytics.simulate import RallyShape, simulate
from calculatice.analytics.tidy import write_table
from calculatice.cli import main
from calculatice.scoring import speed_accuracy_score

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "data" / "sample_answers.csv"
ID_COLUMNS = ("participant_id", "class_id", "school_id")


@pytest.fixture(scope="module")
def rally_file(tmp_path_factory) -> Path:
    """A simulated rally of 12 pairs per class, written as Parquet."""
    table = simulate(RallyShape(districts=2, schools=2, classes=2, pairs=12, exercises=2))
    return write_table(table, tmp_path_factory.mktemp("rally") / "answers.parquet")


@pytest.fixture(scope="module")
def rally_answers(rally_file: Path) -> pd.DataFrame:
    return load_answers(rally_file)


@pytest.fixture(scope="module")
def sample_ids() -> set[str]:
    table = pd.read_csv(SAMPLE, dtype=str)
    return {value for column in ID_COLUMNS for value in table[column].unique()}


def test_csv_and_parquet_give_the_same_tables(rally_file: Path, rally_answers, tmp_path: Path):
    csv = write_table(pd.read_parquet(rally_file), tmp_path / "answers.csv")

    from_csv = dashboard_tables(load_answers(csv))
    from_parquet = dashboard_tables(rally_answers)

    pd.testing.assert_frame_equal(from_csv.participation, from_parquet.participation)
    pd.testing.assert_frame_equal(from_csv.speed, from_parquet.speed)
    pd.testing.assert_frame_equal(from_csv.errors, from_parquet.errors)
    assert load_answers(csv)["read_as"].isna().sum() == rally_answers["read_as"].isna().sum()


def test_tables_agree_with_the_row_by_row_reports(rally_file: Path, rally_answers):
    tidy = pd.read_parquet(rally_file)

    tables = dashboard_tables(rally_answers)

    expected_speed = reports.speed(tidy).sort_index()
    speed = tables.speed.sort_index()
    assert np.allclose(speed["median_seconds"], expected_speed["median_seconds"])
    assert np.allclose(speed["speed_accuracy"], expected_speed["speed_accuracy"])
    expected_errors = reports.error_categories(tidy)
    assert tables.errors.loc["Total", "Total"] == expected_errors.to_numpy().sum()
    expected_funnel = reports.class_funnel(tidy)
    assert sorted(tables.funnel["success"].round(12)) == sorted(
        expected_funnel["success"].round(12)
    )
    assert tables.summary.loc[0, "participants"] == tidy["participant_id"].nunique()


def test_speed_score_is_math_gardens_on_every_answer():
    assert speed_accuracy_score(True, 5.0, 20.0) == pytest.approx(0.75)
    frame = pd.DataFrame(
        {
            "exercise_id": ["e"] * 12,
            "participant_id": [f"p{n}" for n in range(12)],
            "outcome": ["right"] * 6 + ["wrong"] * 6,
            "response_ms": [5000.0] * 11 + [25000.0],
        }
    )
    from calculatice.analytics.aggregates import speed

    table = speed(frame.astype({"exercise_id": "category", "participant_id": "category"}))

    # Six right in 5 s (0.75 each), five wrong in 5 s (−0.75), one past the limit (0).
    assert table.loc["e", "speed_accuracy"] == pytest.approx(0.75 * 6 / 12 - 0.75 * 5 / 12)
    assert table.loc["e", "participants"] == 12


def test_no_published_cell_is_about_fewer_than_ten_participants():
    tables = dashboard_tables(load_answers(SAMPLE))

    published = tables.participation.to_numpy()
    assert np.isnan(published).any()
    assert (published[~np.isnan(published)] >= MIN_PUPILS).all()
    assert (tables.scores["participants"] >= MIN_PUPILS).all()
    assert (tables.items["participants"] >= MIN_PUPILS).all()
    assert (tables.speed["participants"] >= MIN_PUPILS).all()
    # Every class of the sample has 8 pairs: the funnel shows none of them.
    assert tables.funnel.empty
    assert tables.hidden_classes == 8


def test_a_selection_under_ten_participants_publishes_nothing():
    answers = load_answers(SAMPLE)
    level = select(answers, Selection(level="CE1", district="Circonscription 01"))
    assert level["participant_id"].nunique() == 8

    tables = dashboard_tables(answers, Selection(level="CE1", district="Circonscription 01"))

    assert tables.summary.isna().all(axis=None)
    assert tables.scores.empty and tables.speed.empty and tables.items.empty


def test_figures_carry_aggregates_only_in_french_with_a_decimal_comma(
    rally_file: Path, rally_answers
):
    tidy = pd.read_parquet(rally_file)
    ids = {value for column in ID_COLUMNS for value in tidy[column].unique()}

    figures = dashboard_figures(dashboard_tables(rally_answers))

    assert list(figures) == ["scores", "items", "speed", "errors", "funnel"]
    for figure in figures.values():
        text = figure.to_json()
        assert figure.layout.separators == SEPARATORS == ", "
        assert not {identifier for identifier in ids if identifier in text}
    assert figures["funnel"].layout.title.text.startswith("Entonnoir des classes")
    assert figures["scores"].layout.yaxis.title.text == "Part des questions réussies"
    funnel_points = figures["funnel"].data[-1]
    assert len(funnel_points.x) == tidy["class_id"].nunique()
    # A funnel, not a league table: class points are not sorted by success.
    limits = [trace.name for trace in figures["funnel"].data if trace.mode == "lines"]
    assert "limites à 95 %" in limits and "limites à 99,8 %" in limits


def test_french_numbers_and_hidden_cells():
    assert french_number(12345.67, 1) == "12\u202f345,7"
    assert french_number(0.845, 1, percent=True) == "84,5\u202f%"
    assert french_number(float("nan")) == "masqué"


def test_report_html_embeds_plotly_once_and_no_pupil_id(sample_ids: set[str]):
    page = report_html(dashboard_tables(load_answers(SAMPLE)))

    assert page.count("window.Plotly") >= 1
    assert not re.search(r"<script[^>]+src=[\"']https?://", page)
    assert not {identifier for identifier in sample_ids if identifier in page}
    assert "masqué" in page


def test_report_notebook_has_a_tagged_parameters_cell():
    # Without the tag papermill only warns and the notebook's own values win.
    notebook = nbformat.read(PROJECT / "notebooks" / "rapport.ipynb", as_version=4)

    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]

    assert len(tagged) == 1
    assert "district = None" in tagged[0].source
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_report_command_writes_one_offline_html_file_per_district(
    tmp_path: Path, runner, sample_ids: set[str], jupyter_home: dict
):
    output = tmp_path / "rapports"

    result = runner.invoke(
        main,
        [
            "report",
            "--input",
            str(SAMPLE),
            "--rally",
            "rallye-simule",
            "--by",
            "district",
            "--output",
            str(output),
        ],
    )

    assert result.exit_code == 0, result.output
    files = sorted(path.name for path in output.iterdir())
    assert files == ["rapport-circonscription-01.html", "rapport-circonscription-02.html"]
    for path in output.iterdir():
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=[\"']?https?://", page)
        assert "window.Plotly" in page
        assert not {identifier for identifier in sample_ids if identifier in page}
        assert "32 participants" in page
        assert "import calculatice" not in page and "report_for(" not in page
    one = (output / "rapport-circonscription-01.html").read_text(encoding="utf-8")
    assert "Circonscription 01" in one and "Circonscription 02" not in one
    _assert_no_small_count_in_tables(one)


def _assert_no_small_count_in_tables(page: str) -> None:
    """Every participant count in the page's tables is hidden or at least the minimum."""
    for table in re.findall(r"<table class=\"calculatice-table\">.*?</table>", page, re.S):
        caption = re.search(r"<caption>(.*?)</caption>", table).group(1)
        if "Participants" not in caption and "Réussite" not in caption:
            continue
        header = re.findall(r"<th>(.*?)</th>", table.split("</thead>")[0])
        for row in re.findall(r"<tr><th>.*?</tr>", table.split("<tbody>")[1]):
            cells = re.findall(r"<td>(.*?)</td>", row)
            counted = cells if "Participants" in caption else cells[:1]
            for cell in counted:
                assert cell == "masqué" or int(cell.replace("\u202f", "")) >= MIN_PUPILS, (
                    caption,
                    header,
                    row,
                )


def test_report_command_refuses_an_unknown_rally_in_french(tmp_path: Path, runner):
    result = runner.invoke(
        main,
        ["report", "--input", str(SAMPLE), "--rally", "nulle-part", "--output", str(tmp_path)],
    )

    assert result.exit_code == 1
    assert "Aucune réponse du rallye « nulle-part »" in result.output
    assert "Traceback" not in result.output


def test_inspection_page_draws_five_figures_from_the_sample():
    page = inspection_page(SAMPLE)

    board = page.children[-1]
    assert len(board.figures) == 5
    assert "window.Plotly" in board._esm
    assert "64 participants" in page.children[-2].value


def test_inspection_page_reports_a_missing_file_in_french(tmp_path: Path):
    page = inspection_page(tmp_path / "absente.csv")

    assert "fichier introuvable" in page.value


@pytest.fixture
def jupyter_home(tmp_path: Path, monkeypatch) -> dict:
    """Jupyter's and IPython's folders in the test's own folder, not the home folder."""
    home = tmp_path / "home"
    folders = {
        "HOME": home,
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_CONFIG_DIR": home / "config",
        "IPYTHONDIR": home / "ipython",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    return folders


def test_dashboard_notebook_runs_headless_on_the_sample(jupyter_home: dict, monkeypatch):
    monkeypatch.setenv("CALCULATICE_ANONYMISED", str(SAMPLE))
    notebook = nbformat.read(PROJECT / "dashboards" / "inspection.ipynb", as_version=4)

    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(PROJECT)}},
    ).execute()

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    views = [
        output
        for output in outputs
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(views) == 1
    assert os.environ["CALCULATICE_ANONYMISED"] == str(SAMPLE)
    assert json.dumps(outputs).count("1e820d724b74121ea664") == 0
