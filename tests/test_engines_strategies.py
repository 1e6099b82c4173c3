"""The calcul réfléchi engines: estimation, friendly numbers, pairs, multiples, walls, Mathador."""

from fractions import Fraction
from itertools import pairwise

import pytest

from calculatice.engines import get_engine
from calculatice.engines.base import Kind, Outcome
from calculatice.engines.expression import read_calculation
from calculatice.errors import OptionsError
from calculatice.numbers import read_number

ENGINES = [
    "estimation",
    "delayed_sum",
    "friendly_sum",
    "multiples",
    "target_pairs",
    "addition_wall",
    "mathador",
]


def draw(name: str, options: dict | None = None, count: int = 20, seed: int = 7):
    return get_engine(name).questions(options or {}, count, seed=seed)


def terms_of(text: str, sign: str) -> list[Fraction]:
    return [read_number(part) for part in text.removesuffix(" = …").split(f" {sign} ")]


@pytest.mark.parametrize("name", ENGINES)
def test_expected_answer_is_right_and_letters_are_empty(name):
    engine = get_engine(name)
    for question in draw(name):
        assert engine.check(question, question.right_response()).outcome is Outcome.RIGHT
        assert engine.check(question, "abc").outcome is Outcome.EMPTY


@pytest.mark.parametrize("name", ENGINES)
def test_same_seed_gives_same_questions(name):
    first = [question.to_dict() for question in draw(name, seed=3)]
    again = [question.to_dict() for question in draw(name, seed=3)]
    assert first == again


# --------------------------------------------------------------------------- estimation


@pytest.mark.parametrize("operation", ["sum", "product"])
def test_estimation_right_choice_is_the_closest_to_the_exact_result(operation):
    for question in draw("estimation", {"operation": operation, "left_digits": 3}):
        left, right = terms_of(
            question.prompt.removeprefix("Quel nombre est le plus proche de ").removesuffix(
                "\u202f?"
            ),
            "+" if operation == "sum" else "×",
        )
        exact = left + right if operation == "sum" else left * right
        values = [read_number(choice) for choice in question.choices]
        distances = sorted(abs(value - exact) for value in values)
        assert len(set(values)) == 4
        assert abs(values[question.expected] - exact) == distances[0] < distances[1]
        assert question.features["operation"] == operation


def test_estimation_of_a_known_seed():
    question = draw("estimation", count=1, seed=1)[0]
    assert question.prompt == "Quel nombre est le plus proche de 502 + 902\u202f?"
    assert question.solution == "1\u202f400"
    assert question.correction == "502 + 902 = 1\u202f404, proche de 1\u202f400."


# --------------------------------------------------------------------------- delayed_sum


def test_delayed_sum_hides_three_numbers_two_of_which_make_a_round_number():
    for question in draw("delayed_sum", {"unit": "hundred", "flash_seconds": 4}):
        terms = terms_of(question.flash_text, "+")
        assert question.kind is Kind.FLASH
        assert question.flash_seconds == 4
        assert question.prompt == "Quel est le résultat\u202f?"
        assert len(terms) == 3 and question.expected == sum(terms)
        pairs = [(a, b) for i, a in enumerate(terms) for b in terms[i + 1 :]]
        assert any((a + b) % 100 == 0 and a % 100 and b % 100 for a, b in pairs)


def test_delayed_sum_stays_within_the_chosen_sizes():
    for question in draw("delayed_sum", {"unit": "ten", "largest": 20}):
        assert question.features["pair_sum"] == 10
        assert 1 <= question.features["other"] <= 20
        assert question.expected <= 30


# --------------------------------------------------------------------------- friendly_sum


def test_friendly_decimal_sum_is_exact_and_contains_a_whole_pair():
    for question in draw("friendly_sum", {"variant": "decimal_sum", "largest": 30}):
        terms = terms_of(question.prompt, "+")
        assert question.expected == sum(terms)
        assert any(
            (a + b).denominator == 1 and a.denominator != 1
            for i, a in enumerate(terms)
            for b in terms[i + 1 :]
        )


