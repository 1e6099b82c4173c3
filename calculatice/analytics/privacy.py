"""Protecting pupils: keyed pseudonyms and small-cell suppression.

Pseudonyms are HMAC-SHA-256 of an id under a secret key kept outside the
repository: a plain hash of a school code or a pupil number is reversed by
hashing every possible value, a keyed one is not without the key. The key
comes from the environment variable :data:`KEY_VARIABLE` or a key file.

Published tables hide every cell about fewer than :data:`MIN_PUPILS` pupils,
and enough other cells (complementary suppression) that no hidden value can
be worked out from the row and column totals.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from calculatice.analytics.errors import MissingKeyError

logger = logging.getLogger(__name__)

KEY_VARIABLE = "CALCULATICE_KEY"
"""The environment variable that may hold the pseudonymisation key."""

MIN_PUPILS = 10
"""No published cell may be about fewer pupils than this."""

PSEUDONYM_LENGTH = 20
"""Hex digits kept of each HMAC: 80 bits, no collision in a department's lifetime."""

PSEUDONYMISED = {"participant_id": "participant", "class_id": "class", "school_id": "school"}
"""The id columns of the tidy table and the kind prefixed to each id before hashing."""


def new_key(path: str | Path) -> Path:
    """Write a new random key (256 bits, hex) to ``path``, readable by its owner only.

    Raises
    ------
    FileExistsError
        When ``path`` exists: replacing a key changes every pseudonym.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key; the mode is set at creation, never world-readable.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(secrets.token_hex(32) + "\n")
    logger.info("wrote a new pseudonymisation key to %s", path)
    return path


def load_key(key_file: str | Path | None = None) -> bytes:
    """The pseudonymisation key: from ``key_file`` if given, else from :data:`KEY_VARIABLE`.

    Raises
    ------
    MissingKeyError
        When there is no key, or it is empty or shorter than 16 characters.
    """
    if key_file is not None:
        try:
            text = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise MissingKeyError(
                f"Impossible de lire la clé {key_file}\u202f: {error.strerror}."
            ) from None
    else:
        text = os.environ.get(KEY_VARIABLE, "").strip()
    if not text:
        raise MissingKeyError(
            "Aucune clé de pseudonymisation\u202f: définissez la variable "
            f"{KEY_VARIABLE} ou donnez --key-file (créer une clé\u202f: "
            "« calculatice key new FICHIER »)."
        )
    if len(text) < 16:
        raise MissingKeyError(
            "La clé de pseudonymisation est trop courte (16 caractères au moins)."
        )
    return text.encode("utf-8")


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """The keyed pseudonym of one id: HMAC-SHA-256 of ``kind:value``, in hex, shortened.

    The kind keeps a class and a school with the same store id apart.
    """
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]


def anonymise(table: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """The tidy table with participant, class and school ids replaced by their pseudonyms.

    District, level and sector are kept; the tidy table carries no names. Each
    distinct id is hashed once, so a rally's millions of rows cost only as
    many HMACs as there are pupils.
    """
    anonymised = table.copy()
    for column, kind in PSEUDONYMISED.items():
        codes, uniques = pd.factorize(anonymised[column])
        hashed = np.array([pseudonym(key, kind, str(value)) for value in uniques], dtype=object)
        anonymised[column] = pd.Series(hashed[codes], index=anonymised.index, dtype="str")
    return anonymised


def suppress_small_cells(counts: pd.DataFrame, minimum: int = MIN_PUPILS) -> pd.DataFrame:
    """Which cells of a table with margins must be hidden, primary and complementary.

    ``counts`` holds the number of pupils of each cell. Its margins (a total
    row and a total column) are added here and treated as cells, so that a
    total can be hidden too when it alone would give a cell away.

    The rule: hide every cell about fewer than ``minimum`` pupils; then, as
    long as a line (row or column, totals included) has exactly one hidden
    cell, hide the smallest visible cell of that line too; finally, as long as
    a hidden cell can still be solved from the additive equations (checked by
    linear algebra), hide the smallest visible cell of one of its lines.

    Parameters
    ----------
    counts
        Pupils per cell, rows × columns, without margins.
    minimum
        The least number of pupils a published cell may be about.

    Returns
    -------
    pandas.DataFrame
        Booleans, ``True`` for a hidden cell, with a ``Total`` row and column.
    """
    grid = with_margins(counts).to_numpy(dtype=float)
    hidden = grid < minimum
    while True:
        changed = _hide_lone_cells(grid, hidden)
        if not changed:
            changed = _hide_for_recoverable(grid, hidden)
        if not changed:
            break
    labels = with_margins(counts)
    return pd.DataFrame(hidden, index=labels.index, columns=labels.columns)


def with_margins(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``Total`` column (row sums) and a ``Total`` row (column sums)."""
    margins = table.copy()
    margins["Total"] = margins.sum(axis=1)
    margins.loc["Total"] = margins.sum(axis=0)
    return margins


def _hide_lone_cells(grid: np.ndarray, hidden: np.ndarray) -> bool:
    changed = False
    for lines, values in ((hidden, grid), (hidden.T, grid.T)):
        for line, line_values in zip(lines, values, strict=True):
            if line.sum() == 1 and _hide_smallest_visible(line, line_values):
                changed = True
    return changed


def _hide_smallest_visible(line: np.ndarray, values: np.ndarray) -> bool:
    """Hide the smallest visible cell of one line (a view into the mask); False if none."""
    visible = np.flatnonzero(~line)
    if visible.size == 0:
        return False
    line[visible[np.argmin(values[visible])]] = True
    return True


def _hide_for_recoverable(grid: np.ndarray, hidden: np.ndarray) -> bool:
    recoverable = recoverable_cells(hidden)
    if not recoverable:
        return False
    row, column = recoverable[0]
    if _hide_smallest_visible(hidden[row], grid[row]):
        return True
    return _hide_smallest_visible(hidden[:, column], grid[:, column])


def recoverable_cells(hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells of a table with margins that the published cells determine exactly.

    Each row and each column of the table with margins gives one equation:
    its cells, but the last, add up to the last. Unknowns are the hidden
    cells; a hidden cell is determined exactly when its unit vector lies in
    the row space of the equations restricted to the unknowns.
    """
    unknowns = [tuple(cell) for cell in np.argwhere(hidden)]
    if not unknowns:
        return []
    position = {cell: number for number, cell in enumerate(unknowns)}
    rows, columns = hidden.shape
    equations = []
    for row in range(rows):
        equations.append(_equation([(row, c) for c in range(columns)], position, len(unknowns)))
    for column in range(columns):
        equations.append(_equation([(r, column) for r in range(rows)], position, len(unknowns)))
    system = np.array(equations)
    rank = np.linalg.matrix_rank(system)
    recoverable = []
    for cell, number in position.items():
        unit = np.zeros(len(unknowns))
        unit[number] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
            recoverable.append((int(cell[0]), int(cell[1])))
    return recoverable


def _equation(cells: list[tuple[int, int]], position: dict, size: int) -> np.ndarray:
    """One line's equation: the cells add up to the last one (the margin)."""
    coefficients = np.zeros(size)
    for cell in cells[:-1]:
        if cell in position:
            coefficients[position[cell]] += 1.0
    if cells[-1] in position:
        coefficients[position[cells[-1]]] -= 1.0
    return coefficients


def publish(values: pd.DataFrame, hidden: pd.DataFrame) -> pd.DataFrame:
    """The values with every hidden cell blanked (``NaN``); both frames have the same labels."""
    return values.astype(float).mask(hidden.reindex_like(values).fillna(True).astype(bool))
