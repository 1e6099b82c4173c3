"""Number puzzles: the addition wall (mbrique) and Mathador-like targets."""

from __future__ import annotations

import random
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from typing import Literal

from pydantic import Field

from calculatice.engines.base import Engine, Kind, Outcome, Question, Response, Verdict, register
from calculatice.engines.expression import MAX_LENGTH, read_calculation
from calculatice.engines.text import digit_count, n
from calculatice.options import EngineOptions, number_set

NNBSP = "\u202f"
"""Narrow no-break space, put before « ? ! : ; » in French."""

# --------------------------------------------------------------------------- addition_wall

Brick = tuple[int, int]
"""A brick as (row from the top, place from the left); row 0 is the top brick."""


class AdditionWallOptions(EngineOptions):
    """The wall's size, its base numbers and which bricks are hidden."""

    base: int = Field(
        3,
        ge=3,
        le=4,
        title="Briques à la base",
        description="Nombre de briques de la rangée du bas (3 ou 4).",
    )
    numbers: number_set(0, 10000) = Field(
        "1-10",
        title="Nombres de la base",
        description="Les valeurs possibles des briques du bas, par exemple 1-10 ou 10-50.",
    )
    hidden: int = Field(
        3,
        ge=1,
        le=6,
        title="Briques cachées",
        description="Combien de briques l'élève complète.",
    )
    mode: Literal["upwards", "mixed"] = Field(
        "upwards",
        title="Place des briques cachées",
        description="Seulement au-dessus de la base (additions), ou aussi dans la base "
        "(il faut soustraire).",
    )

    def check(self) -> None:
        upper = self.base * (self.base - 1) // 2
        if self.hidden > upper:
            raise ValueError(
                f"Un mur de base {self.base} ne peut cacher que {upper} briques sans devenir "
                f"impossible à compléter : cacher au plus {upper} briques."
            )


def _wall_bricks(base: int) -> list[Brick]:
    return [(row, place) for row in range(base) for place in range(row + 1)]


def _deducible(base: int, hidden: frozenset[Brick]) -> bool:
    """Whether the hidden bricks follow from the shown ones, each sum giving its third brick."""
    known = set(_wall_bricks(base)) - hidden
    changed = True
    while changed:
        changed = False
        for row in range(base - 1):
            for place in range(row + 1):
                trio = [(row, place), (row + 1, place), (row + 1, place + 1)]
                missing = [brick for brick in trio if brick not in known]
                if len(missing) == 1:
                    known.add(missing[0])
                    changed = True
    return len(known) == base * (base + 1) // 2


@lru_cache(maxsize=32)
def _hiding_patterns(base: int, hidden: int, mode: str) -> tuple[frozenset[Brick], ...]:
    """Every deducible way to hide ``hidden`` bricks, in a fixed order (for determinism).

    In ``mixed`` mode at least one base brick is hidden, so that the pupil subtracts.
    """
    bricks = _wall_bricks(base)
    if mode == "upwards":
        bricks = [brick for brick in bricks if brick[0] < base - 1]
    patterns = []
    for chosen in combinations(bricks, hidden):
        pattern = frozenset(chosen)
        in_base = any(row == base - 1 for row, _ in pattern)
        if mode == "mixed" and not in_base:
            continue
        if _deducible(base, pattern):
            patterns.append(pattern)
    return tuple(patterns)


def _build_wall(base_values: list[int]) -> list[list[int]]:
    """The rows of the wall from the top to the base, each brick the sum of the two below."""
    rows = [base_values]
    while len(rows[0]) > 1:
        below = rows[0]
        rows.insert(0, [below[place] + below[place + 1] for place in range(len(below) - 1)])
    return rows


def _brick_label(base: int, brick: Brick) -> str:
    # Pupils count rows from the bottom of the wall, the way it is built.
    return f"rangée {base - brick[0]}, brique {brick[1] + 1}"