def test_friendly_product_contains_friendly_factors():
    for question in draw("friendly_sum", {"variant": "product", "terms": 4}):
        factors = terms_of(question.prompt, "×")
        product = Fraction(1)
        for factor in factors:
            product *= factor
        assert len(factors) == 4 and question.expected == product
        assert question.features["pair_product"] in {10, 100, 1000}


def test_friendly_sum_with_four_terms_has_two_pairs():
    question = draw("friendly_sum", {"terms": 4, "unit": "ten"}, count=1)[0]
    terms = terms_of(question.prompt, "+")
    assert len(terms) == 4
    assert sum(terms) % 10 == 0


# --------------------------------------------------------------------------- multiples


def test_multiples_expected_are_exactly_the_multiples():
    for question in draw("multiples", {"numbers": "3;4", "highest": 60, "choices": 12}):
        number = question.features["number"]
        values = [int(read_number(choice)) for choice in question.choices]
        multiples = {index for index, value in enumerate(values) if value % number == 0}
        assert question.kind is Kind.MULTI and len(values) == 12
        assert question.expected == multiples
        assert 0 < len(multiples) < 12
        assert max(values) <= 60


def test_divisors_variant_asks_for_the_divisors():
    question = draw("multiples", {"variant": "divisors", "numbers": "24"}, count=1)[0]
    values = [int(read_number(choice)) for choice in question.choices]
    assert question.prompt == "Coche tous les diviseurs de 24."
    assert question.expected == {index for index, value in enumerate(values) if 24 % value == 0}


def test_multiples_refuses_a_range_below_every_number():
    with pytest.raises(OptionsError, match="Le plus grand nombre proposé"):
        get_engine("multiples").options({"numbers": "50", "highest": 40})


# --------------------------------------------------------------------------- target_pairs


@pytest.mark.parametrize(
    ("target", "total"), [("ten", 10), ("hundred", 100), ("thousand", 1000), ("one", 1)]
)
def test_target_pairs_have_exactly_one_right_pair(target, total):
    for question in draw("target_pairs", {"target": target}):
        values = [read_number(choice) for choice in question.choices]
        pairs = {
            frozenset((i, j))
            for i in range(len(values))
            for j in range(i + 1, len(values))
            if values[i] + values[j] == total
        }
        assert pairs == {question.expected}
        assert len(values) == 6


def test_decimal_pairs_to_one_use_hundredths_unless_round():
    fine = draw("target_pairs", {"target": "one"}, count=5)
    assert {question.features["decimals"] for question in fine} == {2}
    coarse = draw("target_pairs", {"target": "one", "round_terms": True}, count=5)
    assert {question.features["decimals"] for question in coarse} == {1}


def test_target_pairs_refuses_too_many_numbers_for_ten():
    with pytest.raises(OptionsError, match="au plus 6 nombres"):
        get_engine("target_pairs").options({"target": "ten", "choices": 8})


# --------------------------------------------------------------------------- addition_wall


def filled_wall(question) -> list[list[Fraction]]:
    answers = iter(question.expected)
    return [
        [next(answers) if value is None else Fraction(value) for value in row]
        for row in question.layout["rows"]
    ]


@pytest.mark.parametrize("mode", ["upwards", "mixed"])
def test_wall_bricks_are_sums_of_the_two_below(mode):
    for question in draw("addition_wall", {"base": 4, "hidden": 5, "mode": mode}):
        rows = filled_wall(question)
        assert [len(row) for row in rows] == [1, 2, 3, 4]
        for upper, lower in pairwise(rows):
            assert upper == [lower[i] + lower[i + 1] for i in range(len(upper))]
        assert len(question.cells) == 5 == len(question.expected)
        assert sum(value is None for row in question.layout["rows"] for value in row) == 5


def test_upwards_wall_shows_the_whole_base():
    for question in draw("addition_wall", {"hidden": 3}):
        assert None not in question.layout["rows"][-1]
        assert question.cells == ("rangée 3, brique 1", "rangée 2, brique 1", "rangée 2, brique 2")


def test_mixed_wall_hides_a_base_brick():
    for question in draw("addition_wall", {"mode": "mixed", "hidden": 2}):
        assert None in question.layout["rows"][-1]
        assert question.features["base_hidden"] >= 1


