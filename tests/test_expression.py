"""Reading typed calculations: signs, priorities, unreadable text, writing back."""

from fractions import Fraction

import pytest

from calculatice.engines.expression import (
    MAX_LENGTH,
    Number,
    Operation,
    read_calculation,
    write_calculation,
)


def value_of(text: str) -> Fraction | None:
    calculation = read_calculation(text)
    assert calculation is not None, text
    return calculation.value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(8 − 2) × 5", 30),
        ("3*4+2", 14),
        ("3x4+2", 14),
        ("3 X 4 + 2", 14),
        ("3 · 4 - 2", 10),
        ("12/4", 3),
        ("12 : 4", 3),
        ("12 ÷ 4", 3),
        ("12 – 4", 8),
        ("  7  ", 7),
    ],
)
def test_every_usual_sign_is_read(text, value):
    assert value_of(text) == value


def test_multiplication_comes_before_addition():
    assert value_of("2 + 3 × 4") == 14
    assert value_of("(2 + 3) × 4") == 20


def test_subtraction_and_division_read_from_left_to_right():
    assert value_of("8 − 3 − 1") == 4
    assert value_of("8 ÷ 4 ÷ 2") == 1


def test_decimal_comma_and_point_give_exact_values():
    assert value_of("2,5 × 4") == 10
    assert value_of("0.1 + 0,2") == Fraction(3, 10)


def test_thousands_may_be_grouped_with_a_space():
    assert value_of("1 000 − 1") == 999
    assert value_of("1\u202f000 + 2") == 1002


def test_numbers_are_listed_with_repeats():
    calculation = read_calculation("(12 − 3) × 3 + 12")
    assert calculation.numbers == (3, 3, 12, 12)
    assert calculation.signs == ("-", "*", "+")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "3 +",
        "× 3",
        "(3 + 4",
        "3 + 4)",
        "()",
        "3 4",
        "-3 + 4",
        "2(3 + 4)",
        "3 + 4 = ",
        "3 + 4 = 5 + 2",
        "__import__('os').system('ls')",
        "1" + " + 1" * 40,
    ],
)
def test_text_that_is_not_a_calculation_is_unreadable(text):
    assert read_calculation(text) is None


def test_length_is_bounded():
    text = "1 + " * 15 + "1"
    assert len(text) > MAX_LENGTH
    assert read_calculation(text) is None
    assert read_calculation(text, max_length=100).value == 16


def test_deep_parentheses_within_the_length_are_read():
    assert value_of("(" * 20 + "7" + ")" * 20) == 7


def test_division_by_zero_reads_but_has_no_value():
    calculation = read_calculation("5 ÷ (3 − 3)")
    assert calculation is not None
    assert calculation.value is None
    assert not calculation.whole_divisions


def test_whole_divisions_are_told_apart_from_fractional_ones():
    assert read_calculation("8 ÷ 2 + 1").whole_divisions
    assert not read_calculation("7 ÷ 2 × 4").whole_divisions
    assert value_of("7 ÷ 2 × 4") == 14


def test_a_stated_result_after_equals_is_kept():
    calculation = read_calculation("3 × 4 = 12")
    assert calculation.value == 12
    assert calculation.stated == 12


def test_writing_back_uses_french_signs_and_needed_parentheses_only():
    assert read_calculation("(8-2)*5").french() == "(8 − 2) × 5"
    assert read_calculation("(8-3)-1").french() == "8 − 3 − 1"
    assert read_calculation("8-(3-1)").french() == "8 − (3 − 1)"
    assert read_calculation("(2*3)+(4/2)").french() == "2 × 3 + 4 ÷ 2"
    assert read_calculation("12/(2*3)").french() == "12 ÷ (2 × 3)"
    assert read_calculation("2,5+1").french() == "2,5 + 1"


def test_written_calculation_reads_back_to_the_same_value():
    tree = Operation(
        "-", Number(Fraction(20)), Operation("-", Number(Fraction(8)), Number(Fraction(3)))
    )
    assert value_of(write_calculation(tree)) == 15
