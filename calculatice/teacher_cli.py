"""``calculatice teacher``: teachers' accounts and the classes they follow."""

from __future__ import annotations

import os

import click

from calculatice.cli import _FriendlyGroup
from calculatice.numbers import count_of

PASSWORD_VARIABLE = "CALCULATICE_TEACHER_PASSWORD"
"""Where scripts give a new teacher's password instead of typing it."""


@click.group(cls=_FriendlyGroup)
@click.option("--db", "db_url", default=None, help="Base de données (URL SQLAlchemy).")
@click.pass_context
def teacher(ctx: click.Context, db_url: str | None) -> None:
    """Les comptes des enseignants et les classes qu'ils suivent."""
    ctx.obj = {"db_url": db_url}


@teacher.command("add")
@click.argument("login")
@click.option("--name", required=True, help="Nom affiché, par exemple « Mme Durand ».")
@click.option(
    "--class",
    "classes",
    multiple=True,
    help="Numéro ou nom d'une classe que l'enseignant suit ; répétable.",
)
@click.pass_obj
def teacher_add(context: dict, login: str, name: str, classes: tuple[str, ...]) -> None:
    """Créer le compte LOGIN ; le mot de passe est demandé (ou lu dans la variable
    CALCULATICE_TEACHER_PASSWORD)."""
    from calculatice.cli import _find_classroom
    from calculatice.store import open_store
    from calculatice.teacher import add_teacher_account

    password = os.environ.get(PASSWORD_VARIABLE) or click.prompt(
        "Mot de passe", hide_input=True, confirmation_prompt="Mot de passe (encore)"
    )
    with open_store(context["db_url"]) as store:
        rooms = [_find_classroom(store, wanted) for wanted in classes]
        account = add_teacher_account(store, login, name, password, [room.id for room in rooms])
    followed = ", ".join(room.name for room in rooms) or "aucune classe"
    click.echo(f"Compte « {account.login} » créé ({followed}).")


@teacher.command("assign")
@click.argument("login")
@click.option("--class", "classes", multiple=True, required=True, help="Numéro ou nom.")
@click.pass_obj
def teacher_assign(context: dict, login: str, classes: tuple[str, ...]) -> None:
    """Donner à l'enseignant LOGIN le suivi d'autres classes."""
    from calculatice.cli import _find_classroom
    from calculatice.store import open_store
    from calculatice.teacher import teacher_by_login

    with open_store(context["db_url"]) as store:
        account = teacher_by_login(store, login)
        for wanted in classes:
            store.assign_teacher(_find_classroom(store, wanted).id, account.id)
    click.echo(f"{count_of(len(classes), 'classe ajoutée', 'classes ajoutées')} à « {login} ».")