def test_wall_refuses_to_hide_more_than_it_can_deduce():
    with pytest.raises(OptionsError, match="au plus 3 briques"):
        get_engine("addition_wall").options({"base": 3, "hidden": 4})


def test_wall_with_a_wrong_brick_is_wrong_and_half_filled_is_empty():
    engine = get_engine("addition_wall")
    question = draw("addition_wall", count=1)[0]
    answers = question.right_response()
    assert engine.check(question, ["999", *answers[1:]]).outcome is Outcome.WRONG
    assert engine.check(question, ["", *answers[1:]]).outcome is Outcome.EMPTY


# --------------------------------------------------------------------------- mathador


def test_mathador_solution_makes_the_target_with_given_numbers():
    for question in draw("mathador", {"numbers": "1-20", "count": 5}):
        calculation = read_calculation(question.solution)
        assert calculation.value == question.expected
        given = list(question.layout["numbers"])
        for number in calculation.numbers:
            given.remove(number)
        assert question.features["operations"] == len(calculation.signs)
        assert 10 <= question.expected <= 99


def test_mathador_with_all_numbers_uses_every_number():
    for question in draw("mathador", {"count": 4, "all_numbers": True, "targets": "1-1000"}):
        calculation = read_calculation(question.solution)
        assert sorted(calculation.numbers) == sorted(question.layout["numbers"])


@pytest.fixture
def mathador_question():
    """A question with known numbers: 3, 4, 2, 8, 5 and target 14."""
    question = draw("mathador", count=1)[0]
    layout = {**question.layout, "numbers": [3, 4, 2, 8, 5]}
    return question.__class__(
        **{
            **{slot: getattr(question, slot) for slot in question.__slots__},
            "expected": Fraction(14),
            "layout": layout,
        }
    )


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        ("3 × 4 + 2", Outcome.RIGHT),
        ("3*4+2", Outcome.RIGHT),
        ("(8 − 5) × 4 + 2", Outcome.RIGHT),
        ("8 ÷ 4 × 5 + 4", Outcome.WRONG),  # 4 used twice
        ("3 × 4 + 2 = 14", Outcome.RIGHT),
        ("3 × 4 + 2 = 15", Outcome.WRONG),
        ("7 × 2", Outcome.WRONG),  # 7 is not given
        ("3 × 4 + 3", Outcome.WRONG),  # misses the target
        ("5 ÷ 2 × 4 + 4", Outcome.WRONG),
        ("5 ÷ (3 − 3)", Outcome.WRONG),
        ("14", Outcome.WRONG),
        ("(3 × 4 + 2", Outcome.EMPTY),
        ("trois fois quatre", Outcome.EMPTY),
        ("", Outcome.EMPTY),
    ],
)
def test_mathador_check(mathador_question, response, outcome):
    verdict = get_engine("mathador").check(mathador_question, response)
    assert verdict.outcome is outcome


def test_mathador_check_refuses_a_sign_not_allowed():
    question = draw("mathador", {"operations": "add_sub"}, count=1)[0]
    engine = get_engine("mathador")
    assert "×" not in question.solution and "÷" not in question.solution
    numbers = question.layout["numbers"]
    sneaky = f"{numbers[0]} × {numbers[1]}"
    assert engine.check(question, sneaky).outcome is Outcome.WRONG


def test_mathador_reads_the_response_back_the_french_way():
    question = draw("mathador", count=1)[0]
    verdict = get_engine("mathador").check(question, "(8-2)*5")
    assert verdict.read_as == "(8 − 2) × 5 = 30"


def test_mathador_prefers_targets_needing_several_operations():
    for question in draw("mathador", {"min_operations": 3, "numbers": "1-12"}):
        assert question.features["operations"] >= 3


def test_mathador_refuses_more_operations_than_numbers_allow():
    with pytest.raises(OptionsError, match="au plus 2 opérations"):
        get_engine("mathador").options({"count": 3, "min_operations": 3})


def test_friendly_sum_of_hundredths_has_true_hundredths_in_its_pairs():
    for question in draw("friendly_sum", {"variant": "decimal_sum", "decimals": 2, "terms": 4}):
        terms = terms_of(question.prompt, "+")
        assert all((term * 100).denominator == 1 != (term * 10).denominator for term in terms)
        assert question.expected.denominator == 1
