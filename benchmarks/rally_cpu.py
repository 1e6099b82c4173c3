"""Server CPU per rally request, two servers side by side: a baseline tree against this one.

``rally_load.py`` measures the whole rally day; this one answers a narrower
question while the server's hot path is being changed: how much CPU does
one request cost the server, before and after? Two ``calculatice serve``
processes are started, each on a fresh SQLite database with the 2027
rally: one on the source tree given with ``--baseline`` (a folder holding
the ``calculatice`` package as it was, put first on the server's
``PYTHONPATH``), one on this tree. The same simulated pairs (one keep-alive
connection each, sending what a browser sends: it accepts gzip) then load
one server at a time, in alternating rounds, so that a change in the
machine's load (other work on its cores) falls on both alike. Two phases
per round:

- ``play``: pairs answer every ``--interval`` seconds (±20 %), and send
  "Suite", "Exercice suivant" and "Commencer" when the screens show them
  (the page draws those from the replies' ``"then"`` without a request;
  sent here so that a baseline tree from before is loaded alike);
- ``state``: pairs only ask for their screen again (a message that neither
  draws nor records): the fixed cost of a request (HTTP, freshness check,
  JSON), the part of ``play`` that is not grading and writing.

Reported per server and phase: requests per second, server CPU in
milliseconds per request (user and system, over the phase; the system part
apart: on loopback it carries much of the network's cost), the answers'
share of the requests, and the latency percentiles. Run from the project
folder, preferably under ``flock /tmp/bench.lock``::

    .venv/bin/python benchmarks/rally_cpu.py --baseline /tmp/base --pairs 300 --seconds 10

Without ``--baseline``, only this tree is measured. With ``--pg URL``, each
server works on a schema of its own in that PostgreSQL database rather than
on an SQLite file, and PostgreSQL's CPU (every ``postgres`` process of the
machine, over the phase) is reported apart, per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import importlib.util
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

from calculatice.store.database import scratch_schema
from calculatice.web.launch import running_server

PROJECT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "rally_load", Path(__file__).with_name("rally_load.py")
)
rally_load = importlib.util.module_from_spec(_spec)
sys.modules["rally_load"] = rally_load
_spec.loader.exec_module(rally_load)


class Server:
    """One server under test: its URL, process and the pairs' codes on its database."""

    def __init__(self, name: str, url: str, pid: int, codes: list[str], db_url: str) -> None:
        self.name = name
        self.db_url = db_url
        self.url = url
        self.process = psutil.Process(pid)
        self.codes = codes
        self.pairs: list[dict[str, Any]] = []

    def cpu(self) -> tuple[float, float]:
        """User and system CPU seconds of the server so far."""
        times = self.process.cpu_times()
        return times.user, times.system

    def database_cpu(self) -> float:
        """CPU seconds of PostgreSQL on this machine so far (0 on SQLite)."""
        return rally_load.database_cpu_seconds(self.db_url) or 0.0


