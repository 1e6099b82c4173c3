"""What every engine (matrice) is: options, questions, and the checking of answers.

An engine declares its options once (a :class:`~calculatice.options.EngineOptions`
model), draws questions from options and a seeded random generator, and
checks a pupil's response. Engines produce data, never user interface: a
:class:`Question` carries everything the player needs to show and grade it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any, ClassVar

from calculatice.errors import GenerationError, OptionsError, UnknownEngineError
from calculatice.numbers import read_number, write_fraction, write_number
from calculatice.options import EngineOptions, validate_options


class Kind(StrEnum):
    """How a pupil answers a question."""

    NUMBER = "number"
    """A typed number (decimal comma; a fraction when ``allow_fraction``)."""
    CHOICE = "choice"
    """One choice among several; the response is the index of the choice."""
    MULTI = "multi"
    """Pick every right choice; the response is the list of chosen indices."""
    GRID = "grid"
    """Fill a few cells with numbers; the response is one text per cell."""
    FLASH = "flash"
    """Numbers shown for ``flash_seconds`` then hidden; the response is a typed number."""
    PICTURE = "picture"
    """A picture (``svg``) to read; the response is a typed number."""
    EXPRESSION = "expression"
    """A typed calculation such as ``3 × 4 + 2``; the engine checks it."""


class Outcome(StrEnum):
    """What one validation is: right, wrong, or empty (asks again, costs no attempt)."""

    RIGHT = "right"
    WRONG = "wrong"
    EMPTY = "empty"


Response = str | int | Sequence[str] | Sequence[int]
"""What the player sends: text for typed kinds, an index for a choice, a list otherwise."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The checking of one response: its outcome and the value read, written back."""

    outcome: Outcome
    read_as: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    """One question, as data: what to show, how to answer, what is right, what makes it hard.

    ``expected`` is a :class:`~fractions.Fraction` for typed kinds, an ``int``
    index for ``choice``, a ``frozenset`` of indices for ``multi`` and a tuple
    of fractions (one per cell) for ``grid``. ``solution`` is the expected
    answer written the French way, ``correction`` the sentence shown once the
    last attempt is wrong. ``features`` names what makes the question hard
    (``digits``, ``carries``, ``table``…), as numbers where possible.
    ``layout`` is free data that lays out a grid (an addition wall, a place-value
    table) for the player; ``cells`` labels each cell of a grid.
    """

    prompt: str
    kind: Kind
    expected: Any
    solution: str
    correction: str
    features: Mapping[str, int | float | str] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    layout: Mapping[str, Any] | None = None
    svg: str | None = None
    flash_seconds: float = 0.0
    flash_text: str = ""
    allow_fraction: bool = False
    max_length: int = 12

    def right_response(self) -> Response:
        """A response that is right, as a pupil would type or click it."""
        if self.kind is Kind.CHOICE:
            return int(self.expected)
        if self.kind is Kind.MULTI:
            return sorted(self.expected)
        if self.kind is Kind.GRID:
            return [write_number(value) for value in self.expected]
        return self.solution

    def public(self) -> dict[str, Any]:
        """What the browser may hold before the pupil answers: no answer, no correction."""
        shown = {
            "prompt": self.prompt,
            "kind": self.kind.value,
            "choices": list(self.choices),
            "cells": list(self.cells),
            "layout": dict(self.layout) if self.layout else None,
            "svg": self.svg,
            "flash_seconds": self.flash_seconds,
            "flash_text": self.flash_text,
            "allow_fraction": self.allow_fraction,
            "max_length": self.max_length,
        }
        return {key: value for key, value in shown.items() if value not in (None, [], "", 0.0)}

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (fractions written as ``a/b``), for the store and previews."""
        return {
            **self.public(),
            "expected": _expected_to_json(self.expected),
            "solution": self.solution,
            "correction": self.correction,
            "features": dict(self.features),
        }


def _expected_to_json(expected: Any) -> Any:
    if isinstance(expected, Fraction):
        return write_fraction(expected) if expected.denominator != 1 else expected.numerator
    if isinstance(expected, frozenset | set):
        return sorted(expected)
    if isinstance(expected, tuple | list):
        return [_expected_to_json(item) for item in expected]
    return expected


def check_response(question: Question, response: Response | None) -> Verdict:
    """Check a response by the question's kind: right, wrong, or empty when unreadable."""
    if question.kind in (Kind.NUMBER, Kind.FLASH, Kind.PICTURE):
        return _check_number(question, response)
    if question.kind is Kind.CHOICE:
        return _check_choice(question, response)
    if question.kind is Kind.MULTI:
        return _check_multi(question, response)
    if question.kind is Kind.GRID:
        return _check_grid(question, response)
    raise TypeError(f"{question.kind} questions are checked by their engine")


def _check_number(question: Question, response: Response | None) -> Verdict:
    if not isinstance(response, str):
        return Verdict(Outcome.EMPTY)
    value = read_number(response, allow_fraction=question.allow_fraction)
    if value is None:
        return Verdict(Outcome.EMPTY)
    outcome = Outcome.RIGHT if value == question.expected else Outcome.WRONG
    return Verdict(outcome, write_number(value))


