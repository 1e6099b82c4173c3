"""Number-work engines: complements, doubles and halves, near-round numbers, sequences,
place value, products by decomposition, powers of ten and decimal sums."""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import pairwise

import pytest

from calculatice.engines.base import Kind, Outcome, get_engine
from calculatice.engines.numberwork import nearest_round
from calculatice.engines.text import borrows, carries
from calculatice.errors import OptionsError
from calculatice.numbers import read_number

NNBSP = "\u202f"
GROUP_A = (
    "complement",
    "double_half",
    "near_round",
    "sequence",
    "place_value",
    "mental_products",
    "powers_of_ten",
    "decimal_sums",
)


def draw(name: str, options: dict, count: int = 20, seed: int = 1):
    """``count`` questions of one engine with the given options."""
    return get_engine(name).questions(options, count, seed=seed)


def number(text: str) -> Fraction:
    """A French number from a prompt, which must be readable."""
    value = read_number(text.strip())
    assert value is not None, text
    return value


def refusal(name: str, options: dict) -> str:
    """The French message that refuses contradictory options."""
    with pytest.raises(OptionsError) as caught:
        get_engine(name).options(options)
    return str(caught.value)


# Complements -------------------------------------------------------------------------------


def test_complement_to_ten_hides_the_missing_term() -> None:
    for question in draw("complement", {"targets": "10", "low": 1, "high": 9, "commute": True}):
        left, rest = question.prompt.split(" + ")
        right, total = rest.split(" = ")
        known = number(right if left == "…" else left)
        assert total == "10"
        assert known + question.expected == 10
        assert 1 <= question.expected <= 9
        assert question.correction.endswith("= 10")


def test_complement_to_the_next_ten_of_74_is_6() -> None:
    (question,) = draw("complement", {"mode": "next_ten", "low": 74, "high": 74}, count=1)
    assert question.prompt == "74 + … = 80"
    assert question.expected == 6
    assert question.correction == "74 + 6 = 80"


def test_complement_of_a_decimal_to_the_next_unit() -> None:
    for question in draw("complement", {"mode": "next_unit", "low": 3, "high": 3}):
        assert question.prompt.startswith("3,") and question.prompt.endswith("+ … = 4")
        known = number(question.prompt.split(" + ")[0])
        assert known + question.expected == 4
        assert question.features["decimals"] == 1


def test_complement_known_terms_are_multiples_when_asked() -> None:
    options = {"targets": "100;1000", "low": 1, "high": 999, "multiple_of": 50}
    for question in draw("complement", options):
        known = number(question.prompt.split(" + ")[0])
        assert known % 50 == 0
        assert known + question.expected == question.features["target"]


def test_complement_refuses_known_numbers_above_every_target() -> None:
    message = refusal("complement", {"targets": "10", "low": 20, "high": 30})
    assert "nombre cible" in message


def test_complement_refuses_a_round_number_to_the_next_ten() -> None:
    message = refusal("complement", {"mode": "next_ten", "low": 70, "high": 70})
    assert "déjà un multiple de 10" in message


# Doubles and halves ------------------------------------------------------------------------


def test_half_of_an_odd_number_is_a_decimal_when_allowed() -> None:
    (question,) = draw(
        "double_half", {"mode": "half", "numbers": "13", "odd_halves": True}, count=1
    )
    assert question.prompt == "Moitié de 13"
    assert question.expected == Fraction(13, 2)
    assert question.solution == "6,5"
    assert question.correction == "La moitié de 13 est 6,5."
    assert question.features["odd"] == 1


def test_halves_without_odd_halves_use_even_numbers_only() -> None:
    for question in draw("double_half", {"mode": "half", "numbers": "1-20"}):
        assert question.expected.denominator == 1
        assert 2 * question.expected == number(question.prompt.removeprefix("Moitié de "))


def test_double_of_a_decimal_places_the_comma_in_the_number() -> None:
    (question,) = draw("double_half", {"numbers": "47", "decimals": 1}, count=1)
    assert question.prompt == "Double de 4,7"
    assert question.solution == "9,4"
    assert question.features["carries"] == 1


def test_halves_of_only_odd_numbers_are_refused_without_odd_halves() -> None:
    message = refusal("double_half", {"mode": "half", "numbers": "1;3;5"})
    assert "nombre pair" in message


