"""Typical wrong answers to ``a op b``: how to make them, and how to sort them.

The categories follow the error studies of mental arithmetic (Campbell and
Graham 1985; Straatemeier 2014): another operation on the same operands, a
neighbouring table fact, a place-value slip (off by a power of ten, or ten
times too big or too small), off by one or two, the digits swapped, and the
operands written side by side. The first rule that matches wins, so one
answer has one category.
"""

from __future__ import annotations

import re
from fractions import Fraction

CATEGORIES = {
    "other_operation": "autre opération",
    "neighbour_fact": "fait voisin de la table",
    "place_value": "erreur de rang (retenue, ×10)",
    "off_by_one": "à un ou deux près",
    "digits_swapped": "chiffres inversés",
    "juxtaposed": "nombres accolés",
    "other": "autre erreur",
}
"""Each category of wrong answer and its French label, in the order the rules are tried."""

_OPERATIONS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "×": lambda a, b: a * b,
    "÷": lambda a, b: Fraction(a, b) if b else None,
}
_OPERATION = re.compile(r"^\s*(\d+)\s*([+\-−×x*÷:])\s*(\d+)\s*=")
_SYMBOLS = {"−": "-", "x": "×", "*": "×", ":": "÷"}


def operands(question_shown: str) -> tuple[int, str, int] | None:
    """``(a, op, b)`` when the question reads ``a op b = …``, else ``None``."""
    match = _OPERATION.match(question_shown.replace("\u00a0", "").replace("\u202f", ""))
    if match is None:
        return None
    symbol = _SYMBOLS.get(match.group(2), match.group(2))
    return int(match.group(1)), symbol, int(match.group(3))


def classify(question_shown: str, expected: Fraction | int, answer: Fraction | int) -> str:
    """The category of one wrong answer (a key of :data:`CATEGORIES`)."""
    parsed = operands(question_shown)
    if parsed is not None:
        a, op, b = parsed
        others = (function(a, b) for symbol, function in _OPERATIONS.items() if symbol != op)
        if answer in set(others):
            return "other_operation"
        if op == "×" and _is_neighbour_fact(a, b, answer):
            return "neighbour_fact"
        if str(answer) == f"{a}{b}":
            return "juxtaposed"
    if expected != 0 and answer != 0 and _is_place_value_slip(expected, answer):
        return "place_value"
    if abs(answer - expected) <= 2:
        return "off_by_one"
    if _digits_swapped(expected, answer):
        return "digits_swapped"
    return "other"


def _is_neighbour_fact(a: int, b: int, answer: Fraction | int) -> bool:
    return any(answer in ((a + step) * b, a * (b + step)) for step in (-2, -1, 1, 2))


def _is_place_value_slip(expected: Fraction | int, answer: Fraction | int) -> bool:
    ratio = Fraction(answer) / Fraction(expected)
    if ratio in (10, 100, Fraction(1, 10), Fraction(1, 100)):
        return True
    return abs(answer - expected) in (10, 100, 1000)


def _digits_swapped(expected: Fraction | int, answer: Fraction | int) -> bool:
    written, given = str(expected), str(answer)
    return len(written) > 1 and written != given and sorted(written) == sorted(given)


def typical_wrong_answers(question_shown: str, expected: Fraction | int) -> dict[str, int]:
    """One plausible wrong answer per category that applies, for the simulator.

    Every answer returned is positive, differs from ``expected`` and is
    sorted by :func:`classify` into the category it is listed under.
    """
    candidates: dict[str, Fraction | int | None] = {}
    parsed = operands(question_shown)
    if parsed is not None:
        a, op, b = parsed
        candidates["other_operation"] = _OPERATIONS["+" if op != "+" else "×"](a, b)
        if op == "×":
            candidates["neighbour_fact"] = (a + 1) * b
        candidates["juxtaposed"] = int(f"{a}{b}")
    candidates["place_value"] = expected + 10 if expected >= 10 else expected * 10
    candidates["off_by_one"] = expected + 1
    written = str(expected)
    if len(written) > 1 and written[::-1][0] != "0" and "/" not in written:
        candidates["digits_swapped"] = int(written[::-1])
    return {
        category: int(answer) if Fraction(answer).denominator == 1 else answer
        for category, answer in candidates.items()
        if answer is not None
        and answer != expected
        and answer > 0
        and classify(question_shown, expected, answer) == category
    }
