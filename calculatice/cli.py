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
from calculatice.environment import configure_environment
from calculatice.errors import CalculaticeError
from calculatice.numbers import count_of
from calculatice.options import validate_options
from calculatice.web.settings import PUPIL_NOTEBOOK, ServeSettings


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
        problems = count_of(len(loaded.problems), "problème", "problèmes")
        click.echo(f"{problems} dans {loaded.folder}.", err=True)
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
    click.echo(f"{count_of(len(chosen), 'exercice', 'exercices')}.", err=True)


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
    essais = f"{count_of(common.attempts, 'essai', 'essais')} par question"
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
        raise CalculaticeError(f"Aucun exercice trouvé dans {loaded.folder}.")
    return loaded


def _options_from_settings(model):
    """Click options generated from a settings model: declared once, with their French help."""

    def decorate(function):
        for name, field in reversed(list(model.model_fields.items())):
            flag = "--" + name.replace("_", "-")
            kind = field.annotation if field.annotation in (int, float, str) else str
            if field.annotation is Path:
                kind = click.Path(path_type=Path)
            function = click.option(
                flag,
                name,
                type=kind,
                default=field.default,
                show_default=True,
                help=field.description,
            )(function)
        return function

    return decorate


@main.command("serve")
@_options_from_settings(ServeSettings)
@_bank_option
@click.option("--db", "db_url", default=None, help="Base de données (URL SQLAlchemy).")
@click.option("--no-demo", is_flag=True, help="Ne pas créer les données de démonstration.")
def serve_command(bank_folder: Path | None, db_url: str | None, no_demo: bool, **values) -> None:
    """Démarrer le serveur des pages élèves (Voilà) sur cette machine."""
    from calculatice.demo import DEMO_TEACHER, ensure_demo
    from calculatice.seances import format_code
    from calculatice.store import open_store
    from calculatice.web.server import serve

    settings = validate_options(ServeSettings, values)
    configure_environment(bank_folder, db_url)
    store = open_store()
    if not no_demo:
        demo = ensure_demo(store, load_bank())
        click.echo(f"Séance de démonstration : code {format_code(demo.seance_code)}")
        if demo.teacher_password is not None:
            click.echo(
                f"Compte enseignant de démonstration : {DEMO_TEACHER}, mot de passe "
                f"{demo.teacher_password} (affiché cette fois seulement)"
            )
    store.close()
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Page élève : {base}/voila/render/{PUPIL_NOTEBOOK}")
    click.echo(f"Page enseignant : {base}/voila/render/enseignant.ipynb")
    click.echo(f"Page inspection : {base}/voila/render/inspection.ipynb")
    click.echo(f"Rallye : {base}/rallye")
    click.echo("Arrêt : Ctrl-C.")
    serve(settings)


@main.group("class", cls=_FriendlyGroup)
@click.option("--db", "db_url", default=None, help="Base de données (URL SQLAlchemy).")
@click.pass_context
def classroom_group(ctx: click.Context, db_url: str | None) -> None:
    """Les classes : les lister, en ajouter."""
    ctx.obj = {"db_url": db_url}


@classroom_group.command("list")
@click.pass_obj
def classroom_list(context: dict) -> None:
    """Lister les classes et leur numéro."""
    from calculatice.store import open_store

    with open_store(context["db_url"]) as store:
        for room in store.classrooms():
            click.echo(f"{room.id:>5}  {room.level:<4} {room.name}")


@classroom_group.command("add")
@click.argument("name")
@click.option("--level", type=click.Choice(LEVELS), required=True, help="Niveau de la classe.")
@click.option("--school", "school_code", required=True, help="Code (UAI) de l'école.")
@click.option("--school-name", default=None, help="Nom de l'école, si elle est nouvelle.")
@click.option("--district", default="", help="Circonscription, si l'école est nouvelle.")
@click.option(
    "--sector",
    type=click.Choice(["public", "rep", "rep_plus", "private"]),
    default="public",
    help="Secteur, si l'école est nouvelle.",
)
@click.pass_obj
def classroom_add(
    context: dict,
    name: str,
    level: str,
    school_code: str,
    school_name: str | None,
    district: str,
    sector: str,
) -> None:
    """Ajouter une classe à une école (créée si elle n'existe pas)."""
    from calculatice.store import open_store

    with open_store(context["db_url"]) as store:
        school = store.school_by_code(school_code)
        if school is None:
            school = store.add_school(
                school_code, school_name or school_code, district=district, sector=sector
            )
        room = store.add_classroom(school.id, name, level)
    click.echo(f"Classe {room.id} : {room.name} ({room.level})")


