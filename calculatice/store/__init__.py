"""The results store: every answer given, written when it is given.

SQLite (a file in WAL mode) by default, PostgreSQL by URL for a rally. Open it
with :func:`open_store`, which brings the schema up to date with the Alembic
migrations shipped in this package; then call the :class:`Store` methods,
which return frozen records and never ORM objects.
"""

from calculatice.store.database import (
    URL_VARIABLE,
    alembic_config,
    create_store_engine,
    current_revision,
    default_url,
    head_revision,
    upgrade,
)
from calculatice.store.models import LEVELS, OUTCOMES, SECTORS
from calculatice.store.records import (
    AnswerRecord,
    AttemptRecord,
    ClassroomRecord,
    PupilRecord,
    ResumePoint,
    SchoolRecord,
    SeanceRecord,
    TeacherRecord,
)
from calculatice.store.store import Store, connect_store, open_store

__all__ = [
    "LEVELS",
    "OUTCOMES",
    "SECTORS",
    "URL_VARIABLE",
    "AnswerRecord",
    "AttemptRecord",
    "ClassroomRecord",
    "PupilRecord",
    "ResumePoint",
    "SchoolRecord",
    "SeanceRecord",
    "Store",
    "TeacherRecord",
    "alembic_config",
    "connect_store",
    "create_store_engine",
    "current_revision",
    "default_url",
    "head_revision",
    "open_store",
    "upgrade",
]
