"""Calcul réfléchi: estimating, friendly numbers, calcul différé, multiples and target pairs."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Literal

from pydantic import Field

from calculatice.engines.base import Engine, Kind, Question, register
from calculatice.engines.text import BLANK, carries, digit_count, n, operation
from calculatice.options import EngineOptions, number_set

NNBSP = "\u202f"
"""Narrow no-break space, put before « ? ! : ; » in French."""

Unit = Literal["ten", "hundred", "thousand"]
_UNITS = {"ten": 10, "hundred": 100, "thousand": 1000}


def _sum_text(terms: list[Fraction] | list[int]) -> str:
    return " + ".join(n(term) for term in terms)


def _product_text(factors: list[int]) -> str:
    return " × ".join(n(factor) for factor in factors)


def _place_pair(pair: tuple, others: list, rng: random.Random) -> tuple[list, tuple[int, int]]:
    """Shuffle the terms of a calculation; return them and where the friendly pair went."""
    tagged = [("pair", pair[0]), ("pair", pair[1])] + [("other", other) for other in others]
    rng.shuffle(tagged)
    places = tuple(index for index, (tag, _) in enumerate(tagged) if tag == "pair")
    return [term for _, term in tagged], (places[0], places[1])


# --------------------------------------------------------------------------- estimation


class EstimationOptions(EngineOptions):
    """The operation to estimate and the size of its operands."""

    operation: Literal["sum", "product", "both"] = Field(
        "sum",
        title="Opération",
        description="Estimer une somme, un produit, ou l'un ou l'autre au hasard.",
    )
    left_digits: int = Field(
        3,
        ge=1,
        le=5,
        title="Chiffres du premier nombre",
        description="Nombre de chiffres du premier terme ou facteur.",
    )
    right_digits: int = Field(
        3,
        ge=1,
        le=5,
        title="Chiffres du second nombre",
        description="Nombre de chiffres du second terme ou facteur.",
    )
    near_round: bool = Field(
        True,
        title="Proches de nombres ronds",
        description="Les nombres sont proches d'un nombre rond (398, 605), faciles à arrondir.",
    )


def _draw_operand(digits: int, near_round: bool, rng: random.Random) -> int:
    low, high = 10 ** (digits - 1), 10**digits - 1
    if not near_round or digits == 1:
        return rng.randint(low, high)
    # A round number (2 significant digits at most) moved by a few units: 398, 605, 2 010.
    step = 10 ** (digits - 1) if digits <= 3 else 10 ** (digits - 2)
    offset_size = max(1, step // 20)
    round_value = rng.randrange(low + step, high + 1, step)
    value = round_value + rng.choice([-1, 1]) * rng.randint(1, offset_size)
    return min(max(value, low), high)


def _round_to_two_digits(value: int) -> tuple[int, int]:
    """``value`` rounded to its two leading digits, and the rounding step."""
    step = 10 ** max(0, len(str(value)) - 2)
    return (value + step // 2) // step * step, step


@register
class Estimation(Engine):
    """Choice among four numbers: the one nearest a sum or a product."""

    name = "estimation"
    title = "Ordre de grandeur"
    description = "Choisir parmi quatre nombres le plus proche d'une somme ou d'un produit."
    Options = EstimationOptions

    def generate(self, options: EstimationOptions, rng: random.Random) -> Question:
        sign = options.operation
        if sign == "both":
            sign = rng.choice(["sum", "product"])
        left = _draw_operand(options.left_digits, options.near_round, rng)
        right = _draw_operand(options.right_digits, options.near_round, rng)
        exact = left + right if sign == "sum" else left * right
        wrong_operation = left * right if sign == "sum" else left + right

        right_choice, step = _round_to_two_digits(exact)
        distractors = _estimation_distractors(exact, right_choice, step, wrong_operation, rng)
        choices = [right_choice, *distractors]
        rng.shuffle(choices)

        symbol = "+" if sign == "sum" else "*"
        calculation = operation(left, symbol, right)
        return Question(
            prompt=f"Quel nombre est le plus proche de {calculation}{NNBSP}?",
            kind=Kind.CHOICE,
            expected=choices.index(right_choice),
            solution=n(right_choice),
            correction=f"{calculation} = {n(exact)}, proche de {n(right_choice)}.",
            features={
                "operation": sign,
                "left_digits": options.left_digits,
                "right_digits": options.right_digits,
                "result_digits": digit_count(exact),
                "near_round": int(options.near_round),
            },
            choices=tuple(n(choice) for choice in choices),
        )


def _estimation_distractors(
    exact: int, right_choice: int, step: int, wrong_operation: int, rng: random.Random
) -> list[int]:
    """Three plausible wrong estimates, each clearly farther from ``exact`` than the right one."""
    plausible = [right_choice * 10, right_choice + 3 * step, right_choice - 3 * step]
    if right_choice % 10 == 0:
        plausible.append(right_choice // 10)
    plausible.append(_round_to_two_digits(wrong_operation)[0])
    margin = 2 * abs(exact - right_choice) + step
    kept = sorted(
        {value for value in plausible if value > 0 and abs(value - exact) > margin}
        - {right_choice}
    )
    rng.shuffle(kept)
    picked = kept[:3]
    # Far orders of magnitude always qualify, so three distractors always exist.
    power = 100
    while len(picked) < 3:
        if right_choice * power not in picked:
            picked.append(right_choice * power)
        power *= 10
    return picked


# --------------------------------------------------------------------------- delayed_sum


class DelayedSumOptions(EngineOptions):
    """How long the calculation is shown, and the sizes of its numbers."""

    flash_seconds: int = Field(
        5,
        ge=2,
        le=15,
        title="Temps d'affichage (s)",
        description="Combien de secondes le calcul reste affiché avant d'être caché.",
    )
    unit: Unit = Field(
        "hundred",
        title="Nombre rond",
        description="Deux des nombres font ensemble une dizaine, une centaine ou un millier.",
    )
    pair_multiples: int = Field(
        1,
        ge=1,
        le=9,
        title="Multiples du nombre rond",
        description="La paire fait au plus ce nombre de dizaines, centaines ou milliers "
        "(1 : 10, 100 ou 1 000 exactement).",
    )
    largest: int = Field(
        500,
        ge=2,
        le=100000,
        title="Plus grand troisième nombre",
        description="Le troisième nombre est pris entre 1 et cette valeur.",
    )


def _friendly_pair(
    unit: int, multiples: int, rng: random.Random, grain: int = 1
) -> tuple[int, int]:
    """Two whole numbers, neither of them round, whose sum is a multiple of ``unit``.

    With ``grain`` > 1, the first number is not a multiple of ``grain`` either
    (0,25 + 0,75 rather than 0,5 + 0,5 when hundredths are asked for).
    """
    total = unit * rng.randint(1, multiples)
    first = rng.randint(1, total - 1)
    if grain > 1 and first % grain == 0:
        # grain divides the total, so first + 1 stays below it.
        first += 1
    if first % unit == 0:
        # first ≤ total − unit here, so the moved value stays below the total.
        first += rng.randint(1, unit - 1)
    return first, total - first


@register
class DelayedSum(Engine):
    """Calcul différé: three numbers flashed, two of them pairing into a round number."""

    name = "delayed_sum"
    title = "Calcul différé"
    description = (
        "Trois nombres dont deux font un nombre rond, montrés quelques secondes puis cachés."
    )
    Options = DelayedSumOptions

    def generate(self, options: DelayedSumOptions, rng: random.Random) -> Question:
        unit = _UNITS[options.unit]
        pair = _friendly_pair(unit, options.pair_multiples, rng)
        other = rng.randint(1, options.largest)
        terms, places = _place_pair(pair, [other], rng)
        total = sum(terms)
        return Question(
            prompt=f"Quel est le résultat{NNBSP}?",
            kind=Kind.FLASH,
            expected=Fraction(total),
            solution=n(total),
            correction=_pair_correction(pair, [other], total),
            features={
                "unit": unit,
                "pair_sum": sum(pair),
                "other": other,
                "total": total,
                "pair_adjacent": int(places[1] - places[0] == 1),
                "answer_digits": digit_count(total),
            },
            flash_seconds=float(options.flash_seconds),
            flash_text=_sum_text(terms),
            max_length=digit_count(total) + 2,
        )


def _pair_correction(pair: tuple, others: list, total) -> str:
    """``3 + 97 + 280 = 100 + 280 = 380``: the friendly pair first, then the rest."""
    pair_sum = pair[0] + pair[1]
    if not others:
        return f"{_sum_text(list(pair))} = {n(total)}"
    grouped = _sum_text([pair_sum, *others])
    return f"{_sum_text([*pair, *others])} = {grouped} = {n(total)}"


# --------------------------------------------------------------------------- friendly_sum


class FriendlySumOptions(EngineOptions):
    """The variant (whole sums, decimal sums, products) and the size of the other numbers."""

    variant: Literal["whole_sum", "decimal_sum", "product"] = Field(
        "whole_sum",
        title="Variante",
        description="Somme de nombres entiers, somme de décimaux, ou produit (4 × 17 × 25).",
    )
    terms: int = Field(
        3,
        ge=3,
        le=4,
        title="Nombre de termes",
        description="3 termes (une paire amie), ou 4 (deux paires pour les sommes).",
    )
    unit: Unit = Field(
        "hundred",
        title="Nombre rond",
        description="Pour les sommes entières : la paire fait une dizaine, une centaine "
        "ou un millier.",
    )
    decimals: int = Field(
        1,
        ge=1,
        le=2,
        title="Décimales",
        description="Pour les sommes de décimaux : dixièmes (1,2 + 0,8) ou centièmes "
        "(0,25 + 0,75).",
    )
    largest: int = Field(
        50,
        ge=2,
        le=10000,
        title="Plus grand autre nombre",
        description="Les nombres hors des paires amies sont pris jusqu'à cette valeur.",
    )


# Products that make a round number, the pupils' "friendly factors".
_FRIENDLY_FACTORS = [(2, 5), (4, 25), (2, 50), (5, 20), (8, 125), (4, 250), (2, 500), (25, 40)]


@register
class FriendlySum(Engine):
    """Sums and products shown in full, where two terms make a round number."""

    name = "friendly_sum"
    title = "Nombres amis"
    description = (
        "Sommes et produits où deux nombres s'associent bien (25 + 37 + 75, 4 × 17 × 25)."
    )
    Options = FriendlySumOptions

    def generate(self, options: FriendlySumOptions, rng: random.Random) -> Question:
        if options.variant == "product":
            return self._product(options, rng)
        return self._sum(options, rng)

    def _sum(self, options: FriendlySumOptions, rng: random.Random) -> Question:
        decimal = options.variant == "decimal_sum"
        scale = 10**options.decimals if decimal else 1
        unit = scale if decimal else _UNITS[options.unit]
        multiples = 3 if decimal else 1
        # Values are drawn as whole numbers of tenths or hundredths, then scaled down.
        grain = scale // 10 if decimal else 1
        pairs = [_friendly_pair(unit, multiples, rng, grain)]
        if options.terms == 4:
            pairs.append(_friendly_pair(unit, multiples, rng, grain))
        others = [rng.randint(1, options.largest * scale)] if options.terms == 3 else []
        pairs = [tuple(Fraction(value, scale) for value in pair) for pair in pairs]
        others = [Fraction(value, scale) for value in others]
        if len(pairs) == 2:
            terms, places = _place_pair(pairs[0], list(pairs[1]), rng)
        else:
            terms, places = _place_pair(pairs[0], others, rng)
        total = sum(terms, Fraction(0))
        grouped = [pair[0] + pair[1] for pair in pairs] + others
        correction = (
            f"{' + '.join(_sum_text(list(pair)) for pair in pairs)}"
            f"{''.join(' + ' + n(other) for other in others)}"
            f" = {_sum_text(grouped)} = {n(total)}"
        )
        return Question(
            prompt=f"{_sum_text(terms)} = {BLANK}",
            kind=Kind.NUMBER,
            expected=total,
            solution=n(total),
            correction=correction,
            features={
                "variant": options.variant,
                "terms": options.terms,
                "pair_sum": float(pairs[0][0] + pairs[0][1]),
                "total": float(total),
                "decimals": options.decimals if decimal else 0,
                "pair_adjacent": int(places[1] - places[0] == 1),
                "answer_digits": digit_count(total),
            },
            max_length=digit_count(total) + 3,
        )

    def _product(self, options: FriendlySumOptions, rng: random.Random) -> Question:
        pair = rng.choice(_FRIENDLY_FACTORS)
        count = options.terms - 2
        others = [rng.randint(2, max(2, options.largest)) for _ in range(count)]
        factors, places = _place_pair(pair, others, rng)
        total = 1
        for factor in factors:
            total *= factor
        round_product = pair[0] * pair[1]
        correction = (
            f"{_product_text([*pair, *others])} = {_product_text([round_product, *others])}"
            f" = {n(total)}"
        )
        return Question(
            prompt=f"{_product_text(factors)} = {BLANK}",
            kind=Kind.NUMBER,
            expected=Fraction(total),
            solution=n(total),
            correction=correction,
            features={
                "variant": options.variant,
                "terms": options.terms,
                "pair_product": round_product,
                "total": total,
                "decimals": 0,
                "pair_adjacent": int(places[1] - places[0] == 1),
                "answer_digits": digit_count(total),
            },
            max_length=digit_count(total) + 3,
        )


# --------------------------------------------------------------------------- multiples


class MultiplesOptions(EngineOptions):
    """Whose multiples (or divisors) to pick, among how many numbers up to which size."""

    variant: Literal["multiples", "divisors"] = Field(
        "multiples",
        title="Variante",
        description="Cocher les multiples d'un nombre, ou ses diviseurs.",
    )
    numbers: number_set(2, 1000) = Field(
        "2-9",
        title="Nombres",
        description="Le nombre dont on cherche les multiples (ou les diviseurs), "
        "par exemple 2;5;10 ou 24;36.",
    )
    highest: int = Field(
        100,
        ge=12,
        le=10000,
        title="Plus grand nombre proposé",
        description="Pour les multiples : les nombres proposés vont de 1 à cette valeur.",
    )
    choices: int = Field(
        10,
        ge=8,
        le=12,
        title="Nombres proposés",
        description="Combien de nombres sont proposés à l'élève.",
    )

    def check(self) -> None:
        if self.variant == "multiples" and min(self.numbers) > self.highest:
            raise ValueError(
                "Le plus grand nombre proposé doit dépasser au moins un des nombres "
                "dont on cherche les multiples."
            )


@register
class Multiples(Engine):
    """Pick every multiple (or every divisor) of a number among 8 to 12."""

    name = "multiples"
    title = "Multiples et diviseurs"
    description = "Cocher tous les multiples (ou tous les diviseurs) d'un nombre parmi 8 à 12."
    Options = MultiplesOptions

    def generate(self, options: MultiplesOptions, rng: random.Random) -> Question:
        divisors = options.variant == "divisors"
        if divisors:
            number = rng.choice(options.numbers)
            pool = range(1, max(number, 12) + 1)
            right_pool = [value for value in pool if number % value == 0]
        else:
            number = rng.choice([value for value in options.numbers if value <= options.highest])
            pool = range(1, options.highest + 1)
            right_pool = list(range(number, options.highest + 1, number))
        rights_set = set(right_pool)
        wrong_pool = [value for value in pool if value not in rights_set]

        count = options.choices
        # At least one right and one wrong number; about a third of them right.
        low = max(1, count - len(wrong_pool))
        high = min(len(right_pool), count - 1)
        right_count = min(max(low, round(count / 3) + rng.randint(-1, 1)), high)
        rights = sorted(rng.sample(right_pool, right_count))
        values = sorted(rights + rng.sample(wrong_pool, count - right_count))

        expected = frozenset(values.index(value) for value in rights)
        word = "diviseurs" if divisors else "multiples"
        return Question(
            prompt=f"Coche tous les {word} de {n(number)}.",
            kind=Kind.MULTI,
            expected=expected,
            solution=" ; ".join(n(value) for value in rights),
            correction=_multiples_correction(number, rights, divisors),
            features={
                "variant": options.variant,
                "number": number,
                "choices": count,
                "right_count": right_count,
                "largest": max(values),
            },
            choices=tuple(n(value) for value in values),
        )


def _multiples_correction(number: int, rights: list[int], divisors: bool) -> str:
    if divisors:
        facts = ", ".join(
            f"{n(value)} ({n(number)} = {n(value)} × {n(number // value)})" for value in rights
        )
        return f"Les diviseurs de {n(number)} proposés sont : {facts}."
    facts = ", ".join(f"{n(value)} ({n(number)} × {n(value // number)})" for value in rights)
    return f"Les multiples de {n(number)} proposés sont : {facts}."


# --------------------------------------------------------------------------- target_pairs


class TargetPairsOptions(EngineOptions):
    """The target, the grain of the numbers and how many numbers are shown."""

    target: Literal["ten", "hundred", "thousand", "one"] = Field(
        "ten",
        title="Total à atteindre",
        description="La somme des deux nombres : 10, 100, 1 000, ou 1 avec des décimaux.",
    )
    round_terms: bool = Field(
        False,
        title="Termes ronds",
        description="Les nombres sont des multiples du dixième du total (30 + 70, 0,3 + 0,7).",
    )
    choices: int = Field(
        6,
        ge=4,
        le=8,
        title="Nombres proposés",
        description="Combien de nombres sont proposés ; une seule paire fait le total.",
    )

    def check(self) -> None:
        if _pair_grain(self)[1] == 10 and self.choices > 6:
            raise ValueError(
                "Avec dix valeurs possibles, au plus 6 nombres peuvent être proposés "
                "sans former une seconde paire : choisir 6 nombres ou des termes non ronds."
            )


_TARGETS = {
    "ten": Fraction(10),
    "hundred": Fraction(100),
    "thousand": Fraction(1000),
    "one": Fraction(1),
}


def _pair_grain(options: TargetPairsOptions) -> tuple[Fraction, int]:
    """The grain of the numbers and how many grains make the target (10 or 100)."""
    target = _TARGETS[options.target]
    grain = target / 10 if options.round_terms or options.target == "ten" else target / 100
    return grain, int(target / grain)


def _digit_complement_error(value: int, size: int) -> int | None:
    """The classic error for a complement to 100: each digit to 10 (37 → 73)."""
    if size != 100 or value % 10 == 0:
        return None
    return (10 - value // 10) * 10 + (10 - value % 10)


@register
class TargetPairs(Engine):
    """Pick the only two numbers whose sum is the target (bouleetboule)."""

    name = "target_pairs"
    title = "Paires qui font le total"
    description = (
        "Parmi plusieurs nombres, cocher les deux dont la somme fait 10, 100, 1 000 ou 1."
    )
    Options = TargetPairsOptions

    def generate(self, options: TargetPairsOptions, rng: random.Random) -> Question:
        grain, size = _pair_grain(options)
        target = _TARGETS[options.target]
        # Work in grains (whole numbers from 1 to size − 1), scale at the end.
        first = rng.choice([value for value in range(1, size) if 2 * value != size])
        pair = [first, size - first]
        shown = set(pair)
        error = _digit_complement_error(first, size)
        if error is not None and 0 < error < size and size - error not in shown:
            shown.add(error)
        candidates = list(range(1, size))
        rng.shuffle(candidates)
        for value in candidates:
            if len(shown) >= options.choices:
                break
            if value not in shown and size - value not in shown:
                shown.add(value)
        order = sorted(shown)
        rng.shuffle(order)

        values = [grain * value for value in order]
        expected = frozenset(order.index(value) for value in pair)
        terms = sorted(grain * value for value in pair)
        return Question(
            prompt=f"Coche les deux nombres dont la somme est {n(target)}.",
            kind=Kind.MULTI,
            expected=expected,
            solution=f"{n(terms[0])} et {n(terms[1])}",
            correction=f"{n(terms[0])} + {n(terms[1])} = {n(target)}",
            features={
                "target": float(target),
                "grain": float(grain),
                "choices": len(values),
                "carries": carries(first, size - first),
                "decimals": 0 if grain.denominator == 1 else len(str(grain.denominator)) - 1,
            },
            choices=tuple(n(value) for value in values),
        )
