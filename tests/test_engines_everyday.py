"""Everyday engines: money, clock, fractions of things and shapes, recipes, percentages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from calculatice.engines import Kind, Outcome, get_engine
from calculatice.errors import OptionsError
from calculatice.options import COMMON_OPTION_NAMES

EVERYDAY = (
    "money",
    "clock",
    "fraction_of",
    "shaded_fraction",
    "recipe",
    "percentage",
    "decimal_fraction",
)
BANK = Path(__file__).resolve().parent.parent / "exercices"
SVG = "{http://www.w3.org/2000/svg}"


def _numbers(text: str) -> list[int]:
    """The whole numbers written in a prompt (digit groups joined), in order."""
    return [int(re.sub(r"\D", "", match)) for match in re.findall(r"\d+(?:[\u202f ]\d{3})*", text)]


@pytest.mark.parametrize("name", EVERYDAY)
def test_right_answer_is_right_and_letters_are_empty(name):
    engine = get_engine(name)
    for question in engine.questions({}, 30, seed="everyday"):
        assert engine.check(question, question.right_response()).outcome is Outcome.RIGHT
        letters = ["abc"] * len(question.cells) if question.kind is Kind.GRID else "abc"
        assert engine.check(question, letters).outcome is Outcome.EMPTY


@pytest.mark.parametrize("name", EVERYDAY)
def test_same_seed_gives_same_questions(name):
    engine = get_engine(name)
    first = [question.to_dict() for question in engine.questions({}, 10, seed=3)]
    again = [question.to_dict() for question in engine.questions({}, 10, seed=3)]
    assert first == again


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("money", {"variant": "count", "cents": "any", "pieces": 8, "largest": 500}),
        ("clock", {"minutes_step": 1}),
        ("shaded_fraction", {"shape": "bar", "denominators": "2-24"}),
        ("shaded_fraction", {"shape": "disc", "denominators": "2-24"}),
        ("shaded_fraction", {"shape": "grid", "denominators": "2-24", "scattered": True}),
    ],
)
def test_pictures_are_safe_accessible_svg(name, options):
    for question in get_engine(name).questions(options, 15, seed=11):
        root = ET.fromstring(question.svg)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        assert root.get("viewBox")
        assert root.find(f"{SVG}title").text
        assert "<script" not in question.svg
        assert "href" not in question.svg
        assert "url(" not in question.svg
        assert len(question.svg) < 12_000


# Money


def test_money_total_adds_the_prices_in_the_prompt():
    engine = get_engine("money")
    for question in engine.questions({"variant": "total", "items": 3}, 20, seed=1):
        prices = _numbers(question.prompt)
        assert len(prices) == 3
        assert question.expected == sum(prices)
        assert question.features["answer_cents"] == 100 * sum(prices)


def test_money_change_is_positive_and_paid_with_a_given_note():
    engine = get_engine("money")
    options = {"variant": "change", "items": 2, "prices": "1-9", "pay_with": "10;20"}
    for question in engine.questions(options, 20, seed=2):
        *prices, paid = _numbers(question.prompt)
        assert paid in (10, 20)
        assert question.expected == paid - sum(prices) > 0
        assert "Combien te rend-on" in question.prompt


def test_money_with_cents_is_written_with_a_decimal_comma():
    engine = get_engine("money")
    options = {"variant": "total", "items": 2, "prices": "1-4", "cents": "fifty"}
    questions = engine.questions(options, 20, seed=5)
    with_cents = [question for question in questions if question.features["with_cents"]]
    assert with_cents
    for question in with_cents:
        assert question.solution.endswith(",50")
        assert question.expected.denominator == 2
        assert engine.check(question, question.solution[:-1]).outcome is Outcome.RIGHT


def test_money_count_is_a_picture_whose_total_is_the_sum_of_the_pieces():
    engine = get_engine("money")
    question = engine.questions({"variant": "count", "pieces": 4, "largest": 20}, 1, seed=4)[0]
    assert question.kind is Kind.PICTURE
    labels = re.findall(r">(\d+)\u00a0(€|c)<", question.svg)
    cents = sum(int(value) * (100 if sign == "€" else 1) for value, sign in labels)
    assert len(labels) == 4
    assert question.expected == Fraction(cents, 100)


def test_money_refuses_a_total_of_one_article_and_a_note_too_small():
    engine = get_engine("money")
    with pytest.raises(OptionsError, match="au moins 2 articles"):
        engine.options({"variant": "total", "items": 1})
    with pytest.raises(OptionsError, match="somme donnée doit dépasser"):
        engine.options({"variant": "change", "items": 3, "prices": "5-9", "pay_with": "10"})


# Clock


def test_clock_reads_hours_and_minutes_on_the_step():
    engine = get_engine("clock")
    for question in engine.questions({"minutes_step": 15}, 20, seed=6):
        hour, minute = question.expected
        assert 1 <= hour <= 12
        assert minute in (0, 15, 30, 45)
        assert question.cells == ("heures", "minutes")
        assert question.features["dial_hour"] == hour


def test_clock_hour_hand_lies_between_the_hours():
    question = get_engine("clock").questions({"minutes_step": 30}, 40, seed=7)
    half_past = next(item for item in question if item.expected[1] == 30)
    hour = int(half_past.expected[0]) % 12
    # At h 30 the hour hand is half-way to the next hour: 30 × h + 15 degrees.
    assert f"rotate({hour * 30 + 15} 100 100)" in half_past.svg
    assert 'transform="rotate(180 100 100)"' in half_past.svg


def test_clock_o_clock_only_asks_the_hours():
    engine = get_engine("clock")
    question = engine.questions({"minutes_step": 60}, 1, seed=8)[0]
    assert question.cells == ("heures",)
    assert len(question.expected) == 1


def test_clock_accepts_every_reading_of_the_dial_without_afternoon():
    engine = get_engine("clock")
    questions = engine.questions({"minutes_step": 60}, 12, seed=9)
    noon = next(question for question in questions if question.expected == (12,))
    three = next(question for question in questions if question.expected == (3,))
    assert engine.check(noon, ["12"]).outcome is Outcome.RIGHT
    assert engine.check(noon, ["0"]).outcome is Outcome.RIGHT
    assert engine.check(three, ["15"]).outcome is Outcome.RIGHT
    assert engine.check(three, ["4"]).outcome is Outcome.WRONG


def test_clock_afternoon_asks_13_to_23_only():
    engine = get_engine("clock")
    questions = engine.questions({"minutes_step": 15, "afternoon": "always"}, 30, seed=10)
    for question in questions:
        hour, minute = (int(value) for value in question.expected)
        assert 12 <= hour <= 23
        assert "après-midi" in question.prompt or "soir" in question.prompt
        if hour != 12:
            morning = [str(hour - 12), str(minute)]
            assert engine.check(question, morning).outcome is Outcome.WRONG


def test_clock_refuses_a_step_that_does_not_divide_60():
    with pytest.raises(OptionsError, match="doit diviser 60"):
        get_engine("clock").options({"minutes_step": 7})


# Fraction of a quantity


def test_fraction_of_gives_whole_results():
    engine = get_engine("fraction_of")
    options = {"numerators": "1-4", "denominators": "2-5", "quantities": "10-100"}
    for question in engine.questions(options, 30, seed=12):
        features = question.features
        assert features["numerator"] < features["denominator"]
        assert features["quantity"] % features["denominator"] == 0
        expected = Fraction(features["numerator"], features["denominator"]) * features["quantity"]
        assert question.expected == expected
        assert expected.denominator == 1


def test_fraction_of_words_and_units():
    engine = get_engine("fraction_of")
    options = {"numerators": "3", "denominators": "4", "quantities": "100", "unit": "metres"}
    question = engine.questions({**options, "wording": "words"}, 1, seed=1)[0]
    assert question.prompt == "Trois quarts de 100\u00a0m = …\u00a0m"
    assert question.expected == 75
    assert "100 ÷ 4 = 25" in question.correction
    question = engine.questions({**options, "wording": "symbols"}, 1, seed=1)[0]
    assert question.prompt.startswith("3/4 de 100")


def test_fraction_of_refuses_quantities_no_denominator_divides():
    with pytest.raises(OptionsError, match="Aucune fraction possible"):
        get_engine("fraction_of").options({"denominators": "3", "quantities": "5;7;10"})


# Shaded fraction


def test_shaded_fraction_counts_the_coloured_parts():
    engine = get_engine("shaded_fraction")
    for shape in ("bar", "disc", "grid"):
        options = {"shape": shape, "denominators": "2-12"}
        for question in engine.questions(options, 10, seed=13):
            root = ET.fromstring(question.svg)
            parts = [element for element in root if element.tag in (f"{SVG}rect", f"{SVG}path")]
            coloured = [part for part in parts if part.get("fill") != "#ffffff"]
            assert len(parts) == question.features["parts"]
            assert question.expected == Fraction(len(coloured), len(parts))


def test_shaded_fraction_accepts_an_equal_fraction():
    engine = get_engine("shaded_fraction")
    question = engine.questions({"denominators": "8", "shading": "unit"}, 1, seed=14)[0]
    assert question.allow_fraction
    assert question.solution == "1/8"
    assert engine.check(question, "2/16").outcome is Outcome.RIGHT
    assert engine.check(question, "1/7").outcome is Outcome.WRONG


def test_shaded_fraction_unit_shades_one_part():
    engine = get_engine("shaded_fraction")
    for question in engine.questions({"shading": "unit"}, 10, seed=15):
        assert question.expected.numerator == 1


# Recipe


def test_recipe_scales_the_amount_asked():
    engine = get_engine("recipe")
    options = {"multiply": True, "divide": True, "one_and_half": True, "sums": True}
    for question in engine.questions(options, 30, seed=16):
        features = question.features
        ratio = Fraction(features["ratio"])
        assert features["other_people"] == features["people"] * ratio
        amounts = _numbers(question.prompt)
        # The only ingredient listed comes right after the number of people.
        assert question.expected == amounts[1] * ratio
        assert question.expected.denominator == 1


def test_recipe_finds_the_number_of_people():
    engine = get_engine("recipe")
    for question in engine.questions({"find": "people"}, 10, seed=17):
        assert question.expected == question.features["other_people"]
        assert "pour combien de personnes" in question.prompt


def test_recipe_refuses_no_relation():
    with pytest.raises(OptionsError, match="au moins une"):
        get_engine("recipe").options({"multiply": False})


# Percentage


def test_percentage_of_a_quantity():
    engine = get_engine("percentage")
    options = {"percents": "25", "quantities": "80"}
    question = engine.questions(options, 1, seed=18)[0]
    assert question.prompt == "25\u202f% de 80 = …"
    assert question.expected == 20
    assert "le quart de 80" in question.correction


def test_percentage_find_the_percent():
    engine = get_engine("percentage")
    options = {"percents": "10;25;50", "quantities": "40-200", "variant": "find_percent"}
    for question in engine.questions(options, 10, seed=19):
        quantity, part = _numbers(question.prompt)
        assert question.expected == Fraction(100 * part, quantity)
        assert question.expected in (10, 25, 50)


def test_percentage_refuses_quantities_without_whole_results():
    with pytest.raises(OptionsError, match="Aucun pourcentage"):
        get_engine("percentage").options({"percents": "25", "quantities": "2;3;5"})


# Decimal and fraction writings


def test_usual_fractions_to_decimal():
    engine = get_engine("decimal_fraction")
    questions = engine.questions({"denominators": "4"}, 5, seed=20)
    solutions = {question.prompt.split(": ")[-1]: question.solution for question in questions}
    assert solutions == {"1/4 = …": "0,25", "3/4 = …": "0,75"}


def test_decimal_to_fraction_over_100():
    engine = get_engine("decimal_fraction")
    options = {"variant": "to_fraction", "denominators": "100"}
    for question in engine.questions(options, 10, seed=21):
        decimal, fraction = question.prompt.split(" = ")
        assert fraction == "…/100"
        assert Fraction(decimal.replace(",", ".")) == question.expected / 100


def test_equal_fractions_complete_the_missing_term():
    engine = get_engine("decimal_fraction")
    options = {"variant": "equal_fractions", "improper": True}
    for question in engine.questions(options, 20, seed=22):
        left, right = question.prompt.split(" = ")
        filled = right.replace("…", question.solution)
        top, bottom = (int(term) for term in left.split("/"))
        other_top, other_bottom = (int(term) for term in filled.split("/"))
        assert Fraction(top, bottom) == Fraction(other_top, other_bottom)


def test_decimal_writing_refuses_denominators_without_one():
    with pytest.raises(OptionsError, match="dénominateur comme 2, 4, 5"):
        get_engine("decimal_fraction").options({"variant": "to_decimal", "denominators": "3;7"})


# The exercises of the bank


def _everyday_exercises() -> list[dict]:
    documents = [yaml.safe_load(path.read_text()) for path in sorted(BANK.glob("*/*.yaml"))]
    return [document for document in documents if document["engine"] in EVERYDAY]


def test_bank_has_everyday_exercises_at_every_level():
    levels = [document["levels"][0] for document in _everyday_exercises()]
    for level in ("CP", "CE1", "CE2", "CM1", "CM2", "6e"):
        assert levels.count(level) >= 5, level


@pytest.mark.parametrize("document", _everyday_exercises(), ids=lambda document: document["id"])
def test_bank_exercise_draws_right_questions(document):
    engine = get_engine(document["engine"])
    assert document["id"].startswith(document["levels"][0].lower() + "-")
    values = {
        key: value for key, value in document["options"].items() if key not in COMMON_OPTION_NAMES
    }
    for question in engine.questions(engine.options(values), 20, seed=document["id"]):
        assert engine.check(question, question.right_response()).outcome is Outcome.RIGHT
