"""The settings of ``calculatice serve``, declared once, without importing Voilà."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from calculatice.options import OptionModel

PUPIL_NOTEBOOK = "eleve.ipynb"
"""The pupil page, in the dashboards folder."""


class ServeSettings(OptionModel):
    """Every setting of ``calculatice serve``, declared once; its options come from here."""

    host: str = Field("127.0.0.1", title="Adresse", description="Adresse d'écoute du serveur.")
    port: int = Field(8866, ge=1, le=65535, title="Port", description="Port d'écoute.")
    pool_size: int = Field(
        30,
        ge=0,
        le=200,
        title="Noyaux préchauffés",
        description="Noyaux Python prêts d'avance pour la page élève (une classe) ; 0 = aucun.",
    )
    fill_delay: float = Field(
        60.0,
        ge=0,
        le=3600,
        title="Délai de remplissage (s)",
        description="Attente avant de remplacer un noyau préchauffé utilisé, pour ne pas "
        "ralentir une classe qui arrive.",
    )
    cull_idle_seconds: int = Field(
        900,
        ge=60,
        le=86400,
        title="Arrêt des noyaux inactifs (s)",
        description="Un noyau sans activité depuis ce temps est arrêté.",
    )
    dashboards: Path = Field(
        Path("dashboards"),
        title="Dossier des pages",
        description="Dossier des notebooks publiés (seules les pages sûres pour les élèves).",
    )
    state_dir: Path = Field(
        Path(".calculatice"),
        title="Dossier d'état",
        description="Fichiers de travail de Jupyter (connexions, runtime), hors du dossier "
        "personnel.",
    )
