"""One HTML report per district (or level): the report notebook run by papermill, then exported.

Each report is the notebook ``notebooks/rapport.ipynb`` executed with its
``parameters`` cell replaced (papermill), exported by nbconvert without
input cells, and wrapped in a page of our own: plotly.js is inline and no
script comes from elsewhere, so the file opens offline and sends the
reader's browser nowhere.
"""

from __future__ import annotations

import logging
import re
import tempfile
import unicodedata
from pathlib import Path

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from nbconvert import HTMLExporter
from tqdm import tqdm
from traitlets import default

from calculatice.analytics.aggregates import Selection, choices, load_answers, select
from calculatice.errors import CalculaticeError

logger = logging.getLogger(__name__)

REPORT_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "rapport.ipynb"
"""The report notebook; its cell tagged ``parameters`` names what papermill replaces."""

REPORT_BY = ("district", "level")
"""What one report may be about."""

KERNEL = "python3"
"""The kernel that runs the report notebook (this Python's ipykernel)."""


class LocalKernelManager(AsyncKernelManager):
    """The report's kernel, reached over Unix sockets in its own folder rather than TCP.

    Nothing on the machine's network can talk to it, and the kernel has no
    reason to warn, on the inspector's terminal, that its TCP ports are
    unencrypted.
    """

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"


_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 1em auto;
       padding: 0 1em; color: #222; }}
.anchor-link {{ display: none; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def report_file_name(value: str) -> str:
    """The HTML file name of one report: ``rapport-circonscription-01.html``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "rapport"
    return f"rapport-{slug}.html"


def run_reports(
    input_path: Path,
    rally: str | None,
    by: str,
    output_dir: Path,
    *,
    notebook: Path = REPORT_NOTEBOOK,
    progress: bool = True,
) -> list[Path]:
    """Run the report notebook once per value of ``by`` and write each as HTML.

    Parameters
    ----------
    input_path
        The anonymised answer table (Parquet or CSV).
    rally
        The rally reported on; ``None`` for every rally in the table.
    by
        ``"district"`` or ``"level"``: one report per value found in the table.
    output_dir
        Where the HTML files go (created if needed).

    Returns
    -------
    list of Path
        The HTML files written, one per value.

    Raises
    ------
    CalculaticeError
        When ``by`` is unknown, or the rally has no answers in the table.
    """
    if by not in REPORT_BY:
        raise CalculaticeError(f"« {by} » inconnu : choisir parmi {', '.join(REPORT_BY)}.")
    answers = load_answers(input_path)
    values = choices(select(answers, Selection(rally=rally)), by)
    if not values:
        raise CalculaticeError(f"Aucune réponse du rallye « {rally} » dans {input_path.name}.")
    del answers
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for value in tqdm(values, desc="Rapports", unit=" rapport", disable=not progress):
        parameters = {"answers_path": str(input_path.resolve()), "rally": rally, by: value}
        target = output_dir / report_file_name(value)
        target.write_text(_report_page(notebook, parameters, value), encoding="utf-8")
        logger.info("wrote the report of %s %s to %s", by, value, target)
        written.append(target)
    return written


def _report_page(notebook: Path, parameters: dict, title: str) -> str:
    executed = _execute(notebook, parameters)
    return _PAGE.format(title=f"Rapport du rallye · {title}", body=_export_body(executed))


def _execute(notebook: Path, parameters: dict) -> nbformat.NotebookNode:
    with tempfile.TemporaryDirectory(prefix="calculatice-rapport-") as folder:
        output = Path(folder) / "rapport.ipynb"
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            cwd=folder,
            kernel_manager_class=LocalKernelManager,
        )
        return nbformat.read(output, as_version=4)


def _export_body(executed: nbformat.NotebookNode) -> str:
    # The "basic" template is the cells only: the full ones ask CDNs for require.js and MathJax.
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _resources = exporter.from_notebook_node(executed)
    return body
