"""Number work: complements, doubles and halves, near-round numbers, sequences, place value.

These engines train what the programmes call "utiliser la numération pour
calculer": the pupil leans on tens, hundreds and units rather than on a
memorised fact. Products by decomposition are in the same spirit and live
here too.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Literal

from pydantic import Field

from calculatice.engines.base import Engine, Kind, Question, register
from calculatice.engines.text import (
    BLANK,
    borrows,
    carries,
    digit_count,
    equation,
    n,
    operation,
)
from calculatice.options import EngineOptions, number_set

NNBSP = "\u202f"
"""Narrow no-break space, written before « ; : ? » in French."""


# Shared helpers ---------------------------------------------------------------------------


def check_range(low: int, high: int, what: str = "nombre de départ") -> None:
    """Refuse a range whose ends are the wrong way round, with a French message."""
    if low > high:
        raise ValueError(f"Le plus petit {what} ({low}) dépasse le plus grand ({high}).")


def check_whole_range(low: int, high: int, decimals: int, what: str = "nombre de départ") -> None:
    """Refuse a range that holds no number for :func:`draw_value` to draw."""
    check_range(low, high, what)
    if decimals == 0 and high < 1:
        raise ValueError(f"Le plus grand {what} doit valoir au moins 1.")


def draw_value(rng: random.Random, low: int, high: int, decimals: int) -> Fraction:
    """A non-zero number whose whole part lies in ``low``–``high``, with exactly ``decimals``.

    With decimals, the last decimal digit is never 0, so that 3,40 is never
    drawn as a number with two decimals. Call :func:`check_whole_range` first.
    """
    if decimals == 0:
        return Fraction(rng.randint(max(low, 1), high))
    scale = 10**decimals
    # Draw the number without its last digit, then a last digit from 1 to 9.
    tens = rng.randint(low * scale // 10, (high + 1) * scale // 10 - 1)
    return Fraction(tens * 10 + rng.randint(1, 9), scale)


def decimal_places(value: Fraction) -> int:
    """How many digits a number has after its decimal comma (0 for a whole number)."""
    written = n(value)
    return len(written.split(",")[1]) if "," in written else 0


def nearest_round(number: int) -> int:
    """The round number a near-round number leans on: 99 → 100, 19 → 20, 101 → 100, 8 → 10.

    The largest power of ten whose nearest multiple is at most 2 away wins;
    otherwise the nearest ten (never 0).
    """
    for power in range(len(str(number)), 0, -1):
        unit = 10**power
        rounded = (number + unit // 2) // unit * unit
        if rounded and abs(number - rounded) <= 2:
            return rounded
    return max(10, (number + 5) // 10 * 10)


def answer_length(value: Fraction | int) -> int:
    """A maximum answer length that fits the expected answer with some room."""
    return len(n(value)) + 2


def _signed(value: Fraction | int) -> str:
    """``+ 3`` or ``− 3``: a term added or taken in a written calculation."""
    return f"+ {n(value)}" if value >= 0 else f"− {n(-value)}"


# Complements ------------------------------------------------------------------------------

ComplementMode = Literal["target", "next_ten", "next_hundred", "next_thousand", "next_unit"]
_NEXT_STEP = {"next_ten": 10, "next_hundred": 100, "next_thousand": 1000}


class ComplementOptions(EngineOptions):
    """What the complement goes to, and the range of the known number."""

    mode: ComplementMode = Field(
        "target",
        title="Complément",
        description="À un nombre cible (10, 100…), à la dizaine, à la centaine ou au millier "
        "suivant, ou d'un décimal à l'unité suivante (3,7 + … = 4).",
    )
    targets: number_set(2, 10_000) = Field(
        "10",
        title="Nombres cibles",
        description="Pour le complément à un nombre cible : 10, 20, 100, 1000, ou plusieurs "
        "comme 10;100.",
    )
    low: int = Field(
        1,
        ge=0,
        le=999_999,
        title="Nombre connu au moins",
        description="Le plus petit nombre connu (sa partie entière pour un décimal).",
    )
    high: int = Field(
        9,
        ge=0,
        le=999_999,
        title="Nombre connu au plus",
        description="Le plus grand nombre connu (sa partie entière pour un décimal).",
    )
    multiple_of: int = Field(
        1,
        ge=1,
        le=1000,
        title="Nombre connu multiple de",
        description="Pour le complément à un nombre cible : le nombre connu est un multiple "
        "de celui-ci (5 donne 35 + … = 100).",
    )
    decimals: int = Field(
        1,
        ge=1,
        le=3,
        title="Décimales",
        description="Pour le complément à l'unité suivante : chiffres après la virgule "
        "(1 pour 3,7 ; 2 pour 3,75).",
    )
    commute: bool = Field(
        False,
        title="Nombre manquant en premier",
        description="Le nombre manquant peut aussi être écrit en premier (… + 7 = 10).",
    )

    def check(self) -> None:
        check_range(self.low, self.high, "nombre connu")
        if self.mode == "target" and not _complement_targets(self):
            raise ValueError(
                "Aucun nombre connu entre le plus petit et le plus grand n'est plus petit "
                "qu'un nombre cible (et multiple du nombre choisi) : élargir l'intervalle."
            )
        step = _NEXT_STEP.get(self.mode)
        if step and self.low == self.high and self.low % step == 0:
            raise ValueError(f"{self.low} est déjà un multiple de {step} : élargir l'intervalle.")


def _known_bounds(options: ComplementOptions, target: int) -> tuple[int, int]:
    """The multipliers j such that j × multiple_of is a known term for ``target``."""
    step = options.multiple_of
    smallest = max(options.low, 1)
    largest = min(options.high, target - 1)
    return -(-smallest // step), largest // step


def _complement_targets(options: ComplementOptions) -> list[int]:
    """The targets that some allowed known number falls short of."""
    return [
        target
        for target in options.targets
        if _known_bounds(options, target)[0] <= _known_bounds(options, target)[1]
    ]


@register
class Complement(Engine):
    """Complements to a target, to the next ten, hundred, thousand or unit."""

    name = "complement"
    title = "Compléments"
    description = "Compléments à 10, 20, 100, 1 000, à la dizaine ou à la centaine suivante, "
    "d'un décimal à l'unité (7 + … = 10 ; 74 + … = 80 ; 3,7 + … = 4)."
    Options = ComplementOptions

    def generate(self, options: ComplementOptions, rng: random.Random) -> Question:
        known, total = self._draw_terms(options, rng)
        # "… + 7 = 10" half of the time when asked: the hidden term comes first.
        commuted = options.commute and rng.random() < 0.5
        return self._question(known, total, commuted, options)

    def _draw_terms(self, options: ComplementOptions, rng: random.Random):
        if options.mode == "target":
            target = rng.choice(_complement_targets(options))
            first, last = _known_bounds(options, target)
            return Fraction(rng.randint(first, last) * options.multiple_of), Fraction(target)
        if options.mode == "next_unit":
            known = draw_value(rng, options.low, options.high, options.decimals)
            return known, Fraction(known.numerator // known.denominator + 1)
        step = _NEXT_STEP[options.mode]
        known = rng.randint(options.low, options.high)
        if known % step == 0:
            # A round number has no "next" round number to reach: move off it.
            known = known + 1 if known < options.high else known - 1
        return Fraction(known), Fraction((known // step + 1) * step)

    def _question(self, known, total, commuted: bool, options: ComplementOptions) -> Question:
        answer = total - known
        left, right, hide = (answer, known, "left") if commuted else (known, answer, "right")
        return Question(
            prompt=equation(left, "+", right, total, hide=hide),
            kind=Kind.NUMBER,
            expected=answer,
            solution=n(answer),
            correction=equation(left, "+", right, total),
            features={
                "mode": options.mode,
                "target": float(total),
                "known_digits": digit_count(known),
                "answer_digits": digit_count(answer),
                "decimals": decimal_places(known),
            },
            max_length=answer_length(answer),
        )


# Doubles and halves -----------------------------------------------------------------------


class DoubleHalfOptions(EngineOptions):
    """Double, half or both, of chosen numbers, whole or decimal."""

    mode: Literal["double", "half", "both"] = Field(
        "double",
        title="Calcul",
        description="Le double, la moitié, ou l'un ou l'autre au hasard.",
    )
    numbers: number_set(0, 100_000, max_size=1000) = Field(
        "1-10",
        title="Nombres",
        description="Les nombres dont on cherche le double ou la moitié, par exemple "
        "1-10;20;30;40;50.",
    )
    decimals: int = Field(
        0,
        ge=0,
        le=2,
        title="Décimales",
        description="0 pour des entiers ; 1 ou 2 place une virgule dans les nombres choisis "
        "(47 devient 4,7 ou 0,47).",
    )
    odd_halves: bool = Field(
        False,
        title="Moitié des impairs",
        description="On demande aussi la moitié d'un nombre impair (moitié de 13 = 6,5).",
    )

    def check(self) -> None:
        if self.mode != "double" and not self.odd_halves and not _even(self.numbers):
            raise ValueError(
                "Aucun nombre pair parmi les nombres : ajouter des nombres pairs ou permettre "
                "la moitié des impairs."
            )


def _even(numbers: tuple[int, ...]) -> list[int]:
    return [number for number in numbers if number % 2 == 0]


def _halving_remainders(number: int) -> int:
    """How many times halving digit by digit leaves a remainder (36 → 1: the 3)."""
    return sum(int(digit) % 2 for digit in str(number)[:-1])


@register
class DoubleHalf(Engine):
    """Doubles and halves of chosen numbers, halves of odd numbers when allowed."""

    name = "double_half"
    title = "Doubles et moitiés"
    description = "Double ou moitié d'un nombre entier ou décimal (double de 35 ; moitié de 13)."
    Options = DoubleHalfOptions

    def generate(self, options: DoubleHalfOptions, rng: random.Random) -> Question:
        operation = options.mode if options.mode != "both" else rng.choice(["double", "half"])
        if operation == "double":
            digits = rng.choice(options.numbers)
        else:
            digits = rng.choice(options.numbers if options.odd_halves else _even(options.numbers))
        number = Fraction(digits, 10**options.decimals)
        if operation == "double":
            answer, word = 2 * number, "Double"
            sentence, difficulty = "Le double", carries(digits, digits)
        else:
            answer, word = number / 2, "Moitié"
            sentence, difficulty = "La moitié", _halving_remainders(digits)
        return Question(
            prompt=f"{word} de {n(number)}",
            kind=Kind.NUMBER,
            expected=answer,
            solution=n(answer),
            correction=f"{sentence} de {n(number)} est {n(answer)}.",
            features={
                "operation": operation,
                "number": float(number),
                "carries": difficulty,
                "odd": digits % 2,
                "decimals": decimal_places(answer),
                "answer_digits": digit_count(answer),
            },
            max_length=answer_length(answer),
        )


# Adding and taking near-round numbers -----------------------------------------------------


class NearRoundOptions(EngineOptions):
    """The near-round numbers, the operation and the start range."""

    numbers: number_set(1, 10_001) = Field(
        "9;11",
        title="Nombres presque ronds",
        description="Les nombres ajoutés ou retirés, par exemple 9;19;29 ou 99;101.",
    )
    operation: Literal["add", "subtract", "both"] = Field(
        "add",
        title="Opération",
        description="Ajouter, retirer, ou l'un ou l'autre au hasard.",
    )
    low: int = Field(
        10,
        ge=0,
        le=999_999,
        title="Nombre de départ au moins",
        description="Le plus petit nombre auquel on ajoute ou retire.",
    )
    high: int = Field(
        90,
        ge=0,
        le=999_999,
        title="Nombre de départ au plus",
        description="Le plus grand nombre auquel on ajoute ou retire.",
    )

    def check(self) -> None:
        check_range(self.low, self.high)
        if self.operation == "subtract" and min(self.numbers) > self.high:
            raise ValueError(
                "Les nombres à retirer dépassent tous le plus grand nombre de départ : "
                "le résultat serait négatif."
            )


@register
class NearRound(Engine):
    """Adding or taking a near-round number through the round number next to it."""

    name = "near_round"
    title = "Ajouter ou retirer 9, 11, 19, 99…"
    description = "Ajouter ou retirer un nombre proche d'un nombre rond (46 + 9 = 46 + 10 − 1)."
    Options = NearRoundOptions

    def generate(self, options: NearRoundOptions, rng: random.Random) -> Question:
        action = options.operation
        if action == "both":
            action = rng.choice(["add", "subtract"])
        takeable = [number for number in options.numbers if number <= options.high]
        if action == "subtract" and takeable:
            number = rng.choice(takeable)
            start = rng.randint(max(options.low, number), options.high)
        else:
            # "both" with nothing small enough to take away adds instead.
            action = "add"
            number = rng.choice(options.numbers)
            start = rng.randint(options.low, options.high)
        return self._question(start, action, number)

    def _question(self, start: int, action: str, number: int) -> Question:
        rounded = nearest_round(number)
        adjust = number - rounded
        sign = "+" if action == "add" else "-"
        result = start + number if action == "add" else start - number
        written = equation(start, sign, number, result)
        if abs(adjust) <= 2 and adjust:
            # 46 + 9 = 46 + 10 − 1 ; 83 − 9 = 83 − 10 + 1.
            turn = adjust if action == "add" else -adjust
            via = f"{n(start)} {'+' if action == 'add' else '−'} {n(rounded)} {_signed(turn)}"
            written = f"{operation(start, sign, number)} = {via} = {n(result)}"
        difficulty = carries(start, number) if action == "add" else borrows(start, number)
        return Question(
            prompt=equation(start, sign, number, result, hide="result"),
            kind=Kind.NUMBER,
            expected=Fraction(result),
            solution=n(result),
            correction=written,
            features={
                "operation": action,
                "number": number,
                "round": rounded,
                "adjust": adjust,
                "carries" if action == "add" else "borrows": difficulty,
                "answer_digits": digit_count(result),
            },
            max_length=answer_length(result),
        )


# Sequences --------------------------------------------------------------------------------

_STEP_UNITS = {"one": 1, "tenth": 10, "hundredth": 100}


class SequenceOptions(EngineOptions):
    """The step, its unit, the direction, the start and where the blank is."""

    steps: number_set(1, 1000) = Field(
        "2;5;10",
        title="Pas",
        description="De combien on avance ou on recule, par exemple 2;5;10, compté dans "
        "l'unité du pas.",
    )
    unit: Literal["one", "tenth", "hundredth"] = Field(
        "one",
        title="Unité du pas",
        description="Le pas compte des unités, des dixièmes (5 donne 0,5) ou des centièmes "
        "(5 donne 0,05).",
    )
    direction: Literal["forward", "backward", "both"] = Field(
        "forward",
        title="Sens",
        description="En avançant, en reculant, ou l'un ou l'autre au hasard.",
    )
    low: int = Field(
        0,
        ge=0,
        le=999_999,
        title="Premier nombre au moins",
        description="Le plus petit nombre par lequel la suite commence.",
    )
    high: int = Field(
        50,
        ge=0,
        le=999_999,
        title="Premier nombre au plus",
        description="Le plus grand nombre par lequel la suite commence.",
    )
    terms: int = Field(
        4,
        ge=3,
        le=6,
        title="Nombres écrits",
        description="Combien de nombres de la suite sont écrits, en plus de la case vide.",
    )
    blank: Literal["end", "middle", "any"] = Field(
        "end",
        title="Case vide",
        description="Le nombre à trouver : le suivant, un nombre du milieu, ou n'importe lequel.",
    )

    def check(self) -> None:
        check_range(self.low, self.high, "premier nombre")
        if self.direction == "backward" and not _backward_steps(self):
            raise ValueError(
                "En reculant, la suite passerait sous zéro : augmenter le plus grand premier "
                "nombre ou réduire le pas."
            )


def _backward_steps(options: SequenceOptions) -> list[int]:
    """The steps that let a backward sequence stay at or above zero."""
    top = options.high * _STEP_UNITS[options.unit]
    return [step for step in options.steps if step * options.terms <= top]


@register
class Sequence(Engine):
    """Number sequences with a constant step and one blank."""

    name = "sequence"
    title = "Suites de nombres"
    description = "Compter de 2 en 2, de 5 en 5, de 0,1 en 0,1… en avançant ou en reculant : "
    "trouver le nombre qui manque (12 ; 15 ; 18 ; …)."
    Options = SequenceOptions

    def generate(self, options: SequenceOptions, rng: random.Random) -> Question:
        scale = _STEP_UNITS[options.unit]
        direction = options.direction
        if direction == "both":
            direction = rng.choice(["forward", "backward"])
        backward_steps = _backward_steps(options)
        if direction == "backward" and backward_steps:
            step = rng.choice(backward_steps)
            start = rng.randint(
                max(options.low * scale, step * options.terms), options.high * scale
            )
        else:
            direction = "forward"
            step = rng.choice(options.steps)
            start = rng.randint(options.low * scale, options.high * scale)
        signed_step = step if direction == "forward" else -step
        values = [
            Fraction(start + index * signed_step, scale) for index in range(options.terms + 1)
        ]
        return self._question(values, self._blank_index(options, rng), direction, step, scale)

    def _blank_index(self, options: SequenceOptions, rng: random.Random) -> int:
        if options.blank == "end":
            return options.terms
        if options.blank == "middle":
            return rng.randint(1, options.terms - 1)
        return rng.randint(0, options.terms)

    def _question(self, values, blank: int, direction: str, step: int, scale: int) -> Question:
        answer = values[blank]
        shown = [BLANK if index == blank else n(value) for index, value in enumerate(values)]
        separator = f"{NNBSP}; "
        step_value = Fraction(step, scale)
        verb = "on ajoute" if direction == "forward" else "on enlève"
        full = separator.join(n(value) for value in values)
        return Question(
            prompt=separator.join(shown),
            kind=Kind.NUMBER,
            expected=answer,
            solution=n(answer),
            correction=f"{full} ({verb} {n(step_value)} à chaque fois)",
            features={
                "step": float(step_value),
                "direction": direction,
                "blank": blank,
                "decimals": decimal_places(step_value),
                "answer_digits": digit_count(answer),
            },
            max_length=answer_length(answer),
        )


# Place value ------------------------------------------------------------------------------

_ORDER_NAMES = {
    -3: ("millième", "millièmes"),
    -2: ("centième", "centièmes"),
    -1: ("dixième", "dixièmes"),
    0: ("unité", "unités"),
    1: ("dizaine", "dizaines"),
    2: ("centaine", "centaines"),
    3: ("millier", "milliers"),
    4: ("dizaine de mille", "dizaines de mille"),
    5: ("centaine de mille", "centaines de mille"),
    6: ("million", "millions"),
    7: ("dizaine de millions", "dizaines de millions"),
    8: ("centaine de millions", "centaines de millions"),
}


class PlaceValueOptions(EngineOptions):
    """Which task, how many digits, and what makes the number harder to read."""

    variant: Literal["decompose", "compose", "count", "any"] = Field(
        "decompose",
        title="Tâche",
        description="Décomposer dans un tableau (347 = … centaines … dizaines … unités), "
        "recomposer (3 centaines 4 dizaines 7 unités = …), compter les dizaines, centaines… "
        "d'un nombre (dizaines dans 4 560), ou au hasard.",
    )
    digits: int = Field(
        3,
        ge=1,
        le=9,
        title="Chiffres de la partie entière",
        description="Combien de chiffres a le nombre avant la virgule.",
    )
    decimals: int = Field(
        0,
        ge=0,
        le=3,
        title="Décimales",
        description="Combien de chiffres après la virgule (dixièmes, centièmes, millièmes).",
    )
    zeros: bool = Field(
        True,
        title="Zéros",
        description="Le nombre peut contenir des zéros (3 047), plus difficiles à lire.",
    )
    shuffle: bool = Field(
        False,
        title="Dans le désordre",
        description="Pour recomposer : les rangs sont donnés dans le désordre "
        "(7 unités 3 centaines).",
    )
    exchange: bool = Field(
        False,
        title="Avec échange",
        description="Pour recomposer : un rang dépasse 9 (4 centaines 13 dizaines 5 unités).",
    )

    def check(self) -> None:
        if self.digits + self.decimals < 2:
            raise ValueError("Il faut au moins deux chiffres en tout (chiffres et décimales).")


def _order_words(count: int, order: int) -> str:
    """``3 centaines``, ``1 dizaine``, ``0 unité``: a count of units of one order."""
    singular, plural = _ORDER_NAMES[order]
    return f"{n(count)} {singular if count <= 1 else plural}"


def _of(order: int) -> str:
    """``de dizaines`` or ``d'unités``: the elided French partitive."""
    plural = _ORDER_NAMES[order][1]
    return f"d'{plural}" if plural[0] in "aeiouhé" else f"de {plural}"


