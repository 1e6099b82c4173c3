"""The results store, on SQLite always and on PostgreSQL when one is given.

PostgreSQL tests run when ``CALCULATICE_TEST_PG_URL`` holds a URL, such as the
one ``scripts/start-postgres.sh`` prints; each test starts from an empty
database. Under CI they fail without it, rather than pass unseen.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from calculatice.errors import StoreError
from calculatice.store import (
    URL_VARIABLE,
    Store,
    connect_store,
    create_store_engine,
    current_revision,
    default_url,
    head_revision,
    open_store,
    upgrade,
)
from calculatice.store.models import Answer, Base

PG_URL_VARIABLE = "CALCULATICE_TEST_PG_URL"

TABLES = {
    "schools",
    "classrooms",
    "teachers",
    "classroom_teachers",
    "pupils",
    "seances",
    "attempts",
    "answers",
    "rallies",
    "rally_classes",
}

PARIS_SUMMER = timezone(timedelta(hours=2))


def _reset_postgres(url: str) -> None:
    """Empty the test database: every table, the alembic version included."""
    engine = create_store_engine(url, migrating=True)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.sqlite'}"
    return _empty_postgres()


@pytest.fixture
def pg_url() -> str:
    """The URL of an empty PostgreSQL database, for what only PostgreSQL does."""
    return _empty_postgres()


def _empty_postgres() -> str:
    url = os.environ.get(PG_URL_VARIABLE, "").strip()
    if not url:
        reason = (
            f"{PG_URL_VARIABLE} is not set: run scripts/start-postgres.sh and export "
            f'{PG_URL_VARIABLE}="$(scripts/start-postgres.sh | tail -n 1)"'
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}")
        pytest.skip(reason)
    _reset_postgres(url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store opened (and so migrated) on an empty database."""
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def pupil_id(store: Store) -> int:
    """A pair of pupils in a CM1 class of a REP school."""
    school = store.add_school("0590001A", "École Jean Jaurès", district="Lille 1", sector="rep")
    classroom = store.add_classroom(school.id, "CM1 de Mme Martin", "CM1", code="CM1-JJ")
    return store.add_pupil(classroom.id, "Léa et Tom", is_pair=True).id


@pytest.fixture
def attempt_id(store: Store, pupil_id: int) -> int:
    """An attempt of the pair at a ten-question exercise, outside any séance."""
    return store.start_attempt(pupil_id, "tables-multiplication", seed="42", total=10)


def _answer(store: Store, attempt_id: int, index: int = 0, **changes) -> int:
    """Record a wrong answer to question ``index``, with ``changes`` to its fields."""
    given = {
        "question_index": index,
        "attempt_number": 1,
        "question_shown": "7 × 8",
        "expected": "56",
        "typed": "54",
        "read_as": "54",
        "outcome": "wrong",
        "response_ms": 2300,
    }
    given.update(changes)
    return store.record_answer(attempt_id, **given)


def test_open_store_creates_every_table_at_head_revision(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())

    assert tables == TABLES | {"alembic_version"}
    assert head_revision() == "0003"
    assert current_revision(store.engine) == head_revision()


def test_migrations_describe_the_models_exactly(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_upgrade_again_keeps_every_result(db_url: str) -> None:
    with open_store(db_url) as first:
        school = first.add_school("0590002B", "École Pasteur")
        classroom = first.add_classroom(school.id, "CP", "CP")
        pupil = first.add_pupil(classroom.id, "Inès")
        attempt = first.start_attempt(pupil.id, "complements-10", seed="7", total=5)
        answer = _answer(first, attempt, typed="3")

    assert upgrade(db_url) == head_revision()

    with open_store(db_url) as second:
        assert [row.id for row in second.answers_of(attempt)] == [answer]
        assert second.answers_of(attempt)[0].typed == "3"


def test_sqlite_connections_use_wal_and_wait_for_writers(tmp_path) -> None:
    names = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    with (
        open_store(f"sqlite:///{tmp_path / 'pragmas.sqlite'}") as store,
        store.engine.connect() as connection,
    ):
        pragmas = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}

    # synchronous=NORMAL reads back as 1.
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_default_url_comes_from_the_environment_else_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv(URL_VARIABLE, "postgresql+psycopg://u:p@db.example:5432/rally")
    assert default_url() == "postgresql+psycopg://u:p@db.example:5432/rally"

    monkeypatch.delenv(URL_VARIABLE)
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{tmp_path / 'calculatice.sqlite'}"


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = create_store_engine("postgresql://u:p@127.0.0.1:1/rally")

    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_unknown_database_is_refused() -> None:
    with pytest.raises(StoreError, match="non prise en charge"):
        create_store_engine("mysql://u:p@127.0.0.1/rally")


