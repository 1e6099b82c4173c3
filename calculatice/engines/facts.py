"""Number facts: the four operations on chosen tables, with the result or a term missing."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from calculatice.engines.base import Engine, Kind, Question, register
from calculatice.engines.text import borrows, carries, digit_count, equation, n
from calculatice.options import EngineOptions, number_set

MissingPlace = Literal["result", "left", "right", "any"]
_MISSING = Field(
    "result",
    title="Terme caché",
    description="Ce que l'élève trouve : le résultat, le premier terme, le second, ou au hasard.",
)


class FactOptions(EngineOptions):
    """Tables and the range of the other operand."""

    tables: number_set(0, 10_000) = Field(
        "2-5",
        title="Tables",
        description="Les nombres travaillés, par exemple 2;3;4 ou 6-9.",
    )
    others: number_set(0, 10_000) = Field(
        "0-10",
        title="Autre nombre",
        description="Les valeurs possibles de l'autre nombre, par exemple 1-10.",
    )
    commute: bool = Field(
        True,
        title="Dans les deux sens",
        description="La table peut être écrite à gauche ou à droite (3 × 7 ou 7 × 3).",
    )
    missing: MissingPlace = _MISSING


def _place(options: FactOptions, rng: random.Random) -> str:
    if options.missing == "any":
        return rng.choice(["result", "left", "right"])
    return options.missing


def _fact_question(left: int, sign: str, right: int, result: int, hide: str, features) -> Question:
    expected = {"left": left, "right": right, "result": result}[hide]
    full = equation(left, sign, right, result)
    return Question(
        prompt=equation(left, sign, right, result, hide=hide),
        kind=Kind.NUMBER,
        expected=expected,
        solution=n(expected),
        correction=full,
        features={**features, "missing": hide, "answer_digits": digit_count(expected)},
        max_length=digit_count(expected) + 2,
    )


@register
class MultiplicationFacts(Engine):
    name = "multiplication_facts"
    title = "Tables de multiplication"
    description = "Produits des tables choisies, ou un facteur manquant (… × 7 = 56)."
    Options = FactOptions

    def generate(self, options: FactOptions, rng: random.Random) -> Question:
        table, other = rng.choice(options.tables), rng.choice(options.others)
        left, right = (other, table) if options.commute and rng.random() < 0.5 else (table, other)
        hide = _place(options, rng)
        if hide != "result" and (left if hide == "left" else right) != 0 and 0 in (left, right):
            hide = "result"  # 0 × … = 0 has every number as answer
        features = {"table": table, "factor": other, "product": left * right}
        return _fact_question(left, "*", right, left * right, hide, features)


@register
class AdditionFacts(Engine):
    name = "addition_facts"
    title = "Tables d'addition"
    description = "Sommes des nombres choisis, ou un terme manquant (7 + … = 10)."
    Options = FactOptions

    def generate(self, options: FactOptions, rng: random.Random) -> Question:
        first, other = rng.choice(options.tables), rng.choice(options.others)
        left, right = (other, first) if options.commute and rng.random() < 0.5 else (first, other)
        features = {"carries": carries(left, right), "sum": left + right}
        return _fact_question(left, "+", right, left + right, _place(options, rng), features)


@register
class SubtractionFacts(Engine):
    name = "subtraction_facts"
    title = "Soustractions"
    description = "Différences a − b avec a pris dans les tables et b dans l'autre nombre "
    "(jamais négatives)."
    Options = FactOptions

    def generate(self, options: FactOptions, rng: random.Random) -> Question:
        first, other = rng.choice(options.tables), rng.choice(options.others)
        # The difference is never negative: the larger number comes first.
        left, right = max(first, other), min(first, other)
        features = {"borrows": borrows(left, right), "difference": left - right}
        return _fact_question(left, "-", right, left - right, _place(options, rng), features)


@register
class DivisionFacts(Engine):
    name = "division_facts"
    title = "Divisions des tables"
    description = "Quotients exacts des tables (56 ÷ 7), réciproque de la multiplication."
    Options = FactOptions

    def generate(self, options: FactOptions, rng: random.Random) -> Question:
        divisors = [table for table in options.tables if table != 0]
        if not divisors:
            divisors = [1]
        divisor, quotient = rng.choice(divisors), rng.choice(options.others)
        hide = _place(options, rng)
        if hide == "right" and quotient == 0:
            hide = "result"  # 0 ÷ … = 0 has every number as answer
        features = {"table": divisor, "quotient": quotient, "dividend": divisor * quotient}
        return _fact_question(divisor * quotient, "/", divisor, quotient, hide, features)
