"""The rally's group commit on PostgreSQL: messages played ahead, written in shared statements.

On PostgreSQL the server's loop plays a pair's message at once
(:meth:`RallyService.play_ahead`) and replies once a batch holding its
writes is committed (:meth:`RallyService.settle`). These tests drive that
path in-process on a scratch schema of the test PostgreSQL: what lands in
the store, when a batch refuses a stale session's writes, and how one bad
message or a lost database is contained.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from calculatice.catalogue import Bank
from calculatice.errors import StoreUnavailable
from calculatice.rally.service import RallyService
from calculatice.store import Store, batched, connect_store, open_store
from calculatice.store.batched import PendingWrites, PostgresBatches
from calculatice.store.database import create_store_engine

PROJECT = Path(__file__).resolve().parents[1]
DURING = datetime(2027, 5, 12, 9, tzinfo=UTC)


@pytest.fixture
def code(pg_schema_url: str, rally_class) -> str:
    """A CM2 class registered in the 2027 rally, on the test PostgreSQL."""
    return rally_class(pg_schema_url)


@pytest.fixture
def services(pg_schema_url: str, bank: Bank) -> Iterator[Any]:
    """Services as processes behind one address hold them: one database, one secret."""
    made: list[RallyService] = []

    def make() -> RallyService:
        service = RallyService(
            lambda: connect_store(pg_schema_url), b"secret", lambda: bank, now=lambda: DURING
        )
        service.warm_up()
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


async def _ahead(service: RallyService, token: str, message: dict) -> dict | None:
    """Play a message the way the server's loop does on PostgreSQL; ``None`` if refused."""
    ahead = service.play_ahead(token, message)
    assert ahead is not None, f"{message} went the thread's way"
    return await service.settle(ahead)


async def _first_exercise(service: RallyService, token: str) -> int:
    """Begin the first exercise and answer it to its end, ahead; how many answers it took."""
    reply = await _ahead(service, token, {"type": "begin"})
    sent = 0
    while not reply.get("exercise_done"):
        if reply["screen"] == "feedback":
            reply = await _ahead(service, token, {"type": "next"})
        message = {"type": "answer", "response": "1", "key": f"q{sent}"}
        reply = await _ahead(service, token, message)
        sent += 1
    return sent


def _join(service: RallyService, code: str, name: str) -> str:
    _reply, token = service.handle(None, {"type": "join", "code": code, "name": name})
    return token


def _answers(store: Store) -> list[tuple[str, str, int]]:
    """Every stored answer of the round: pair, key, attempt position."""
    rows = []
    for pupil in store.pupils_of(store.classrooms()[0].id):
        for attempt in store.attempts_of(pupil.id, round_seance_id(store)):
            rows += [
                (pupil.display_name, answer.client_key, attempt.position)
                for answer in store.answers_of(attempt.id)
            ]
    return sorted(rows)


def test_messages_of_several_pairs_share_one_statement(services, code, pg_schema_url) -> None:
    service = services()
    names = ["Léa et Tom", "Inès et Noé", "Zoé et Hugo"]
    tokens = [_join(service, code, name) for name in names]

    async def play() -> tuple[list, list, int]:
        begun = await asyncio.gather(*(_ahead(service, t, {"type": "begin"}) for t in tokens))
        before = service._batches.batches
        answered = await asyncio.gather(
            *(
                _ahead(service, token, {"type": "answer", "response": "7", "key": f"k{index}"})
                for index, token in enumerate(tokens)
            )
        )
        return begun, answered, service._batches.batches - before

    begun, answered, statements = asyncio.run(play())

    assert statements == 1
    assert [reply["screen"] for reply in begun] == ["question"] * 3
    assert [(reply["screen"], reply["number"]) for reply in answered] == [("feedback", 1)] * 3
    with open_store(pg_schema_url) as store:
        assert _answers(store) == sorted((name, f"k{i}", 0) for i, name in enumerate(names))
        [pupil] = [
            p for p in store.pupils_of(store.classrooms()[0].id) if p.display_name == names[0]
        ]
        [attempt] = store.attempts_of(pupil.id, round_seance_id(store))
        assert attempt.context.startswith("rally:2027:")
        assert attempt.seed.endswith("/0") and attempt.finished_at is None
        [answer] = store.answers_of(attempt.id)
        assert answer.typed == "7" and answer.outcome in ("right", "wrong")