class BrowserConnection(rally_load.Connection):
    """A keep-alive connection that sends what a browser sends: it accepts gzip."""

    async def request(
        self, method: str, target: str, host: str, body: bytes = b"", cookie: str | None = None
    ) -> tuple[int, str | None, bytes]:
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {host}",
            "Content-Type: application/json",
            "Accept-Encoding: gzip, deflate, br",
            f"Content-Length: {len(body)}",
        ]
        if cookie:
            head.append(f"Cookie: {rally_load.COOKIE}={cookie}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, new_cookie, gzipped = 0, None, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "content-encoding":
                gzipped = value == "gzip"
            elif name == "set-cookie" and value.startswith(f"{rally_load.COOKIE}="):
                new_cookie = value[len(rally_load.COOKIE) + 1 :].split(";", 1)[0].strip('"')
        content = await self.reader.readexactly(length) if length else b""
        return status, new_cookie, gzip.decompress(content) if gzipped else content


async def post(server: Server, pair: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    host, port = server.url.split("//", 1)[1].split(":")
    if pair.get("connection") is None:
        pair["connection"] = await BrowserConnection.open(host, int(port))
    status, cookie, content = await pair["connection"].request(
        "POST", "/rallye/api", f"{host}:{port}", json.dumps(message).encode(), pair.get("token")
    )
    if status != 200:
        raise RuntimeError(f"{message['type']}: HTTP {status}")
    pair["token"] = cookie or pair.get("token")
    reply = json.loads(content)
    if "error" in reply:
        raise RuntimeError(f"{message['type']}: {reply['error']}")
    return reply


async def join(server: Server, count: int) -> None:
    """Join the pairs and begin their first exercise."""
    for number in range(count):
        pair: dict[str, Any] = {"number": number, "answered": 0}
        code = server.codes[number // rally_load.PAIRS_PER_CLASS]
        name = f"Pair {rally_load._letters(number)} et Bench"
        await post(server, pair, {"type": "join", "code": code, "name": name})
        pair["reply"] = await post(server, pair, {"type": "begin"})
        server.pairs.append(pair)


async def play(
    server: Server, pair: dict[str, Any], phase: str, interval: float, stop_at: float, out: dict
) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < stop_at:
        reply = pair["reply"]
        screen = reply.get("screen")
        if phase == "state":
            # As many requests per second as in "play", where half are answers.
            await asyncio.sleep(interval / 2 * random.uniform(0.8, 1.2))
            message = {"type": "state"}
        elif screen == "question" or (screen == "feedback" and not reply["question_done"]):
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))
            message = {
                "type": "answer",
                "response": str(random.randint(0, 99)),
                "key": f"{out['run']}-{pair['number']}-{pair['answered']}",
            }
            pair["answered"] += 1
        elif screen == "feedback":
            message = {"type": "next"}
        elif screen == "result" and reply.get("has_next"):
            message = {"type": "continue"}
        elif screen == "title":
            message = {"type": "begin"}
        else:
            await asyncio.sleep(interval)
            continue
        if time.monotonic() >= stop_at:
            break
        started = time.perf_counter()
        pair["reply"] = await post(server, pair, message)
        out["latencies"].append(time.perf_counter() - started)
        out["kinds"][message["type"]] = out["kinds"].get(message["type"], 0) + 1


async def phase_run(server: Server, phase: str, interval: float, seconds: float) -> dict:
    out: dict[str, Any] = {"run": uuid.uuid4().hex[:8], "latencies": [], "kinds": {}}
    stop_at = time.monotonic() + seconds
    tasks = [play(server, pair, phase, interval, stop_at, out) for pair in server.pairs]
    gather = asyncio.gather(*tasks)
    # Leave the first second out: every pair has sent its first message by then.
    await asyncio.sleep(1.0)
    (user, system), wall, count = server.cpu(), time.monotonic(), len(out["latencies"])
    database = server.database_cpu()
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    user_after, system_after = server.cpu()
    user, system = user_after - user, system_after - system
    database = server.database_cpu() - database
    wall, count = time.monotonic() - wall, len(out["latencies"]) - count
    await gather
    answers = out["kinds"].get("answer", 0)
    return {
        "requests_per_second": round(count / wall, 1),
        "cpu_ms_per_request": round(1000 * (user + system) / max(count, 1), 3),
        "system_ms_per_request": round(1000 * system / max(count, 1), 3),
        "database_ms_per_request": round(1000 * database / max(count, 1), 3),
        "answer_share": round(answers / max(sum(out["kinds"].values()), 1), 2),
        "latency_ms": rally_load._percentiles(out["latencies"]),
    }


async def measure(servers: list[Server], arguments: argparse.Namespace) -> dict:
    for server in servers:
        await join(server, arguments.pairs)
    idle = {}
    for server in servers:
        cpu = sum(server.cpu())
        await asyncio.sleep(3.0)
        idle[server.name] = round(1000 * (sum(server.cpu()) - cpu) / 3.0, 1)
    print("idle server CPU, ms per second:", idle, flush=True)
    results: dict[str, dict[str, list]] = {s.name: {"play": [], "state": []} for s in servers}
    for _round in range(arguments.rounds):
        for phase in ("play", "state"):
            for server in servers:
                figures = await phase_run(server, phase, arguments.interval, arguments.seconds)
                results[server.name][phase].append(figures)
                print(server.name, phase, json.dumps(figures), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, default=None, help="tree of the 'before' code")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between answers")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="JSON file for the figures")
    parser.add_argument(
        "--pg",
        default=None,
        help="a PostgreSQL URL: each server gets a schema of its own there instead of an "
        "SQLite file (scripts/start-postgres.sh prints one)",
    )
    arguments = parser.parse_args()
    variants = [("after", None)]
    if arguments.baseline is not None:
        variants.insert(0, ("before", arguments.baseline.resolve()))
    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        servers = []
        for name, tree in variants:
            folder = Path(tempfile.mkdtemp(prefix=f"rally-cpu-{name}-"))
            db_url = f"sqlite:///{folder / 'rally.sqlite'}"
            if arguments.pg:
                db_url = stack.enter_context(scratch_schema(arguments.pg, f"rally_cpu_{name}"))
            codes = rally_load.prepare(db_url, arguments.pairs)
            environment = {"CALCULATICE_RALLY_SECRET": uuid.uuid4().hex}
            if tree is not None:
                environment["PYTHONPATH"] = str(tree)
            running = stack.enter_context(
                running_server(folder, db_url, ["--no-demo", "--pool-size", "0"], environment)
            )
            servers.append(Server(name, running.url, running.process.pid, codes, db_url))
        results = asyncio.run(measure(servers, arguments))
    report = {
        "database": "postgresql" if arguments.pg else "sqlite",
        "pairs": arguments.pairs,
        "interval": arguments.interval,
        "seconds": arguments.seconds,
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if arguments.output is not None:
        arguments.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
