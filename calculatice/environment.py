"""Where the bank and the database are, told to every process through the environment.

Voilà's kernels run in the folder of their notebook and inherit the server's
environment; absolute paths in these variables make them find the same bank
and the same database file as the command that started the server.
"""

from __future__ import annotations

import os
from pathlib import Path

from calculatice.catalogue import default_bank_folder

BANK_VARIABLE = "CALCULATICE_BANK"
DB_VARIABLE = "CALCULATICE_DB_URL"


def configure_environment(bank_folder: Path | None = None, db_url: str | None = None) -> None:
    """Set the bank folder and the database URL, as absolute locations, for child processes."""
    folder = Path(bank_folder) if bank_folder is not None else default_bank_folder()
    os.environ[BANK_VARIABLE] = str(folder.resolve())
    if db_url:
        os.environ[DB_VARIABLE] = db_url
    elif not os.environ.get(DB_VARIABLE):
        os.environ[DB_VARIABLE] = f"sqlite:///{(Path.cwd() / 'calculatice.sqlite').resolve()}"