@register
class PlaceValue(Engine):
    """Place value: decompose into orders, compose back, count tens or tenths."""

    name = "place_value"
    title = "Numération : unités, dizaines, centaines…"
    description = "Décomposer un nombre dans le tableau de numération, le recomposer, ou "
    "compter ses dizaines, ses centaines… (combien de dizaines dans 4 560 ?)."
    Options = PlaceValueOptions

    def generate(self, options: PlaceValueOptions, rng: random.Random) -> Question:
        orders = list(range(options.digits - 1, -options.decimals - 1, -1))
        digits = self._draw_digits(options, len(orders), rng)
        value = sum(
            (
                Fraction(digit) * Fraction(10) ** order
                for digit, order in zip(digits, orders, strict=True)
            ),
            Fraction(0),
        )
        variant = options.variant
        if variant == "any":
            variant = rng.choice(["decompose", "compose", "count"])
        features = {
            "variant": variant,
            "digits": options.digits,
            "decimals": options.decimals,
            "zeros": digits.count(0),
        }
        if variant == "decompose":
            return self._decompose(value, digits, orders, features)
        if variant == "compose":
            return self._compose(value, digits, orders, options, rng, features)
        return self._count(value, orders, options, rng, features)

    def _draw_digits(self, options: PlaceValueOptions, size: int, rng: random.Random):
        smallest = 0 if options.zeros else 1
        digits = [rng.randint(1, 9)] + [rng.randint(smallest, 9) for _ in range(size - 1)]
        if options.decimals:
            # The last decimal is never 0: 3,40 would not show two decimals.
            digits[-1] = rng.randint(1, 9)
        return digits

    def _decompose(self, value, digits, orders, features) -> Question:
        cells = tuple(_ORDER_NAMES[order][1] for order in orders)
        written = " ".join(
            _order_words(digit, order) for digit, order in zip(digits, orders, strict=True)
        )
        return Question(
            prompt=f"{n(value)} = " + " ".join(f"{BLANK} {cell}" for cell in cells),
            kind=Kind.GRID,
            expected=tuple(Fraction(digit) for digit in digits),
            solution=written,
            correction=f"{n(value)} = {written}",
            features=features,
            cells=cells,
            layout={"table": "place_value", "number": n(value), "orders": list(orders)},
            max_length=2,
        )

    def _compose(self, value, digits, orders, options, rng, features) -> Question:
        counts = list(digits)
        if options.exchange:
            # Break one unit of an order into ten of the order below it.
            breakable = [index for index in range(len(counts) - 1) if counts[index] >= 1]
            index = rng.choice(breakable)
            counts[index] -= 1
            counts[index + 1] += 10
        parts = [
            _order_words(count, order)
            for count, order in zip(counts, orders, strict=True)
            if count != 0
        ]
        if options.shuffle:
            rng.shuffle(parts)
        listed = " ".join(parts)
        return Question(
            prompt=f"{listed} = {BLANK}",
            kind=Kind.NUMBER,
            expected=value,
            solution=n(value),
            correction=f"{listed} = {n(value)}",
            features={
                **features,
                "exchange": int(options.exchange),
                "shuffled": int(options.shuffle),
                "parts": len(parts),
            },
            max_length=answer_length(value),
        )

    def _count(self, value, orders, options, rng, features) -> Question:
        # Counting the units of a whole number asks for the number itself: leave it out.
        countable = [order for order in orders if order != 0 or options.decimals]
        order = rng.choice(countable)
        answer = Fraction(int(value / Fraction(10) ** order))
        return Question(
            prompt=f"Combien {_of(order)} dans {n(value)}{NNBSP}?",
            kind=Kind.NUMBER,
            expected=answer,
            solution=n(answer),
            correction=f"Dans {n(value)}, il y a {_order_words(int(answer), order)}.",
            features={**features, "order": order, "answer_digits": digit_count(answer)},
            max_length=answer_length(answer),
        )