def _as_index(item: Any, size: int) -> int | None:
    """A choice index from an int or its text, or ``None`` when out of range or unreadable."""
    if isinstance(item, bool):
        return None
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item.strip())
    if isinstance(item, int) and 0 <= item < size:
        return item
    return None


def _check_choice(question: Question, response: Response | None) -> Verdict:
    index = _as_index(response, len(question.choices))
    if index is None:
        return Verdict(Outcome.EMPTY)
    outcome = Outcome.RIGHT if index == question.expected else Outcome.WRONG
    return Verdict(outcome, question.choices[index])


def _check_multi(question: Question, response: Response | None) -> Verdict:
    if isinstance(response, str | int) or response is None:
        return Verdict(Outcome.EMPTY)
    picked = {_as_index(item, len(question.choices)) for item in response}
    if not picked or None in picked:
        return Verdict(Outcome.EMPTY)
    outcome = Outcome.RIGHT if picked == set(question.expected) else Outcome.WRONG
    return Verdict(outcome, " ; ".join(question.choices[index] for index in sorted(picked)))


def _check_grid(question: Question, response: Response | None) -> Verdict:
    if isinstance(response, str | int) or response is None:
        return Verdict(Outcome.EMPTY)
    if len(response) != len(question.expected):
        return Verdict(Outcome.EMPTY)
    values = [read_number(str(text), allow_fraction=question.allow_fraction) for text in response]
    # A half-filled grid asks again: the pupil may not have finished typing.
    if any(value is None for value in values):
        return Verdict(Outcome.EMPTY)
    outcome = Outcome.RIGHT if tuple(values) == tuple(question.expected) else Outcome.WRONG
    return Verdict(outcome, " ; ".join(write_number(value) for value in values))


class Engine:
    """Base of every engine. Subclasses set the class attributes and write :meth:`generate`.

    ``name`` is the engine's key in exercise files (English, snake_case);
    ``title`` and ``description`` are French, for designers.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Options: ClassVar[type[EngineOptions]] = EngineOptions
    redraws: ClassVar[int] = 30
    """How many times a question equal to an earlier one is drawn again."""

    def options(self, values: Mapping[str, Any] | None = None) -> EngineOptions:
        """Validate option values (missing ones take their defaults); French errors."""
        return validate_options(self.Options, dict(values or {}))

    def generate(self, options: EngineOptions, rng: random.Random) -> Question:
        """Draw one question. Subclasses must implement it using only ``rng`` for chance."""
        raise NotImplementedError

    def check(self, question: Question, response: Response | None) -> Verdict:
        """Check a pupil's response; engines with their own kinds override this."""
        return check_response(question, response)

    def questions(
        self, options: EngineOptions | Mapping[str, Any] | None, count: int, seed: int | str
    ) -> list[Question]:
        """Draw ``count`` questions; the same seed and options give the same questions anywhere.

        A question identical to an earlier one is drawn again, a bounded number
        of times, so that a small option range still yields a full exercise.
        """
        if not isinstance(options, EngineOptions):
            options = self.options(options)
        rng = random.Random(f"{self.name}/{seed}")
        drawn: list[Question] = []
        seen: set[tuple[str, str, str]] = set()
        for _ in range(count):
            question = self._draw_new(options, rng, seen)
            seen.add(_identity(question))
            drawn.append(question)
        return drawn

    def _draw_new(
        self, options: EngineOptions, rng: random.Random, seen: set[tuple[str, str, str]]
    ) -> Question:
        question = self.generate(options, rng)
        for _ in range(self.redraws):
            if _identity(question) not in seen:
                break
            question = self.generate(options, rng)
        return question


def _identity(question: Question) -> tuple[str, str, str]:
    # Choices and layout count too: "Coche les multiples de 4." differs by its choices.
    shown = "\n".join(question.choices) + repr(question.layout)
    return (question.prompt + shown, question.flash_text, question.svg or "")


_REGISTRY: dict[str, Engine] = {}


def register(engine_class: type[Engine]) -> type[Engine]:
    """Class decorator: make an engine available by its ``name``."""
    name = engine_class.name
    if name in _REGISTRY:
        raise ValueError(f"two engines are named {name!r}")
    _REGISTRY[name] = engine_class()
    return engine_class


def get_engine(name: str) -> Engine:
    """The engine registered under ``name``; French error listing none when unknown."""
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownEngineError(f"Le moteur « {name} » n'existe pas.") from None


def all_engines() -> dict[str, Engine]:
    """Every registered engine, by name, sorted."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def _load_all() -> None:
    # Importing the package imports every engine module, which registers them.
    import calculatice.engines  # noqa: F401


def retry(rng: random.Random, draw, accept, tries: int = 200):
    """Call ``draw(rng)`` until ``accept(value)`` holds; raise when the options allow nothing.

    Engines whose options constrain the draw (no carry, a whole quotient…) use
    this instead of an unbounded loop.
    """
    for _ in range(tries):
        value = draw(rng)
        if accept(value):
            return value
    raise GenerationError(
        "Aucune question ne respecte ces options : élargir les intervalles ou les tables."
    )


__all__ = [
    "Engine",
    "GenerationError",
    "Kind",
    "OptionsError",
    "Outcome",
    "Question",
    "Response",
    "Verdict",
    "all_engines",
    "check_response",
    "get_engine",
    "register",
    "retry",
]
