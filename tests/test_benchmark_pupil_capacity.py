"""The pupil-capacity benchmark still measures what it says, at a tiny size.

The benchmark is run by hand (and from ``rally_load.py``); this test keeps
it from rotting: two simulated pupils on a live ``calculatice serve`` keep
answering for a few seconds, and the level must hold with every figure
measured and every acknowledged answer in the database.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from calculatice.store import open_store

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "pupil_capacity.py"


@pytest.fixture(scope="module")
def pupil_capacity():
    spec = importlib.util.spec_from_file_location("pupil_capacity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["pupil_capacity"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("pupil_capacity", None)


def test_two_pupils_keep_answering_and_the_level_holds(pupil_capacity, tmp_path: Path) -> None:
    lines: list[str] = []
    report = pupil_capacity.measure_pupil_capacity(
        # The machine is shared: the test checks the measure, not the machine's speed.
        latency_ms=5000.0,
        interval=1.0,
        steps=(2,),
        step_seconds=5.0,
        arrival_seconds=0.5,
        folder=tmp_path,
        progress=lines.append,
    )

    assert report["held"] == 2
    assert report["failed_at"] is None
    assert report["pool_size"] == 2
    [level] = report["levels"]
    assert level["held"] is True
    assert level["reason"] is None
    assert (level["pupils"], level["newcomers"]) == (2, 2)
    assert (level["late_pages"], level["pupils_failed"], level["errors"]) == (0, 0, 0)
    assert 0 < level["first_question_s"]["max"] < pupil_capacity.FIRST_QUESTION_LIMIT_S
    # One answer a second or so each, over 5 s: both pupils answered, several times.
    assert level["pupils_answering"] == 2
    answers = level["answer_ms"]
    assert 6 <= answers["count"] <= 16
    assert 0 < answers["median"] <= answers["p95"] <= answers["p99"] <= answers["max"] < 5000
    # Two kernels taken from the pool, each a few tens of MB, and the server itself.
    memory = level["memory"]
    assert memory["pupil_kernels"] == 2
    assert memory["idle_kernels"] == 0
    assert 20 < memory["pupil_kernel_uss_mb_median"] < 200
    assert memory["server_uss_mb"] > 50
    assert memory["total_uss_mb"] < report["memory_limit_mb"]
    assert level["cpu_cores"]["server"] > 0
    assert any("2 pupils" in line for line in lines)
    assert "held" in pupil_capacity.table(report)

    # Every answer acknowledged to a pupil is in the database, exactly once.
    with open_store(f"sqlite:///{tmp_path / 'calculatice.sqlite'}") as store:
        seance = next(
            seance
            for classroom in store.classrooms(store.school_by_code("0599999Z").id)
            for seance in store.seances_of(classroom.id)
        )
        stored = [
            answer
            for pupil in store.pupils_of(seance.classroom_id)
            for attempt in store.attempts_of(pupil.id, seance.id)
            for answer in store.answers_of(attempt.id)
        ]
    assert len(stored) == report["answers_acknowledged"]
    assert len({answer.client_key for answer in stored}) == len(stored)