# Products by decomposition ----------------------------------------------------------------


class ProductOptions(EngineOptions):
    """The factor worked on and the range of the other factor."""

    factors: number_set(1, 1000) = Field(
        "5",
        title="Facteurs travaillés",
        description="Le nombre par lequel on multiplie : 5;50, 4;8, 11, 9;99, 12, 2-9…",
    )
    low: int = Field(
        11,
        ge=0,
        le=99_999,
        title="Autre facteur au moins",
        description="Le plus petit autre facteur (sa partie entière s'il est décimal).",
    )
    high: int = Field(
        19,
        ge=0,
        le=99_999,
        title="Autre facteur au plus",
        description="Le plus grand autre facteur (sa partie entière s'il est décimal).",
    )
    multiple_of: int = Field(
        1,
        ge=1,
        le=1000,
        title="Autre facteur multiple de",
        description="L'autre facteur est un multiple de ce nombre (10 donne 7 × 30, "
        "100 donne 6 × 300).",
    )
    decimals: int = Field(
        0,
        ge=0,
        le=2,
        title="Décimales de l'autre facteur",
        description="0 pour un entier ; 1 ou 2 pour un décimal (1,6 × 5 ; 3,5 × 4).",
    )
    avoid_round: bool = Field(
        False,
        title="Sans dizaine ronde",
        description="L'autre facteur n'est jamais un multiple de 10 (pas de 20 × 7 dans un "
        "calcul par décomposition).",
    )
    commute: bool = Field(
        True,
        title="Dans les deux sens",
        description="Le facteur travaillé peut être écrit à gauche ou à droite.",
    )

    def check(self) -> None:
        check_whole_range(self.low, self.high, self.decimals, "autre facteur")
        if self.decimals:
            if self.multiple_of > 1:
                raise ValueError(
                    "Un autre facteur décimal ne peut pas être un multiple d'un entier : "
                    "mettre « multiple de » à 1 ou les décimales à 0."
                )
            return
        first, last = _multiplier_bounds(self)
        if first > last:
            raise ValueError(
                f"Aucun multiple de {self.multiple_of} entre {self.low} et {self.high} : "
                "élargir l'intervalle de l'autre facteur."
            )
        if self.avoid_round and (
            self.multiple_of % 10 == 0 or (first == last and first * self.multiple_of % 10 == 0)
        ):
            raise ValueError(
                "Sans dizaine ronde, l'autre facteur n'a aucune valeur possible : changer "
                "« multiple de » ou l'intervalle."
            )


