"""Decimal work: multiplying and dividing by 10, 100, 1 000 (or 0,1…), adding decimals."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Literal

from pydantic import Field

from calculatice.engines.base import Engine, Kind, Question, register
from calculatice.engines.numberwork import (
    answer_length,
    check_whole_range,
    decimal_places,
    draw_value,
)
from calculatice.engines.text import BLANK, carries, digit_count, equation, n
from calculatice.options import EngineOptions

# Powers of ten ----------------------------------------------------------------------------

PowerOperation = Literal["multiply", "divide", "decimal_factor", "multiply_divide", "all"]
_OPERATION_DRAWS = {
    "multiply": ["multiply"],
    "divide": ["divide"],
    "decimal_factor": ["decimal_factor"],
    "multiply_divide": ["multiply", "divide"],
    "all": ["multiply", "divide", "decimal_factor"],
}


class PowersOfTenOptions(EngineOptions):
    """Which operations and powers, the starting number, and what is hidden."""

    operation: PowerOperation = Field(
        "multiply",
        title="Opération",
        description="× 10, 100, 1 000 ; ÷ 10, 100, 1 000 ; × 0,1, 0,01, 0,001 ; × ou ÷ "
        "au hasard ; ou les trois.",
    )
    ten: bool = Field(True, title="Par 10", description="Multiplier ou diviser par 10 (ou 0,1).")
    hundred: bool = Field(
        False, title="Par 100", description="Multiplier ou diviser par 100 (ou 0,01)."
    )
    thousand: bool = Field(
        False, title="Par 1 000", description="Multiplier ou diviser par 1 000 (ou 0,001)."
    )
    low: int = Field(
        1,
        ge=0,
        le=99_999,
        title="Nombre au moins",
        description="Le plus petit nombre de départ (sa partie entière s'il est décimal).",
    )
    high: int = Field(
        99,
        ge=0,
        le=99_999,
        title="Nombre au plus",
        description="Le plus grand nombre de départ (sa partie entière s'il est décimal).",
    )
    decimals: int = Field(
        0,
        ge=0,
        le=3,
        title="Décimales du nombre",
        description="Chiffres après la virgule du nombre de départ (0 pour un entier).",
    )
    whole_results: bool = Field(
        False,
        title="Divisions qui tombent juste",
        description="Pour ÷ 10… et × 0,1… : le nombre de départ est un multiple du diviseur, "
        "le résultat est entier (340 ÷ 10).",
    )
    missing: Literal["result", "start", "factor", "operator", "any"] = Field(
        "result",
        title="Case vide",
        description="Ce que l'élève trouve : le résultat, le nombre de départ, le facteur "
        "(10, 100…), l'opération à choisir, ou au hasard.",
    )

    def check(self) -> None:
        if not self.powers:
            raise ValueError("Choisir au moins un facteur : par 10, par 100 ou par 1 000.")
        check_whole_range(self.low, self.high, self.decimals)
        if self.whole_results and self.decimals:
            raise ValueError(
                "Des divisions qui tombent juste demandent un nombre de départ entier : "
                "mettre les décimales à 0."
            )

    @property
    def powers(self) -> list[int]:
        """The powers of ten chosen: 1 for 10, 2 for 100, 3 for 1 000."""
        chosen = (self.ten, self.hundred, self.thousand)
        return [power for power, wanted in enumerate(chosen, start=1) if wanted]


_SIGN = {"multiply": "*", "divide": "/", "decimal_factor": "*"}


def _factor(action: str, power: int) -> Fraction:
    """10, 100, 1 000 for × and ÷; 0,1, 0,01, 0,001 for the decimal factor."""
    return Fraction(1, 10**power) if action == "decimal_factor" else Fraction(10**power)


def _operator_text(action: str, power: int) -> str:
    """``× 100``, ``÷ 100`` or ``× 0,01``: one choice of the missing-operator variant."""
    symbol = "÷" if action == "divide" else "×"
    return f"{symbol} {n(_factor(action, power))}"


@register
class PowersOfTen(Engine):
    """× and ÷ by 10, 100, 1 000 and × 0,1, 0,01, 0,001, with any term hidden."""

    name = "powers_of_ten"
    title = "Multiplier et diviser par 10, 100, 1 000"
    description = "× et ÷ par 10, 100, 1 000, et × 0,1, 0,01, 0,001, sur des entiers ou des "
    "décimaux ; le résultat, le nombre de départ, le facteur ou l'opération à trouver."
    Options = PowersOfTenOptions

    def generate(self, options: PowersOfTenOptions, rng: random.Random) -> Question:
        action = rng.choice(_OPERATION_DRAWS[options.operation])
        power = rng.choice(options.powers)
        factor = _factor(action, power)
        start = draw_value(rng, options.low, options.high, options.decimals)
        if action != "multiply" and options.whole_results:
            # The drawn number is the quotient: the start is that many tens, hundreds…
            start = start * 10**power
        result = start * factor if action != "divide" else start / factor
        missing = options.missing
        if missing == "any":
            missing = rng.choice(["result", "start", "factor", "operator"])
        features = {
            "operation": action,
            "power": power,
            "decimals": decimal_places(start),
            "answer_decimals": decimal_places(result),
            "missing": missing,
        }
        correction = equation(start, _SIGN[action], factor, result)
        if missing == "operator":
            return self._operator_question(start, result, action, power, options, rng, features)
        place = {"start": "left", "factor": "right", "result": "result"}[missing]
        expected = {"start": start, "factor": factor, "result": result}[missing]
        return Question(
            prompt=equation(start, _SIGN[action], factor, result, hide=place),
            kind=Kind.NUMBER,
            expected=expected,
            solution=n(expected),
            correction=correction,
            features={**features, "answer_digits": digit_count(expected)},
            max_length=answer_length(expected),
        )

    def _operator_question(self, start, result, action, power, options, rng, features):
        if action == "multiply":
            # The wrong choices go the other way, written as the options ask.
            inverse = "decimal_factor" if options.operation == "decimal_factor" else "divide"
            if options.operation == "all":
                inverse = rng.choice(["divide", "decimal_factor"])
        else:
            inverse = action
        choices = [_operator_text("multiply", power) for power in options.powers]
        choices += [_operator_text(inverse, power) for power in options.powers]
        right = _operator_text(action, power)
        return Question(
            prompt=f"{n(start)} {BLANK} = {n(result)}",
            kind=Kind.CHOICE,
            expected=choices.index(right),
            solution=right,
            correction=equation(start, _SIGN[action], _factor(action, power), result),
            features=features,
            choices=tuple(choices),
        )


# Adding and subtracting decimals ----------------------------------------------------------


class DecimalSumOptions(EngineOptions):
    """The operation, the shape of the second number, sizes and carries."""

    operation: Literal["add", "subtract", "both"] = Field(
        "add",
        title="Opération",
        description="Addition, soustraction, ou l'une ou l'autre au hasard.",
    )
    second: Literal["whole", "part", "decimal"] = Field(
        "decimal",
        title="Second nombre",
        description="Un entier (4,7 + 3), un seul chiffre non nul (3,45 + 0,2 ; 5,6 + 30) "
        "ou un décimal (2,7 + 4,5).",
    )
    whole_digits: int = Field(
        1,
        ge=0,
        le=4,
        title="Chiffres avant la virgule",
        description="Au plus combien de chiffres avant la virgule dans chaque nombre "
        "(0 pour des nombres plus petits que 1).",
    )
    decimals: int = Field(
        1,
        ge=1,
        le=3,
        title="Décimales",
        description="Combien de chiffres après la virgule (1 pour 2,7 ; 2 pour 3,45).",
    )
    carry: Literal["any", "without", "with"] = Field(
        "any",
        title="Retenue",
        description="Sans retenue, avec au moins une retenue, ou au hasard (pour une "
        "soustraction : sans ou avec retenue dans la soustraction posée).",
    )

    def check(self) -> None:
        if self.second == "whole" and self.whole_digits == 0:
            raise ValueError(
                "Un second nombre entier demande au moins un chiffre avant la virgule."
            )


@register
class DecimalSums(Engine):
    """Sums and differences of decimals, with or without carry by construction."""

    name = "decimal_sums"
    title = "Additions et soustractions de décimaux"
    description = "Ajouter ou retirer un entier, un dixième, un centième ou un décimal à un "
    "décimal, avec ou sans retenue (3,45 + 0,2 ; 4,7 + 3 ; 2,7 + 4,5)."
    Options = DecimalSumOptions

    def generate(self, options: DecimalSumOptions, rng: random.Random) -> Question:
        first, second = _draw_addends(options, rng)
        scale = 10**options.decimals
        carried = carries(int(first * scale), int(second * scale))
        action = options.operation
        if action == "both":
            action = rng.choice(["add", "subtract"])
        if action == "add":
            left, sign, right, result = first, "+", second, first + second
        else:
            # Taking the second number back from the sum borrows where the sum carried.
            left, sign, right, result = first + second, "-", second, first
        return Question(
            prompt=equation(left, sign, right, result, hide="result"),
            kind=Kind.NUMBER,
            expected=result,
            solution=n(result),
            correction=equation(left, sign, right, result),
            features={
                "operation": action,
                "second": options.second,
                "carries" if action == "add" else "borrows": carried,
                "decimals": max(decimal_places(left), decimal_places(right)),
                "answer_digits": digit_count(result),
            },
            max_length=answer_length(result),
        )


def _draw_addends(options: DecimalSumOptions, rng: random.Random) -> tuple[Fraction, Fraction]:
    """Two addends built column by column, so that the carry option always holds.

    The first is a decimal with exactly ``decimals`` places; the second has the
    shape ``second`` asks for. Columns are places, from ``-decimals`` (the last
    decimal) to ``whole_digits - 1``.
    """
    places = list(range(-options.decimals, options.whole_digits))
    active = _second_places(options, places, rng)
    # Digits that must not be 0: the last decimals (so that 3,40 is not drawn)
    # and, for a whole second number, one of its digits (so that it is not 0).
    first_nonzero = {-options.decimals}
    second_nonzero = {active[0]} if options.second == "part" else set()
    if options.second == "decimal":
        second_nonzero = {-options.decimals}
    if options.second == "whole":
        second_nonzero = {rng.choice(active)}
    carry_place = rng.choice(active) if options.carry == "with" else None
    first = second = Fraction(0)
    for place in places:
        top, bottom = _column(
            rng,
            options.carry,
            place == carry_place,
            place in active,
            place in first_nonzero,
            place in second_nonzero,
        )
        first += top * Fraction(10) ** place
        second += bottom * Fraction(10) ** place
    return first, second


def _second_places(options: DecimalSumOptions, places: list[int], rng: random.Random):
    """The places where the second number may have digits."""
    if options.second == "whole":
        return [place for place in places if place >= 0]
    if options.second == "part":
        return [rng.choice(places)]
    return places


def _column(
    rng: random.Random,
    carry: str,
    forced: bool,
    active: bool,
    top_nonzero: bool,
    bottom_nonzero: bool,
) -> tuple[int, int]:
    """The two digits of one column: a carry when ``forced``, none when ``carry`` is "without"."""
    top_low = 1 if top_nonzero else 0
    bottom_low = 1 if bottom_nonzero else 0
    if not active:
        return rng.randint(top_low, 9), 0
    if forced:
        top = rng.randint(1, 9)
        return top, rng.randint(10 - top, 9)
    if carry == "without":
        top = rng.randint(top_low, 9 - bottom_low)
        return top, rng.randint(bottom_low, 9 - top)
    return rng.randint(top_low, 9), rng.randint(bottom_low, 9)
