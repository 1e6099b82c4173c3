"""Rally definitions: an edition's rounds, exercises, caps and windows, read from YAML.

A definition file (``data/rallies/2027.yaml``) names the edition, the
registration window and the rally window (timezone-aware datetimes), and one
round per group of levels: 13 to 17 exercises of the bank, their options
frozen by ``overrides``, each at most :data:`EXERCISE_CAP_SECONDS` long and
the round at most :data:`ROUND_CAP_SECONDS`. Every problem is refused with a
French message naming the file, the field and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from calculatice.catalogue import Bank, Exercise
from calculatice.errors import CalculaticeError, OptionsError
from calculatice.seances import SeanceItem
from calculatice.store.models import LEVELS

log = logging.getLogger(__name__)

MIN_EXERCISES = 13
MAX_EXERCISES = 17
"""A round has 13 to 17 exercises, as in the historical rallies."""
EXERCISE_CAP_SECONDS = 180
"""At most about 3 minutes per exercise."""
ROUND_CAP_SECONDS = 45 * 60
"""At most 45 minutes in all: a round is done in one sitting."""
KEY_MAX = 32


class RallyError(CalculaticeError, ValueError):
    """A rally definition is refused; the message names the file, the field and the reason."""


@dataclass(frozen=True)
class Window:
    """A period with a timezone-aware start and end; the end is excluded."""

    opens: datetime
    closes: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (timezone-aware) falls inside the window."""
        return self.opens <= moment < self.closes


@dataclass(frozen=True)
class Round:
    """One round (épreuve) of a rally: the levels it serves and its exercises, options frozen."""

    key: str
    title: str
    levels: tuple[str, ...]
    items: tuple[SeanceItem, ...]
    exercises: tuple[Exercise, ...]

    @property
    def seconds(self) -> int:
        """The longest the round can last, in seconds."""
        return sum(exercise_seconds(exercise) for exercise in self.exercises)


@dataclass(frozen=True)
class RallyDefinition:
    """A checked rally edition."""

    edition: str
    title: str
    registration: Window
    window: Window
    rounds: tuple[Round, ...]

    def round_for_level(self, level: str) -> Round | None:
        """The round a class of ``level`` does, or ``None`` when no round serves it."""
        for rally_round in self.rounds:
            if level in rally_round.levels:
                return rally_round
        return None

    def round_by_key(self, key: str) -> Round:
        """The round with this key; :class:`RallyError` when there is none."""
        for rally_round in self.rounds:
            if rally_round.key == key:
                return rally_round
        raise RallyError(f"Rallye {self.edition} : pas d'épreuve « {key} ».")


def exercise_seconds(exercise: Exercise) -> int:
    """How long an exercise can last: its own timer, else questions × time per question.

    0 means no limit at all.
    """
    common = exercise.common
    if common.exercise_seconds:
        return common.exercise_seconds
    return common.questions * common.question_seconds


