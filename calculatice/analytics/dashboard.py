"""The inspector's page and report: tables as French HTML, figures in one widget.

The page reads the anonymised table only (:data:`ANONYMISED_VARIABLE`, by
default the project's sample) and shows aggregates only
(:func:`.aggregates.dashboard_tables`). ``calculatice serve`` loads no plotly
front-end extension (pupils' pages would pay for it), so the figures are drawn
by :class:`FigureBoard`, an anywidget that carries plotly.js once per page and
draws every figure with it.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
from pathlib import Path

import anywidget
import ipywidgets as widgets
import pandas as pd
import plotly
import plotly.io as pio
import traitlets

from calculatice.analytics.aggregates import (
    DashboardTables,
    Selection,
    choices,
    dashboard_tables,
    load_answers,
)
from calculatice.analytics.figures import dashboard_figures, figure_html
from calculatice.analytics.mistakes import CATEGORIES
from calculatice.analytics.privacy import MIN_PUPILS
from calculatice.errors import CalculaticeError

logger = logging.getLogger(__name__)

ANONYMISED_VARIABLE = "CALCULATICE_ANONYMISED"
"""The environment variable naming the anonymised answer table (Parquet or CSV)."""

SAMPLE_TABLE = Path(__file__).resolve().parents[2] / "data" / "sample_answers.csv"
"""The anonymised sample shipped with the project, read when the variable is not set."""

ALL = "Tous"
"""The dropdown entry that keeps every value."""

HIDDEN = "masqué"
"""What a hidden cell shows."""

_NNBSP = "\u202f"
_PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
_RENDER_JS = """
export default {
  render({ model, el }) {
    const draw = () => {
      el.replaceChildren();
      for (const figure of model.get("figures")) {
        const box = document.createElement("div");
        box.className = "calculatice-figure";
        el.appendChild(box);
        window.Plotly.newPlot(box, figure.data, figure.layout,
          { displaylogo: false, responsive: true });
      }
    };
    draw();
    model.on("change:figures", draw);
    return () => model.off("change:figures", draw);
  },
};
"""


class FigureBoard(anywidget.AnyWidget):
    """Plotly figures drawn in the page by plotly.js, sent once with the widget's module.

    ``figures`` holds each figure's JSON (``data`` and ``layout``); replacing
    it redraws them all.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    figures = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, **kwargs) -> None:
        # plotly.min.js sets window.Plotly when it runs, also as the start of a module.
        module = _PLOTLY_JS.read_text(encoding="utf-8") + "\n" + _RENDER_JS
        super().__init__(_esm=module, **kwargs)

    def show(self, figures) -> None:
        """Replace the figures drawn by these plotly figures."""
        # Through plotly's JSON encoder, so that numpy values become plain JSON.
        self.figures = [json.loads(pio.to_json(figure, validate=False)) for figure in figures]


def anonymised_path() -> Path:
    """The anonymised table the page reads: :data:`ANONYMISED_VARIABLE`, else the sample."""
    return Path(os.environ.get(ANONYMISED_VARIABLE) or SAMPLE_TABLE)


def french_number(value: float, decimals: int = 0, percent: bool = False) -> str:
    """A number written the French way (``12 345,6``; ``84,5 %``); a hidden one as ``masqué``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return HIDDEN
    if percent:
        value = value * 100
    text = f"{value:,.{decimals}f}".replace(",", _NNBSP).replace(".", ",")
    return f"{text}{_NNBSP}%" if percent else text


def table_html(frame: pd.DataFrame, formats: dict[str, tuple[int, bool]], caption: str) -> str:
    """A small HTML table with French numbers; ``formats`` gives (decimals, percent) per column."""
    header = "".join(f"<th>{html.escape(str(name))}</th>" for name in formats)
    rows = []
    for label, row in frame.iterrows():
        cells = "".join(
            f"<td>{french_number(row[column], *formats[column])}</td>"
            for column in formats
            if column in row
        )
        rows.append(f"<tr><th>{html.escape(str(label))}</th>{cells}</tr>")
    return (
        f'<table class="calculatice-table"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr><th></th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def summary_html(tables: DashboardTables) -> str:
    """The selection's headline figures, or why they are hidden."""
    row = tables.summary.iloc[0]
    if math.isnan(row["participants"]):
        return (
            f"<p><b>{html.escape(tables.selection.title())}</b>{_NNBSP}: moins de "
            f"{MIN_PUPILS} participants, rien n'est publié.</p>"
        )
    return (
        f"<p><b>{html.escape(tables.selection.title())}</b>{_NNBSP}: "
        f"{french_number(row['participants'])} participants (élèves ou binômes), "
        f"{french_number(row['classes'])} classes, {french_number(row['schools'])} écoles, "
        f"{french_number(row['answers'])} réponses{_NNBSP}; "
        f"réussite {french_number(row['success'], 1, percent=True)}.</p>"
    )


