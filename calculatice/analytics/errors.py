"""Exceptions of the analytics: each message, in French, says what was wrong and where."""

from __future__ import annotations

from calculatice.errors import CalculaticeError


class TableError(CalculaticeError, ValueError):
    """An answer table (CSV or Parquet) does not follow the tidy schema.

    ``problems`` lists ``(row, column, reason)``: ``row`` is the line of the
    file (1 is the header of a CSV file) or ``None`` when the whole column is
    at fault; ``reason`` is in French.
    """

    def __init__(self, source: str, problems: list[tuple[int | None, str, str]]) -> None:
        self.source = source
        self.problems = problems
        shown = [_problem_text(row, column, reason) for row, column, reason in problems[:10]]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  - {text}" for text in shown)
        others = "autre problème" if more == 1 else "autres problèmes"
        tail = f"\n  … et {more} {others}." if more > 0 else ""
        super().__init__(f"{source} n'est pas une table de réponses valide\u202f:\n{lines}{tail}")


def _problem_text(row: int | None, column: str, reason: str) -> str:
    where = f"colonne « {column} »" if row is None else f"ligne {row}, colonne « {column} »"
    return f"{where}\u202f: {reason}"


class MissingKeyError(CalculaticeError):
    """No pseudonymisation key was given (neither the environment nor a key file)."""
