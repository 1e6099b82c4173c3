"""Demo data for a first start: a school, a class and a séance to try the pupil page."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from calculatice.catalogue import Bank
from calculatice.seances import create_seance, parse_item

log = logging.getLogger(__name__)

DEMO_SCHOOL = "0599999Z"
DEMO_CLASS = "CM1 de démonstration"
DEMO_EXERCISES = (
    "cm1-tables-en-vitesse:questions=5",
    "ce2-toutes-les-tables:questions=4:question_seconds=20",
    "cm1-un-tiers-de:questions=4",
)
"""Short exercises of three kinds, so that a first try shows the player's range."""


@dataclass(frozen=True)
class Demo:
    """What the demo is made of: where it lives and the code pupils type."""

    school_id: int
    classroom_id: int
    seance_code: str


def ensure_demo(store, bank: Bank) -> Demo:
    """Create the demo school, class and séance once; later calls find them again."""
    school = store.school_by_code(DEMO_SCHOOL)
    if school is None:
        school = store.add_school(
            DEMO_SCHOOL, "École de démonstration", district="Démonstration", sector="public"
        )
    classroom = next(
        (room for room in store.classrooms(school.id) if room.name == DEMO_CLASS), None
    )
    if classroom is None:
        classroom = store.add_classroom(school.id, DEMO_CLASS, "CM1")
    existing = store.seances_of(classroom.id)
    if existing:
        return Demo(school.id, classroom.id, existing[0].code)
    items = [parse_item(spec) for spec in DEMO_EXERCISES]
    seance = create_seance(store, bank, "Séance de démonstration", items, classroom.id)
    log.info("Demo séance created: %s", seance.code)
    return Demo(school.id, classroom.id, seance.code)