# Near-round numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("near", "rounded"), [(9, 10), (19, 20), (29, 30), (99, 100), (101, 100), (1999, 2000)]
)
def test_nearest_round_number_of_near_round_numbers(near: int, rounded: int) -> None:
    assert nearest_round(near) == rounded


def test_adding_9_is_explained_as_adding_10_and_taking_1() -> None:
    (question,) = draw("near_round", {"numbers": "9", "low": 46, "high": 46}, count=1)
    assert question.prompt == "46 + 9 = …"
    assert question.expected == 55
    assert question.correction == "46 + 9 = 46 + 10 − 1 = 55"
    assert question.features["round"] == 10
    assert question.features["adjust"] == -1


def test_taking_99_is_explained_as_taking_100_and_adding_1() -> None:
    options = {"numbers": "99", "operation": "subtract", "low": 453, "high": 453}
    (question,) = draw("near_round", options, count=1)
    assert question.prompt == "453 − 99 = …"
    assert question.expected == 354
    assert question.correction == "453 − 99 = 453 − 100 + 1 = 354"
    assert question.features["borrows"] == borrows(453, 99) == 2


def test_near_round_differences_are_never_negative() -> None:
    options = {"numbers": "9;19;29;99", "operation": "both", "low": 0, "high": 40}
    for question in draw("near_round", options, count=30):
        assert question.expected >= 0
        start = re.split(r" [+−] ", question.prompt)[0]
        assert int(start) <= 40


def test_subtracting_more_than_every_start_is_refused() -> None:
    message = refusal("near_round", {"numbers": "99", "operation": "subtract", "high": 50})
    assert "négatif" in message


# Sequences ---------------------------------------------------------------------------------


def test_sequence_by_threes_with_the_next_term_blank() -> None:
    options = {"steps": "3", "low": 12, "high": 12, "terms": 3}
    (question,) = draw("sequence", options, count=1)
    assert question.prompt == f"12{NNBSP}; 15{NNBSP}; 18{NNBSP}; …"
    assert question.expected == 21
    written = f"12{NNBSP}; 15{NNBSP}; 18{NNBSP}; 21"
    assert question.correction == f"{written} (on ajoute 3 à chaque fois)"


def test_backward_sequences_stay_at_or_above_zero() -> None:
    options = {"steps": "2;5;10", "direction": "backward", "low": 0, "high": 45, "blank": "any"}
    for question in draw("sequence", options, count=30):
        terms = [number(term) for term in question.prompt.split(";") if "…" not in term]
        assert min(terms) >= 0 and question.expected >= 0
        assert question.features["direction"] == "backward"


def test_sequence_in_tenths_steps_by_decimal_amounts() -> None:
    options = {"steps": "1;5", "unit": "tenth", "blank": "middle"}
    for question in draw("sequence", options):
        terms = question.correction.split(" (")[0].split(f"{NNBSP}; ")
        values = [number(term) for term in terms]
        steps = {later - earlier for earlier, later in pairwise(values)}
        assert steps in ({Fraction(1, 10)}, {Fraction(1, 2)})
        assert question.prompt.count("…") == 1
        assert not question.prompt.startswith("…") and not question.prompt.endswith("…")


def test_backward_sequences_that_would_go_below_zero_are_refused() -> None:
    message = refusal("sequence", {"steps": "10", "direction": "backward", "high": 20})
    assert "sous zéro" in message


# Place value -------------------------------------------------------------------------------


def test_decomposition_grid_has_one_cell_per_order() -> None:
    for question in draw("place_value", {"variant": "decompose", "digits": 4}):
        assert question.kind is Kind.GRID
        assert question.cells == ("milliers", "centaines", "dizaines", "unités")
        shown = number(question.prompt.split(" = ")[0])
        digits = [int(value) for value in question.expected]
        assert shown == int("".join(map(str, digits)))
        assert question.layout["orders"] == [3, 2, 1, 0]


def test_decomposition_of_a_decimal_reaches_hundredths() -> None:
    (question,) = draw("place_value", {"digits": 1, "decimals": 2}, count=1)
    assert question.cells == ("unités", "dixièmes", "centièmes")
    units, tenths, hundredths = question.expected
    assert number(question.prompt.split(" = ")[0]) == units + tenths / 10 + hundredths / 100


