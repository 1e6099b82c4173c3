"""The exercise bank: one YAML file per exercise, in folders named after themes.

An exercise is an engine plus option values, a French title, levels, a theme
and instructions for the pupil. Loading never lets a traceback through: a
malformed file is reported as a :class:`~calculatice.errors.BankError` with
its path, the field and the reason, in French.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from calculatice.engines.base import Engine, Question, get_engine
from calculatice.errors import (
    BankError,
    CalculaticeError,
    OptionsError,
    UnknownEngineError,
    UnknownExerciseError,
)
from calculatice.options import COMMON_OPTION_NAMES, CommonOptions, EngineOptions, validate_options

log = logging.getLogger(__name__)

LEVELS = ("CP", "CE1", "CE2", "CM1", "CM2", "6e")
"""School levels, in the order of the progression."""

THEMES = {
    "numeration": "Numération",
    "sequences": "Suites et comptage",
    "addition": "Addition",
    "subtraction": "Soustraction",
    "multiplication": "Multiplication",
    "division": "Division",
    "complements": "Compléments",
    "doubles-halves": "Doubles et moitiés",
    "decimals": "Nombres décimaux",
    "fractions": "Fractions",
    "estimation": "Ordres de grandeur",
    "money": "Monnaie",
    "time": "Heures et durées",
    "proportionality": "Proportionnalité et pourcentages",
    "strategies": "Calcul réfléchi",
}
"""Theme keys (folder names of the bank) and their French names."""

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("id", "title", "levels", "theme", "engine")
_ALLOWED = frozenset(_REQUIRED) | {"instructions", "options"}
SAMPLE_SEED = 0
"""Seed of the sample drawn when a file is checked, so that a check is repeatable."""


@dataclass(frozen=True)
class Exercise:
    """An exercise of the bank: an engine, its option values and what describes it."""

    id: str
    title: str
    levels: tuple[str, ...]
    theme: str
    engine: str
    options: EngineOptions
    common: CommonOptions
    instructions: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def theme_name(self) -> str:
        """The theme's French name."""
        return THEMES[self.theme]

    def engine_object(self) -> Engine:
        """The engine that draws and checks this exercise's questions."""
        return get_engine(self.engine)

    def questions(self, seed: int | str) -> list[Question]:
        """Draw the exercise's questions; the same seed gives the same questions."""
        return self.engine_object().questions(self.options, self.common.questions, seed)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Exercise:
        """A copy with some option values changed (a séance's adjustments), validated."""
        values = {**self.option_values(), **overrides}
        options, common = _split_options(get_engine(self.engine), values)
        return replace(self, options=options, common=common)

    def option_values(self) -> dict[str, Any]:
        """Engine and common options together, as written in an exercise file."""
        return {
            **self.options.model_dump(mode="json"),
            **self.common.model_dump(mode="json"),
        }


def _split_options(
    engine: Engine, values: Mapping[str, Any]
) -> tuple[EngineOptions, CommonOptions]:
    """Validate an ``options`` mapping: common options on one side, the engine's on the other."""
    common_values = {key: value for key, value in values.items() if key in COMMON_OPTION_NAMES}
    engine_values = {key: value for key, value in values.items() if key not in COMMON_OPTION_NAMES}
    problems: list[tuple[str, str]] = []
    options = common = None
    try:
        common = validate_options(CommonOptions, common_values)
    except OptionsError as error:
        problems.extend(error.problems)
    try:
        options = engine.options(engine_values)
    except OptionsError as error:
        problems.extend(error.problems)
    if problems:
        message = "\n".join(f"{name} : {reason}" for name, reason in problems)
        raise OptionsError(message, problems)
    return options, common


def load_exercise(path: Path) -> Exercise:
    """Read and validate one exercise file; raise :class:`BankError` on the first problem.

    Use :func:`check_file` to get every problem of a file at once.
    """
    problems = check_file(path)
    if problems:
        raise problems[0]
    return _parse(path, _read_yaml(path))


def check_file(path: Path) -> list[BankError]:
    """Every problem of one exercise file, each with the path, the field and the reason."""
    try:
        document = _read_yaml(path)
    except BankError as error:
        return [error]
    problems = [
        BankError(str(path), name, reason) for name, reason in _structure_problems(path, document)
    ]
    if problems:
        return problems
    try:
        exercise = _parse(path, document)
    except BankError as error:
        return [error]
    return [BankError(str(path), name, reason) for name, reason in _sample_problems(exercise)]


