"""The class-start benchmark's pupils still speak the pupil page's protocol.

The benchmark is run by hand; this test keeps its client from rotting: two
simulated pupils against a live ``calculatice serve`` must see question 1 and
get a feedback for every answer, from kernels of the preheated pool.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from calculatice.seances import normalise_code
from calculatice.store import open_store

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "class_start.py"


@pytest.fixture(scope="module")
def class_start():
    spec = importlib.util.spec_from_file_location("class_start", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["class_start"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    module.POOL_TIMEOUT_S = 90.0  # a pool that never fills fails the test, not the suite's time
    yield module
    sys.modules.pop("class_start", None)


def test_two_pupils_reach_question_one_and_feedback_on_preheated_kernels(
    class_start, tmp_path: Path
) -> None:
    server = class_start.start_pool_server(tmp_path, pool_size=2, fill_delay=0)
    try:
        class_start.wait_for_pool(server, 2)
        preheated = set(class_start.kernel_processes(server))
        results = asyncio.run(
            class_start.run_class(server.url, server.page_path, server.code, 2, 2, 0.0)
        )
    finally:
        class_start.stop_server(server)

    assert [r.error for r in results] == [None, None]
    assert all(0 < r.first_question_s < 60 for r in results)
    assert [len(r.feedback_ms) for r in results] == [2, 2]
    assert all(r.screens[:3] == ["title", "question", "feedback"] for r in results)
    # Each pupil had a kernel of its own, started and pre-rendered before the page was asked.
    kernels = {r.kernel_id for r in results}
    assert len(kernels) == 2
    assert kernels <= preheated

    with open_store(f"sqlite:///{tmp_path / 'calculatice.sqlite'}") as store:
        seance = store.seance_by_code(normalise_code(server.code))
        pupils = {p.display_name: p.id for p in store.pupils_of(seance.classroom_id)}
        for result in results:
            answers = [
                answer
                for attempt in store.attempts_of(pupils[result.name], seance.id)
                for answer in store.answers_of(attempt.id)
            ]
            assert len(answers) == 2
            assert all(answer.typed == "1" for answer in answers)