def test_typed_text_reads_back_verbatim(store: Store, attempt_id: int) -> None:
    typed = [
        "1\u202f000,5",
        "<b>x</b>",
        " 12 ",
        "",
        "3,50\n",
        "« 7 × 8 »",
        "'; DROP TABLE answers;--",
    ]

    for index, text in enumerate(typed):
        _answer(store, attempt_id, index, typed=text, read_as="", outcome="empty")

    answers = store.answers_of(attempt_id)
    assert [answer.typed for answer in answers] == typed
    assert [answer.question_index for answer in answers] == list(range(len(typed)))
    assert answers[0].question_shown == "7 × 8"
    assert answers[0].outcome == "empty"
    assert answers[0].response_ms == 2300


def test_same_client_key_records_the_answer_once(store: Store, attempt_id: int) -> None:
    first = _answer(store, attempt_id, client_key="q0-a1")
    retried = _answer(store, attempt_id, client_key="q0-a1", typed="changed")

    assert retried == first
    assert [(row.id, row.typed) for row in store.answers_of(attempt_id)] == [(first, "54")]


def test_answers_without_client_key_are_all_recorded(store: Store, attempt_id: int) -> None:
    first = _answer(store, attempt_id, outcome="empty", typed="")
    second = _answer(store, attempt_id, outcome="right", typed="56")

    assert first != second
    assert [row.outcome for row in store.answers_of(attempt_id)] == ["empty", "right"]


def test_client_key_is_scoped_to_its_attempt(store: Store, pupil_id: int) -> None:
    one = store.start_attempt(pupil_id, "doubles", seed="1", total=3)
    other = store.start_attempt(pupil_id, "doubles", seed="2", total=3)

    assert _answer(store, one, client_key="k") != _answer(store, other, client_key="k")


def test_concurrent_retries_of_one_answer_record_it_once(store: Store, attempt_id: int) -> None:
    threads = 8
    start = threading.Barrier(threads)
    ids: list[int] = []
    errors: list[BaseException] = []

    def retry() -> None:
        start.wait()
        try:
            ids.append(_answer(store, attempt_id, client_key="same-request"))
        except BaseException as error:
            errors.append(error)

    _run_threads(retry, threads)

    assert errors == []
    assert len(ids) == threads
    assert len(set(ids)) == 1
    assert len(store.answers_of(attempt_id)) == 1


def test_concurrent_writers_lose_no_answer(store: Store, pupil_id: int) -> None:
    writers, answers_each = 8, 50
    attempts = [
        store.start_attempt(pupil_id, "tables", seed=str(writer), total=answers_each)
        for writer in range(writers)
    ]
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        start.wait()
        try:
            for index in range(answers_each):
                _answer(store, attempts[writer], index, client_key=f"{writer}-{index}")
        except BaseException as error:
            errors.append(error)

    _run_threads(write, writers)

    assert errors == []
    for attempt in attempts:
        recorded = store.answers_of(attempt)
        assert [answer.question_index for answer in recorded] == list(range(answers_each))


def _run_threads(target, count: int) -> None:
    """Run ``target`` in ``count`` threads (passing the thread's number if it takes one)."""
    takes_number = target.__code__.co_argcount == 1
    threads = [
        threading.Thread(target=target, args=(number,) if takes_number else ())
        for number in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)


