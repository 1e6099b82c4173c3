"""The tidy answer table: one row per answer given, read from the store or a file.

Every analysis starts from this table (participant × exercise × question ×
attempt). It is built from the store by one SQL query joining answers,
attempts, séances, pupils, classes and schools, and it travels as CSV or
Parquet. :class:`AnswerSchema` describes it; a file that does not follow it is
refused with the line, the column and the reason (:class:`TableError`).

Outcomes widen the store's: a ``timeout`` whose ``response_ms`` is empty was
never shown (the exercise's timer ended first) and becomes ``not_reached``,
which counts 0 in a score but is missing, not wrong, for item difficulty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from sqlalchemy import func, select

from calculatice.analytics.constants import CSV_NULL, OUTCOMES
from calculatice.analytics.errors import TableError
from calculatice.store.models import (
    LEVELS,
    SECTORS,
    Answer,
    Attempt,
    Classroom,
    Pupil,
    School,
    Seance,
)

logger = logging.getLogger(__name__)

COLUMNS = (
    "rally",
    "level",
    "round",
    "exercise_id",
    "engine",
    "question_index",
    "question_shown",
    "expected",
    "typed",
    "read_as",
    "outcome",
    "attempt_number",
    "response_ms",
    "answered_at",
    "participant_id",
    "class_id",
    "school_id",
    "district",
    "sector",
)
"""The columns of the tidy table, in order."""

CHUNK_ROWS = 200_000
"""How many answers are read from the store at a time (bounds memory on a rally)."""


class AnswerSchema(pa.DataFrameModel):
    """The tidy answer table's columns, types and allowed values."""

    rally: str = pa.Field(description="Rallye ou contexte (code de séance sinon).")
    level: str = pa.Field(isin=LEVELS)
    round: str = pa.Field(description="Manche ou séance.")
    exercise_id: str = pa.Field(str_length={"min_value": 1})
    engine: str
    question_index: int = pa.Field(ge=0)
    question_shown: str
    expected: str
    typed: str = pa.Field(nullable=True)
    read_as: str = pa.Field(nullable=True)
    outcome: str = pa.Field(isin=OUTCOMES)
    attempt_number: int = pa.Field(ge=0)
    response_ms: pd.Int64Dtype = pa.Field(ge=0, nullable=True)
    answered_at: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})
    participant_id: str = pa.Field(str_length={"min_value": 1})
    class_id: str = pa.Field(str_length={"min_value": 1})
    school_id: str = pa.Field(str_length={"min_value": 1})
    district: str
    sector: str = pa.Field(isin=SECTORS)

    class Config:
        coerce = True
        strict = True
        ordered = True


def empty_table() -> pd.DataFrame:
    """A tidy table with no rows, every column typed."""
    return validate(pd.DataFrame({column: [] for column in COLUMNS}), "table vide")


def answers_query():
    """The SQL select of the tidy table's columns, one row per stored answer."""
    return (
        select(
            func.coalesce(Attempt.context, Seance.code, "").label("rally"),
            Classroom.level.label("level"),
            func.coalesce(Seance.code, "").label("round"),
            Attempt.exercise_id,
            Answer.question_index,
            Answer.question_shown,
            Answer.expected,
            Answer.typed,
            Answer.read_as,
            Answer.outcome,
            Answer.attempt_number,
            Answer.response_ms,
            Answer.answered_at,
            Pupil.id.label("participant_id"),
            Classroom.id.label("class_id"),
            School.id.label("school_id"),
            School.district,
            School.sector,
        )
        .join(Attempt, Answer.attempt_id == Attempt.id)
        .join(Pupil, Attempt.pupil_id == Pupil.id)
        .join(Classroom, Pupil.classroom_id == Classroom.id)
        .join(School, Classroom.school_id == School.id)
        .outerjoin(Seance, Attempt.seance_id == Seance.id)
        .order_by(Answer.id)
    )


