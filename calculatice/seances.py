"""Séances: ordered exercises from the bank, with overrides, under a code pupils type.

A séance's definition is stored as JSON (``{"items": [{"exercise": id,
"overrides": {...}}]}``) and turned back into exercises against the bank each
time it is opened, so a fixed exercise file fixes every séance that uses it.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calculatice.catalogue import Bank, Exercise
from calculatice.errors import CalculaticeError, OptionsError, StoreError

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Characters of a séance code: no 0/O, no 1/I/L, which pupils confuse."""
CODE_LENGTH = 6
"""31⁶ ≈ 887 million codes: guessing another class's séance is hopeless."""
_CODE_TRIES = 20


class SeanceError(CalculaticeError, ValueError):
    """A séance cannot be built as asked; the message says why, in French."""


@dataclass(frozen=True)
class SeanceItem:
    """One exercise of a séance and the option values the teacher changed."""

    exercise_id: str
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seance:
    """A séance as pupils do it: a code, a title and the exercises, overrides applied."""

    code: str
    title: str
    exercises: tuple[Exercise, ...]
    id: int | None = None
    classroom_id: int | None = None


def new_code() -> str:
    """A random séance code from :data:`CODE_ALPHABET`, drawn with :mod:`secrets`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """What a pupil typed, as a code: upper case, spaces and dashes removed."""
    return re.sub(r"[\s\-_.]", "", typed or "").upper()


def format_code(code: str) -> str:
    """A code as shown on the board: two groups of three (``K7F-M3P``)."""
    return f"{code[:3]}-{code[3:]}" if len(code) == CODE_LENGTH else code


def parse_item(spec: str) -> SeanceItem:
    """Read ``EXERCISE_ID[:option=value...]`` as typed on the command line."""
    exercise_id, *assignments = spec.strip().split(":")
    if not exercise_id:
        raise SeanceError(f"« {spec} » : il manque l'identifiant de l'exercice.")
    overrides: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip():
            raise SeanceError(f"« {assignment} » : écrire option=valeur, par exemple questions=5.")
        overrides[name.strip()] = value.strip()
    return SeanceItem(exercise_id, overrides)


def build_exercises(bank: Bank, items: Iterable[SeanceItem]) -> tuple[Exercise, ...]:
    """The exercises of a séance, overrides applied and validated against the bank.

    Raises :class:`SeanceError` naming the exercise and the option at fault.
    """
    exercises = []
    for position, item in enumerate(items, start=1):
        exercise = bank.get(item.exercise_id)
        if item.overrides and not exercise.common.adjustable:
            raise SeanceError(
                f"Exercice {position} ({item.exercise_id}) : ses options ne peuvent pas "
                "être modifiées."
            )
        try:
            exercises.append(exercise.with_overrides(item.overrides))
        except OptionsError as error:
            raise SeanceError(f"Exercice {position} ({item.exercise_id}) : {error}") from None
    if not exercises:
        raise SeanceError("Une séance a au moins un exercice.")
    return tuple(exercises)


def definition_of(items: Iterable[SeanceItem]) -> dict[str, Any]:
    """The JSON definition stored for a séance."""
    return {
        "items": [
            {"exercise": item.exercise_id, "overrides": dict(item.overrides)} for item in items
        ]
    }


def items_of(definition: Mapping[str, Any]) -> list[SeanceItem]:
    """The items of a stored definition."""
    return [
        SeanceItem(entry["exercise"], entry.get("overrides") or {})
        for entry in definition.get("items", [])
    ]


def create_seance(
    store,
    bank: Bank,
    title: str,
    items: Iterable[SeanceItem],
    classroom_id: int | None = None,
) -> Seance:
    """Validate the exercises, draw a free code and store the séance."""
    items = list(items)
    title = title.strip()
    if not title:
        raise SeanceError("Donner un titre à la séance.")
    exercises = build_exercises(bank, items)
    definition = definition_of(items)
    for _ in range(_CODE_TRIES):
        code = new_code()
        if store.seance_by_code(code) is not None:
            continue
        try:
            record = store.add_seance(code, title, definition, classroom_id)
        except StoreError:
            # Lost a race for the code, or the class is unknown: the next try tells.
            if store.seance_by_code(code) is None:
                raise
            continue
        log.info("Séance %s created with %d exercises", code, len(exercises))
        return Seance(code, title, exercises, record.id, classroom_id)
    raise SeanceError("Aucun code libre trouvé ; réessayer.")


def open_seance(store, bank: Bank, typed_code: str) -> Seance | None:
    """The séance a pupil's typed code names, or ``None`` when there is none.

    A séance whose exercises no longer validate (the bank changed) raises
    :class:`SeanceError`; the pupil page shows its message.
    """
    code = normalise_code(typed_code)
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    record = store.seance_by_code(code)
    if record is None:
        return None
    exercises = build_exercises(bank, items_of(record.definition))
    return Seance(record.code, record.title, exercises, record.id, record.classroom_id)