def test_resume_point_is_the_last_unfinished_attempt(store: Store, pupil_id: int) -> None:
    seance = store.add_seance("ABC123", "Tables de 6 et 7", {"exercises": []})
    other = store.add_seance("XYZ789", "Doubles", {"exercises": []})
    assert store.resume_point(pupil_id, seance.id) is None

    begun = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    first = store.start_attempt(
        pupil_id, "tables", seed="1", total=10, seance_id=seance.id, started_at=begun
    )
    for index, attempt_number in [(0, 1), (0, 2), (1, 1)]:
        _answer(store, first, index, attempt_number=attempt_number)
    store.start_attempt(pupil_id, "doubles", seed="9", total=5, seance_id=other.id)

    point = store.resume_point(pupil_id, seance.id)
    assert point is not None
    assert (point.attempt.id, point.answer_count, point.last_question_index) == (first, 3, 1)

    store.finish_attempt(first, score=1, total=10, duration_ms=60_000)
    assert store.resume_point(pupil_id, seance.id) is None

    second = store.start_attempt(
        pupil_id,
        "tables",
        seed="2",
        total=10,
        seance_id=seance.id,
        position=1,
        started_at=begun + timedelta(minutes=2),
    )
    point = store.resume_point(pupil_id, seance.id)
    assert point is not None
    assert (point.attempt.id, point.answer_count, point.last_question_index) == (second, 0, None)
    assert point.attempt.position == 1
    assert [attempt.id for attempt in store.attempts_of(pupil_id, seance.id)] == [first, second]


def test_finishing_twice_keeps_the_first_score(store: Store, attempt_id: int) -> None:
    finished = store.finish_attempt(attempt_id, score=7, total=10, duration_ms=95_000)
    again = store.finish_attempt(attempt_id, score=9, total=10, duration_ms=99_000)

    assert finished.finished
    assert (again.score, again.duration_ms) == (7, 95_000)
    assert store.attempts_of(again.pupil_id, None)[0].score == 7


def test_check_constraint_refuses_an_unknown_outcome(store: Store, attempt_id: int) -> None:
    row = {
        "attempt_id": attempt_id,
        "question_index": 0,
        "attempt_number": 1,
        "question_shown": "2 + 2",
        "expected": "4",
        "typed": "4",
        "read_as": "4",
        "outcome": "almost",
        "response_ms": 800,
        "answered_at": datetime.now(UTC),
    }

    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(insert(Answer).values(**row))
    with pytest.raises(StoreError, match="almost"):
        _answer(store, attempt_id, outcome="almost")
    assert store.answers_of(attempt_id) == []


def test_answer_to_an_unknown_attempt_is_refused(store: Store, attempt_id: int) -> None:
    with pytest.raises(StoreError, match="inconnu"):
        _answer(store, attempt_id + 1000)


def test_timestamps_read_back_timezone_aware_in_utc(store: Store, pupil_id: int) -> None:
    started = datetime(2025, 6, 2, 10, 30, 15, 123456, tzinfo=PARIS_SUMMER)
    attempt = store.start_attempt(pupil_id, "tables", seed="3", total=2, started_at=started)
    _answer(store, attempt, answered_at=started + timedelta(seconds=4))
    finished = store.finish_attempt(
        attempt, score=0, total=2, duration_ms=9000, finished_at=started + timedelta(seconds=9)
    )

    [answer] = store.answers_of(attempt)
    [reread] = store.attempts_of(pupil_id, None)
    assert reread.started_at == started
    assert reread.started_at.utcoffset() == timedelta(0)
    assert reread.started_at.hour == 8
    assert answer.answered_at == started + timedelta(seconds=4)
    assert answer.answered_at.tzinfo is not None
    assert finished.finished_at == started + timedelta(seconds=9)
    [pupil] = store.pupils_of(_classroom_of(store, pupil_id))
    assert pupil.created_at.utcoffset() == timedelta(0)


def _classroom_of(store: Store, pupil_id: int) -> int:
    """The class of a pupil, read back through the store's engine."""
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(
            f"SELECT classroom_id FROM pupils WHERE id = {int(pupil_id)}"
        ).scalar_one()


def test_naive_timestamp_is_refused(store: Store, pupil_id: int) -> None:
    with pytest.raises(StoreError, match="fuseau"):
        store.start_attempt(pupil_id, "tables", seed="4", total=1, started_at=datetime(2025, 1, 1))


def test_seance_reads_back_by_code(store: Store, pupil_id: int) -> None:
    definition = {"exercises": [{"exercise_id": "tables", "options": {"tables": "6-7"}}]}
    added = store.add_seance("TAB67", "Tables de 6 et 7 — révisions", definition)

    found = store.seance_by_code("TAB67")
    assert found == added
    assert found is not None
    assert found.definition == definition
    assert found.created_at.tzinfo is not None
    assert store.seance_by_code("tab67") is None