def read_store(store, *, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Build the tidy table from a results store (every answer, names left out).

    Parameters
    ----------
    store
        An open :class:`~calculatice.store.Store`.
    chunk_rows
        Answers read at a time; each chunk is typed before the next is read.

    Returns
    -------
    pandas.DataFrame
        The validated tidy table; ids are the store's, not yet pseudonymised.
    """
    engines = _engines_by_exercise()
    chunks = list(_store_chunks(store, chunk_rows, engines))
    if not chunks:
        return empty_table()
    table = pd.concat(chunks, ignore_index=True)
    logger.info("read %d answers from the store", len(table))
    return table


def _store_chunks(store, chunk_rows: int, engines: dict[str, str]) -> Iterator[pd.DataFrame]:
    with store.engine.connect() as connection:
        for chunk in pd.read_sql(answers_query(), connection, chunksize=chunk_rows):
            yield validate(_from_store(chunk, engines), "la base de résultats")


def _from_store(chunk: pd.DataFrame, engines: dict[str, str]) -> pd.DataFrame:
    """Shape one chunk of the store's rows into the tidy table."""
    chunk = chunk.copy()
    chunk["engine"] = chunk["exercise_id"].map(engines).fillna("")
    for column in ("participant_id", "class_id", "school_id"):
        chunk[column] = chunk[column].astype("int64").astype(str)
    chunk["answered_at"] = pd.to_datetime(chunk["answered_at"], utc=True)
    chunk["response_ms"] = chunk["response_ms"].astype("Int64")
    chunk["outcome"] = mark_not_reached(chunk["outcome"], chunk["response_ms"])
    return chunk[list(COLUMNS)]


def mark_not_reached(outcome: pd.Series, response_ms: pd.Series) -> pd.Series:
    """The outcomes with every time-out that has no response time made ``not_reached``."""
    never_shown = (outcome == "timeout") & response_ms.isna()
    return outcome.where(~never_shown, "not_reached")


def _engines_by_exercise() -> dict[str, str]:
    """The engine of each exercise of the bank; answers to unknown exercises get ``""``."""
    from calculatice.catalogue import load_bank

    bank = load_bank()
    return {exercise_id: exercise.engine for exercise_id, exercise in bank.exercises.items()}


def validate(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a table against :class:`AnswerSchema` and type its columns.

    Parameters
    ----------
    table
        The candidate table.
    source
        What the table came from, for the message (a file name).

    Raises
    ------
    TableError
        Listing each problem with its line, column and reason, in French.
    """
    try:
        return AnswerSchema.validate(table, lazy=True)
    except SchemaErrors as errors:
        raise TableError(source, _problems(errors.failure_cases, source)) from None


def _problems(failures: pd.DataFrame, source: str) -> list[tuple[int | None, str, str]]:
    # A CSV file's first line is its header, so data row i is line i + 2.
    first_line = 2 if source.lower().endswith(".csv") else 1
    uncoercible = {
        str(failure.column)
        for failure in failures.itertuples(index=False)
        if str(failure.check).startswith("coerce_dtype")
    }
    problems: dict[tuple[int | None, str, str], None] = {}
    for failure in failures.itertuples(index=False):
        row = None if pd.isna(failure.index) else int(failure.index) + first_line
        column = str(failure.column) if failure.column is not None else "(table)"
        if failure.check in ("column_in_dataframe", "column_in_schema"):
            column = str(failure.failure_case)
        if row is None and column in uncoercible:
            # The column's value checks could not run on text; its bad lines are listed.
            continue
        problems[(row, column, _reason(str(failure.check), failure.failure_case))] = None
    return sorted(problems, key=lambda problem: (problem[0] is not None, problem[0] or 0))


def _reason(check: str, value: object) -> str:
    """A French reason for one pandera check that failed."""
    shown = "vide" if value is None or (isinstance(value, float) and pd.isna(value)) else value
    if check == "column_in_dataframe":
        return f"colonne absente (attendue{_NNBSP}: {', '.join(COLUMNS)})"
    if check == "column_in_schema":
        return "colonne inconnue de la table de réponses"
    if check == "column_ordered":
        return "colonnes dans le désordre (ordre attendu : " + ", ".join(COLUMNS) + ")"
    if check == "not_nullable":
        return "valeur manquante"
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return f"« {shown} » n'est pas du type attendu ({_type_name(check)})"
    if check.startswith("isin"):
        return f"« {shown} » n'est pas une valeur permise"
    if check.startswith("greater_than_or_equal_to"):
        return f"« {shown} » est négatif"
    if check.startswith("str_length"):
        return "texte vide"
    return f"« {shown} » ne respecte pas la règle {check}"


_NNBSP = "\u202f"


def _type_name(check: str) -> str:
    if "int" in check.lower():
        return "nombre entier"
    if "datetime" in check.lower():
        return "date et heure ISO 8601"
    return "texte"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a tidy table from a CSV or Parquet file, refusing one that is malformed.

    Raises
    ------
    TableError
        When the file cannot be read, or a value breaks the schema (line, column, reason).
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[CSV_NULL])
    except FileNotFoundError:
        raise TableError(path.name, [(None, "(fichier)", "fichier introuvable")]) from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        reason = f"fichier illisible ({error})"
        raise TableError(path.name, [(None, "(fichier)", reason)]) from None
    if path.suffix.lower() != ".parquet":
        table = _typed_csv_columns(table)
    return validate(table, path.name)


def _typed_csv_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Give CSV text the types the schema coerces to; text columns keep empty as missing."""
    table = table.copy()
    # An empty field is a missing number or date; only text keeps "" apart from missing.
    for column in ("question_index", "attempt_number", "response_ms", "answered_at"):
        if column in table:
            table[column] = table[column].replace("", None)
    for column in ("question_shown", "expected", "engine", "district", "round", "rally"):
        if column in table:
            table[column] = table[column].fillna("")
    if "answered_at" in table:
        # Unparseable dates stay as text so that the schema names their line.
        parsed = pd.to_datetime(table["answered_at"], utc=True, errors="coerce", format="ISO8601")
        if parsed.notna().eq(table["answered_at"].notna()).all():
            table["answered_at"] = parsed
    return table


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a tidy table as Parquet (``.parquet``) or CSV (any other suffix), validated first."""
    path = Path(path)
    table = validate(table, path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False, na_rep=CSV_NULL, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    logger.info("wrote %d answers to %s", len(table), path)
    return path
