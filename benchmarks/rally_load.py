"""Rally day on loopback: thousands of pairs answering the kernel-less rally page at once.

Prepares a database with the 2027 rally (classes of 30 pairs, opened by hand),
starts ``calculatice serve`` (no kernel pool: only the rally page is used) and
sends simulated pairs through the page's HTTP protocol as ``player.js`` does:
join, begin, then one answer every ``--interval`` seconds, with "Suite",
"Exercice suivant" and "Commencer" when the screens ask for them. Joins are
spread over ``--ramp`` seconds, then the load runs for ``--seconds``.

Measured: latency of every request (median, 95th, 99th percentile, answers
apart), errors, answers acknowledged versus answers stored (by client key,
from the database afterwards), the server's peak resident memory, and the
latency of the health URL sampled every 100 ms (how free the server's loop
stays).

Run from the project folder::

    .venv/bin/python benchmarks/rally_load.py --pairs 2000
    .venv/bin/python benchmarks/rally_load.py --pairs 300 --seconds 30
    .venv/bin/python benchmarks/rally_load.py --db postgresql+psycopg://... --url http://...

With ``--url``, no server is started: the pairs go to that address (nginx in
front of several processes, see deploy/), which must use the ``--db`` given.
Figures go to stdout and to ``benchmarks/results/rally_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from sqlalchemy import func, select

from calculatice.web.launch import running_server

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "rally_load.json"
EDITION = PROJECT / "data" / "rallies" / "2027.yaml"
PAIRS_PER_CLASS = 30
COOKIE = "calculatice_rallye"


@dataclass
class Figures:
    """What one run measured."""

    pairs: int
    seconds: float
    interval: float
    requests: int = 0
    answers_sent: int = 0
    answers_stored: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    answer_latency_ms: dict[str, float] = field(default_factory=dict)
    health_latency_ms: dict[str, float] = field(default_factory=dict)
    requests_per_second: float = 0.0
    server_peak_rss_mb: float | None = None
    server_cpu_ms_per_request: float | None = None
    client_cpu_ms_per_request: float = 0.0
    load_average_1min: float = 0.0
    machine: str = ""


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {
        "median": round(statistics.median(ordered) * 1000, 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 1),
        "count": len(ordered),
    }


def prepare(db_url: str, pairs: int) -> list[str]:
    """The 2027 rally, opened, with enough CM2 classes for the pairs; their codes."""
    from calculatice.catalogue import load_bank
    from calculatice.rally.organise import (
        create_rally,
        definition_of_rally,
        open_rally,
        rally_of,
        register_class,
    )
    from calculatice.store import open_store

    bank = load_bank(PROJECT / "exercices")
    with open_store(db_url) as store:
        rally = store.rally_by_edition("2027") or create_rally(store, bank, EDITION)
        if rally.status != "open":
            open_rally(store, rally)
        rally = rally_of(store, "2027")
        definition = definition_of_rally(rally, bank)
        codes = []
        for number in range(-(-pairs // PAIRS_PER_CLASS)):
            classroom = register_class(
                store, rally, definition, school_code=f"BENCH{number // 4:04d}",
                class_name=f"CM2 {uuid.uuid4().hex[:6]}", level="CM2", late=True,
            )  # fmt: skip
            codes.append(classroom.code)
    return codes


def stored_answers(db_url: str, keys_prefix: str) -> int:
    """Answers in the store whose client key this run made."""
    from calculatice.store import connect_store
    from calculatice.store.models import Answer

    with connect_store(db_url) as store, store.engine.connect() as connection:
        query = select(func.count(Answer.id)).where(Answer.client_key.like(f"{keys_prefix}%"))
        return connection.execute(query).scalar_one()


class Load:
    """The pairs, their measurements and the clock of the run."""

    def __init__(self, url: str, interval: float, stop_at: float, run_id: str) -> None:
        self.url = url
        self.interval = interval
        self.stop_at = stop_at
        self.run_id = run_id
        self.latencies: list[float] = []
        self.answer_latencies: list[float] = []
        self.answers_sent = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.client = httpx.AsyncClient(
            timeout=30, limits=httpx.Limits(max_connections=400, max_keepalive_connections=400)
        )

    async def post(self, token: str | None, message: dict) -> tuple[dict | None, str | None]:
        headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
        started = time.perf_counter()
        try:
            response = await self.client.post(
                f"{self.url}/rallye/api", json=message, headers=headers
            )
            reply = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as error:
            self._error(f"{message['type']}: {type(error).__name__}")
            return None, token
        elapsed = time.perf_counter() - started
        self.latencies.append(elapsed)
        if message["type"] == "answer":
            self.answer_latencies.append(elapsed)
        if reply is None:
            self._error(f"{message['type']}: HTTP {response.status_code}")
            return None, token
        cookie = response.cookies.get(COOKIE)
        return reply, cookie or token

    def _error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(text)

    async def pair(self, number: int, code: str, delay: float) -> None:
        await asyncio.sleep(delay)
        name = f"Pair {_letters(number)} et Bench"
        reply, token = await self.post(None, {"type": "join", "code": code, "name": name})
        if reply is None or token is None or reply.get("screen") != "title":
            self._error(f"join refused: {reply and reply.get('error')}")
            return
        reply, token = await self.post(token, {"type": "begin"})
        answered = 0
        while reply is not None and time.monotonic() < self.stop_at:
            screen = reply.get("screen")
            if screen == "question":
                await asyncio.sleep(self.interval * random.uniform(0.8, 1.2))
                key = f"{self.run_id}-{number}-{answered}"
                typed = str(random.randint(0, 99))
                reply, token = await self.post(
                    token, {"type": "answer", "response": typed, "key": key}
                )
                answered += 1
                if (
                    reply is not None
                    and reply.get("screen") == "feedback"
                    and "error" not in reply
                ):
                    self.answers_sent += 1
            elif screen == "feedback":
                reply, token = await self.post(token, {"type": "next"})
            elif screen == "result":
                reply, token = await self.post(token, {"type": "continue"})
            elif screen == "title":
                reply, token = await self.post(token, {"type": "begin"})
            else:
                break

    async def health(self, samples: list[float]) -> None:
        while time.monotonic() < self.stop_at:
            started = time.perf_counter()
            try:
                await self.client.get(f"{self.url}/calculatice/health")
                samples.append(time.perf_counter() - started)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


def _letters(number: int) -> str:
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters.capitalize()


async def run_load(url: str, codes: list[str], arguments: argparse.Namespace, figures: Figures):
    run_id = uuid.uuid4().hex[:8]
    stop_at = time.monotonic() + arguments.ramp + arguments.seconds
    load = Load(url, arguments.interval, stop_at, run_id)
    health: list[float] = []
    started = time.monotonic()
    tasks = [
        load.pair(
            number, codes[number // PAIRS_PER_CLASS], arguments.ramp * number / figures.pairs
        )
        for number in range(figures.pairs)
    ]
    await asyncio.gather(load.health(health), *tasks)
    await load.client.aclose()
    figures.seconds = round(time.monotonic() - started, 1)
    figures.requests = len(load.latencies)
    figures.requests_per_second = round(len(load.latencies) / max(arguments.seconds, 1), 1)
    figures.answers_sent = load.answers_sent
    figures.errors = load.errors
    figures.error_samples = load.error_samples
    figures.latency_ms = _percentiles(load.latencies)
    figures.answer_latency_ms = _percentiles(load.answer_latencies)
    figures.health_latency_ms = _percentiles(health)
    return run_id


async def sample_memory(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        rss = process.memory_info().rss
        for child in process.children(recursive=True):
            rss += child.memory_info().rss
        peak[0] = max(peak[0], rss / 2**20)
        await asyncio.sleep(1)


def _cpu_seconds(process: subprocess.Popen | None) -> float:
    """CPU time the server has used so far (user and system), 0 when it is not ours."""
    if process is None:
        return 0.0
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs answering at once")
    parser.add_argument("--seconds", type=float, default=60, help="load after the ramp, in s")
    parser.add_argument("--ramp", type=float, default=20, help="joins spread over this, in s")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between answers")
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite)")
    parser.add_argument("--url", default=None, help="use this server instead of starting one")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file for the figures")
    arguments = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="rally-load-"))
    db_url = arguments.db or f"sqlite:///{folder / 'rally.sqlite'}"
    codes = prepare(db_url, arguments.pairs)
    figures = Figures(arguments.pairs, arguments.seconds, arguments.interval)
    figures.machine = f"{platform.node()} {os.cpu_count()} CPU, Python {platform.python_version()}"
    with contextlib.ExitStack() as stack:
        process = None
        if arguments.url:
            url = arguments.url.rstrip("/")
        else:
            secret = {"CALCULATICE_RALLY_SECRET": uuid.uuid4().hex}
            server = stack.enter_context(
                running_server(folder, db_url, ["--no-demo", "--pool-size", "0"], secret)
            )
            process, url = server.process, server.url
        peak = [0.0]

        async def measured() -> str:
            stop = asyncio.Event()
            sampler = None
            if process is not None:
                sampler = asyncio.create_task(sample_memory(process.pid, peak, stop))
            run_id = await run_load(url, codes, arguments, figures)
            stop.set()
            if sampler is not None:
                await sampler
            return run_id

        cpu_before = _cpu_seconds(process)
        client_before = psutil.Process().cpu_times()
        run_id = asyncio.run(measured())
        client_after = psutil.Process().cpu_times()
        client_spent = (client_after.user + client_after.system) - (
            client_before.user + client_before.system
        )
        figures.client_cpu_ms_per_request = round(
            1000 * client_spent / max(figures.requests, 1), 2
        )
        figures.load_average_1min = os.getloadavg()[0]
        if process is not None:
            figures.server_peak_rss_mb = round(peak[0], 1)
            spent = _cpu_seconds(process) - cpu_before
            figures.server_cpu_ms_per_request = round(1000 * spent / max(figures.requests, 1), 2)
        figures.answers_stored = stored_answers(db_url, run_id)

    report = {**asdict(figures), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