@register
class AdditionWall(Engine):
    """An addition wall (mbrique) whose hidden bricks the pupil fills in."""

    name = "addition_wall"
    title = "Mur de briques"
    description = "Compléter un mur où chaque brique est la somme des deux briques du dessous."
    Options = AdditionWallOptions

    def generate(self, options: AdditionWallOptions, rng: random.Random) -> Question:
        base_values = [rng.choice(options.numbers) for _ in range(options.base)]
        wall = _build_wall(base_values)
        pattern = rng.choice(_hiding_patterns(options.base, options.hidden, options.mode))
        # Cells come in reading order (top row first, left to right), as the None of the rows.
        hidden = sorted(pattern)

        rows = [
            [None if (row, place) in pattern else value for place, value in enumerate(values)]
            for row, values in enumerate(wall)
        ]
        expected = tuple(Fraction(wall[row][place]) for row, place in hidden)
        cells = tuple(_brick_label(options.base, brick) for brick in hidden)
        largest = max(expected)
        return Question(
            prompt="Chaque brique est la somme des deux briques sur lesquelles elle est posée. "
            "Complète le mur.",
            kind=Kind.GRID,
            expected=expected,
            solution=" ; ".join(
                f"{cell}{NNBSP}: {n(value)}" for cell, value in zip(cells, expected, strict=True)
            ),
            correction=f"Le mur complet, du haut vers le bas{NNBSP}: "
            + " / ".join(" ".join(n(value) for value in values) for values in wall),
            features={
                "base": options.base,
                "hidden": options.hidden,
                "base_hidden": sum(row == options.base - 1 for row, _ in hidden),
                "top": wall[0][0],
                "largest_hidden": int(largest),
                "answer_digits": digit_count(largest),
            },
            cells=cells,
            layout={"type": "wall", "rows": rows},
            max_length=digit_count(largest) + 2,
        )


# --------------------------------------------------------------------------- mathador

_SIGNS_BY_SET = {
    "add_sub": ("+", "-"),
    "add_sub_mul": ("+", "-", "*"),
    "all": ("+", "-", "*", "/"),
}
_FRENCH = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "\u00f7"}
_SIGN_KEYS = {french: key for key, french in _FRENCH.items()}
_PRIORITY = {"+": 1, "-": 1, "*": 2, "/": 2}
_VALUE_CAP = 10000
"""Intermediate values above this are not explored: it keeps the search small."""


class MathadorOptions(EngineOptions):
    """The numbers drawn, the targets and the operations allowed."""

    count: int = Field(
        5,
        ge=3,
        le=5,
        title="Nombres donnés",
        description="Combien de nombres l'élève reçoit (comme des dés lancés).",
    )
    numbers: number_set(1, 100) = Field(
        "1-12",
        title="Valeurs des nombres",
        description="Les valeurs possibles des nombres donnés, par exemple 1-12 ou 1-20.",
    )
    targets: number_set(1, 1000) = Field(
        "10-99",
        title="Cibles",
        description="Les cibles souhaitées ; si aucune n'est atteignable, la plus proche l'est.",
    )
    operations: Literal["add_sub", "add_sub_mul", "all"] = Field(
        "all",
        title="Opérations",
        description="Les opérations permises : + et −, + − et ×, ou les quatre.",
    )
    all_numbers: bool = Field(
        False,
        title="Tous les nombres",
        description="L'élève doit utiliser chaque nombre donné une fois (coup Mathador).",
    )
    min_operations: int = Field(
        2,
        ge=1,
        le=4,
        title="Opérations au moins",
        description="La cible demande au moins ce nombre d'opérations (quand c'est possible "
        "avec les nombres tirés).",
    )

    def check(self) -> None:
        if self.min_operations > self.count - 1:
            raise ValueError(
                f"Avec {self.count} nombres, un calcul a au plus {self.count - 1} opérations : "
                f"demander au plus {self.count - 1} opérations."
            )


