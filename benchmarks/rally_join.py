"""What a pair's join costs the server, and its first answer on the same process or another.

At a rally's start hundreds of pairs join a second. Behind nginx, a join
that lands on one process and the pair's answers on another make the
second rebuild the pair from the store at its first answer; the route
cookie that the page sets (``calculatice/rally/handlers.py``) keeps both on
one process. This measures, in one run and on one database, the CPU and
wall time of:

- a join (the class found, the pair added, its first exercise drawn);
- the pair's first answer on the process that has its session in memory
  (what the route cookie gives);
- the same first answer on another process, which rebuilds the session
  from the store first (what a join sent anywhere gave half the pairs).

Two :class:`~calculatice.rally.service.RallyService` objects in this
process stand for the two server processes; no HTTP (``rally_load.py``
measures the whole). Each phase runs over ``--pairs`` pairs, in
``--rounds`` alternating rounds so that a change in the machine's load
falls on both answer phases alike. Run from the project folder::

    .venv/bin/python benchmarks/rally_join.py --db postgresql+psycopg://…/calculatice

With ``--baseline DIR`` (a folder holding the ``calculatice`` package as it
was), each round runs twice, in two processes one after the other: once on
that package (put first on ``PYTHONPATH``), once on this tree; the figures
of both and the ratios of this tree's to the baseline's are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder is first on the path: the pairs' names and classes of the load.
import rally_load

from calculatice.catalogue import load_bank
from calculatice.rally.service import RallyService
from calculatice.store import connect_store

PROJECT = Path(__file__).resolve().parents[1]
PHASES = ("join", "first_answer_same_process", "first_answer_other_process")


def timed(action, count: int) -> dict[str, float]:
    """Milliseconds of CPU (this process) and of wall time per call of ``action(i)``."""
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(count):
        action(number)
    return {
        "cpu_ms": round(1000 * (time.process_time() - cpu) / count, 3),
        "wall_ms": round(1000 * (time.perf_counter() - wall) / count, 3),
    }


def one_round(db_url: str, codes: list[str], bank, pairs: int, round_number: int) -> dict:
    """Join ``2 × pairs`` pairs on one service; answer half of them on it, half on another."""
    services = [
        RallyService(lambda: connect_store(db_url), b"bench" * 8, bank_loader=lambda: bank)
        for _ in range(2)
    ]
    for service in services:
        service.warm_up()
    tokens: list[str] = []

    def join(number: int) -> None:
        index = round_number * 2 * pairs + number
        name = f"Pair {rally_load._letters(index)} et Bench"
        code = codes[index // rally_load.PAIRS_PER_CLASS]
        reply, token = services[0].handle(None, {"type": "join", "code": code, "name": name})
        assert reply["screen"] == "title" and token, reply
        tokens.append(token)

    def answer_on(service: RallyService, offset: int):
        def answer(number: int) -> None:
            # The page drew the title's "then" (the first question) and answers it.
            message = {"type": "answer", "response": "7", "key": f"{round_number}-{number}"}
            reply, _ = service.handle(tokens[offset + number], {**message, "suite": 900})
            assert reply["screen"] == "feedback", reply

        return answer

    joined = timed(join, 2 * pairs)
    same = timed(answer_on(services[0], 0), pairs)
    other = timed(answer_on(services[1], pairs), pairs)
    assert services[1].rebuilt == pairs and services[0].rebuilt == 0
    for service in services:
        service.close()
    return {"join": joined, "first_answer_same_process": same, "first_answer_other_process": other}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--pairs", type=int, default=300, help="pairs per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="JSON file for the figures")
    parser.add_argument("--baseline", type=Path, default=None, help="tree of the 'before' code")
    arguments = parser.parse_args()
    if arguments.baseline is not None:
        side_by_side(arguments)
        return

    with tempfile.TemporaryDirectory() as folder:
        db_url = arguments.db or f"sqlite:///{Path(folder) / 'rally.sqlite'}"
        codes = rally_load.prepare(db_url, 2 * arguments.pairs * arguments.rounds)
        bank = load_bank(PROJECT / "exercices")
        rounds = [
            one_round(db_url, codes, bank, arguments.pairs, number)
            for number in range(arguments.rounds)
        ]
    figures: dict = _medians(rounds)
    figures["other_to_same_cpu_ratio"] = round(
        figures["first_answer_other_process"]["cpu_ms"]
        / figures["first_answer_same_process"]["cpu_ms"],
        1,
    )
    figures.update(
        rounds=rounds,
        pairs=arguments.pairs,
        database=db_url.split(":", 1)[0],
        load_average_1min=round(os.getloadavg()[0], 2),
        date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    _report(figures, arguments.output)


def _medians(rounds: list[dict]) -> dict:
    """Each phase's median CPU and wall milliseconds over the rounds."""
    return {
        phase: {
            measure: statistics.median(one[phase][measure] for one in rounds)
            for measure in ("cpu_ms", "wall_ms")
        }
        for phase in PHASES
    }


def _report(figures: dict, output: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    print(text)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")


def side_by_side(arguments: argparse.Namespace) -> None:
    """Alternate rounds on the baseline's package and this tree's; both, and the ratios."""
    trees = {"before": arguments.baseline.resolve(), "after": PROJECT}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as folder:
        for number in range(arguments.rounds):
            for name, tree in trees.items():
                output = Path(folder) / f"{name}-{number}.json"
                command = [sys.executable, __file__, "--pairs", str(arguments.pairs)]
                command += ["--rounds", "1", "--output", str(output)]
                if arguments.db:
                    command += ["--db", arguments.db]
                environment = {**os.environ, "PYTHONPATH": str(tree)}
                subprocess.run(command, check=True, env=environment, stdout=subprocess.DEVNULL)
                runs[name].append(json.loads(output.read_text()))
    figures: dict = {name: _medians(results) for name, results in runs.items()}
    figures["after_to_before_cpu"] = {
        phase: round(figures["after"][phase]["cpu_ms"] / figures["before"][phase]["cpu_ms"], 2)
        for phase in PHASES
    }
    figures.update(
        baseline=str(trees["before"]),
        pairs=arguments.pairs,
        rounds=arguments.rounds,
        database=(arguments.db or "sqlite").split(":", 1)[0],
        load_average_1min=round(os.getloadavg()[0], 2),
        date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    _report(figures, arguments.output)


if __name__ == "__main__":
    main()