def test_a_pair_another_process_moved_on_is_not_written_and_plays_again(
    services, code, pg_schema_url
) -> None:
    first, second = services(), services()
    token = _join(first, code, "Léa et Tom")

    async def play() -> tuple[Any, ...]:
        await _ahead(first, token, {"type": "begin"})
        await _ahead(first, token, {"type": "answer", "response": "1", "key": "a"})
        # The pair's next messages land on the other process, which rebuilds the session.
        second.handle(token, {"type": "next"})
        on_second = second.handle(token, {"type": "answer", "response": "2", "key": "b"})[0]
        # Back on the first, whose session stands at question 1: refused, nothing written.
        stale = await _ahead(first, token, {"type": "next"})
        kept = first.sessions_in_memory
        again = first.handle(token, {"type": "next"})[0]
        # Rebuilt from the store, the session plays ahead again.
        third = await _ahead(first, token, {"type": "answer", "response": "3", "key": "c"})
        return on_second, stale, kept, again, third

    on_second, stale, kept, again, third = asyncio.run(play())

    assert on_second["number"] == 2
    assert stale is None and kept == 0
    assert (again["screen"], again["number"]) == ("question", 3)
    assert (third["screen"], third["number"]) == ("feedback", 3)
    with open_store(pg_schema_url) as store:
        assert [key for _name, key, _position in _answers(store)] == ["a", "b", "c"]


def test_an_exercise_begun_in_another_process_makes_the_session_stale(
    services, code, pg_schema_url
) -> None:
    first, second = services(), services()
    token = _join(first, code, "Léa et Tom")

    async def play() -> tuple[Any, ...]:
        await _first_exercise(first, token)
        # Another process takes the pair on to exercise 2 and begins it: one more attempt.
        second.handle(token, {"type": "next"})
        second.handle(token, {"type": "continue"})
        begun_elsewhere = second.handle(token, {"type": "begin"})[0]
        # Back on the first process, the page answers exercise 2's first question.
        message = {"type": "answer", "response": "1", "key": "two"}
        stale = await _ahead(first, token, message)
        again = first.handle(token, message)[0]
        return begun_elsewhere, stale, again

    begun_elsewhere, stale, again = asyncio.run(play())

    assert (begun_elsewhere["screen"], begun_elsewhere["exercise"]["number"]) == ("question", 2)
    assert stale is None
    assert (again["screen"], again["exercise"]["number"], again["number"]) == ("feedback", 2, 1)
    assert again["question"] == begun_elsewhere["question"]
    with open_store(pg_schema_url) as store:
        assert [(key, position) for _name, key, position in _answers(store)][-1] == ("two", 1)


def test_an_exercise_played_ahead_to_its_end_is_stored_finished(
    services, code, pg_schema_url
) -> None:
    service = services()
    token = _join(service, code, "Léa et Tom")

    async def play() -> tuple[dict, int]:
        sent = await _first_exercise(service, token)
        return await _ahead(service, token, {"type": "next"}), sent

    last, sent = asyncio.run(play())

    with open_store(pg_schema_url) as store:
        [pupil] = store.pupils_of(store.classrooms()[0].id)
        [attempt] = store.attempts_of(pupil.id, round_seance_id(store))
        assert attempt.finished_at is not None
        assert last["screen"] == "result"
        assert (attempt.score, attempt.total) == (last["score"], last["total"])
        assert len(store.answers_of(attempt.id)) == sent


def test_a_message_whose_rows_are_refused_fails_alone(code, pg_schema_url) -> None:
    engine = create_store_engine(pg_schema_url)
    batches = PostgresBatches(engine)
    with open_store(pg_schema_url) as store:
        classroom = store.classrooms()[0]
        pupil = store.add_pupil(classroom.id, "Léa et Tom", is_pair=True)
        other = store.add_pupil(classroom.id, "Inès et Noé", is_pair=True)
        seance_id = round_seance_id(store)

    good = PendingWrites(batches, pupil.id, seance_id, (0, None, 0))
    attempt_id = good.start_attempt(
        pupil.id, "cm2-x", seed="s/0", total=1, seance_id=seance_id, position=0
    )
    answer = dict(
        question_index=0, attempt_number=1, question_shown="2 × 3", expected="6", typed="6",
        read_as="6", outcome="right", response_ms=900,
    )  # fmt: skip
    good.record_answer(attempt_id, **answer, client_key="good")
    good.finish_attempt(attempt_id, score=1, total=1, duration_ms=900)
    broken = PendingWrites(batches, other.id, seance_id, (0, None, 0))
    broken.record_answer(987_654_321, **answer, client_key="broken")  # no such attempt

    async def commit() -> list[Any]:
        try:
            return await asyncio.gather(
                batches.commit(good), batches.commit(broken), return_exceptions=True
            )
        finally:
            batches.close()

    written_good, written_broken = asyncio.run(commit())
    engine.dispose()

    assert written_good is True
    assert isinstance(written_broken, Exception) and not isinstance(
        written_broken, StoreUnavailable
    )
    with open_store(pg_schema_url) as store:
        [attempt] = store.attempts_of(pupil.id, seance_id)
        assert (attempt.id, attempt.score, attempt.finished_at is not None) == (
            attempt_id,
            1,
            True,
        )
        assert [a.client_key for a in store.answers_of(attempt_id)] == ["good"]