def test_counting_tens_gives_the_whole_number_of_tens() -> None:
    options = {"variant": "count", "digits": 4, "decimals": 1}
    for question in draw("place_value", options, count=30):
        shown = number(question.prompt.split(" dans ")[1].removesuffix(f"{NNBSP}?"))
        order = question.features["order"]
        assert question.expected == int(shown / Fraction(10) ** order)
        assert question.prompt.startswith(("Combien de ", "Combien d'unités"))


_ORDER_OF = {
    "millier": 3,
    "centaine": 2,
    "dizaine": 1,
    "unité": 0,
    "dixième": -1,
    "centième": -2,
}


def test_composing_with_an_exchange_adds_up_every_order() -> None:
    options = {"variant": "compose", "digits": 4, "decimals": 2, "exchange": True, "shuffle": True}
    for question in draw("place_value", options):
        parts = re.findall(r"(\d+) (\w+?)s? ", question.prompt)
        total = sum(int(count) * Fraction(10) ** _ORDER_OF[word] for count, word in parts)
        assert total == question.expected
        assert any(int(count) >= 10 for count, _ in parts)


def test_a_single_digit_is_refused_for_place_value() -> None:
    message = refusal("place_value", {"digits": 1, "decimals": 0})
    assert "deux chiffres" in message


# Products by decomposition -----------------------------------------------------------------


def _product_terms(prompt: str) -> tuple[Fraction, Fraction]:
    left, right = prompt.removesuffix(" = …").split(" × ")
    return number(left), number(right)


def test_17_times_99_is_explained_with_100() -> None:
    options = {"factors": "99", "low": 17, "high": 17, "commute": False}
    (question,) = draw("mental_products", options, count=1)
    assert question.prompt == "17 × 99 = …"
    assert question.expected == 1683
    assert question.correction == f"17 × 99 = 17 × 100 − 17 = 1{NNBSP}700 − 17 = 1{NNBSP}683"
    assert question.features["strategy"] == "near_round"


def test_13_times_7_is_explained_by_decomposition() -> None:
    options = {"factors": "7", "low": 13, "high": 13, "commute": False}
    (question,) = draw("mental_products", options, count=1)
    assert question.correction == "13 × 7 = 10 × 7 + 3 × 7 = 70 + 21 = 91"
    assert question.features["strategy"] == "decomposition"


def test_times_four_is_explained_as_doubling_twice() -> None:
    options = {"factors": "4", "low": 16, "high": 16, "commute": False}
    (question,) = draw("mental_products", options, count=1)
    assert question.expected == 64
    assert "le double de 16 est 32, le double de 32 est 64" in question.correction


def test_products_are_right_for_every_strategy() -> None:
    options = {"factors": "4;5;8;9;11;12;25;50;99", "low": 11, "high": 99, "avoid_round": True}
    strategies = set()
    for question in draw("mental_products", options, count=50):
        left, right = _product_terms(question.prompt)
        assert question.expected == left * right
        assert question.correction.endswith(f"= {question.solution}") or (
            question.features["strategy"] == "doubling"
        )
        assert question.features["other"] % 10 != 0
        strategies.add(question.features["strategy"])
    assert {"doubling", "halving", "quarter", "near_round"} <= strategies


def test_decimal_times_five_is_exact() -> None:
    options = {"factors": "5", "low": 0, "high": 9, "decimals": 1}
    for question in draw("mental_products", options):
        left, right = _product_terms(question.prompt)
        assert question.expected == left * right
        assert question.features["decimals"] == 1


def test_one_digit_times_tens_uses_multiples() -> None:
    options = {"factors": "2-9", "low": 20, "high": 90, "multiple_of": 10, "commute": False}
    for question in draw("mental_products", options):
        other, factor = _product_terms(question.prompt)
        assert other % 10 == 0 and 2 <= factor <= 9
        assert question.features["strategy"] == "round"


def test_a_decimal_other_factor_cannot_be_a_multiple() -> None:
    message = refusal("mental_products", {"decimals": 1, "multiple_of": 10})
    assert "multiple" in message


# Powers of ten -----------------------------------------------------------------------------