def test_duplicate_codes_are_refused(store: Store) -> None:
    school = store.add_school("0590003C", "École Curie")
    store.add_seance("DUP1", "Une", {"exercises": []})

    with pytest.raises(StoreError, match="DUP1"):
        store.add_seance("DUP1", "Deux", {"exercises": []})
    with pytest.raises(StoreError, match="0590003C"):
        store.add_school("0590003C", "Autre école")
    with pytest.raises(StoreError, match="niveau"):
        store.add_classroom(school.id, "CM3", "CM3")


def test_find_pupil_by_class_and_name(store: Store, pupil_id: int) -> None:
    classroom_id = _classroom_of(store, pupil_id)
    inès = store.add_pupil(classroom_id, "Inès")

    assert store.find_pupil(classroom_id, "Inès") == inès
    assert store.find_pupil(classroom_id, "Léa et Tom").is_pair
    assert store.find_pupil(classroom_id, "Ines") is None
    assert [pupil.display_name for pupil in store.pupils_of(classroom_id)] == [
        "Léa et Tom",
        "Inès",
    ]


def test_teacher_follows_a_class_once(store: Store, pupil_id: int) -> None:
    classroom_id = _classroom_of(store, pupil_id)
    teacher = store.add_teacher("c.martin", "Mme Martin", password_hash="$argon2id$...")

    store.assign_teacher(classroom_id, teacher.id)
    store.assign_teacher(classroom_id, teacher.id)

    with store.engine.connect() as connection:
        links = connection.exec_driver_sql("SELECT COUNT(*) FROM classroom_teachers").scalar()
    assert links == 1
    with pytest.raises(StoreError, match=r"c\.martin"):
        store.add_teacher("c.martin", "Homonyme")


def test_progress_counts_attempts_and_answers_of_one_seance(store: Store, pupil_id: int) -> None:
    seance = store.add_seance("PROG1", "Rallye", {"exercises": []})
    other = store.add_seance("PROG2", "Autre", {"exercises": []})
    assert store.progress_of(pupil_id, seance.id) == (0, 0)

    first = store.start_attempt(pupil_id, "tables", seed="1", total=3, seance_id=seance.id)
    second = store.start_attempt(pupil_id, "doubles", seed="2", total=3, seance_id=seance.id)
    elsewhere = store.start_attempt(pupil_id, "tables", seed="3", total=3, seance_id=other.id)
    for index in range(3):
        _answer(store, first, index, client_key=f"a{index}")
    _answer(store, first, 2, client_key="a2")  # a retry: still three answers
    _answer(store, second, 0)
    _answer(store, elsewhere, 0)

    assert store.progress_of(pupil_id, seance.id) == (2, 4)
    assert store.progress_of(pupil_id, other.id) == (1, 1)


