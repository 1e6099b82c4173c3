"""Option declarations shared by every engine and every exercise.

Each option is declared once, as a pydantic field with its type, range,
default, French label (``title``) and one-line French help
(``description``). Forms, validation messages and documentation are derived
from these declarations.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from calculatice.errors import OptionsError
from calculatice.numbers import parse_number_set, write_number_set


def _number_set(value: Any) -> tuple[int, ...]:
    if isinstance(value, tuple) and all(isinstance(item, int) for item in value):
        return value
    return parse_number_set(value)


NumberSet = Annotated[
    tuple[int, ...],
    BeforeValidator(_number_set),
    PlainSerializer(write_number_set, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "number-set", "examples": ["2;3;4", "2-9", "2-5;7;10"]}
    ),
]
"""A set of whole numbers written the calcul@TICE way: ``2;3;4``, ``2-9``, ``2-5;7;10``."""


class OptionModel(BaseModel):
    """Base of every option model: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


ModelT = TypeVar("ModelT", bound=OptionModel)


class CommonOptions(OptionModel):
    """The options every calcul@TICE exercise has, with their historical meanings."""

    questions: int = Field(
        10,
        ge=1,
        le=50,
        title="Nombre de questions",
        description="Combien de questions l'exercice pose.",
    )
    attempts: int = Field(
        2,
        ge=1,
        le=5,
        title="Essais par question",
        description="Combien de réponses fausses sont permises avant la correction.",
    )
    exercise_seconds: int = Field(
        0,
        ge=0,
        le=3600,
        title="Temps pour l'exercice (s)",
        description="Durée de tout l'exercice en secondes ; 0 = pas de limite globale.",
    )
    question_seconds: int = Field(
        0,
        ge=0,
        le=600,
        title="Temps par question (s)",
        description="Durée de chaque question en secondes, utilisée quand il n'y a pas "
        "de limite globale ; 0 = pas de limite.",
    )
    replayable: bool = Field(
        True,
        title="Rejouable",
        description="L'élève peut recommencer l'exercice à la fin.",
    )
    adjustable: bool = Field(
        True,
        title="Paramétrable",
        description="L'enseignant peut changer les options de l'exercice.",
    )
    keypad: bool = Field(
        False,
        title="Pavé numérique",
        description="Affiche un pavé numérique à l'écran, pour les tablettes.",
    )

    @property
    def timed_per_question(self) -> bool:
        """Whether each question has its own time limit (no whole-exercise limit)."""
        return self.exercise_seconds == 0 and self.question_seconds > 0


COMMON_OPTION_NAMES = frozenset(CommonOptions.model_fields)

# calcul@TICE's option names, and the older ones, mapped to ours.
CALCULATICE_NAMES = {
    "totalQuestion": "questions",
    "nbre_questions": "questions",
    "totalEssai": "attempts",
    "tempsExo": "exercise_seconds",
    "temps_exo": "exercise_seconds",
    "tempsQuestion": "question_seconds",
    "temps_question": "question_seconds",
    "estRejouable": "replayable",
    "parametrable": "adjustable",
    "tabletSupport": "keypad",
}


def import_calculatice_options(option_object: dict[str, Any]) -> tuple[CommonOptions, dict]:
    """Split a calcul@TICE option object into common options and engine options.

    Historical names (``totalQuestion``, ``tempsExo``, ``nbre_questions``…)
    become ours; every other key is returned untouched for the engine's own
    option model to validate. Raises :class:`OptionsError` on a bad value or
    when an old and a new name give the same option twice.
    """
    common: dict[str, Any] = {}
    engine_options: dict[str, Any] = {}
    for key, value in option_object.items():
        name = CALCULATICE_NAMES.get(key, key)
        if name not in COMMON_OPTION_NAMES:
            engine_options[key] = value
            continue
        if name in common and common[name] != value:
            raise OptionsError(f"L'option « {name} » est donnée deux fois ({key}).")
        common[name] = value
    return validate_options(CommonOptions, common), engine_options


