"""How long a rally pair's session takes to rebuild from the store: a baseline tree, this one.

A pair's session is rebuilt when its process lost it: a restart, a process of
the cluster killed (its pairs go to the others, then come back), a pair
pushed out of the bounded memory. After a kill behind nginx, a process
rebuilds hundreds of pairs within seconds, and their answers wait meanwhile.

Each tree (``--baseline``, a folder holding the ``calculatice`` package as it
was, and this one) runs in a process of its own, on its own SQLite file
holding the 2027 rally with one pair that has answered ``--answers``
questions; the two processes take turns, ``--rounds`` times, so that a change
in the machine's load falls on both alike, and each turn times ``--repeat``
rebuilds (:meth:`RallyService._rebuild`, the store read and the replay).
Reported: the median milliseconds per rebuild of each tree, and the ratio.
Run from the project folder::

    .venv/bin/python benchmarks/rally_rebuild.py --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

# What each tree's process runs: prepares its pair once, then times a turn of
# rebuilds each time it reads a line on its standard input.
WORKER = r"""
import json, sys, time
from pathlib import Path
from calculatice.catalogue import load_bank
from calculatice.rally.organise import (
    create_rally, definition_of_rally, open_rally, register_class,
)
from calculatice.rally.service import RallyService
from calculatice.store import open_store

project, db_url = Path(sys.argv[1]), sys.argv[2]
answers, repeat = int(sys.argv[3]), int(sys.argv[4])
bank = load_bank(project / "exercices")
store = open_store(db_url)
rally = create_rally(store, bank, project / "data" / "rallies" / "2027.yaml")
definition = definition_of_rally(rally, bank)
classroom = register_class(
    store, rally, definition, school_code="0590001A", class_name="CM2", level="CM2", late=True
)
open_rally(store, rally)
service = RallyService(lambda: store, b"bench", lambda: bank)
reply, token = service.handle(None, {"type": "join", "code": classroom.code, "name": "Léa et Tom"})
given = 0
while given < answers and reply["screen"] != "end":
    screen = reply["screen"]
    if screen == "title":
        message = {"type": "begin"}
    elif screen == "question" or (screen == "feedback" and not reply.get("question_done")):
        message = {"type": "answer", "response": str(given % 10), "key": f"k{given}"}
        given += 1
    elif screen == "feedback":
        message = {"type": "next"}
    else:
        message = {"type": "continue"}
    reply, _token = service.handle(token, message)
pupil_id = int(token.split(".")[0])
rally_round = service._round_of(store.classroom(classroom.id))


def rebuild():
    service._pairs.discard(pupil_id, service._pairs.get(pupil_id))
    service._rebuild(pupil_id, rally_round, "Léa et Tom", {"type": "state"})


for _ in range(5):
    rebuild()
package = str(Path(sys.modules["calculatice"].__file__).parent)
print(json.dumps({"answers": given, "package": package}), flush=True)
for _line in sys.stdin:
    started = time.perf_counter()
    for _ in range(repeat):
        rebuild()
    print(json.dumps({"ms": 1000 * (time.perf_counter() - started) / repeat}), flush=True)
"""


def start(tree: Path | None, folder: Path, arguments: argparse.Namespace) -> subprocess.Popen:
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)
    db_url = f"sqlite:///{folder / 'rally.sqlite'}"
    command = [sys.executable, "-c", WORKER, str(PROJECT), db_url]
    command += [str(arguments.answers), str(arguments.repeat)]
    # Started in its own folder: from the project's, ``-c`` would import this tree's package
    # before the baseline's.
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=folder,
    )


def turn(process: subprocess.Popen) -> dict:
    process.stdin.write("go\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, default=None, help="tree of the 'before' code")
    parser.add_argument("--answers", type=int, default=90, help="answers the pair has given")
    parser.add_argument("--repeat", type=int, default=40, help="rebuilds timed per turn")
    parser.add_argument("--rounds", type=int, default=5, help="turns per tree")
    parser.add_argument("--output", type=Path, default=None, help="JSON file for the figures")
    arguments = parser.parse_args()
    variants = {"after": None}
    if arguments.baseline is not None:
        variants = {"before": arguments.baseline.resolve(), **variants}
    processes, timings, prepared = {}, {name: [] for name in variants}, {}
    for name, tree in variants.items():
        folder = Path(tempfile.mkdtemp(prefix=f"rally-rebuild-{name}-"))
        processes[name] = start(tree, folder, arguments)
        prepared[name] = json.loads(processes[name].stdout.readline())
    for _round in range(arguments.rounds):
        for name, process in processes.items():
            timings[name].append(round(turn(process)["ms"], 3))
    for process in processes.values():
        process.stdin.close()
        process.wait(timeout=60)
    report = {
        "answers_given": prepared,
        "rebuild_ms": timings,
        "median_ms": {name: statistics.median(values) for name, values in timings.items()},
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if "before" in timings:
        report["ratio_after_to_before"] = round(
            report["median_ms"]["after"] / report["median_ms"]["before"], 2
        )
    print(json.dumps(report, indent=2))
    if arguments.output is not None:
        arguments.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
