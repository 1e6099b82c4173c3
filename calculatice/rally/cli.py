"""``calculatice rally``: create a rally from its file, register classes, open and close it."""

from __future__ import annotations

from pathlib import Path

import click

from calculatice.cli import _bank_option, _FriendlyGroup, _load
from calculatice.numbers import count_of
from calculatice.store.models import LEVELS, SECTORS

NNBSP = "\u202f"


@click.group("rally", cls=_FriendlyGroup)
@click.option("--db", "db_url", default=None, help="Base de données (URL SQLAlchemy).")
@_bank_option
@click.pass_context
def rally(ctx: click.Context, db_url: str | None, bank_folder: Path | None) -> None:
    """Le rallye : le créer, inscrire les classes, l'ouvrir et le fermer."""
    ctx.obj = {"db_url": db_url, "bank_folder": bank_folder}


def _open(context: dict):
    from calculatice.store import open_store

    return open_store(context["db_url"]), _load(context["bank_folder"])


@rally.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def rally_check(context: dict, path: Path) -> None:
    """Vérifier un fichier de rallye sans rien enregistrer."""
    from calculatice.rally.definition import load_definition

    definition = load_definition(path, _load(context["bank_folder"]))
    for rally_round in definition.rounds:
        minutes = round(rally_round.seconds / 60)
        click.echo(
            f"{rally_round.key} : {rally_round.title} ({', '.join(rally_round.levels)}), "
            f"{len(rally_round.exercises)} exercices, {minutes} min au plus"
        )
    click.echo(f"Rallye {definition.edition} valide.")


@rally.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def rally_create(context: dict, path: Path) -> None:
    """Créer un rallye à partir de son fichier YAML."""
    from calculatice.rally.organise import create_rally

    store, bank = _open(context)
    with store:
        created = create_rally(store, bank, path)
    click.echo(f"Rallye {created.edition} créé : {created.title}")


@rally.command("register")
@click.argument("edition")
@click.option("--school", "school_code", required=True, help="Code (UAI) de l'école.")
@click.option("--school-name", default=None, help="Nom de l'école, si elle est nouvelle.")
@click.option("--district", default="", help="Circonscription, si l'école est nouvelle.")
@click.option("--sector", type=click.Choice(SECTORS), default="public", help="Secteur.")
@click.option("--class", "class_name", required=True, help="Nom de la classe.")
@click.option("--level", type=click.Choice(LEVELS), required=True, help="Niveau de la classe.")
@click.option("--late", is_flag=True, help="Accepter une inscription hors de la période.")
@click.pass_obj
def rally_register(context: dict, edition: str, **values) -> None:
    """Inscrire une classe ; affiche le code que ses binômes taperont."""
    from calculatice.rally.organise import definition_of_rally, rally_of, register_class
    from calculatice.seances import format_code

    store, bank = _open(context)
    with store:
        record = rally_of(store, edition)
        classroom = register_class(store, record, definition_of_rally(record, bank), **values)
    click.echo(format_code(classroom.code))
    click.echo(f"Classe {classroom.id} : {classroom.name} ({classroom.level}).", err=True)


@rally.command("open")
@click.argument("edition")
@click.pass_obj
def rally_open(context: dict, edition: str) -> None:
    """Ouvrir le rallye aux binômes dès maintenant, sans attendre sa période."""
    from calculatice.rally.organise import open_rally, rally_of

    store, _bank = _open(context)
    with store:
        open_rally(store, rally_of(store, edition))
    click.echo(f"Rallye {edition} ouvert.")


@rally.command("close")
@click.argument("edition")
@click.pass_obj
def rally_close(context: dict, edition: str) -> None:
    """Fermer le rallye ; chaque classe reçoit une séance d'entraînement de son épreuve."""
    from calculatice.rally.organise import close_rally, rally_of
    from calculatice.seances import format_code

    store, bank = _open(context)
    with store:
        made = close_rally(store, bank, rally_of(store, edition))
    for classroom, seance in made:
        click.echo(
            f"{classroom.name} ({classroom.level}) : entraînement {format_code(seance.code)}"
        )
    seances = count_of(len(made), "séance d'entraînement", "séances d'entraînement")
    click.echo(f"Rallye {edition} fermé{NNBSP}; {seances}.", err=True)


@rally.command("list")
@click.pass_obj
def rally_list(context: dict) -> None:
    """Lister les rallyes, leur état et leurs classes inscrites."""
    from calculatice.rally.organise import STATUS_TEXT, definition_of_rally, is_open
    from calculatice.seances import format_code

    store, bank = _open(context)
    with store:
        for record in store.rallies():
            definition = definition_of_rally(record, bank)
            now = "ouvert aux binômes" if is_open(record, definition) else "pas ouvert aux binômes"
            window = definition.window
            click.echo(
                f"{record.edition}  {STATUS_TEXT[record.status]}, {now} ; période du "
                f"{window.opens:%d/%m/%Y %H:%M} au {window.closes:%d/%m/%Y %H:%M}"
            )
            for registration in store.rally_classes(record.id):
                classroom = store.classroom(registration.classroom_id)
                click.echo(
                    f"    {format_code(classroom.code)}  {classroom.level:<4} "
                    f"{classroom.name} (épreuve {registration.round_key})"
                )