def validate_options(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """Validate option values against a model, with one French line per problem.

    Raises :class:`OptionsError` whose ``problems`` are ``(option, reason)``
    pairs and whose message names each option by its key and French label.
    """
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = option_problems(model, error)
        message = "\n".join(f"{_labelled(model, name)} : {reason}" for name, reason in problems)
        raise OptionsError(message, problems) from None


def option_problems(model: type[BaseModel], error: ValidationError) -> list[tuple[str, str]]:
    """Turn a pydantic error into ``(option, French reason)`` pairs."""
    problems = []
    for problem in error.errors(include_url=False):
        location = ".".join(str(part) for part in problem["loc"])
        problems.append((location, _french_reason(problem)))
    return problems


def _labelled(model: type[BaseModel], name: str) -> str:
    """``tables (Tables)``: an option's key with its French label, when it has one."""
    field = model.model_fields.get(name.split(".")[0]) if name else None
    if field is None or not field.title:
        return name or "options"
    return f"{name} ({field.title})"


def _french_reason(problem: dict[str, Any]) -> str:
    """A French explanation of one pydantic error."""
    kind = problem["type"]
    context = problem.get("ctx") or {}
    reasons = {
        "extra_forbidden": "option inconnue",
        "missing": "option obligatoire manquante",
        "greater_than_equal": f"doit valoir au moins {context.get('ge')}",
        "greater_than": f"doit valoir plus de {context.get('gt')}",
        "less_than_equal": f"doit valoir au plus {context.get('le')}",
        "less_than": f"doit valoir moins de {context.get('lt')}",
        "int_parsing": "doit être un nombre entier",
        "int_type": "doit être un nombre entier",
        "int_from_float": "doit être un nombre entier",
        "bool_parsing": "doit valoir oui (true) ou non (false)",
        "bool_type": "doit valoir oui (true) ou non (false)",
        "literal_error": f"doit être l'une des valeurs {context.get('expected')}",
        "enum": f"doit être l'une des valeurs {context.get('expected')}",
        "string_type": "doit être un texte",
        "too_short": "contient trop peu d'éléments",
        "too_long": "contient trop d'éléments",
    }
    if kind in reasons:
        return reasons[kind]
    message = str(problem.get("msg", "valeur invalide"))
    # Our own validators raise ValueError with a French message; pydantic prefixes it.
    return message.removeprefix("Value error, ")


class EngineOptions(OptionModel):
    """Base of an engine's own options; subclasses declare fields with French labels."""

    @model_validator(mode="after")
    def _check_consistency(self) -> EngineOptions:
        self.check()
        return self

    def check(self) -> None:
        """Raise ``ValueError`` with a French message when options contradict each other."""


def number_set(low: int, high: int, max_size: int = 100_001) -> Any:
    """A :data:`NumberSet` type whose numbers lie between ``low`` and ``high``.

    Use it as a field's annotation: ``tables: number_set(0, 12) = Field("2-5", ...)``.
    The bounds are checked with a French message and published in the JSON
    schema (``minimum``, ``maximum``), from which forms and property tests
    draw valid values.
    """

    def within_bounds(numbers: tuple[int, ...]) -> tuple[int, ...]:
        outside = [number for number in numbers if not low <= number <= high]
        if outside:
            raise ValueError(f"les nombres doivent être entre {low} et {high} ({outside[0]})")
        if len(numbers) > max_size:
            raise ValueError(f"au plus {max_size} nombres")
        return numbers

    schema = {
        "type": "string",
        "format": "number-set",
        "minimum": low,
        "maximum": high,
        "maxItems": max_size,
    }
    return Annotated[
        tuple[int, ...],
        BeforeValidator(_number_set),
        AfterValidator(within_bounds),
        PlainSerializer(write_number_set, return_type=str),
        WithJsonSchema(schema),
    ]
