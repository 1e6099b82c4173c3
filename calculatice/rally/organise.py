"""Organising a rally: create it from its definition, register classes, open and close it.

A rally lives in the store as a ``rallies`` row (its checked definition, a
secret seed and its state) and one séance per round, made for no class so
that the Voilà pupil page refuses its code: the rounds are only played on
the rally page, and the attempts point at the round's séance with the
context ``rally:<edition>:<round>``. Once the rally is closed, each
registered class gets a training séance of its round, replayable at will.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from calculatice.catalogue import Bank
from calculatice.errors import StoreError
from calculatice.rally.definition import (
    RallyDefinition,
    RallyError,
    Round,
    definition_json,
    parse_definition,
    read_definition_file,
)
from calculatice.seances import (
    Seance,
    SeanceError,
    create_seance,
    definition_of,
    new_code,
)
from calculatice.store.models import utc_now
from calculatice.store.records import ClassroomRecord, RallyRecord

log = logging.getLogger(__name__)

_CODE_TRIES = 20
STATUS_TEXT = {"scheduled": "programmé", "open": "ouvert", "closed": "fermé"}


@dataclass(frozen=True)
class RallyRound:
    """What the rally page needs for one class: the rally, its round and the round's séance."""

    rally: RallyRecord
    definition: RallyDefinition
    round: Round
    seance: Seance

    @property
    def context(self) -> str:
        """The attempts' context: ``rally:<edition>:<round>``."""
        return f"rally:{self.rally.edition}:{self.round.key}"

    def seed_for(self, pupil_id: int) -> str:
        """The seed of one pair's questions: the rally's secret seed, the round and the pair."""
        return f"{self.rally.seed}/{self.round.key}/{pupil_id}"


def create_rally(store, bank: Bank, path: Path | str) -> RallyRecord:
    """Check a definition file and store the rally, with one séance per round."""
    raw = read_definition_file(path)
    definition = parse_definition(raw, bank, str(path))
    if store.rally_by_edition(definition.edition) is not None:
        raise RallyError(f"{path} : edition : le rallye « {definition.edition} » existe déjà.")
    stored = definition_json(raw)
    stored["round_seances"] = {
        rally_round.key: _add_round_seance(store, definition, rally_round)
        for rally_round in definition.rounds
    }
    rally = store.add_rally(definition.edition, definition.title, secrets.token_hex(16), stored)
    log.info("Rally %s created with %d round(s)", rally.edition, len(definition.rounds))
    return rally


def _add_round_seance(store, definition: RallyDefinition, rally_round: Round) -> str:
    """Store a round as a séance of no class, and return its code."""
    title = f"{definition.title} — {rally_round.title}"
    stored = {**definition_of(rally_round.items), "rally": definition.edition}
    for _ in range(_CODE_TRIES):
        code = new_code()
        if store.seance_by_code(code) is None:
            store.add_seance(code, title, stored, None)
            return code
    raise RallyError("Aucun code libre trouvé ; réessayer.")


def rally_of(store, edition: str) -> RallyRecord:
    """The stored rally of an edition; :class:`RallyError` when there is none."""
    rally = store.rally_by_edition(str(edition))
    if rally is None:
        raise RallyError(
            f"Pas de rallye « {edition} » ; le créer avec « calculatice rally create »."
        )
    return rally


def definition_of_rally(rally: RallyRecord, bank: Bank) -> RallyDefinition:
    """The checked definition of a stored rally (checked again: the bank may have changed)."""
    return parse_definition(rally.definition, bank, f"rallye {rally.edition}")


def is_open(rally: RallyRecord, definition: RallyDefinition, now: datetime | None = None) -> bool:
    """Whether pairs may play now: opened by hand, or scheduled and inside its window."""
    if rally.status == "open":
        return True
    if rally.status == "closed":
        return False
    return definition.window.contains(now or utc_now())