def tables_html(tables: DashboardTables) -> str:
    """The page's tables: participation, scores, speed, errors (hidden cells say ``masqué``)."""
    participation = tables.participation
    level_columns = {str(column): (0, False) for column in participation.columns}
    scores = tables.scores.rename(
        columns={"participants": "participants", "median": "médiane", "mean": "moyenne"}
    )
    speed = tables.speed.rename(
        columns={"median_seconds": "temps médian (s)", "speed_accuracy": "vitesse-exactitude"}
    )
    errors = tables.errors.rename(columns=CATEGORIES)
    error_columns = {str(column): (0, False) for column in errors.columns}
    parts = [
        summary_html(tables),
        table_html(
            participation.rename(columns=str), level_columns, "Participants par circonscription"
        ),
        table_html(
            scores,
            {
                "participants": (0, False),
                "q1": (0, True),
                "médiane": (0, True),
                "q3": (0, True),
                "moyenne": (1, True),
            },
            "Réussite par niveau (quartiles)",
        ),
        table_html(
            speed,
            {
                "participants": (0, False),
                "temps médian (s)": (1, False),
                "vitesse-exactitude": (2, False),
            },
            "Vitesse par exercice",
        ),
        table_html(errors, error_columns, "Réponses fausses par catégorie d'erreur"),
        f"<p class='calculatice-note'>Une case sur moins de {MIN_PUPILS} participants est "
        "masquée, ainsi que les cases qui permettraient de la retrouver par les totaux. "
        "Les classes sont comparées par un entonnoir, jamais classées.</p>",
    ]
    return "\n".join(parts)


_STYLE = """
<style>
.calculatice-table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
.calculatice-table caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
.calculatice-table th, .calculatice-table td { border: 1px solid #ccc; padding: 0.2em 0.6em; }
.calculatice-table td { text-align: right; }
.calculatice-note { color: #555; font-size: 0.9em; }
</style>
"""


def report_html(tables: DashboardTables) -> str:
    """Tables and figures as one HTML fragment with plotly.js inline (for an offline report)."""
    figures = list(dashboard_figures(tables).values())
    fragments = [
        figure_html(figure, include_plotlyjs=number == 0) for number, figure in enumerate(figures)
    ]
    return _STYLE + tables_html(tables) + "\n".join(fragments)


class InspectionPage:
    """The inspector's page: rally, level and district dropdowns, then tables and figures."""

    def __init__(self, answers: pd.DataFrame) -> None:
        self.answers = answers
        self.rally = self._dropdown("Rallye", "rally")
        self.level = self._dropdown("Niveau", "level")
        self.district = self._dropdown("Circonscription", "district")
        self.message = widgets.HTML()
        self.tables = widgets.HTML()
        self.board = FigureBoard()
        controls = widgets.HBox([self.rally, self.level, self.district])
        self.widget = widgets.VBox(
            [
                widgets.HTML(_STYLE),
                controls,
                self.message,
                self.tables,
                self.board,
            ]
        )
        for dropdown in (self.rally, self.level, self.district):
            dropdown.observe(self._on_change, names="value")
        self.refresh()

    def _dropdown(self, label: str, column: str) -> widgets.Dropdown:
        values = choices(self.answers, column)
        # One rally: choose it; several: all of them until the inspector picks one.
        options = values if column == "rally" and len(values) == 1 else [ALL, *values]
        return widgets.Dropdown(description=label, options=options, value=options[0])

    def selection(self) -> Selection:
        """The rally, level and district chosen."""
        return Selection(
            *(
                None if dropdown.value == ALL else dropdown.value
                for dropdown in (self.rally, self.level, self.district)
            )
        )

    def refresh(self) -> None:
        """Recompute the tables and figures of the current selection."""
        self.message.value = "<p><i>Calcul en cours…</i></p>"
        try:
            tables = dashboard_tables(self.answers, self.selection())
            self.tables.value = tables_html(tables)
            self.board.show(dashboard_figures(tables).values())
            self.message.value = ""
        except Exception:
            # A callback's exception is invisible on the page: log it, say so in French.
            logger.exception("inspection page failed for %s", self.selection())
            self.message.value = (
                "<p>Impossible de calculer cette sélection. Voir le journal du serveur.</p>"
            )

    def _on_change(self, _change) -> None:
        self.refresh()


def inspection_page(path: str | Path | None = None) -> widgets.Widget:
    """The inspector's page on the anonymised table at ``path`` (default: :func:`anonymised_path`).

    A table that cannot be read gives a French message on the page, no traceback.
    """
    path = Path(path) if path is not None else anonymised_path()
    try:
        answers = load_answers(path)
    except CalculaticeError as error:
        logger.warning("inspection page cannot read %s: %s", path, error)
        return widgets.HTML(f"<p>{html.escape(str(error))}</p>".replace("\n", "<br>"))
    return InspectionPage(answers).widget


def report_for(
    path: str | Path | None = None,
    *,
    rally: str | None = None,
    district: str | None = None,
    level: str | None = None,
) -> str:
    """The report of one selection as HTML (tables, figures, plotly.js inline).

    ``path`` is the anonymised table; empty or ``None`` means :func:`anonymised_path`.
    """
    answers = load_answers(Path(path) if path else anonymised_path())
    return report_html(dashboard_tables(answers, Selection(rally, level, district)))