@lru_cache(maxsize=256)
def _reachable(
    numbers: tuple[int, ...], signs: tuple[str, ...]
) -> dict[int, dict[int, tuple[str, int]]]:
    """For each subset of ``numbers`` (a bit mask), the values it makes and one calculation.

    A calculation is kept as (French text, priority of its last sign). Only
    whole positive values up to a cap are explored: divisions are exact and
    differences positive, as in Mathador. Dictionaries are filled in a fixed
    order, so the first calculation found is always the same.
    """
    size = len(numbers)
    found: dict[int, dict[int, tuple[str, int]]] = {}
    for index, number in enumerate(numbers):
        found[1 << index] = {number: (n(number), 3)}
    masks = sorted(range(1, 1 << size), key=lambda mask: (mask.bit_count(), mask))
    for mask in masks:
        if mask.bit_count() < 2:
            continue
        values: dict[int, tuple[str, int]] = {}
        part = (mask - 1) & mask
        while part:
            other = mask ^ part
            if part < other:
                _combine(found[part], found[other], signs, values)
            part = (part - 1) & mask
        found[mask] = values
    return found


def _combine(left_values, right_values, signs, values) -> None:
    """Add to ``values`` every result of one operation between the two subsets' values."""
    for left, left_text in left_values.items():
        for right, right_text in right_values.items():
            for swapped in (False, True):
                a, a_text, b, b_text = (
                    (right, right_text, left, left_text)
                    if swapped
                    else (left, left_text, right, right_text)
                )
                for sign in signs:
                    if swapped and sign in "+*":
                        continue  # commutative: one order is enough
                    result = _apply(sign, a, b)
                    if result is None or result > _VALUE_CAP or result in values:
                        continue
                    values[result] = (_join(sign, a_text, b_text), _PRIORITY[sign])


def _apply(sign: str, a: int, b: int) -> int | None:
    """One Mathador operation, or ``None`` when it is not allowed or useless (× 1, ÷ 1)."""
    if sign == "+":
        return a + b
    if sign == "-":
        return a - b if a > b else None
    if sign == "*":
        return a * b if a > 1 and b > 1 else None
    return a // b if b > 1 and a % b == 0 else None


def _join(sign: str, left: tuple[str, int], right: tuple[str, int]) -> str:
    """Write ``left sign right`` with only the parentheses needed."""
    priority = _PRIORITY[sign]
    left_text = f"({left[0]})" if left[1] < priority else left[0]
    # The right side of − and ÷ keeps its parentheses even at equal priority: 8 − (3 − 1).
    right_needs = priority if sign in "-/" else priority - 1
    right_text = f"({right[0]})" if right[1] <= right_needs else right[0]
    return f"{left_text} {_FRENCH[sign]} {right_text}"


def _solutions(
    numbers: tuple[int, ...], signs: tuple[str, ...], all_numbers: bool
) -> dict[int, tuple[str, int]]:
    """Each reachable target with its shortest calculation and that calculation's operations.

    A target equal to a given number is left out: it needs no calculation.
    """
    found = _reachable(numbers, signs)
    full = (1 << len(numbers)) - 1
    masks = [full] if all_numbers else sorted(found, key=lambda mask: (mask.bit_count(), mask))
    targets: dict[int, tuple[str, int]] = {}
    for mask in masks:
        if mask.bit_count() < 2:
            continue
        for value, (text, _) in found[mask].items():
            if value not in targets and value not in numbers:
                targets[value] = (text, mask.bit_count() - 1)
    return targets


