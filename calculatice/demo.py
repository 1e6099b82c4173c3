"""Demo data for a first start: a school, a class, a séance and a teacher to try the pages."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from calculatice.catalogue import Bank
from calculatice.errors import StoreError
from calculatice.seances import CODE_ALPHABET, create_seance, parse_item

log = logging.getLogger(__name__)

DEMO_SCHOOL = "0599999Z"
DEMO_CLASS = "CM1 de démonstration"
DEMO_EXERCISES = (
    "cm1-tables-en-vitesse:questions=5",
    "ce2-toutes-les-tables:questions=4:question_seconds=20",
    "cm1-un-tiers-de:questions=4",
)
"""Short exercises of three kinds, so that a first try shows the player's range."""
DEMO_TEACHER = "demo"
"""The demo teacher's login; the password is drawn at random when the account is made."""


@dataclass(frozen=True)
class Demo:
    """What the demo is made of: where it lives and the code pupils type."""

    school_id: int
    classroom_id: int
    seance_code: str
    teacher_password: str | None = None
    """The demo teacher's password when this call made the account, else ``None`` (it is
    kept hashed only, so it can be told once)."""


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
    password = _ensure_demo_teacher(store, classroom.id)
    existing = store.seances_of(classroom.id)
    if existing:
        return Demo(school.id, classroom.id, existing[0].code, password)
    items = [parse_item(spec) for spec in DEMO_EXERCISES]
    seance = create_seance(store, bank, "Séance de démonstration", items, classroom.id)
    log.info("Demo séance created: %s", seance.code)
    return Demo(school.id, classroom.id, seance.code, password)


def _ensure_demo_teacher(store, classroom_id: int) -> str | None:
    """Make the demo teacher, following the demo class, with a random password; the password.

    ``None`` if the account exists already. Never a fixed password: a server
    started with its demo data and then left open must not be entered with one.
    """
    from calculatice.teacher import add_teacher_account, has_account

    if has_account(store, DEMO_TEACHER):
        return None
    password = "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3)
    ).lower()
    try:
        add_teacher_account(
            store, DEMO_TEACHER, "Enseignant de démonstration", password, [classroom_id]
        )
    except StoreError:
        return None
    return password