def test_multiplying_by_a_tenth_is_dividing_by_ten() -> None:
    options = {"operation": "decimal_factor", "hundred": True, "thousand": True}
    for question in draw("powers_of_ten", options):
        start, rest = question.prompt.split(" × ")
        factor = number(rest.split(" = ")[0])
        assert factor in (Fraction(1, 10), Fraction(1, 100), Fraction(1, 1000))
        assert question.expected == number(start) * factor


def test_divisions_that_come_out_whole() -> None:
    options = {"operation": "divide", "hundred": True, "whole_results": True}
    for question in draw("powers_of_ten", options):
        dividend, divisor = question.prompt.removesuffix(" = …").split(" ÷ ")
        assert question.expected == number(dividend) / number(divisor)
        assert question.expected.denominator == 1


def test_missing_factor_is_the_power_of_ten() -> None:
    options = {"operation": "multiply", "hundred": True, "decimals": 2, "missing": "factor"}
    for question in draw("powers_of_ten", options):
        start = number(question.prompt.split(" × ")[0])
        result = number(question.prompt.split(" = ")[1])
        assert question.expected in (10, 100)
        assert start * question.expected == result


def test_missing_operator_is_a_choice_that_gives_the_result() -> None:
    options = {"operation": "all", "hundred": True, "thousand": True, "missing": "operator"}
    for question in draw("powers_of_ten", options):
        assert question.kind is Kind.CHOICE
        start, result = (number(part) for part in question.prompt.split(" … = "))
        sign, factor = question.choices[question.expected].split(" ", 1)
        value = start * number(factor) if sign == "×" else start / number(factor)
        assert value == result
        assert get_engine("powers_of_ten").check(question, question.expected).outcome is (
            Outcome.RIGHT
        )


def test_powers_of_ten_refuse_no_factor_and_whole_results_with_decimals() -> None:
    assert "au moins un facteur" in refusal("powers_of_ten", {"ten": False})
    assert "décimales à 0" in refusal("powers_of_ten", {"whole_results": True, "decimals": 1})


# Decimal sums ------------------------------------------------------------------------------


def _terms(prompt: str) -> tuple[Fraction, str, Fraction]:
    left, sign, right = prompt.removesuffix(" = …").split(" ")
    return number(left), sign, number(right)


@pytest.mark.parametrize("second", ["whole", "part", "decimal"])
def test_decimal_sums_without_carry_have_none(second: str) -> None:
    options = {"second": second, "decimals": 2, "whole_digits": 2, "carry": "without"}
    for question in draw("decimal_sums", options):
        left, sign, right = _terms(question.prompt)
        assert sign == "+" and question.expected == left + right
        assert carries(int(left * 100), int(right * 100)) == 0
        assert question.features["carries"] == 0


def test_decimal_subtractions_with_carry_borrow_at_least_once() -> None:
    options = {"operation": "subtract", "decimals": 1, "carry": "with"}
    for question in draw("decimal_sums", options):
        left, sign, right = _terms(question.prompt)
        assert sign == "−" and question.expected == left - right >= 0
        assert borrows(int(left * 10), int(right * 10)) >= 1
        assert question.features["borrows"] >= 1


def test_adding_a_part_changes_one_digit() -> None:
    options = {"second": "part", "decimals": 2, "carry": "without"}
    for question in draw("decimal_sums", options):
        left, _, right = _terms(question.prompt)
        assert len([digit for digit in str(int(right * 100)) if digit != "0"]) == 1
        assert question.expected == left + right


def test_a_whole_second_number_needs_a_whole_digit() -> None:
    message = refusal("decimal_sums", {"second": "whole", "whole_digits": 0})
    assert "entier" in message


# The exercise bank -------------------------------------------------------------------------


def test_group_a_exercises_cover_every_level_with_working_questions(bank) -> None:
    mine = [exercise for exercise in bank.select() if exercise.engine in GROUP_A]
    per_level: dict[str, int] = {}
    for exercise in mine:
        for level in exercise.levels:
            per_level[level] = per_level.get(level, 0) + 1
        engine = get_engine(exercise.engine)
        for question in exercise.questions(seed=11):
            assert engine.check(question, question.right_response()).outcome is Outcome.RIGHT
    minimum = {"CP": 6, "CE1": 7, "CE2": 8, "CM1": 8, "CM2": 8, "6e": 8}
    assert all(per_level.get(level, 0) >= count for level, count in minimum.items()), per_level
