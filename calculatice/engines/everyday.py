"""Everyday maths and pictures: money, clocks, fractions of things, recipes, percentages.

The pictures (clock faces, shaded shapes, coins and notes) are drawn by
:mod:`calculatice.engines.pictures`. Amounts of money are held in cents, as
whole numbers, and given to the checking as exact fractions of a euro.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from pydantic import Field

from calculatice.engines.base import (
    Engine,
    Kind,
    Outcome,
    Question,
    Response,
    Verdict,
    check_response,
    register,
)
from calculatice.engines.pictures import (
    bar_svg,
    clock_svg,
    disc_svg,
    euro_label,
    grid_svg,
    money_svg,
)
from calculatice.engines.text import BLANK, digit_count, n
from calculatice.numbers import is_decimal, read_number
from calculatice.options import EngineOptions, number_set

NBSP = "\u00a0"
"""No-break space: between a number and its unit (3,50 €, 100 m)."""
NNBSP = "\u202f"
"""Narrow no-break space: before « ? », « : », « % »."""


def _sentence_list(parts: list[str]) -> str:
    """``a``, ``a et b``, ``a, b et c``."""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " et " + parts[-1]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------

MoneyVariant = Literal["total", "change", "both", "count"]
CentsMode = Literal["none", "fifty", "tens", "any"]
_CENTS: dict[str, tuple[int, ...]] = {
    "none": (0,),
    "fifty": (0, 50),
    "tens": tuple(range(0, 100, 10)),
    "any": tuple(range(100)),
}
_SMALLEST_PIECE = {"none": 100, "fifty": 50, "tens": 10, "any": 1}
_PIECES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
_NOTES = {5, 10, 20, 50, 100, 200, 500}
# Articles by price band (whole euros below the band's limit), so that a bike is not sold 2 €.
_ARTICLES = (
    (
        10,
        (
            "un stylo",
            "une gomme",
            "un cahier",
            "une règle",
            "un crayon",
            "un paquet de bonbons",
            "une baguette",
            "un feutre",
        ),
    ),
    (
        50,
        (
            "un livre",
            "un ballon",
            "un jeu de cartes",
            "un puzzle",
            "un tee-shirt",
            "une trousse",
            "un sac",
        ),
    ),
    (
        None,
        (
            "un vélo",
            "une trottinette",
            "une montre",
            "un casque",
            "une tablette",
            "une guitare",
        ),
    ),
)


class MoneyOptions(EngineOptions):
    """What is asked (total, change, counting money), prices and what pays."""

    variant: MoneyVariant = Field(
        "total",
        title="Question",
        description="Le prix total des achats, la monnaie rendue, l'un ou l'autre au hasard, "
        "ou compter les pièces et billets dessinés.",
    )
    items: int = Field(
        2,
        ge=1,
        le=4,
        title="Nombre d'articles",
        description="Combien d'articles sont achetés (au moins 2 pour un total).",
    )
    prices: number_set(0, 500) = Field(
        "1-9",
        title="Prix en euros",
        description="Les parties entières possibles des prix, en euros, par exemple 1-9.",
    )
    cents: CentsMode = Field(
        "none",
        title="Centimes",
        description="Sans centimes, 0 ou 50 c, des dizaines de centimes (2,30 €) "
        "ou n'importe quels centimes (2,35 €).",
    )
    pay_with: number_set(1, 1000) = Field(
        "10;20",
        title="Somme donnée (€)",
        description="Les billets ou pièces avec lesquels on paye, pour la monnaie rendue.",
    )
    pieces: int = Field(
        3,
        ge=1,
        le=8,
        title="Pièces et billets dessinés",
        description="Combien de pièces et billets sont dessinés pour « compter l'argent ».",
    )
    largest: int = Field(
        10,
        ge=1,
        le=500,
        title="Plus grande valeur dessinée (€)",
        description="La plus grande pièce ou le plus grand billet dessiné, en euros.",
    )

    def check(self) -> None:
        if self.variant in ("total", "both") and self.items < 2:
            raise ValueError("Pour calculer un total, il faut au moins 2 articles.")
        if self.cents == "none" and self.prices == (0,):
            raise ValueError("Sans centimes, un prix ne peut pas valoir 0 €\u202f: choisir 1-9.")
        cheapest_total = self.items * _cheapest_price(self.prices, self.cents)
        if self.variant in ("change", "both") and max(self.pay_with) * 100 <= cheapest_total:
            raise ValueError(
                "La somme donnée doit dépasser le prix des articles les moins chers\u202f: "
                "choisir un plus gros billet ou des prix plus petits."
            )


@lru_cache(maxsize=64)
def _cheapest_price(prices: tuple[int, ...], cents: str) -> int:
    """The smallest price in cents the options allow (never 0)."""
    return min(
        euros * 100 + extra
        for euros in prices
        for extra in _CENTS[cents]
        if euros * 100 + extra > 0
    )


def _draw_price(options: MoneyOptions, rng: random.Random, cap: int) -> int:
    """A price in cents, positive and at most ``cap`` (the caller makes sure one exists)."""
    smallest_extra = min((extra for extra in _CENTS[options.cents] if extra > 0), default=None)

    def cheapest_with(euros: int) -> int | None:
        if euros > 0:
            return euros * 100
        return smallest_extra

    euros_allowed = [
        euros
        for euros in options.prices
        if cheapest_with(euros) is not None and cheapest_with(euros) <= cap
    ]
    euros = rng.choice(euros_allowed)
    extras = [extra for extra in _CENTS[options.cents] if 0 < euros * 100 + extra <= cap]
    return euros * 100 + rng.choice(extras)


def euros_number(cents: int) -> str:
    """An amount in euros as typed: ``7``, ``3,50``, ``1 200,05`` (two decimals when cents)."""
    whole = n(cents // 100)
    return whole if cents % 100 == 0 else f"{whole},{cents % 100:02d}"


def euros_text(cents: int) -> str:
    """An amount with its sign: ``3,50 €``."""
    return f"{euros_number(cents)}{NBSP}€"


def _article(cents: int, taken: list[str], rng: random.Random) -> str:
    for limit, names in _ARTICLES:
        if limit is None or cents < limit * 100:
            return rng.choice([name for name in names if name not in taken])
    raise AssertionError("the last price band has no limit")


def _payment_text(euros: int) -> str:
    if euros in _NOTES:
        return f"Tu payes avec un billet de {n(euros)}{NBSP}€."
    if euros in (1, 2):
        return f"Tu payes avec une pièce de {n(euros)}{NBSP}€."
    return f"Tu donnes {n(euros)}{NBSP}€."


def _money_question(
    prompt: str, answer_cents: int, correction: str, features: dict, svg: str | None = None
) -> Question:
    solution = euros_number(answer_cents)
    return Question(
        prompt=prompt,
        kind=Kind.PICTURE if svg else Kind.NUMBER,
        expected=Fraction(answer_cents, 100),
        solution=solution,
        correction=correction,
        features={
            **features,
            "answer_cents": answer_cents,
            "with_cents": int(answer_cents % 100 != 0),
            "answer_digits": digit_count(Fraction(answer_cents, 100)),
        },
        svg=svg,
        max_length=len(solution) + 3,
    )


@register
class Money(Engine):
    """Shopping sums: the total of a few articles, the change from a note, or counting money.

    Prices are whole euros, or euros and cents written with a decimal comma
    (3,50 €) according to ``cents``. The answer is typed in euros: 5,5 and
    5,50 are both right for 5,50 €.
    """

    name = "money"
    title = "La monnaie"
    description = "Prix total d'achats, monnaie rendue sur un billet, ou argent dessiné à compter."
    Options = MoneyOptions

    def generate(self, options: MoneyOptions, rng: random.Random) -> Question:
        variant = options.variant
        if variant == "both":
            variant = rng.choice(["total", "change"])
        if variant == "count":
            return self._count(options, rng)
        if variant == "change":
            return self._change(options, rng)
        return self._total(options, rng)

    def _basket(
        self, options: MoneyOptions, rng: random.Random, budget: int
    ) -> tuple[list[int], str]:
        """Prices in cents whose sum is at most ``budget``, and the sentence listing them."""
        cheapest = _cheapest_price(options.prices, options.cents)
        prices: list[int] = []
        for index in range(options.items):
            # Leave room for the articles still to draw, at their cheapest.
            cap = budget - sum(prices) - (options.items - index - 1) * cheapest
            prices.append(_draw_price(options, rng, cap))
        names: list[str] = []
        for price in prices:
            names.append(_article(price, names, rng))
        bought = [
            f"{name} à {euros_text(price)}" for name, price in zip(names, prices, strict=True)
        ]
        return prices, f"Tu achètes {_sentence_list(bought)}."

    def _total(self, options: MoneyOptions, rng: random.Random) -> Question:
        prices, sentence = self._basket(options, rng, budget=10**9)
        total = sum(prices)
        correction = " + ".join(euros_text(price) for price in prices) + f" = {euros_text(total)}"
        return _money_question(
            f"{sentence} Combien payes-tu{NNBSP}?",
            total,
            correction,
            {"variant": "total", "items": len(prices)},
        )

    def _change(self, options: MoneyOptions, rng: random.Random) -> Question:
        cheapest_total = options.items * _cheapest_price(options.prices, options.cents)
        paid = rng.choice([euros for euros in options.pay_with if euros * 100 > cheapest_total])
        # The change is never zero: the basket costs at most one cent less than what is paid.
        prices, sentence = self._basket(options, rng, budget=paid * 100 - 1)
        total = sum(prices)
        change = paid * 100 - total
        steps = []
        if len(prices) > 1:
            steps.append(
                " + ".join(euros_text(price) for price in prices) + f" = {euros_text(total)}"
            )
        steps.append(f"{euros_text(paid * 100)} − {euros_text(total)} = {euros_text(change)}")
        return _money_question(
            f"{sentence} {_payment_text(paid)} Combien te rend-on{NNBSP}?",
            change,
            "\u202f; ".join(steps),
            {"variant": "change", "items": len(prices), "paid_cents": paid * 100},
        )

    def _count(self, options: MoneyOptions, rng: random.Random) -> Question:
        smallest = _SMALLEST_PIECE[options.cents]
        values = [cents for cents in _PIECES if smallest <= cents <= options.largest * 100]
        pieces = sorted((rng.choice(values) for _ in range(options.pieces)), reverse=True)
        total = sum(pieces)
        labels = " + ".join(euro_label(cents) for cents in pieces)
        return _money_question(
            f"Combien d'argent y a-t-il en tout{NNBSP}? Réponds en euros.",
            total,
            f"{labels} = {euros_text(total)}",
            {"variant": "count", "items": len(pieces)},
            svg=money_svg(pieces),
        )


# --------------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------------

Afternoon = Literal["never", "sometimes", "always"]


class ClockOptions(EngineOptions):
    """How finely the minutes go, and whether the afternoon hours are asked."""

    minutes_step: int = Field(
        15,
        ge=1,
        le=60,
        title="Pas des minutes",
        description="60 pour les heures pile, 30 pour les demies, 15 pour les quarts "
        "d'heure, puis 5 ou 1.",
    )
    afternoon: Afternoon = Field(
        "never",
        title="L'après-midi",
        description="Jamais, parfois ou toujours, l'heure est demandée l'après-midi "
        "ou le soir (réponse de 12 à 23 h).",
    )

    def check(self) -> None:
        if 60 % self.minutes_step != 0:
            raise ValueError(
                "Le pas des minutes doit diviser 60\u202f: "
                "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 ou 60."
            )


def _time_text(hour: int, minute: int) -> str:
    """``3 h``, ``3 h 05``, ``15 h 30``."""
    return f"{hour}{NBSP}h" if minute == 0 else f"{hour}{NBSP}h{NBSP}{minute:02d}"


@register
class Clock(Engine):
    """Read an analogue clock: the pupil types the hours, then the minutes (a grid).

    The dial has twelve hours, so the reading is designed as follows. When
    the prompt does not speak of the afternoon, the expected hour is the one
    on the dial, 1 to 12 (12 for noon); the other readings of the same dial
    are right too: 0 for 12 (midnight) and 13 to 23 for 1 to 11 (the
    afternoon). When the prompt asks for the hour « de l'après-midi » (12 to
    17 h) or « du soir » (18 to 23 h), only that reading is right: 13 to 23,
    and 12 for the twelve (12 h 30 is half past noon). With ``minutes_step``
    60 only the hours are asked (one cell).
    """

    name = "clock"
    title = "Lire l'heure"
    description = (
        "Lire l'heure sur une horloge à aiguilles\u202f: heures pile, demies, quarts, minutes."
    )
    Options = ClockOptions

    def generate(self, options: ClockOptions, rng: random.Random) -> Question:
        dial_hour = rng.randint(1, 12)
        minute = rng.randrange(0, 60, options.minutes_step)
        afternoon = options.afternoon == "always" or (
            options.afternoon == "sometimes" and rng.random() < 0.5
        )
        hour = dial_hour if not afternoon or dial_hour == 12 else dial_hour + 12
        hours_only = options.minutes_step == 60
        expected = (Fraction(hour),) if hours_only else (Fraction(hour), Fraction(minute))
        cells = ("heures",) if hours_only else ("heures", "minutes")
        if afternoon:
            # After six, French says « du soir » rather than « de l'après-midi ».
            moment = "du soir" if hour >= 18 else "de l'après-midi"
            prompt = f"Quelle heure {moment} indique l'horloge{NNBSP}?"
            correction = f"Il est {_time_text(hour, minute)}"
            if hour != dial_hour:
                correction += f" ({_time_text(dial_hour, minute)} {moment})"
        else:
            prompt = f"Quelle heure indique l'horloge{NNBSP}?"
            other = 0 if dial_hour == 12 else dial_hour + 12
            correction = (
                f"L'horloge indique {_time_text(hour, minute)} (ou {_time_text(other, minute)})"
            )
        return Question(
            prompt=prompt,
            kind=Kind.GRID,
            expected=expected,
            solution=_time_text(hour, minute),
            correction=correction + ".",
            features={
                "dial_hour": dial_hour,
                "minute": minute,
                "minutes_step": options.minutes_step,
                "afternoon": int(afternoon),
            },
            cells=cells,
            svg=clock_svg(hour, minute),
            max_length=2,
        )

    def check(self, question: Question, response: Response | None) -> Verdict:
        """Grid checking, and the other readings of the dial when the afternoon is not asked."""
        verdict = check_response(question, response)
        if verdict.outcome is not Outcome.WRONG or question.features.get("afternoon"):
            return verdict
        values = [read_number(str(text)) for text in response]  # type: ignore[union-attr]
        if tuple(values[1:]) != tuple(question.expected[1:]):
            return verdict
        dial_hour = int(question.expected[0]) % 12
        if values[0] in (dial_hour, dial_hour + 12):
            return Verdict(Outcome.RIGHT, verdict.read_as)
        return verdict


# --------------------------------------------------------------------------------------------
# Fractions in words, and units of quantities
# --------------------------------------------------------------------------------------------

_FRACTION_NAMES = {
    2: ("demi", "demis"),
    3: ("tiers", "tiers"),
    4: ("quart", "quarts"),
    5: ("cinquième", "cinquièmes"),
    6: ("sixième", "sixièmes"),
    7: ("septième", "septièmes"),
    8: ("huitième", "huitièmes"),
    9: ("neuvième", "neuvièmes"),
    10: ("dixième", "dixièmes"),
    11: ("onzième", "onzièmes"),
    12: ("douzième", "douzièmes"),
    20: ("vingtième", "vingtièmes"),
    100: ("centième", "centièmes"),
}
_NUMBER_WORDS = ("", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")


def fraction_words(numerator: int, denominator: int) -> str | None:
    """``la moitié``, ``un tiers``, ``trois quarts``; ``None`` when there is no usual name."""
    if (numerator, denominator) == (1, 2):
        return "la moitié"
    if denominator not in _FRACTION_NAMES or not 1 <= numerator < len(_NUMBER_WORDS):
        return None
    singular, plural = _FRACTION_NAMES[denominator]
    return f"{_NUMBER_WORDS[numerator]} {singular if numerator == 1 else plural}"


Unit = Literal["none", "euros", "metres", "kilograms", "sweets", "mixed"]
_UNITS = ("none", "euros", "metres", "kilograms", "sweets")
_UNIT_FIELD = Field(
    "none",
    title="Unité",
    description="Sans unité, en euros, en mètres, en kilogrammes, en bonbons, ou au hasard.",
)


def _with_unit(value: int | Fraction | str, unit: str) -> str:
    """``12``, ``12 €``, ``12 m``, ``12 kg``, ``12 bonbons`` (``value`` may be the blank)."""
    text = value if isinstance(value, str) else n(value)
    if unit == "euros":
        return f"{text}{NBSP}€"
    if unit == "metres":
        return f"{text}{NBSP}m"
    if unit == "kilograms":
        return f"{text}{NBSP}kg"
    if unit == "sweets":
        return f"{text} bonbon" + ("" if value == 1 else "s")
    return text


def _pick_unit(unit: str, rng: random.Random) -> str:
    return rng.choice(_UNITS) if unit == "mixed" else unit


# --------------------------------------------------------------------------------------------
# Fraction of a quantity
# --------------------------------------------------------------------------------------------

Wording = Literal["symbols", "words", "mixed"]


class FractionOfOptions(EngineOptions):
    """The fractions (numerators, denominators) and the quantities they are taken of."""

    numerators: number_set(1, 99) = Field(
        "1",
        title="Numérateurs",
        description="Les numérateurs possibles\u202f; 1 pour les fractions unitaires (un tiers).",
    )
    denominators: number_set(2, 100) = Field(
        "2-4",
        title="Dénominateurs",
        description="Les dénominateurs possibles, par exemple 2-5 ou 2;4;10.",
    )
    quantities: number_set(1, 10000) = Field(
        "4-40",
        title="Quantités",
        description="Les quantités dont on prend une fraction\u202f; seules celles qui donnent "
        "un résultat entier sont posées.",
    )
    wording: Wording = Field(
        "words",
        title="Écriture de la fraction",
        description="En chiffres (3/4), en mots (trois quarts) quand c'est possible, "
        "sinon au hasard.",
    )
    unit: Unit = _UNIT_FIELD

    def check(self) -> None:
        if not _fraction_of_choices(self.numerators, self.denominators, self.quantities):
            raise ValueError(
                "Aucune fraction possible\u202f: il faut un numérateur plus petit qu'un "
                "dénominateur (fraction irréductible) et une quantité multiple de ce dénominateur."
            )


@lru_cache(maxsize=64)
def _fraction_of_choices(
    numerators: tuple[int, ...], denominators: tuple[int, ...], quantities: tuple[int, ...]
) -> tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]:
    """For each usable denominator: its irreducible proper numerators and its multiples."""
    choices = []
    for denominator in denominators:
        tops = tuple(
            top for top in numerators if top < denominator and math.gcd(top, denominator) == 1
        )
        wholes = tuple(quantity for quantity in quantities if quantity % denominator == 0)
        if tops and wholes:
            choices.append((denominator, tops, wholes))
    return tuple(choices)


def _fraction_text(numerator: int, denominator: int, wording: str, rng: random.Random) -> str:
    words = fraction_words(numerator, denominator)
    use_words = wording == "words" or (wording == "mixed" and rng.random() < 0.5)
    return words if use_words and words else f"{numerator}/{denominator}"


@register
class FractionOf(Engine):
    """A fraction of a quantity, with a whole result: « un tiers de 12 », « 3/4 de 100 m ».

    Fractions are proper and irreducible; a quantity is asked only when the
    denominator divides it, so the result is always whole.
    """

    name = "fraction_of"
    title = "Fraction d'une quantité"
    description = "Calculer une fraction d'une quantité (un tiers de 12, 3/4 de 100 m)."
    Options = FractionOfOptions

    def generate(self, options: FractionOfOptions, rng: random.Random) -> Question:
        usable = _fraction_of_choices(options.numerators, options.denominators, options.quantities)
        denominator, tops, wholes = rng.choice(usable)
        numerator, quantity = rng.choice(tops), rng.choice(wholes)
        part = quantity // denominator
        answer = part * numerator
        unit = _pick_unit(options.unit, rng)
        fraction = _fraction_text(numerator, denominator, options.wording, rng)
        said = f"{fraction} de {_with_unit(quantity, unit)}"
        steps = f"{n(quantity)} ÷ {denominator} = {n(part)}"
        if numerator > 1:
            steps += f", puis {n(part)} × {numerator} = {n(answer)}"
        return Question(
            prompt=f"{_capitalised(said)} = {_with_unit(BLANK, unit)}",
            kind=Kind.NUMBER,
            expected=Fraction(answer),
            solution=n(answer),
            correction=f"{_capitalised(said)} = {_with_unit(answer, unit)}\u202f: {steps}.",
            features={
                "numerator": numerator,
                "denominator": denominator,
                "quantity": quantity,
                "part": part,
                "answer": answer,
                "unit_fraction": int(numerator == 1),
                "answer_digits": digit_count(answer),
            },
            max_length=digit_count(answer) + 2,
        )


# --------------------------------------------------------------------------------------------
# Shaded fraction of a shape
# --------------------------------------------------------------------------------------------

Shape = Literal["bar", "disc", "grid", "mixed"]
Shading = Literal["unit", "proper"]


class ShadedFractionOptions(EngineOptions):
    """How many equal parts, how many shaded, and the shape cut."""

    denominators: number_set(2, 24) = Field(
        "2-8",
        title="Nombres de parts",
        description="En combien de parts égales la figure est partagée, par exemple 2-8.",
    )
    shading: Shading = Field(
        "proper",
        title="Parts coloriées",
        description="Une seule part (fraction unitaire) ou plusieurs, jamais toutes.",
    )
    shape: Shape = Field(
        "mixed",
        title="Figure",
        description="Une bande, un disque, un quadrillage, ou au hasard.",
    )
    scattered: bool = Field(
        False,
        title="Parts dispersées",
        description="Les parts coloriées sont dispersées plutôt que côte à côte.",
    )


def _grid_size(parts: int) -> tuple[int, int]:
    """Rows and columns of a grid of ``parts`` squares, as square as possible (rows ≤ columns)."""
    rows = max(row for row in range(1, math.isqrt(parts) + 1) if parts % row == 0)
    return rows, parts // rows


def _shaded_parts(
    parts: int, count: int, shape: str, scattered: bool, rng: random.Random
) -> frozenset[int]:
    if scattered:
        return frozenset(rng.sample(range(parts), count))
    if shape == "disc":
        # Side by side round the disc, from any sector.
        start = rng.randrange(parts)
        return frozenset((start + index) % parts for index in range(count))
    start = rng.randrange(parts - count + 1) if shape == "bar" else 0
    return frozenset(range(start, start + count))


@register
class ShadedFraction(Engine):
    """Which fraction of a shape is shaded: a bar, a disc or a grid cut into equal parts.

    The pupil types a fraction such as ``3/8``. Marking compares values, so
    any equal fraction is right too: 6/16 or 3/8 for six sixteenths (a
    decimal with the same value, 0,375, is also accepted).
    """

    name = "shaded_fraction"
    title = "Fraction coloriée d'une figure"
    description = "Écrire la fraction coloriée d'une bande, d'un disque ou d'un quadrillage."
    Options = ShadedFractionOptions

    def generate(self, options: ShadedFractionOptions, rng: random.Random) -> Question:
        parts = rng.choice(options.denominators)
        count = 1 if options.shading == "unit" else rng.randint(1, parts - 1)
        shape = rng.choice(["bar", "disc", "grid"]) if options.shape == "mixed" else options.shape
        shaded = _shaded_parts(parts, count, shape, options.scattered, rng)
        if shape == "bar":
            svg = bar_svg(parts, shaded)
        elif shape == "disc":
            svg = disc_svg(parts, shaded)
        else:
            svg = grid_svg(*_grid_size(parts), shaded)
        value = Fraction(count, parts)
        solution = f"{count}/{parts}"
        correction = f"{count} part{'s' if count > 1 else ''} coloriée{'s' if count > 1 else ''} "
        correction += f"sur {parts} parts égales\u202f: {solution}"
        if value.denominator != parts:
            correction += f" = {value.numerator}/{value.denominator}"
        return Question(
            prompt=f"Quelle fraction de la figure est coloriée{NNBSP}?",
            kind=Kind.PICTURE,
            expected=value,
            solution=solution,
            correction=correction + ".",
            features={
                "parts": parts,
                "shaded": count,
                "shape": shape,
                "reducible": int(value.denominator != parts),
                "scattered": int(options.scattered),
            },
            svg=svg,
            allow_fraction=True,
            max_length=len(solution) + 3,
        )


# --------------------------------------------------------------------------------------------
# Recipes
# --------------------------------------------------------------------------------------------

_RELATIONS: dict[str, tuple[Fraction, ...]] = {
    "multiply": (Fraction(2), Fraction(3), Fraction(4)),
    "divide": (Fraction(1, 2), Fraction(1, 3), Fraction(1, 4)),
    "one_and_half": (Fraction(3, 2),),
    "sums": (Fraction(3, 4), Fraction(5, 4), Fraction(5, 2), Fraction(2, 3), Fraction(4, 3)),
}
# (name, unit, step, lowest and highest number of steps, question start)
_INGREDIENTS = {
    "flour": ("farine", "g", 50, 2, 10, "Combien de grammes de farine"),
    "sugar": ("sucre", "g", 25, 2, 10, "Combien de grammes de sucre"),
    "butter": ("beurre", "g", 25, 2, 8, "Combien de grammes de beurre"),
    "chocolate": ("chocolat", "g", 50, 2, 8, "Combien de grammes de chocolat"),
    "cherries": ("cerises", "g", 100, 2, 8, "Combien de grammes de cerises"),
    "milk": ("lait", "cL", 10, 2, 10, "Combien de centilitres de lait"),
    "eggs": ("œuf", "", 1, 2, 6, "Combien d'œufs"),
    "apples": ("pomme", "", 1, 2, 8, "Combien de pommes"),
}
_DISHES = (
    ("des crêpes", ("flour", "eggs", "milk", "sugar", "butter")),
    ("du gâteau au chocolat", ("chocolate", "butter", "sugar", "eggs", "flour")),
    ("du clafoutis", ("cherries", "eggs", "milk", "sugar", "flour")),
    ("de la tarte aux pommes", ("apples", "flour", "butter", "sugar", "eggs")),
)

Find = Literal["quantity", "people", "both"]


class RecipeOptions(EngineOptions):
    """The numbers of people, the relations between them, and what is asked."""

    people: number_set(1, 24) = Field(
        "2-8",
        title="Nombres de personnes",
        description="Pour combien de personnes la recette est donnée, par exemple 2;4;6.",
    )
    multiply: bool = Field(
        True, title="Fois 2, 3, 4", description="Pour 2, 3 ou 4 fois plus de personnes."
    )
    divide: bool = Field(
        False, title="Divisé par 2, 3, 4", description="Pour 2, 3 ou 4 fois moins de personnes."
    )
    one_and_half: bool = Field(
        False, title="Fois 1,5", description="Pour une fois et demie plus de personnes (4 → 6)."
    )
    sums: bool = Field(
        False,
        title="Sommes de parts",
        description="Pour 4 → 5, 4 → 3, 4 → 10, 6 → 4 ou 6 → 8 personnes "
        "(additionner ou retrancher une part).",
    )
    find: Find = Field(
        "quantity",
        title="Ce qu'on cherche",
        description="La quantité d'un ingrédient, le nombre de personnes, ou au hasard.",
    )
    listed: int = Field(
        1,
        ge=1,
        le=4,
        title="Ingrédients donnés",
        description="Combien d'ingrédients la recette donne\u202f; un seul est demandé.",
    )

    def check(self) -> None:
        if not _recipe_pairs(self):
            raise ValueError(
                "Aucun changement de nombre de personnes possible\u202f: cocher au moins une "
                "relation (fois 2, divisé par 2…) qui donne un nombre entier de personnes."
            )


def _recipe_pairs(options: RecipeOptions) -> dict[str, list[tuple[int, Fraction]]]:
    """For each relation ticked: the (people, ratio) pairs giving whole numbers of people."""
    ticked = {
        "multiply": options.multiply,
        "divide": options.divide,
        "one_and_half": options.one_and_half,
        "sums": options.sums,
    }
    pairs: dict[str, list[tuple[int, Fraction]]] = {}
    for relation, ratios in _RELATIONS.items():
        found = [
            (people, ratio)
            for people in options.people
            for ratio in ratios
            if ticked[relation] and (people * ratio).denominator == 1
        ]
        if found:
            pairs[relation] = found
    return pairs


def _amount(key: str, value: int) -> str:
    """``200 g de farine``, ``3 œufs``, ``1 pomme``."""
    name, unit = _INGREDIENTS[key][:2]
    if unit:
        return f"{n(value)}{NBSP}{unit} de {name}"
    return f"{n(value)} {name}{'s' if value > 1 else ''}"


def _scalable_amount(key: str, ratio: Fraction, rng: random.Random) -> int:
    """An amount of an ingredient whose product by ``ratio`` is whole."""
    step, low, high = _INGREDIENTS[key][2:5]
    needed = ratio.denominator // math.gcd(ratio.denominator, step)
    counts = [count for count in range(low, high + 1) if count % needed == 0]
    return step * rng.choice(counts)


def _recipe_reasoning(relation: str, ratio: Fraction, amount: int, scaled: int) -> str:
    """How to go from one amount to the other, in one French calculation."""
    if relation == "multiply":
        return f"{n(amount)} × {ratio} = {n(scaled)}"
    if relation == "divide":
        return f"{n(amount)} ÷ {ratio.denominator} = {n(scaled)}"
    if relation == "one_and_half":
        return f"{n(amount)} + {n(amount // 2)} = {n(scaled)}"
    part = amount // ratio.denominator
    first = f"{n(amount)} ÷ {ratio.denominator} = {n(part)}"
    return f"{first} et {n(part)} × {ratio.numerator} = {n(scaled)}"


@register
class Recipe(Engine):
    """Proportionality in a recipe: change the number of people, find an amount or the people.

    Relations are friendly (×2, ÷2, ×1,5, sums of parts such as 4 → 5 =
    4 + 1) and every amount is whole: amounts are drawn so that the scaled
    amount is a whole number of grams, centilitres or eggs.
    """

    name = "recipe"
    title = "Recettes et proportionnalité"
    description = "Adapter une recette à un autre nombre de personnes (4 → 6 personnes)."
    Options = RecipeOptions

    def generate(self, options: RecipeOptions, rng: random.Random) -> Question:
        pairs = _recipe_pairs(options)
        relation = rng.choice(sorted(pairs))
        people, ratio = rng.choice(pairs[relation])
        others = int(people * ratio)
        dish, keys = rng.choice(_DISHES)
        shown = rng.sample(keys, options.listed)
        amounts = {key: _scalable_amount(key, ratio, rng) for key in shown}
        asked = rng.choice(shown)
        amount = amounts[asked]
        scaled = int(amount * ratio)
        recipe = (
            f"Recette {dish} pour {people} personne{'s' if people > 1 else ''}\u202f: "
            f"{_sentence_list([_amount(key, amounts[key]) for key in shown])}."
        )
        find = rng.choice(["quantity", "people"]) if options.find == "both" else options.find
        reasoning = _recipe_reasoning(relation, ratio, amount, scaled)
        if find == "people":
            prompt = (
                f"{recipe} Avec {_amount(asked, scaled)}, pour combien de personnes "
                f"peut-on faire la recette{NNBSP}?"
            )
            expected = others
            correction = (
                f"{reasoning}\u202f: {_amount(asked, scaled)}, c'est pour {others} personnes."
            )
        else:
            question_start = _INGREDIENTS[asked][5]
            prompt = f"{recipe} {question_start} faut-il pour {others} personnes{NNBSP}?"
            expected = scaled
            correction = (
                f"{reasoning}\u202f: pour {others} personnes, il faut {_amount(asked, scaled)}."
            )
        return Question(
            prompt=prompt,
            kind=Kind.NUMBER,
            expected=Fraction(expected),
            solution=n(expected),
            correction=correction,
            features={
                "relation": relation,
                "ratio": str(ratio),
                "people": people,
                "other_people": others,
                "find": find,
                "listed": options.listed,
                "answer": expected,
                "answer_digits": digit_count(expected),
            },
            max_length=digit_count(expected) + 2,
        )


# --------------------------------------------------------------------------------------------
# Percentages
# --------------------------------------------------------------------------------------------

PercentVariant = Literal["apply", "find_percent", "both"]
_PERCENT_NAMES = {
    10: "le dixième",
    20: "le cinquième",
    25: "le quart",
    50: "la moitié",
    75: "les trois quarts",
    100: "le tout",
}
# (things, what some of them do: plural, singular)
_PERCENT_CONTEXTS = (
    ("élèves", "portent des lunettes", "porte des lunettes"),
    ("billes", "sont rouges", "est rouge"),
    ("pommes", "sont vertes", "est verte"),
    ("livres", "sont des romans", "est un roman"),
    ("voitures", "sont électriques", "est électrique"),
)


class PercentageOptions(EngineOptions):
    """The percentages, the quantities, and whether the percentage itself is asked."""

    percents: number_set(1, 100) = Field(
        "10;25;50;75",
        title="Pourcentages",
        description="Les pourcentages possibles, par exemple 10;25;50;75.",
    )
    quantities: number_set(1, 10000) = Field(
        "20-200",
        title="Quantités",
        description="Les quantités\u202f; seules celles qui donnent un résultat entier "
        "sont posées.",
    )
    variant: PercentVariant = Field(
        "apply",
        title="Question",
        description="Appliquer un pourcentage (25 % de 80), trouver le pourcentage "
        "(20 sur 80), ou au hasard.",
    )
    unit: Unit = _UNIT_FIELD

    def check(self) -> None:
        if not _percent_pairs(self.percents, self.quantities):
            raise ValueError(
                "Aucun pourcentage ne donne un résultat entier avec ces quantités\u202f: "
                "choisir des quantités multiples de 10, 20 ou 100."
            )


@lru_cache(maxsize=64)
def _percent_pairs(
    percents: tuple[int, ...], quantities: tuple[int, ...]
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """For each usable percentage: the quantities of which it is a whole number."""
    pairs = []
    for percent in percents:
        # p % of q is whole when q is a multiple of 100 / gcd(p, 100).
        step = 100 // math.gcd(percent, 100)
        wholes = tuple(quantity for quantity in quantities if quantity % step == 0)
        if wholes:
            pairs.append((percent, wholes))
    return tuple(pairs)


def _percent(value: int) -> str:
    return f"{n(value)}{NNBSP}%"


@register
class Percentage(Engine):
    """Percentages of a quantity with whole results (25 % de 80), or which percentage it is."""

    name = "percentage"
    title = "Pourcentages"
    description = "Calculer un pourcentage d'une quantité (25 % de 80) ou trouver le pourcentage."
    Options = PercentageOptions

    def generate(self, options: PercentageOptions, rng: random.Random) -> Question:
        percent, wholes = rng.choice(_percent_pairs(options.percents, options.quantities))
        quantity = rng.choice(wholes)
        part = percent * quantity // 100
        variant = options.variant
        if variant == "both":
            variant = rng.choice(["apply", "find_percent"])
        if variant == "find_percent":
            return self._ask_percent(percent, quantity, part, rng)
        unit = _pick_unit(options.unit, rng)
        said = f"{_percent(percent)} de {_with_unit(quantity, unit)}"
        if percent in _PERCENT_NAMES:
            reason = f"{_PERCENT_NAMES[percent]} de {n(quantity)}"
        else:
            reason = f"{n(quantity)} × {percent} ÷ 100"
        return Question(
            prompt=f"{said} = {_with_unit(BLANK, unit)}",
            kind=Kind.NUMBER,
            expected=Fraction(part),
            solution=n(part),
            correction=f"{said} = {_with_unit(part, unit)} ({reason}).",
            features=self._features("apply", percent, quantity, part),
            max_length=digit_count(part) + 2,
        )

    def _ask_percent(self, percent: int, quantity: int, part: int, rng: random.Random) -> Question:
        things, plural, singular = rng.choice(_PERCENT_CONTEXTS)
        counted = things if quantity > 1 else things[:-1]
        doing = plural if part > 1 else singular
        return Question(
            prompt=(
                f"Sur {n(quantity)} {counted}, {n(part)} {doing}. Quel pourcentage des {things} "
                f"cela représente-t-il{NNBSP}? {BLANK}{NNBSP}%"
            ),
            kind=Kind.NUMBER,
            expected=Fraction(percent),
            solution=n(percent),
            correction=f"{n(part)} sur {n(quantity)}, c'est {_percent(percent)}\u202f: "
            f"{_percent(percent)} de {n(quantity)} = {n(part)}.",
            features=self._features("find_percent", percent, quantity, part),
            max_length=digit_count(percent) + 2,
        )

    @staticmethod
    def _features(variant: str, percent: int, quantity: int, part: int) -> dict:
        return {
            "variant": variant,
            "percent": percent,
            "quantity": quantity,
            "part": part,
            "usual_percent": int(percent in _PERCENT_NAMES),
            "answer_digits": digit_count(part if variant == "apply" else percent),
        }


# --------------------------------------------------------------------------------------------
# Decimal and fraction writings
# --------------------------------------------------------------------------------------------

DecimalVariant = Literal["to_decimal", "to_fraction", "equal_fractions", "mixed"]


class DecimalFractionOptions(EngineOptions):
    """Which writings are linked, with which denominators."""

    variant: DecimalVariant = Field(
        "to_decimal",
        title="Question",
        description="Fraction → décimal (3/4 = 0,75), décimal → fraction (0,25 = …/100), "
        "fractions égales (6/8 = 3/…), ou au hasard.",
    )
    denominators: number_set(2, 100) = Field(
        "2;4;5;10",
        title="Dénominateurs",
        description="Les dénominateurs des fractions, par exemple 2;4;5;10;100.",
    )
    improper: bool = Field(
        False,
        title="Fractions plus grandes que 1",
        description="Les fractions peuvent dépasser 1 (6/5 = 1,2\u202f; 7/3 = 14/6).",
    )
    multipliers: number_set(2, 12) = Field(
        "2-5",
        title="Multiplicateurs",
        description="Pour les fractions égales\u202f: par combien numérateur et dénominateur "
        "sont multipliés.",
    )

    def check(self) -> None:
        if self.variant in ("to_decimal", "to_fraction") and not _decimal_denominators(self):
            raise ValueError(
                "Pour l'écriture décimale, il faut un dénominateur comme 2, 4, 5, 10 ou 100."
            )


def _decimal_denominators(options: DecimalFractionOptions) -> list[int]:
    return [bottom for bottom in options.denominators if is_decimal(Fraction(1, bottom))]


def _is_power_of_ten(number: int) -> bool:
    while number % 10 == 0:
        number //= 10
    return number == 1


def _numerator(denominator: int, improper: bool, reduced: bool, rng: random.Random) -> int:
    """A numerator not a multiple of ``denominator``; coprime with it when ``reduced``."""
    highest = 3 * denominator - 1 if improper else denominator - 1
    tops = [
        top
        for top in range(1, highest + 1)
        if top % denominator != 0 and (not reduced or math.gcd(top, denominator) == 1)
    ]
    return rng.choice(tops)


def _number_question(prompt: str, expected: int | Fraction, correction: str, features) -> Question:
    return Question(
        prompt=prompt,
        kind=Kind.NUMBER,
        expected=Fraction(expected),
        solution=n(expected),
        correction=correction,
        features={**features, "answer_digits": digit_count(expected)},
        max_length=digit_count(expected) + 3,
    )


@register
class DecimalFraction(Engine):
    """Usual fractions and their decimal writing both ways, and equal fractions.

    ``3/4 = …`` asks a decimal (0,75); ``0,25 = …/100``, ``0,5 = 1/…`` and
    ``6/8 = 3/…`` ask a whole number. Fractions whose decimal writing is
    asked have a denominator made of 2s and 5s (2, 4, 5, 8, 10, 20, 25, 100…).
    """

    name = "decimal_fraction"
    title = "Fractions et nombres décimaux"
    description = "Écriture décimale des fractions usuelles (1/4 = 0,25) et fractions égales."
    Options = DecimalFractionOptions

    def generate(self, options: DecimalFractionOptions, rng: random.Random) -> Question:
        variant = options.variant
        if variant == "mixed":
            possible = ["equal_fractions"]
            if _decimal_denominators(options):
                possible += ["to_decimal", "to_fraction"]
            variant = rng.choice(possible)
        if variant == "equal_fractions":
            return self._equal_fractions(options, rng)
        bottom = rng.choice(_decimal_denominators(options))
        top = _numerator(bottom, options.improper, not _is_power_of_ten(bottom), rng)
        features = {
            "variant": variant,
            "numerator": top,
            "denominator": bottom,
            "decimals": len(n(Fraction(top, bottom)).partition(",")[2]),
            "improper": int(top > bottom),
        }
        if variant == "to_decimal":
            value = Fraction(top, bottom)
            equality = f"{top}/{bottom} = {n(value)}"
            return _number_question(
                f"Écris en nombre décimal\u202f: {top}/{bottom} = {BLANK}",
                value,
                equality,
                features,
            )
        return self._to_fraction(top, bottom, features, rng)

    @staticmethod
    def _to_fraction(top: int, bottom: int, features: dict, rng: random.Random) -> Question:
        decimal = n(Fraction(top, bottom))
        # (shown fraction with a blank, answer, full fraction)
        forms = [(f"{BLANK}/{bottom}", top, f"{top}/{bottom}")]
        if not _is_power_of_ten(bottom):
            forms.append((f"{top}/{BLANK}", bottom, f"{top}/{bottom}"))
            power = next((10**k for k in (1, 2, 3) if 10**k % bottom == 0), None)
            if power is not None:
                scaled = top * power // bottom
                forms.append((f"{BLANK}/{power}", scaled, f"{scaled}/{power}"))
        shown, answer, full = rng.choice(forms)
        return _number_question(
            f"{decimal} = {shown}", answer, f"{decimal} = {full}", {**features, "answer": answer}
        )

    @staticmethod
    def _equal_fractions(options: DecimalFractionOptions, rng: random.Random) -> Question:
        bottom = rng.choice(options.denominators)
        top = _numerator(bottom, options.improper, True, rng)
        factor = rng.choice(options.multipliers)
        big_top, big_bottom = top * factor, bottom * factor
        small, big = f"{top}/{bottom}", f"{big_top}/{big_bottom}"
        # Which side is shown whole and which term of the other side is blank.
        form = rng.choice(["small_bottom", "small_top", "big_bottom", "big_top"])
        if form == "small_bottom":
            prompt, answer = f"{big} = {top}/{BLANK}", bottom
        elif form == "small_top":
            prompt, answer = f"{big} = {BLANK}/{bottom}", top
        elif form == "big_bottom":
            prompt, answer = f"{small} = {big_top}/{BLANK}", big_bottom
        else:
            prompt, answer = f"{small} = {BLANK}/{big_bottom}", big_top
        if form.startswith("small"):
            correction = f"{big} = {small} ({big_top} ÷ {factor} = {top} et "
            correction += f"{big_bottom} ÷ {factor} = {bottom})."
        else:
            correction = f"{small} = {big} ({top} × {factor} = {big_top} et "
            correction += f"{bottom} × {factor} = {big_bottom})."
        features = {
            "variant": "equal_fractions",
            "numerator": top,
            "denominator": bottom,
            "multiplier": factor,
            "form": form,
            "improper": int(top > bottom),
            "answer": answer,
        }
        return _number_question(prompt, answer, correction, features)
