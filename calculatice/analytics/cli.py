"""The analytics commands of ``calculatice``: keys, anonymisation, simulation.

Registered on the main command by :mod:`calculatice.cli`. Heavy imports
(pandas, numpy) happen inside the commands, so that ``calculatice --help``
stays quick.
"""

from __future__ import annotations

from pathlib import Path

import click

from calculatice.errors import CalculaticeError


@click.group("key")
def key() -> None:
    """Gérer la clé secrète de pseudonymisation."""


@key.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def key_new(path: Path) -> None:
    """Écrire une nouvelle clé aléatoire dans PATH (lisible par vous seul)."""
    from calculatice.analytics.privacy import new_key

    try:
        new_key(path)
    except FileExistsError:
        raise CalculaticeError(
            f"{path} existe déjà\u202f: remplacer la clé changerait tous les pseudonymes."
        ) from None
    click.echo(f"Clé écrite\u202f: {path} (gardez-la hors du dépôt).")


@click.command("anonymise")
@click.option("--store", "store_url", default=None, help="URL de la base de résultats.")
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Table de réponses à anonymiser (CSV ou Parquet) au lieu de la base.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Table anonymisée à écrire (.parquet ou .csv).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fichier de la clé (sinon la variable CALCULATICE_KEY).",
)
def anonymise_command(
    store_url: str | None, input_path: Path | None, output_path: Path, key_file: Path | None
) -> None:
    """Écrire la table des réponses sans noms, avec des pseudonymes à clé (HMAC-SHA-256)."""
    from calculatice.analytics.privacy import anonymise, load_key
    from calculatice.analytics.tidy import read_store, read_table, write_table

    secret = load_key(key_file)
    if input_path is not None:
        table = read_table(input_path)
    else:
        from calculatice.store import open_store

        with open_store(store_url) as store:
            table = read_store(store)
    write_table(anonymise(table, secret), output_path)
    click.echo(f"{len(table)} réponses anonymisées écrites dans {output_path}.")


@click.command("simulate")
@click.option("--districts", default=3, show_default=True, type=click.IntRange(1, 200))
@click.option(
    "--schools",
    default=4,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Écoles par circonscription.",
)
@click.option(
    "--classes",
    default=2,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Classes par école.",
)
@click.option(
    "--pairs",
    default=12,
    show_default=True,
    type=click.IntRange(1, 40),
    help="Binômes par classe.",
)
@click.option(
    "--exercises",
    default=5,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Exercices par niveau.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Table à écrire (.parquet ou .csv).",
)
def simulate_command(
    districts: int,
    schools: int,
    classes: int,
    pairs: int,
    exercises: int,
    seed: int,
    output_path: Path,
) -> None:
    """Simuler les réponses d'un rallye (banque et règles réelles, élèves fictifs)."""
    from calculatice.analytics.simulate import RallyShape, simulate
    from calculatice.analytics.tidy import write_table

    shape = RallyShape(districts, schools, classes, pairs, exercises, seed=seed)
    table = simulate(shape)
    write_table(table, output_path)
    click.echo(f"{len(table)} réponses simulées écrites dans {output_path}.")


@click.command("report")
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Table de réponses anonymisée (CSV ou Parquet).",
)
@click.option("--rally", default=None, help="Rallye (par défaut : tous ceux de la table).")
@click.option(
    "--by",
    type=click.Choice(["district", "level"]),
    default="district",
    show_default=True,
    help="Un rapport par circonscription (district) ou par niveau (level).",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Dossier des rapports HTML.",
)
def report_command(input_path: Path, rally: str | None, by: str, output_dir: Path) -> None:
    """Écrire un rapport HTML autonome par circonscription (ou niveau), sans données d'élève."""
    from calculatice.analytics.district_reports import run_reports

    written = run_reports(input_path, rally, by, output_dir)
    from calculatice.numbers import count_of

    click.echo(f"{count_of(len(written), 'rapport écrit', 'rapports écrits')} dans {output_dir}.")