@register
class Mathador(Engine):
    """Reach a target with given numbers; the pupil types a calculation."""

    name = "mathador"
    title = "Le compte est bon (Mathador)"
    description = "Atteindre une cible en calculant avec des nombres donnés et + − × ÷."
    Options = MathadorOptions

    def generate(self, options: MathadorOptions, rng: random.Random) -> Question:
        signs = _SIGNS_BY_SET[options.operations]
        numbers, targets = self._draw(options, signs, rng)
        target = self._pick_target(options, targets, rng)
        solution, operations = targets[target]

        shown = " ; ".join(n(number) for number in numbers)
        allowed = " ".join(_FRENCH[sign] for sign in signs)
        rule = (
            "chaque nombre une fois" if options.all_numbers else "chaque nombre une fois au plus"
        )
        return Question(
            prompt=f"Avec les nombres {shown}, écris un calcul qui donne {n(target)}. "
            f"Opérations{NNBSP}: {allowed}{NNBSP}; {rule}.",
            kind=Kind.EXPRESSION,
            expected=Fraction(target),
            solution=solution,
            correction=f"Par exemple{NNBSP}: {solution} = {n(target)}",
            features={
                "operations": operations,
                "target": target,
                "target_digits": digit_count(target),
                "numbers": len(numbers),
                "largest_number": max(numbers),
                "all_numbers": int(options.all_numbers),
            },
            layout={
                "type": "mathador",
                "numbers": list(numbers),
                "signs": [_FRENCH[sign] for sign in signs],
                "all_numbers": options.all_numbers,
            },
            max_length=MAX_LENGTH,
        )

    def _draw(self, options: MathadorOptions, signs, rng: random.Random):
        """Numbers and their reachable targets, redrawn a few times to reach a wanted target."""
        wanted = set(options.targets)
        for _ in range(12):
            numbers = tuple(rng.choice(options.numbers) for _ in range(options.count))
            # Never empty: the sum of all the numbers is bigger than each of them.
            targets = _solutions(numbers, signs, options.all_numbers)
            if any(value in wanted for value in targets):
                break
        return numbers, targets

    def _pick_target(self, options: MathadorOptions, targets, rng: random.Random) -> int:
        """A wanted target among the reachable ones, or else the reachable one nearest to them.

        Targets that need at least ``min_operations`` operations are preferred.
        """
        wanted = set(options.targets)
        reachable = sorted(targets)
        chosen = [value for value in reachable if value in wanted]
        harder = [value for value in chosen if targets[value][1] >= options.min_operations]
        if harder or chosen:
            return rng.choice(harder or chosen)
        low, high = min(options.targets), max(options.targets)
        return min(reachable, key=lambda value: max(low - value, value - high))

    def check(self, question: Question, response: Response | None) -> Verdict:
        """Right when the calculation uses given numbers only and makes the target exactly.

        Unreadable text is empty; a readable calculation that misses the
        target, uses a number not given (or too often), a sign not allowed, a
        division that is not exact, or states a wrong result after ``=`` is wrong.
        """
        if not isinstance(response, str):
            return Verdict(Outcome.EMPTY)
        calculation = read_calculation(response)
        if calculation is None:
            return Verdict(Outcome.EMPTY)
        value = calculation.value
        read_as = calculation.french()
        if value is not None:
            read_as = f"{read_as} = {n(value)}"
        layout = question.layout or {}
        given = [Fraction(number) for number in layout.get("numbers", [])]
        allowed = {_SIGN_KEYS[sign] for sign in layout.get("signs", [])}
        right = (
            value == question.expected
            and calculation.whole_divisions
            and (calculation.stated is None or calculation.stated == value)
            and set(calculation.signs) <= allowed
            and _uses_given(calculation.numbers, given, bool(layout.get("all_numbers")))
        )
        return Verdict(Outcome.RIGHT if right else Outcome.WRONG, read_as)


def _uses_given(used: tuple[Fraction, ...], given: list[Fraction], every_one: bool) -> bool:
    """Whether ``used`` takes numbers from ``given``, each at most as often as given.

    With ``every_one``, each given number must be used exactly as often as given.
    """
    remaining = list(given)
    for number in used:
        if number not in remaining:
            return False
        remaining.remove(number)
    return not (every_one and remaining)
