"""The ``calculatice`` command: the bank and the engines, from a terminal.

Messages are in French, for the pedagogical groups and the organisers who use
it; a bad input ends with a clear message and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from calculatice.catalogue import LEVELS, THEMES, Bank, Exercise, exercise_files, load_bank
from calculatice.engines.base import Kind, Question, all_engines, get_engine
from calculatice.errors import CalculaticeError


def _bank_option(function):
    return click.option(
        "--bank",
        "bank_folder",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Dossier de la banque (par défaut $CALCULATICE_BANK ou ./exercices).",
    )(function)


class _FriendlyGroup(click.Group):
    """A group that turns the library's errors into a French message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CalculaticeError as error:
            click.echo(f"Erreur : {error}", err=True)
            ctx.exit(1)


@click.group(cls=_FriendlyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Afficher le journal détaillé.")
def main(verbose: bool) -> None:
    """calcul@TICE : la banque d'exercices de calcul mental, du CP à la 6e."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.group(cls=_FriendlyGroup)
def bank() -> None:
    """Vérifier, lister et prévisualiser les exercices de la banque."""


@bank.command("check")
@_bank_option
def bank_check(bank_folder: Path | None) -> None:
    """Vérifier chaque fichier de la banque ; une ligne par problème, statut 1 s'il y en a."""
    loaded = _load(bank_folder)
    for problem in loaded.problems:
        click.echo(f"{problem.path}: {problem.field or '(fichier)'}: {problem.reason}")
    if loaded.problems:
        click.echo(f"{len(loaded.problems)} problème(s) dans {loaded.folder}.", err=True)
        sys.exit(1)
    click.echo(f"{len(loaded)} exercices valides dans {loaded.folder}.")


@bank.command("list")
@_bank_option
@click.option("--level", "levels", multiple=True, type=click.Choice(LEVELS), help="Niveau.")
@click.option("--theme", "themes", multiple=True, type=click.Choice(list(THEMES)), help="Thème.")
@click.option("--engine", "engines", multiple=True, help="Moteur.")
@click.option("--search", "words", default="", help="Mots du titre ou de la consigne.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
def bank_list(
    bank_folder: Path | None,
    levels: tuple[str, ...],
    themes: tuple[str, ...],
    engines: tuple[str, ...],
    words: str,
    as_json: bool,
) -> None:
    """Lister les exercices, filtrés par niveau, thème, moteur ou mots."""
    chosen = _load(bank_folder).select(levels, themes, engines, words)
    if as_json:
        click.echo(json.dumps([_summary(exercise) for exercise in chosen], ensure_ascii=False))
        return
    for exercise in chosen:
        click.echo(
            f"{exercise.id:<34} {'/'.join(exercise.levels):<8} "
            f"{exercise.theme_name:<24} {exercise.title}"
        )
    click.echo(f"{len(chosen)} exercice(s).", err=True)


def _summary(exercise: Exercise) -> dict[str, Any]:
    return {
        "id": exercise.id,
        "title": exercise.title,
        "levels": list(exercise.levels),
        "theme": exercise.theme,
        "engine": exercise.engine,
    }


@bank.command("preview")
@_bank_option
@click.argument("exercise_id")
@click.option("--seed", default="0", show_default=True, help="Graine du tirage.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
def bank_preview(bank_folder: Path | None, exercise_id: str, seed: str, as_json: bool) -> None:
    """Montrer les questions d'un exercice, leurs réponses et leurs corrections."""
    exercise = _load(bank_folder).get(exercise_id)
    questions = exercise.questions(seed)
    if as_json:
        shown = [question.to_dict() for question in questions]
        click.echo(json.dumps({**_summary(exercise), "questions": shown}, ensure_ascii=False))
        return
    click.echo(f"{exercise.title} ({'/'.join(exercise.levels)}, {exercise.theme_name})")
    if exercise.instructions:
        click.echo(f"Consigne : {exercise.instructions}")
    click.echo(f"Moteur : {exercise.engine} ; graine : {seed} ; {_timing(exercise)}")
    click.echo()
    for number, question in enumerate(questions, start=1):
        click.echo(_preview_lines(number, question))


def _timing(exercise: Exercise) -> str:
    common = exercise.common
    essais = f"{common.attempts} essai(s) par question"
    if common.exercise_seconds:
        return f"{common.questions} questions en {common.exercise_seconds} s ; {essais}"
    if common.question_seconds:
        return f"{common.questions} questions, {common.question_seconds} s chacune ; {essais}"
    return f"{common.questions} questions sans limite de temps ; {essais}"


def _preview_lines(number: int, question: Question) -> str:
    lines = [f"{number:>2}. {question.prompt}"]
    if question.kind is Kind.FLASH:
        lines.append(f"    montré {question.flash_seconds:g} s : {question.flash_text}")
    if question.svg:
        lines.append("    (image)")
    if question.choices:
        marks = "   ".join(f"[{index}] {choice}" for index, choice in enumerate(question.choices))
        lines.append(f"    choix : {marks}")
    if question.cells:
        lines.append(f"    cases : {' | '.join(question.cells)}")
    lines.append(f"    réponse : {question.solution}")
    lines.append(f"    correction : {question.correction}")
    return "\n".join(lines)


@main.group(cls=_FriendlyGroup)
def engines() -> None:
    """Les moteurs d'exercices (matrices) et leurs options."""


@engines.command("list")
def engines_list() -> None:
    """Lister les moteurs."""
    for name, engine in all_engines().items():
        click.echo(f"{name:<24} {engine.title}")


@engines.command("show")
@click.argument("name")
def engines_show(name: str) -> None:
    """Décrire les options d'un moteur : nom, libellé, valeur par défaut, aide."""
    engine = get_engine(name)
    click.echo(f"{engine.name} : {engine.title}\n{engine.description}\n")
    schema = engine.Options.model_json_schema()
    for option, spec in schema.get("properties", {}).items():
        bounds = _bounds(spec)
        click.echo(f"  {option} ({spec.get('title', option)}) = {spec.get('default')!r}{bounds}")
        click.echo(f"      {spec.get('description', '')}")


def _bounds(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return f" ; valeurs : {', '.join(map(str, spec['enum']))}"
    if "minimum" in spec and "maximum" in spec:
        return f" ; de {spec['minimum']} à {spec['maximum']}"
    return ""


def _load(bank_folder: Path | None) -> Bank:
    loaded = load_bank(bank_folder)
    if not exercise_files(loaded.folder):
        raise click.ClickException(f"Aucun exercice trouvé dans {loaded.folder}.")
    return loaded