def register_class(
    store,
    rally: RallyRecord,
    definition: RallyDefinition,
    *,
    school_code: str,
    class_name: str,
    level: str,
    school_name: str | None = None,
    district: str = "",
    sector: str = "public",
    now: datetime | None = None,
    late: bool = False,
) -> ClassroomRecord:
    """Register a class (its school created if new) and give it a code for the rally page.

    Refused outside the registration window unless ``late``, after the
    rally closed, and for a level no round serves.
    """
    now = now or utc_now()
    if rally.status == "closed":
        raise RallyError(f"Le rallye {rally.edition} est fermé : plus d'inscription.")
    if not late and not definition.registration.contains(now):
        raise RallyError(
            f"Les inscriptions au rallye {rally.edition} sont ouvertes du "
            f"{_day(definition.registration.opens)} au {_day(definition.registration.closes)}."
        )
    rally_round = definition.round_for_level(level)
    if rally_round is None:
        served = ", ".join(level for one in definition.rounds for level in one.levels)
        raise RallyError(f"Aucune épreuve pour le niveau {level} (niveaux servis : {served}).")
    school = store.school_by_code(school_code)
    if school is None:
        school = store.add_school(
            school_code, school_name or school_code, district=district, sector=sector
        )
    classroom = _add_coded_classroom(store, school.id, class_name, level)
    store.register_rally_class(rally.id, classroom.id, rally_round.key)
    log.info("Class %s registered in rally %s", classroom.id, rally.edition)
    return classroom


def _add_coded_classroom(store, school_id: int, name: str, level: str) -> ClassroomRecord:
    for _ in range(_CODE_TRIES):
        code = new_code()
        if store.classroom_by_code(code) is not None:
            continue
        try:
            return store.add_classroom(school_id, name, level, code=code)
        except StoreError:
            if store.classroom_by_code(code) is None:
                raise
    raise RallyError("Aucun code libre trouvé ; réessayer.")


def open_rally(store, rally: RallyRecord) -> RallyRecord:
    """Open a rally by hand, whatever its window says."""
    if rally.status == "closed":
        raise RallyError(f"Le rallye {rally.edition} est fermé ; il ne peut pas rouvrir.")
    opened = store.set_rally_status(rally.id, "open")
    log.info("Rally %s opened", rally.edition)
    return opened


def close_rally(store, bank: Bank, rally: RallyRecord) -> list[tuple[ClassroomRecord, Seance]]:
    """Close a rally and give each registered class a training séance of its round.

    Closing again only makes the training séances still missing. Returns the
    séances made, with their class.
    """
    definition = definition_of_rally(rally, bank)
    closed = store.set_rally_status(rally.id, "closed")
    made = []
    for registration in store.rally_classes(rally.id):
        if registration.training_seance_id is not None:
            continue
        rally_round = definition.round_by_key(registration.round_key)
        title = f"{rally.title} — {rally_round.title} (entraînement)"
        try:
            seance = create_seance(
                store, bank, title, rally_round.items, classroom_id=registration.classroom_id
            )
        except SeanceError as error:
            raise RallyError(f"Séance d'entraînement impossible : {error}") from None
        store.set_training_seance(rally.id, registration.classroom_id, seance.id)
        made.append((store.classroom(registration.classroom_id), seance))
    log.info("Rally %s closed; %d training séance(s) made", closed.edition, len(made))
    return made


def round_for_class(store, bank: Bank, classroom: ClassroomRecord) -> RallyRound | None:
    """The rally round a class is registered for, or ``None``."""
    registration = store.rally_class_of(classroom.id)
    if registration is None:
        return None
    rally = store.rally(registration.rally_id)
    definition = definition_of_rally(rally, bank)
    rally_round = definition.round_by_key(registration.round_key)
    seance_code = rally.definition["round_seances"][rally_round.key]
    record = store.seance_by_code(seance_code)
    seance = Seance(record.code, record.title, rally_round.exercises, record.id, None)
    return RallyRound(rally, definition, rally_round, seance)


def _day(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")