def test_two_stores_on_one_file_write_concurrently_without_loss(
    db_url: str, store: Store, pupil_id: int
) -> None:
    """Two processes' stores: each serialises its own writers, and they share the file."""
    other = connect_store(db_url)
    attempts = [
        store.start_attempt(pupil_id, "tables", seed=str(number), total=40) for number in (1, 2)
    ]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        target = (store, other)[writer % 2]
        start.wait()
        try:
            for index in range(20):
                _answer(target, attempts[writer // 2], index, client_key=f"{writer}-{index}")
        except BaseException as error:
            errors.append(error)

    try:
        _run_threads(write, 4)
    finally:
        other.close()

    assert errors == []
    for attempt in attempts:
        assert len(store.answers_of(attempt)) == 40


def test_progress_sees_what_another_store_just_committed(
    db_url: str, store: Store, pupil_id: int
) -> None:
    """Another process's answer counts at once: the freshness check reads no old snapshot."""
    seance = store.add_seance("FRESH", "Rallye", {"exercises": []})
    other = connect_store(db_url)
    try:
        attempt = other.start_attempt(pupil_id, "tables", seed="1", total=3, seance_id=seance.id)
        assert store.progress_of(pupil_id, seance.id) == (1, 0)
        for index in range(3):
            _answer(other, attempt, index, client_key=f"k{index}")
            assert store.progress_of(pupil_id, seance.id) == (1, index + 1)
        seen: list[tuple[int, int]] = []
        _run_threads(lambda _number: seen.append(store.progress_of(pupil_id, seance.id)), 3)
    finally:
        other.close()
    assert seen == [(1, 3)] * 3


def test_sqlite_hot_writes_store_the_same_text_as_sqlalchemy(tmp_path) -> None:
    """Attempts and answers written without SQLAlchemy read back exactly like its own rows."""
    store = open_store(f"sqlite:///{tmp_path / 'direct.sqlite'}")
    try:
        assert store.direct
        school = store.add_school("0590002B", "École")
        classroom = store.add_classroom(school.id, "CM2", "CM2")
        pupil = store.add_pupil(classroom.id, "Léa")
        moment = datetime(2025, 6, 2, 10, 30, 15, tzinfo=PARIS_SUMMER)
        options = {"niveau": 2, "opérations": ["+", "×"]}
        attempt = store.start_attempt(
            pupil.id, "tables", seed="s", total=4, options=options, started_at=moment
        )
        answer = _answer(store, attempt, typed=None, response_ms=None, answered_at=moment)
        row = {
            "attempt_id": attempt,
            "question_index": 0,
            "attempt_number": 1,
            "question_shown": "7 × 8",
            "expected": "56",
            "typed": None,
            "read_as": "54",
            "outcome": "wrong",
            "response_ms": None,
            "answered_at": moment,
            "client_key": None,
        }
        with store.engine.begin() as connection:
            theirs = connection.execute(insert(Answer).values(**row)).inserted_primary_key[0]
            texts = connection.exec_driver_sql(
                "SELECT id, answered_at, typed, response_ms, client_key FROM answers ORDER BY id"
            ).fetchall()
            started = connection.exec_driver_sql(
                f"SELECT started_at, options FROM attempts WHERE id = {int(attempt)}"
            ).one()
        finished = store.finish_attempt(attempt, score=1, total=4, duration_ms=500)
        with pytest.raises(StoreError, match="inconnu"):
            store.finish_attempt(attempt + 1000, score=1, total=4, duration_ms=500)
    finally:
        store.close()

    assert [tuple(text) for text in texts] == [
        (answer, "2025-06-02 08:30:15.000000", None, None, None),
        (theirs, "2025-06-02 08:30:15.000000", None, None, None),
    ]
    assert tuple(started) == ("2025-06-02 08:30:15.000000", json.dumps(options))
    assert (finished.id, finished.options, finished.started_at) == (attempt, options, moment)
    assert (finished.score, finished.total, finished.duration_ms) == (1, 4, 500)
    assert finished.finished_at is not None and finished.finished_at.tzinfo is not None


def test_change_mark_moves_only_when_someone_else_commits(
    db_url: str, store: Store, pupil_id: int
) -> None:
    seance = store.add_seance("MARK", "Rallye", {"exercises": []})
    other = connect_store(db_url)
    try:
        if store.engine.dialect.name != "sqlite":
            # PostgreSQL has no such mark: the freshness check asks progress_of each time.
            assert store.change_mark() is None and other.change_mark() is None
            return
        mark = store.change_mark()
        attempt = store.start_attempt(pupil_id, "tables", seed="1", total=3, seance_id=seance.id)
        _answer(store, attempt, 0, client_key="own")
        store.finish_attempt(attempt, score=0, total=3, duration_ms=10)
        assert store.change_mark() == mark

        _answer(other, attempt, 1, client_key="elsewhere")
        moved = store.change_mark()
        # Written through SQLAlchemy's pool: another connection than the thread's own.
        store.add_seance("MARK2", "Rallye", {"exercises": []})
        moved_again = store.change_mark()
        seen_in_thread: list[Any] = []
        _run_threads(lambda _number: seen_in_thread.append(store.change_mark()), 1)
    finally:
        other.close()
    assert moved != mark and moved_again != moved
    assert seen_in_thread[0] != moved_again


def test_hot_writes_read_back_as_the_orm_reads_them(db_url: str, store: Store) -> None:
    """Attempts and answers written on the driver's own connection, read through the ORM."""
    assert store.direct
    school = store.add_school("0590003C", "École")
    pupil = store.add_pupil(store.add_classroom(school.id, "CM2", "CM2").id, "Léa")
    moment = datetime(2025, 6, 2, 10, 30, 15, 250_000, tzinfo=PARIS_SUMMER)
    options = {"niveau": 2, "opérations": ["+", "×"], "bornes": {"min": 2}}
    attempt = store.start_attempt(
        pupil.id, "tables", seed="s", total=4, options=options, started_at=moment
    )
    first = _answer(store, attempt, typed="5 4", answered_at=moment, client_key="k1")
    again = _answer(store, attempt, typed="autre", client_key="k1")
    finished = store.finish_attempt(attempt, score=1, total=4, duration_ms=500)
    later = store.finish_attempt(attempt, score=3, total=4, duration_ms=900)

    (stored,) = store.answers_of(attempt)
    (read,) = store.attempts_of(pupil.id, None)
    assert again == first == stored.id
    assert (stored.typed, stored.answered_at, stored.client_key) == ("5 4", moment, "k1")
    assert stored.answered_at.utcoffset() == timedelta(0)
    assert (read.options, read.started_at, read.score, read.duration_ms) == (
        options,
        moment,
        1,
        500,
    )
    assert finished == later == read


def test_pupils_added_on_the_driver_read_back_as_the_orm_reads_them(
    db_url: str, store: Store
) -> None:
    """A rally pair joins through the driver's own connection; the ORM reads the same rows."""
    assert store.direct
    school = store.add_school("0590004D", "École")
    classroom = store.add_classroom(school.id, "CM2 B", "CM2").id
    pair = store.add_pupil(classroom, "Léa et Tom", is_pair=True)
    single = store.add_pupil(classroom, "Inès")

    assert store.pupil(pair.id) == pair and store.pupil(single.id) == single
    assert pair.is_pair and not single.is_pair and pair.created_at.utcoffset() == timedelta(0)
    assert store.pupil_names(classroom) == [(pair.id, "Léa et Tom"), (single.id, "Inès")]
    assert store.pupils_of(classroom) == [pair, single]
    with pytest.raises(StoreError, match="Classe 999999 inconnue"):
        store.add_pupil(999_999, "Personne")
    assert store.pupil_names(999_999) == []


def _drop_hot_connections(url: str) -> int:
    """End the rally's hot connections as a restart of PostgreSQL would; how many there were."""
    admin = create_store_engine(url, migrating=True)
    mine = (
        " FROM pg_stat_activity WHERE application_name = 'calculatice rally'"
        " AND datname = current_database()"
    )
    try:
        with admin.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            ended = connection.exec_driver_sql(f"SELECT pg_terminate_backend(pid){mine}").all()
            for _ in range(100):
                if not connection.exec_driver_sql(f"SELECT pid{mine}").all():
                    break
                time.sleep(0.02)
        return len(ended)
    finally:
        admin.dispose()


def test_postgres_hot_statements_reopen_a_closed_connection(pg_url: str) -> None:
    """A restart of PostgreSQL costs a pair nothing: the next statements find a new connection."""
    store = open_store(pg_url)
    try:
        school = store.add_school("0590004D", "École")
        pupil_id = store.add_pupil(store.add_classroom(school.id, "CM2", "CM2").id, "Léa").id
        attempt_id = store.start_attempt(pupil_id, "tables", seed="x", total=2)
        _answer(store, attempt_id, 0, client_key="before")
        assert _drop_hot_connections(pg_url) == 1
        assert store.progress_of(pupil_id, 1) == (0, 0)
        assert _drop_hot_connections(pg_url) == 1
        second = _answer(store, attempt_id, 1, client_key="after")
        assert _drop_hot_connections(pg_url) == 1
        another = store.start_attempt(pupil_id, "tables", seed="y", total=1)
        assert _drop_hot_connections(pg_url) == 1
        finished = store.finish_attempt(another, score=1, total=1, duration_ms=10)
        answers = store.answers_of(attempt_id)
        attempts = store.attempts_of(pupil_id, None)
    finally:
        store.close()

    assert [(answer.id, answer.client_key) for answer in answers][1:] == [(second, "after")]
    assert [answer.client_key for answer in answers] == ["before", "after"]
    assert (finished.id, finished.score) == (another, 1)
    assert [attempt.id for attempt in attempts] == [attempt_id, another]
