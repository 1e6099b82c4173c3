"""The common options of every exercise and the import of calcul@TICE option objects."""

from __future__ import annotations

import pytest

from calculatice.errors import OptionsError
from calculatice.options import CommonOptions, import_calculatice_options, validate_options


def test_common_options_have_calculatice_defaults() -> None:
    common = CommonOptions()
    assert (common.questions, common.attempts) == (10, 2)
    assert (common.exercise_seconds, common.question_seconds) == (0, 0)
    assert common.replayable and common.adjustable and not common.keypad


def test_question_timer_applies_only_without_an_exercise_timer() -> None:
    assert CommonOptions(question_seconds=8).timed_per_question
    assert not CommonOptions(question_seconds=8, exercise_seconds=120).timed_per_question
    assert not CommonOptions().timed_per_question


def test_calculatice_option_object_is_imported() -> None:
    common, engine_options = import_calculatice_options(
        {
            "totalQuestion": 5,
            "totalEssai": 1,
            "tempsExo": 120,
            "tempsQuestion": 0,
            "estRejouable": False,
            "parametrable": True,
            "tabletSupport": True,
            "facteurs": "2;3;4;5;6;7;8;9",
        }
    )
    assert common == CommonOptions(
        questions=5,
        attempts=1,
        exercise_seconds=120,
        question_seconds=0,
        replayable=False,
        adjustable=True,
        keypad=True,
    )
    assert engine_options == {"facteurs": "2;3;4;5;6;7;8;9"}


def test_old_calculatice_names_are_imported() -> None:
    common, _ = import_calculatice_options(
        {"nbre_questions": 8, "temps_question": 12, "temps_exo": 0}
    )
    assert (common.questions, common.question_seconds, common.exercise_seconds) == (8, 12, 0)


def test_old_and_new_names_that_disagree_are_refused() -> None:
    with pytest.raises(OptionsError, match="questions"):
        import_calculatice_options({"totalQuestion": 5, "nbre_questions": 8})


def test_bad_values_are_refused_with_the_option_and_a_french_reason() -> None:
    with pytest.raises(OptionsError) as refused:
        validate_options(CommonOptions, {"questions": 0, "attempts": "deux", "colour": "red"})
    assert dict(refused.value.problems) == {
        "questions": "doit valoir au moins 1",
        "attempts": "doit être un nombre entier",
        "colour": "option inconnue",
    }
    assert "questions (Nombre de questions) : doit valoir au moins 1" in str(refused.value)
