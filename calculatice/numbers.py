"""French numbers in and out, and calcul@TICE's number-set syntax.

Numbers are held as :class:`fractions.Fraction` everywhere in the engines: a
decimal such as 0,1 is then exact, and 3/4 is the same kind of value as 0,75.
Reading and writing the French way is Babel's job; this module only decides
what a pupil's typing may look like and what counts as unreadable.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

from calculatice.errors import NumberSetError

LOCALE = "fr_FR"

# Every space a keyboard, a phone or a copy-paste may produce between digit groups.
_SPACES = re.compile(r"[ \u00a0\u2007\u2009\u202f]+")
# Babel's French group separator.
_GROUP = "\u202f"
_FRACTION = re.compile(r"^\s*(-?\d+)\s*/\s*(\d+)\s*$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})
# What a typed number may contain: Babel alone would also take "1e5" or "NaN".
_TYPED_NUMBER = re.compile(r"^-?[0-9 \u00a0\u2007\u2009\u202f]*[,.]?[0-9]*$")


def read_number(text: str, *, allow_fraction: bool = False) -> Fraction | None:
    """Read what a pupil typed as a number, or ``None`` when it is unreadable.

    Accepts a decimal comma (``3,5``, ``,5``), digit groups separated by an
    ordinary, thin or non-breaking space (``1 000,25``), and, when
    ``allow_fraction`` is set, a fraction such as ``3/4``. Anything else
    (letters, two commas, badly grouped digits such as ``10 00``) gives
    ``None``, which the marking rules treat as an empty answer.
    """
    if not isinstance(text, str):
        return None
    cleaned = text.strip().translate(_MINUS_SIGNS)
    if not cleaned:
        return None
    if "/" in cleaned:
        return _read_fraction(cleaned) if allow_fraction else None
    if not _TYPED_NUMBER.match(cleaned) or not any(char.isdigit() for char in cleaned):
        return None
    cleaned = _SPACES.sub(_GROUP, cleaned)
    try:
        value = parse_decimal(cleaned, locale=LOCALE, strict=True)
    except (NumberFormatError, ValueError, ArithmeticError):
        return None
    if not value.is_finite():
        return None
    return Fraction(value)


def _read_fraction(text: str) -> Fraction | None:
    """Read ``a/b``; a zero denominator is unreadable rather than an error."""
    match = _FRACTION.match(text)
    if match is None or int(match.group(2)) == 0:
        return None
    return Fraction(int(match.group(1)), int(match.group(2)))


def is_decimal(value: Fraction) -> bool:
    """Whether ``value`` has a finite decimal writing (its denominator is 2^a·5^b)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def to_decimal(value: Fraction) -> Decimal:
    """The exact :class:`~decimal.Decimal` of a value with a finite decimal writing."""
    if not is_decimal(value):
        raise ValueError(f"{value} has no finite decimal writing")
    digits = 0
    scaled = value
    while scaled.denominator != 1:
        scaled *= 10
        digits += 1
    return Decimal(scaled.numerator).scaleb(-digits)


def write_number(value: Fraction | int | Decimal) -> str:
    """Write a number the French way: ``1 000,25`` with a narrow no-break space.

    A value with no finite decimal writing is written as a fraction ``a/b``.
    """
    if type(value) is int:
        return _write_whole_number(value)
    if isinstance(value, int | Decimal):
        value = Fraction(value)
    return _write_fraction_as_number(value)


@lru_cache(maxsize=65_536)
def _write_whole_number(value: int) -> str:
    # Most numbers drawn are whole: looking an int up costs a tenth of a Fraction's
    # hash (a question of the tables writes nine numbers, a join draws a dozen).
    return _write_fraction_as_number(Fraction(value))


@lru_cache(maxsize=65_536)
def _write_fraction_as_number(value: Fraction) -> str:
    # Babel's formatting costs about 80 µs and a séance writes the same few
    # numbers over and over (every question drawn, every answer read back).
    if not is_decimal(value):
        return f"{value.numerator}/{value.denominator}"
    exact = to_decimal(value)
    decimals = max(0, -exact.normalize().as_tuple().exponent)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(exact, format=pattern, locale=LOCALE)


def write_fraction(value: Fraction) -> str:
    """Write a fraction as ``a/b`` (or a whole number when it is one)."""
    if value.denominator == 1:
        return write_number(value)
    return f"{value.numerator}/{value.denominator}"


def parse_number_set(text: str | int | list[int]) -> tuple[int, ...]:
    """Read a calcul@TICE number set: ``2;3;4``, ``2-9``, ``7`` or a mix ``2-5;7;10``.

    Returns the sorted distinct numbers. Raises :class:`NumberSetError` with a
    French message that says which part is wrong and what is expected.
    """
    if isinstance(text, bool):
        raise NumberSetError(f"« {text} » n'est pas un ensemble de nombres.")
    if isinstance(text, int):
        return (text,)
    if isinstance(text, list | tuple):
        return parse_number_set(";".join(str(part) for part in text))
    numbers: set[int] = set()
    parts = [part.strip() for part in str(text).split(";")]
    if all(not part for part in parts):
        raise NumberSetError("L'ensemble de nombres est vide : écrire par exemple 2;3;4 ou 2-9.")
    for part in parts:
        if not part:
            continue
        numbers.update(_parse_number_set_part(part))
    return tuple(sorted(numbers))


_SET_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_SET_ONE = re.compile(r"^\d+$")


def _parse_number_set_part(part: str) -> range:
    """Read one part of a number set: ``7`` or ``2-9``."""
    if _SET_ONE.match(part):
        return range(int(part), int(part) + 1)
    match = _SET_RANGE.match(part)
    if match is None:
        raise NumberSetError(
            f"« {part} » n'est ni un nombre ni un intervalle : écrire 7 ou 2-9, "
            "et séparer les parties par un point-virgule."
        )
    low, high = int(match.group(1)), int(match.group(2))
    if low > high:
        raise NumberSetError(f"L'intervalle « {part} » va à l'envers : écrire {high}-{low}.")
    return range(low, high + 1)


def write_number_set(numbers: tuple[int, ...] | list[int]) -> str:
    """Write numbers back in the number-set syntax, runs of three or more as ranges."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{ordered[start]}-{ordered[end]}")
        else:
            parts.extend(str(number) for number in ordered[start : end + 1])
        start = end + 1
    return ";".join(parts)


def count_of(count: int, one: str, many: str) -> str:
    """« 1 exercice trouvé », « 12 exercices trouvés », « 0 exercice trouvé »: a count in words.

    French puts 0 and 1 in the singular (CLDR's rule for ``fr``); the number is
    written the French way (``1 200`` with a narrow space).
    """
    return f"{write_number(count)} {one if count in (0, 1) else many}"