@main.group(cls=_FriendlyGroup)
def seance() -> None:
    """Les séances : des exercices de la banque, dans l'ordre, sous un code."""


@seance.command("create")
@_bank_option
@click.option("--db", "db_url", default=None, help="Base de données (URL SQLAlchemy).")
@click.option("--class", "classroom", required=True, help="Numéro ou nom de la classe.")
@click.option("--title", default="Séance", show_default=True, help="Titre de la séance.")
@click.option(
    "--exercise",
    "specs",
    multiple=True,
    required=True,
    help="ID[:option=valeur...], par exemple ce2-toutes-les-tables:questions=5 ; répétable.",
)
def seance_create(
    bank_folder: Path | None,
    db_url: str | None,
    classroom: str,
    title: str,
    specs: tuple[str, ...],
) -> None:
    """Créer une séance pour une classe et afficher son code."""
    from calculatice.seances import create_seance, format_code, parse_item
    from calculatice.store import open_store

    items = [parse_item(spec) for spec in specs]
    bank_loaded = _load(bank_folder)
    with open_store(db_url) as store:
        room = _find_classroom(store, classroom)
        created = create_seance(store, bank_loaded, title, items, room.id)
    click.echo(format_code(created.code))
    exercises = count_of(len(created.exercises), "exercice", "exercices")
    click.echo(f"{exercises} pour {room.name}.", err=True)


def _find_classroom(store, wanted: str):
    rooms = store.classrooms()
    matches = [room for room in rooms if str(room.id) == wanted or room.name == wanted]
    if len(matches) != 1:
        found = "aucune classe" if not matches else f"{len(matches)} classes"
        raise CalculaticeError(f"« {wanted} » désigne {found} ; voir « calculatice class list ».")
    return matches[0]


@bank.command("import")
@_bank_option
@click.argument("option_file", type=click.File("r", encoding="utf-8"))
@click.option("--id", "exercise_id", required=True, help="Identifiant du nouvel exercice.")
@click.option("--title", required=True, help="Titre en français.")
@click.option("--level", "levels", multiple=True, required=True, type=click.Choice(LEVELS))
@click.option("--theme", required=True, type=click.Choice(list(THEMES)))
@click.option("--engine", required=True, help="Moteur (voir « calculatice engines list »).")
@click.option("--instructions", default="", help="Consigne pour l'élève.")
@click.option("--replace", is_flag=True, help="Remplacer un exercice du même identifiant.")
def bank_import(
    bank_folder: Path | None,
    option_file,
    exercise_id: str,
    title: str,
    levels: tuple[str, ...],
    theme: str,
    engine: str,
    instructions: str,
    replace: bool,
) -> None:
    """Ajouter à la banque un exercice décrit par un objet d'options calcul@TICE (JSON)."""
    from calculatice.catalogue import default_bank_folder, new_exercise, write_exercise

    try:
        option_object = json.load(option_file)
    except json.JSONDecodeError as error:
        raise CalculaticeError(f"JSON illisible, ligne {error.lineno} : {error.msg}") from None
    if not isinstance(option_object, dict):
        raise CalculaticeError("Le fichier doit contenir un objet d'options { … }.")
    exercise = new_exercise(exercise_id, title, levels, theme, engine, option_object, instructions)
    path = write_exercise(exercise, bank_folder or default_bank_folder(), overwrite=replace)
    click.echo(f"Exercice écrit : {path}")


# The other areas' commands. They are registered last because the rally's commands
# reuse this module's helpers (bank option, error handling), so they import it.
from calculatice.analytics.cli import (  # noqa: E402
    anonymise_command,
    key,
    report_command,
    simulate_command,
)
from calculatice.rally.cli import rally  # noqa: E402
from calculatice.teacher_cli import teacher  # noqa: E402

for _command in (key, anonymise_command, simulate_command, report_command, rally, teacher):
    main.add_command(_command)
