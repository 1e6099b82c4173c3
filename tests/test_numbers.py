"""Reading what pupils type and writing numbers the French way."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculatice.errors import NumberSetError
from calculatice.numbers import (
    count_of,
    parse_number_set,
    read_number,
    write_number,
    write_number_set,
)

NNBSP = "\u202f"
NBSP = "\u00a0"
THIN = "\u2009"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("3,5", Fraction(7, 2)),
        ("1 000", Fraction(1000)),
        (f"1{NNBSP}000", Fraction(1000)),
        (f"1{NBSP}000", Fraction(1000)),
        (f"1{THIN}000", Fraction(1000)),
        ("1 000,25", Fraction(100025, 100)),
        ("1 000 000", Fraction(1_000_000)),
        ("0,5", Fraction(1, 2)),
        (",5", Fraction(1, 2)),
        ("  42  ", Fraction(42)),
        ("\t7\n", Fraction(7)),
        ("0,1", Fraction(1, 10)),
        ("-3", Fraction(-3)),
        ("\u22123", Fraction(-3)),
        ("12,", Fraction(12)),
    ],
)
def test_french_typing_is_read(typed: str, value: Fraction) -> None:
    assert read_number(typed) == value


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abc",
        "3,5,2",
        "10 00",
        "1 0000",
        "3 + 4",
        "douze",
        "3/4",
        "1e5",
        "∞",
        "NaN",
        "½",
    ],
)
def test_unreadable_typing_is_none(typed: str) -> None:
    assert read_number(typed) is None


def test_fraction_is_read_only_where_a_fraction_is_expected() -> None:
    assert read_number("3/4") is None
    assert read_number("3/4", allow_fraction=True) == Fraction(3, 4)
    assert read_number(" 6 / 8 ", allow_fraction=True) == Fraction(3, 4)


def test_zero_denominator_is_unreadable_not_a_crash() -> None:
    assert read_number("3/0", allow_fraction=True) is None


def test_non_text_is_unreadable() -> None:
    assert read_number(None) is None  # type: ignore[arg-type]
    assert read_number(12) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Fraction(1000), f"1{NNBSP}000"),
        (Fraction(100025, 100), f"1{NNBSP}000,25"),
        (Fraction(7, 2), "3,5"),
        (Fraction(1, 10), "0,1"),
        (Fraction(0), "0"),
        (Fraction(123_456_789), f"123{NNBSP}456{NNBSP}789"),
        (Fraction(1, 3), "1/3"),
        (Fraction(-5, 4), "-1,25"),
        (Fraction(1, 10_000), "0,0001"),
    ],
)
def test_numbers_are_written_the_french_way(value: Fraction, written: str) -> None:
    assert write_number(value) == written


@given(
    st.builds(
        lambda whole, thousandths: Fraction(whole) + Fraction(thousandths, 1000),
        st.integers(-(10**12), 10**12),
        st.integers(0, 999),
    )
)
def test_what_is_written_reads_back_to_the_same_value(value: Fraction) -> None:
    assert read_number(write_number(value)) == value


@pytest.mark.parametrize(
    ("written", "numbers"),
    [
        ("2;3;4", (2, 3, 4)),
        ("2-9", (2, 3, 4, 5, 6, 7, 8, 9)),
        ("7", (7,)),
        ("2-5;7;10", (2, 3, 4, 5, 7, 10)),
        (" 4 ; 2 ; 4 ", (2, 4)),
        ("2 - 4", (2, 3, 4)),
        ("3;", (3,)),
        (7, (7,)),
        ([2, 3], (2, 3)),
    ],
)
def test_number_sets_are_read(written: str, numbers: tuple[int, ...]) -> None:
    assert parse_number_set(written) == numbers


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("", "vide"),
        ("9-2", "à l'envers"),
        ("2;x", "« x »"),
        ("2,5", "« 2,5 »"),
        ("2-", "« 2- »"),
        ("-3", "« -3 »"),
    ],
)
def test_bad_number_sets_are_refused_with_a_french_reason(written: str, message: str) -> None:
    with pytest.raises(NumberSetError, match=message):
        parse_number_set(written)


def test_number_sets_are_written_back_compactly() -> None:
    assert write_number_set((2, 3, 4, 5, 7, 10, 11)) == "2-5;7;10;11"
    assert parse_number_set(write_number_set((1, 5, 6, 7, 9))) == (1, 5, 6, 7, 9)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 exercice trouvé"),
        (1, "1 exercice trouvé"),
        (2, "2 exercices trouvés"),
        (1200, f"1{NNBSP}200 exercices trouvés"),
    ],
)
def test_a_count_is_written_in_words_with_french_plurals(count: int, text: str) -> None:
    assert count_of(count, "exercice trouvé", "exercices trouvés") == text
