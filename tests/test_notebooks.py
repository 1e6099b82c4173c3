"""The designers' notebooks and the teacher page run from top to bottom under nbval.

nbval runs in its own pytest process so that each notebook's kernel gets a
copy of the bank and an empty database through the environment, as Voilà's
kernels do, and never touches the project's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [PROJECT / "notebooks", PROJECT / "dashboards" / "enseignant.ipynb"]


def test_notebooks_run_without_error_under_nbval(tmp_path: Path, bank_copy: Path):
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        **os.environ,
        "CALCULATICE_BANK": str(bank_copy),
        "CALCULATICE_DB_URL": f"sqlite:///{tmp_path / 'notebooks.sqlite'}",
        "HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q"]
    completed = subprocess.run(
        [*command, *(str(path) for path in NOTEBOOKS)],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    summary = completed.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, summary