def _multiplier_bounds(options: ProductOptions) -> tuple[int, int]:
    """The multipliers j such that j × multiple_of is an allowed other factor."""
    step = options.multiple_of
    return -(-max(options.low, 1) // step), options.high // step


def _leading_split(value: Fraction) -> tuple[Fraction, Fraction]:
    """Split a number into its leading digit's part and the rest: 23 → 20 + 3; 2,3 → 2 + 0,3."""
    whole = value.numerator // value.denominator
    if whole:
        unit = 10 ** (len(str(whole)) - 1)
    else:
        unit = Fraction(1, 10)
        while unit > value:
            unit /= 10
    head = Fraction(int(value / unit)) * unit
    return head, value - head


def _strip_zeros(value: Fraction) -> tuple[Fraction, int]:
    """``400`` → ``(4, 2)``: a whole number without its trailing zeros, and how many."""
    power = 0
    while value.denominator == 1 and value and value % 10 == 0:
        value /= 10
        power += 1
    return value, power


@register
class MentalProducts(Engine):
    """Products worked out by decomposition, doubling, halving or a near-round factor."""

    name = "mental_products"
    title = "Produits astucieux"
    description = "Produits par décomposition et distributivité : 13 × 7, 7 × 30, 16 × 5, "
    "24 × 25, 17 × 99, 23 × 12…"
    Options = ProductOptions

    def generate(self, options: ProductOptions, rng: random.Random) -> Question:
        factor = Fraction(rng.choice(options.factors))
        other = self._draw_other(options, rng)
        factor_first = options.commute and rng.random() < 0.5
        left, right = (factor, other) if factor_first else (other, factor)
        product = factor * other
        strategy, method = _product_method(other, factor)
        shown = f"{n(left)} × {n(right)}"
        correction = f"{shown} = {method} = {n(product)}" if method else f"{shown} = {n(product)}"
        if strategy == "doubling":
            correction = f"{shown} = {n(product)} : {_doubling_story(other, factor)}."
        return Question(
            prompt=f"{shown} = {BLANK}",
            kind=Kind.NUMBER,
            expected=product,
            solution=n(product),
            correction=correction,
            features={
                "factor": int(factor),
                "other": float(other),
                "strategy": strategy,
                "decimals": decimal_places(other),
                "other_digits": digit_count(other),
                "answer_digits": digit_count(product),
            },
            max_length=answer_length(product),
        )

    def _draw_other(self, options: ProductOptions, rng: random.Random) -> Fraction:
        if options.decimals:
            return draw_value(rng, options.low, options.high, options.decimals)
        first, last = _multiplier_bounds(options)
        multiplier = rng.randint(first, last)
        if options.avoid_round and multiplier * options.multiple_of % 10 == 0:
            # The neighbouring multiple is never round when multiple_of is not.
            multiplier = multiplier + 1 if multiplier < last else multiplier - 1
        return Fraction(multiplier * options.multiple_of)


def _product_method(other: Fraction, factor: Fraction) -> tuple[str, str]:
    """The strategy a product calls for and its middle step (``10 × 7 + 3 × 7 = 70 + 21``)."""
    other_core, other_zeros = _strip_zeros(other)
    factor_core, factor_zeros = _strip_zeros(factor)
    # A digit times whole tens (4 × 30) is a table fact and a shift, whatever the digit.
    if factor < 10 and other_zeros:
        return "round", _round_step(other_core, factor_core, other_zeros)
    if factor in (4, 8):
        return "doubling", ""
    if factor in (5, 50, 500):
        scale = factor * 2
        return "halving", f"{n(other)} × {n(scale)} ÷ 2 = {n(other * scale)} ÷ 2"
    if factor in (25, 250):
        scale = factor * 4
        return "quarter", f"{n(other)} × {n(scale)} ÷ 4 = {n(other * scale)} ÷ 4"
    if other_zeros + factor_zeros:
        return "round", _round_step(other_core, factor_core, other_zeros + factor_zeros)
    rounded = Fraction(nearest_round(int(factor)))
    if factor >= 9 and abs(factor - rounded) <= 2:
        return "near_round", _near_round_step(other, factor, rounded)
    return _decomposition(other, factor)


def _round_step(other_core: Fraction, factor_core: Fraction, zeros: int) -> str:
    """``3 × 7 × 10 = 21 × 10``: a product of round numbers; empty for 7 × 10."""
    if 1 in (other_core, factor_core):
        return ""
    power = Fraction(10) ** zeros
    core = other_core * factor_core
    return f"{n(other_core)} × {n(factor_core)} × {n(power)} = {n(core)} × {n(power)}"


def _near_round_step(other: Fraction, factor: Fraction, rounded: Fraction) -> str:
    """``17 × 100 − 17 = 1 700 − 17``: a product by a near-round factor."""
    adjust = factor - rounded
    extra = n(other) if abs(adjust) == 1 else f"{n(other)} × {n(abs(adjust))}"
    sign = "+" if adjust > 0 else "−"
    return (
        f"{n(other)} × {n(rounded)} {sign} {extra} = "
        f"{n(other * rounded)} {sign} {n(other * abs(adjust))}"
    )


def _decomposition(other: Fraction, factor: Fraction) -> tuple[str, str]:
    """``10 × 7 + 3 × 7 = 70 + 21``: split the other factor (or the factor) in two parts."""
    head, rest = _leading_split(other)
    if rest:
        return "decomposition", (
            f"{n(head)} × {n(factor)} + {n(rest)} × {n(factor)} = "
            f"{n(head * factor)} + {n(rest * factor)}"
        )
    head, rest = _leading_split(factor)
    if rest:
        return "decomposition", (
            f"{n(other)} × {n(head)} + {n(other)} × {n(rest)} = "
            f"{n(other * head)} + {n(other * rest)}"
        )
    return "fact", ""


def _doubling_story(other: Fraction, factor: Fraction) -> str:
    """``le double de 16 est 32, le double de 32 est 64``: ×4 and ×8 by doubling."""
    steps = []
    value = other
    while factor > 1:
        steps.append(f"le double de {n(value)} est {n(2 * value)}")
        value, factor = 2 * value, factor / 2
    return ", ".join(steps)