def _read_yaml(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BankError(str(path), "", f"fichier illisible ({error.__class__.__name__})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or "syntaxe invalide"
        raise BankError(str(path), "", f"YAML invalide{where} : {reason}") from None


def _structure_problems(path: Path, document: Any) -> Iterator[tuple[str, str]]:
    """Problems of the file's shape, before any engine is asked anything."""
    if not isinstance(document, dict):
        yield "", "le fichier doit décrire un exercice (des clés id, title, levels…)"
        return
    for key in _REQUIRED:
        if key not in document or document[key] in (None, ""):
            yield key, "champ obligatoire manquant"
    for key in sorted(set(document) - _ALLOWED, key=str):
        yield str(key), f"champ inconnu ; champs permis : {', '.join(sorted(_ALLOWED))}"
    yield from _id_problems(path, document.get("id"))
    yield from _text_problems(document)
    yield from _level_problems(document.get("levels"))
    yield from _theme_problems(path, document.get("theme"))
    engine = document.get("engine")
    if engine is not None:
        try:
            get_engine(str(engine))
        except UnknownEngineError:
            yield "engine", f"moteur inconnu « {engine} » (voir « calculatice engines list »)"
    options = document.get("options", {})
    if options is not None and not isinstance(options, dict):
        yield "options", "doit être une liste de clés et de valeurs (option: valeur)"


def _id_problems(path: Path, exercise_id: Any) -> Iterator[tuple[str, str]]:
    if exercise_id is None:
        return
    if not isinstance(exercise_id, str) or not _ID.match(exercise_id):
        yield "id", "minuscules, chiffres et tirets seulement, par exemple « ce1-tables-2-3 »"
    elif exercise_id != Path(path).stem:
        yield "id", f"doit être le nom du fichier sans « .yaml » : « {Path(path).stem} »"


def _text_problems(document: dict) -> Iterator[tuple[str, str]]:
    for key in ("title", "instructions"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            yield key, "doit être un texte"


def _level_problems(levels: Any) -> Iterator[tuple[str, str]]:
    if levels is None:
        return
    if isinstance(levels, str):
        levels = [levels]
    if not isinstance(levels, list) or not levels:
        yield "levels", f"une liste de niveaux parmi {', '.join(LEVELS)}"
        return
    for level in levels:
        if level not in LEVELS:
            yield "levels", f"niveau inconnu « {level} » ; niveaux : {', '.join(LEVELS)}"


def _theme_problems(path: Path, theme: Any) -> Iterator[tuple[str, str]]:
    if theme is None:
        return
    if theme not in THEMES:
        yield "theme", f"thème inconnu « {theme} » ; thèmes : {', '.join(THEMES)}"
    elif Path(path).parent.name != theme:
        yield "theme", f"le fichier doit être rangé dans le dossier « {theme}/ »"


def _parse(path: Path, document: dict) -> Exercise:
    """Build the exercise from a well-shaped document; option problems become BankErrors."""
    engine = get_engine(document["engine"])
    levels = document["levels"]
    try:
        options, common = _split_options(engine, document.get("options") or {})
    except OptionsError as error:
        name, reason = error.problems[0]
        raise BankError(str(path), f"options.{name}" if name else "options", reason) from None
    return Exercise(
        id=document["id"],
        title=document["title"].strip(),
        levels=tuple(sorted([levels] if isinstance(levels, str) else levels, key=LEVELS.index)),
        theme=document["theme"],
        engine=engine.name,
        options=options,
        common=common,
        instructions=(document.get("instructions") or "").strip(),
        path=Path(path),
    )


def _sample_problems(exercise: Exercise) -> Iterator[tuple[str, str]]:
    """Draw the exercise once: options an engine cannot satisfy are found at check time."""
    try:
        exercise.questions(SAMPLE_SEED)
    except CalculaticeError as error:
        yield "options", str(error)


def default_bank_folder() -> Path:
    """Where the bank is: ``$CALCULATICE_BANK``, else ``exercices/`` here, else the project's."""
    configured = os.environ.get("CALCULATICE_BANK")
    if configured:
        return Path(configured)
    here = Path.cwd() / "exercices"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "exercices"


def exercise_files(folder: Path) -> list[Path]:
    """Every exercise file of a bank folder, sorted."""
    return sorted(Path(folder).rglob("*.yaml"))


@dataclass(frozen=True)
class Bank:
    """The exercises of a bank folder that are valid, and the problems of the others."""

    folder: Path
    exercises: dict[str, Exercise]
    problems: tuple[BankError, ...] = ()

    def __len__(self) -> int:
        return len(self.exercises)

    def get(self, exercise_id: str) -> Exercise:
        """The exercise with this id; a French error when there is none."""
        try:
            return self.exercises[exercise_id]
        except KeyError:
            raise UnknownExerciseError(
                f"L'exercice « {exercise_id} » n'est pas dans la banque "
                "(voir « calculatice bank list »)."
            ) from None

    def select(
        self,
        levels: Iterable[str] = (),
        themes: Iterable[str] = (),
        engines: Iterable[str] = (),
        words: str = "",
    ) -> list[Exercise]:
        """Exercises matching every given filter, in the order of the progression."""
        levels, themes, engines = set(levels), set(themes), set(engines)
        lowered = words.casefold().split()
        chosen = [
            exercise
            for exercise in self.exercises.values()
            if (not levels or levels & set(exercise.levels))
            and (not themes or exercise.theme in themes)
            and (not engines or exercise.engine in engines)
            and all(word in _searchable(exercise) for word in lowered)
        ]
        return sorted(chosen, key=_progression_order)


def _searchable(exercise: Exercise) -> str:
    return f"{exercise.id} {exercise.title} {exercise.instructions}".casefold()


def _progression_order(exercise: Exercise) -> tuple[int, str, str]:
    return (LEVELS.index(exercise.levels[0]), exercise.theme, exercise.id)


def load_bank(folder: Path | None = None) -> Bank:
    """Load every file of a bank folder; invalid files are kept aside as problems.

    Two files with the same id are both a problem for the second one found.
    """
    folder = Path(folder) if folder is not None else default_bank_folder()
    exercises: dict[str, Exercise] = {}
    problems: list[BankError] = []
    for path in exercise_files(folder):
        file_problems = check_file(path)
        if file_problems:
            problems.extend(file_problems)
            continue
        exercise = _parse(path, _read_yaml(path))
        if exercise.id in exercises:
            first = exercises[exercise.id].path
            problems.append(BankError(str(path), "id", f"déjà utilisé par {first}"))
            continue
        exercises[exercise.id] = exercise
    for problem in problems:
        log.warning(
            "Rejected exercise file %s: %s: %s", problem.path, problem.field, problem.reason
        )
    return Bank(folder, exercises, tuple(problems))


def exercise_document(exercise: Exercise) -> dict[str, Any]:
    """The exercise as its YAML file holds it: only options that differ from the defaults."""
    defaults = {
        **get_engine(exercise.engine).options().model_dump(mode="json"),
        **CommonOptions().model_dump(mode="json"),
    }
    options = {
        name: value
        for name, value in exercise.option_values().items()
        if defaults.get(name) != value
    }
    document: dict[str, Any] = {
        "id": exercise.id,
        "title": exercise.title,
        "levels": list(exercise.levels),
        "theme": exercise.theme,
        "engine": exercise.engine,
    }
    if exercise.instructions:
        document["instructions"] = exercise.instructions
    document["options"] = options
    return document


def write_exercise(exercise: Exercise, folder: Path, *, overwrite: bool = False) -> Path:
    """Write an exercise to ``folder/<theme>/<id>.yaml`` and check the file as the bank would.

    An existing file is kept unless ``overwrite`` is set (:class:`BankError`
    says so). The written file is checked again; a file that would not load
    is removed and the problem raised.
    """
    from ruamel.yaml import YAML

    path = Path(folder) / exercise.theme / f"{exercise.id}.yaml"
    if path.exists() and not overwrite:
        raise BankError(
            str(path),
            "id",
            "un exercice porte déjà cet identifiant : le remplacer ou en changer",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = YAML()
    writer.default_flow_style = False
    writer.allow_unicode = True
    with path.open("w", encoding="utf-8") as stream:
        writer.dump(exercise_document(exercise), stream)
    problems = check_file(path)
    if problems:
        path.unlink()
        raise problems[0]
    log.info("Exercise %s written to %s", exercise.id, path)
    return path


def new_exercise(
    exercise_id: str,
    title: str,
    levels: Iterable[str],
    theme: str,
    engine: str,
    options: Mapping[str, Any],
    instructions: str = "",
) -> Exercise:
    """Build an exercise from its parts, validated as a bank file would be.

    ``options`` may use calcul@TICE's names (``totalQuestion``, ``tempsExo``…).
    Raises :class:`BankError` (with no path yet) naming the field at fault.
    """
    from calculatice.options import import_calculatice_options

    document = {
        "id": exercise_id,
        "title": title,
        "levels": list(levels),
        "theme": theme,
        "engine": engine,
        "instructions": instructions,
    }
    where = Path(theme) / f"{exercise_id}.yaml"
    problems = [
        BankError("", name, reason) for name, reason in _structure_problems(where, document)
    ]
    if problems:
        raise problems[0]
    try:
        common, engine_options = import_calculatice_options(dict(options))
    except OptionsError as error:
        name, reason = error.problems[0]
        raise BankError("", f"options.{name}" if name else "options", reason) from None
    document["options"] = {**engine_options, **common.model_dump(mode="json")}
    return _parse(where, document)
