"""Exceptions of the calculatice library.

Messages meant for teachers and designers are in French; each says what was
wrong, where, and what would be right.
"""


class CalculaticeError(Exception):
    """Base of every error the library raises on purpose."""


class NumberSetError(CalculaticeError, ValueError):
    """A number set such as ``2-9;12`` is malformed."""


class OptionsError(CalculaticeError, ValueError):
    """Option values given to an engine or an exercise are invalid.

    ``problems`` lists ``(option, French reason)`` pairs, one per invalid option.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [("", message)]


class UnknownEngineError(CalculaticeError, KeyError):
    """No engine is registered under the given name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "moteur inconnu"


class GenerationError(CalculaticeError, RuntimeError):
    """An engine could not draw a question that meets its options."""


class BankError(CalculaticeError):
    """An exercise file of the bank is malformed.

    ``path`` is the file, ``field`` the offending key (dotted for nested keys,
    empty when the whole file is wrong), ``reason`` the French explanation.
    """

    def __init__(self, path: str, field: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        super().__init__(f"{path}: {field or '(fichier)'}: {reason}")


class UnknownExerciseError(CalculaticeError, KeyError):
    """No exercise of the bank has the given id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "exercice inconnu"


class ExerciseFinishedError(CalculaticeError, RuntimeError):
    """An answer or a time-out came for an exercise that is already finished."""


class StoreError(CalculaticeError, RuntimeError):
    """The results store refused an operation: unknown id, duplicate code, bad value."""


class StoreUnavailable(CalculaticeError, RuntimeError):
    """The results database cannot be reached now (restarting, locked): try again shortly.

    Nothing was recorded that the caller was told about: a request that
    meets it is answered "503, try again", and the page sends it again.
    """