def read_definition_file(path: Path | str) -> Any:
    """The raw content of a definition file; :class:`RallyError` if it cannot be read."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RallyError(f"{path} : lecture impossible ({error.strerror}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", ligne {mark.line + 1}" if mark is not None else ""
        raise RallyError(f"{path}{where} : ce n'est pas du YAML valide.") from None


def load_definition(path: Path | str, bank: Bank) -> RallyDefinition:
    """Read and check a rally definition file; :class:`RallyError` says what is wrong."""
    return parse_definition(read_definition_file(path), bank, str(path))


def parse_definition(raw: Any, bank: Bank, source: str = "rallye") -> RallyDefinition:
    """Check a definition already read (a mapping, as in the YAML file or the store)."""
    checker = _Checker(source)
    if not isinstance(raw, Mapping):
        checker.fail("(fichier)", "attendu : un dictionnaire (edition, titre, fenêtres, épreuves)")
    edition = checker.text(raw, "edition")
    title = checker.text(raw, "title")
    registration = checker.window(raw, "registration")
    window = checker.window(raw, "window")
    if registration.closes > window.closes:
        checker.fail(
            "registration.closes", "les inscriptions doivent fermer avant la fin du rallye"
        )
    rounds = checker.rounds(raw, bank)
    definition = RallyDefinition(edition, title, registration, window, rounds)
    log.info("Rally %s checked: %d round(s)", edition, len(rounds))
    return definition


def definition_json(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A checked definition's raw mapping made JSON-ready (datetimes as ISO 8601 text)."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {str(key): convert(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [convert(item) for item in value]
        return value

    return convert(raw)


class _Checker:
    """Reads the fields of one definition, failing with the file and field at fault."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, reason: str) -> None:
        raise RallyError(f"{self.source} : {field} : {reason}.")

    def text(self, raw: Mapping, field: str, where: str = "") -> str:
        value = raw.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail(where + field, "texte obligatoire")
        return value.strip()

    def moment(self, raw: Mapping, field: str, where: str) -> datetime:
        value = raw.get(field)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = None
        if not isinstance(value, datetime):
            self.fail(
                where + field,
                "attendu : une date et une heure, par exemple 2027-05-10T08:00:00+02:00",
            )
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail(
                where + field,
                f"« {value.isoformat()} » n'a pas de fuseau horaire "
                "(ajouter +01:00 en hiver, +02:00 en été)",
            )
        return value

    def window(self, raw: Mapping, field: str) -> Window:
        value = raw.get(field)
        if not isinstance(value, Mapping):
            self.fail(field, "attendu : opens et closes")
        opens = self.moment(value, "opens", f"{field}.")
        closes = self.moment(value, "closes", f"{field}.")
        if closes <= opens:
            self.fail(f"{field}.closes", "la fin doit venir après le début")
        return Window(opens, closes)

    def rounds(self, raw: Mapping, bank: Bank) -> tuple[Round, ...]:
        value = raw.get("rounds")
        if not isinstance(value, list) or not value:
            self.fail("rounds", "attendu : une liste d'épreuves")
        rounds: list[Round] = []
        seen_levels: dict[str, str] = {}
        for index, entry in enumerate(value, start=1):
            where = f"rounds[{index}]"
            if not isinstance(entry, Mapping):
                self.fail(where, "attendu : key, title, levels et exercises")
            rally_round = self.one_round(entry, where, bank)
            if any(other.key == rally_round.key for other in rounds):
                self.fail(f"{where}.key", f"« {rally_round.key} » est déjà pris")
            for level in rally_round.levels:
                if level in seen_levels:
                    self.fail(
                        f"{where}.levels",
                        f"le niveau {level} est déjà servi par l'épreuve « {seen_levels[level]} »",
                    )
                seen_levels[level] = rally_round.key
            rounds.append(rally_round)
        return tuple(rounds)

    def one_round(self, entry: Mapping, where: str, bank: Bank) -> Round:
        key = self.text(entry, "key", f"{where}.")
        if len(key) > KEY_MAX or not key.replace("-", "").isalnum():
            self.fail(f"{where}.key", "lettres, chiffres et tirets seulement (32 au plus)")
        title = self.text(entry, "title", f"{where}.")
        levels = entry.get("levels")
        if (
            not isinstance(levels, list)
            or not levels
            or any(level not in LEVELS for level in levels)
        ):
            self.fail(f"{where}.levels", f"attendu : une liste parmi {', '.join(LEVELS)}")
        items_raw = entry.get("exercises")
        if not isinstance(items_raw, list):
            self.fail(f"{where}.exercises", "attendu : une liste d'exercices")
        if not MIN_EXERCISES <= len(items_raw) <= MAX_EXERCISES:
            self.fail(
                f"{where}.exercises",
                f"{len(items_raw)} exercices ; une épreuve en a "
                f"de {MIN_EXERCISES} à {MAX_EXERCISES}",
            )
        items, exercises = [], []
        for number, item_raw in enumerate(items_raw, start=1):
            item, exercise = self.exercise(item_raw, f"{where}.exercises[{number}]", bank)
            items.append(item)
            exercises.append(exercise)
        rally_round = Round(key, title, tuple(levels), tuple(items), tuple(exercises))
        if rally_round.seconds > ROUND_CAP_SECONDS:
            self.fail(
                f"{where}.exercises",
                f"l'épreuve dure jusqu'à {_minutes(rally_round.seconds)}"
                f" ; {_minutes(ROUND_CAP_SECONDS)} au plus",
            )
        return rally_round

    def exercise(self, raw: Any, where: str, bank: Bank) -> tuple[SeanceItem, Exercise]:
        if isinstance(raw, str):
            raw = {"exercise": raw}
        if not isinstance(raw, Mapping):
            self.fail(where, "attendu : exercise et overrides")
        exercise_id = self.text(raw, "exercise", f"{where}.")
        overrides = raw.get("overrides") or {}
        if not isinstance(overrides, Mapping):
            self.fail(f"{where}.overrides", "attendu : un dictionnaire option: valeur")
        if exercise_id not in bank.exercises:
            self.fail(f"{where}.exercise", f"« {exercise_id} » n'est pas dans la banque")
        exercise = bank.exercises[exercise_id]
        if overrides and not exercise.common.adjustable:
            self.fail(f"{where}.overrides", f"les options de « {exercise_id} » sont figées")
        try:
            exercise = exercise.with_overrides(dict(overrides))
        except OptionsError as error:
            self.fail(f"{where}.overrides", str(error).rstrip("."))
        seconds = exercise_seconds(exercise)
        if seconds == 0:
            self.fail(
                where,
                f"« {exercise_id} » n'a pas de limite de temps ; donner "
                "exercise_seconds ou question_seconds",
            )
        if seconds > EXERCISE_CAP_SECONDS:
            self.fail(
                where,
                f"« {exercise_id} » dure jusqu'à {_minutes(seconds)} ; "
                f"{_minutes(EXERCISE_CAP_SECONDS)} au plus",
            )
        # Not replayable during the rally: one go at each exercise, whatever the bank says.
        exercise = replace(
            exercise, common=exercise.common.model_copy(update={"replayable": False})
        )
        return SeanceItem(exercise_id, dict(overrides)), exercise


def _minutes(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}\u00a0min {rest:02d}\u00a0s" if rest else f"{minutes}\u00a0min"