def test_a_database_out_of_reach_is_said_unavailable() -> None:
    engine = create_store_engine("postgresql+psycopg://nobody:x@127.0.0.1:9/nothing")
    batches = PostgresBatches(engine)
    pending = PendingWrites(batches, 1, 1, (0, None, 0))

    async def commit() -> None:
        await batches.commit(pending)

    with pytest.raises(StoreUnavailable):
        asyncio.run(commit())
    with pytest.raises(StoreUnavailable):
        batches.next_attempt_id()
    engine.dispose()


def test_an_attempt_begun_and_finished_in_one_message_is_written_finished() -> None:
    class Ids:
        def next_attempt_id(self) -> int:
            return 41

    pending = PendingWrites(Ids(), 1, 2, (0, None, 0))  # type: ignore[arg-type]
    attempt_id = pending.start_attempt(1, "cm2-x", seed="s", total=1, seance_id=2)
    pending.finish_attempt(attempt_id, score=1, total=1, duration_ms=500)

    assert attempt_id == 41
    assert pending.finished == []
    [begun] = pending.begun
    assert (begun["id"], begun["score"], begun["duration_ms"]) == (41, 1, 500)
    assert begun["finished_at"].tzinfo is not None


def test_a_batch_that_waits_too_long_is_said_unavailable_and_written_later(
    code, pg_schema_url, monkeypatch
) -> None:
    monkeypatch.setattr(batched, "BATCH_SECONDS", 0.5)
    engine = create_store_engine(pg_schema_url)
    batches = PostgresBatches(engine)
    with open_store(pg_schema_url) as store:
        pupil = store.add_pupil(store.classrooms()[0].id, "Léa et Tom", is_pair=True)
        seance_id = round_seance_id(store)
    pending = PendingWrites(batches, pupil.id, seance_id, (0, None, 0))
    pending.start_attempt(pupil.id, "cm2-x", seed="s/0", total=1, seance_id=seance_id)
    arguments, options = engine.dialect.create_connect_args(engine.url)
    locker = psycopg.connect(*arguments, **options, autocommit=True)

    async def commit_while_locked() -> tuple[BaseException | None, bool]:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE attempts IN ACCESS EXCLUSIVE MODE")
        try:
            await batches.commit(pending)
            refused = None
        except StoreUnavailable as error:
            refused = error
        locker.execute("ROLLBACK")
        # The same message, sent again once the database answers.
        again = await batches.commit(pending)
        batches.close()
        return refused, again

    refused, again = asyncio.run(commit_while_locked())
    locker.close()
    engine.dispose()

    assert isinstance(refused, StoreUnavailable)
    assert again is True
    with open_store(pg_schema_url) as store:
        assert len(store.attempts_of(pupil.id, seance_id)) == 1


def test_a_pairs_progress_is_read_by_index_on_statistics_of_a_nearly_empty_table(
    code, pg_schema_url
) -> None:
    """The rally's tables grow from nothing in its first minute; PostgreSQL keeps the plans it
    made on their first statistics. Every scan of the attempts in the batch's statement must
    still go by the pair's index, never through the whole table or the whole séance."""
    engine = create_store_engine(pg_schema_url)
    batches = PostgresBatches(engine)
    with open_store(pg_schema_url) as store:
        classroom = store.classrooms()[0]
        seance_id = round_seance_id(store)
        pupils = [store.add_pupil(classroom.id, f"Paire {n}", is_pair=True) for n in range(40)]
        attempts = [
            store.start_attempt(pupil.id, "cm2-x", seed="s/0", total=1, seance_id=seance_id)
            for pupil in pupils
        ]
    pending = PendingWrites(batches, pupils[0].id, seance_id, (1, attempts[0], 0))
    answer = dict(
        question_index=0, attempt_number=1, question_shown="2 × 3", expected="6", typed="6",
        read_as="6", outcome="right", response_ms=900,
    )  # fmt: skip
    pending.record_answer(attempts[0], **answer, client_key="k")
    pending.finish_attempt(attempts[0], score=1, total=1, duration_ms=900)

    async def explain() -> list[str]:
        connection = await batches._open()  # the batches' own connection, with its settings
        try:
            await connection.execute("ANALYZE attempts")
            await connection.execute("ANALYZE answers")
            cursor = await connection.execute(
                "EXPLAIN " + batched.BATCH_SQL, batched._parameters([pending])
            )
            return [line for (line,) in await cursor.fetchall()]
        finally:
            batches.close()

    plan = asyncio.run(explain())
    engine.dispose()

    scans = [line.strip() for line in plan if "Scan" in line and " on attempts" in line]
    assert scans, plan
    assert all(
        "using ix_attempts_seance_id_pupil_id_started_at on attempts" in scan
        or "using pk_attempts on attempts" in scan
        for scan in scans
    ), plan
    assert any("ix_attempts_seance_id_pupil_id_started_at" in scan for scan in scans), plan


def round_seance_id(store: Store) -> int:
    """The séance of the 2027 rally's CM round, where its pairs' attempts are stored."""
    code = store.rally_by_edition("2027").definition["round_seances"]["cm"]
    return store.seance_by_code(code).id
