"""Rally day on loopback: thousands of pairs answering the kernel-less rally page at once.

Prepares a database with the 2027 rally (classes of 30 pairs, opened by hand),
starts ``calculatice serve`` (no kernel pool: only the rally page is used), one
process per core behind nginx as a rally day is served (``--processes``), and
sends simulated pairs through the page's HTTP protocol as ``player.js`` does:
join, then one answer every ``--interval`` seconds (again after a "retry"
feedback); "Suite", "Exercice suivant" and "Commencer" are drawn from the
replies' ``"then"`` without a request, as the page does (sent to the server
with ``--suite-round-trip``, as pages did before). Joins are spread over
``--ramp`` seconds, then the load runs for ``--seconds``. A request that
fails on the network is sent again every 0.5 s, the same message with the
same answer key, as the page does (a proxy's 502, 503 or 504 too).

The pairs run in ``--clients`` processes of their own, each one asyncio loop
with a minimal keep-alive HTTP/1.1 client (one connection per pair, as a
browser keeps one), so that the load generator costs the shared CPUs as
little as possible; its CPU is measured and reported apart from the server's.

Measured: latency of every request (median, 95th, 99th percentile, answers
apart), errors, answers acknowledged versus answers stored (by client key,
from the database afterwards: lost = acknowledged but not stored, doubled =
stored more than once), the server's peak resident memory and CPU, the
clients' CPU, and the latency of the health URL sampled every 100 ms (how
free the server's loop stays).

With ``--restart-database-at SECONDS`` (PostgreSQL, whose data folder is
``--pg-data``), the database is restarted that long after the first join,
its connections cut: the servers answer 503 meanwhile, the pairs send again
as the page does, and the same check is made.

With ``--kill-at SECONDS``, the server (with several processes: the first
one) is killed (SIGKILL) that long after the first join and started again on
the same port and database; the pairs retry until it answers (or nginx sends
them to another process, which rebuilds them from the store), and the run
checks that every answer acknowledged before or after the kill is stored
exactly once.

Run from the project folder::

    .venv/bin/python benchmarks/rally_load.py --pairs 2000 --seconds 60
    .venv/bin/python benchmarks/rally_load.py --pairs 2000 --seconds 60 --processes 1
    .venv/bin/python benchmarks/rally_load.py --pairs 1000 --seconds 60 --kill-at 45
    .venv/bin/python benchmarks/rally_load.py --db postgresql+psycopg://... --url http://...

With ``--processes N`` (N > 1; by default one per core), ``deploy/rally-cluster.sh``
starts N server processes behind nginx on the run's database (SQLite by
default: one file shared by the processes of one machine), and the servers'
CPU and memory count them all with nginx. With ``--url``, no server is
started: the pairs go to that address (nginx in front of several processes,
see deploy/), which must use the ``--db`` given.
Figures go to stdout and to ``benchmarks/results/rally_load.json`` (or ``--output``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import select

from calculatice.web.launch import RunningServer, free_ports, running_server

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT / "deploy" / "rally-cluster.sh"
RESULTS = PROJECT / "benchmarks" / "results" / "rally_load.json"
EDITION = PROJECT / "data" / "rallies" / "2027.yaml"
PAIRS_PER_CLASS = 30
COOKIE = "calculatice_rallye"
RETRY_SECONDS = 0.5
"""Pause before sending a message again after a network failure, as ``player.js`` does."""
PAGE_GIVES_UP_SECONDS = 60.0
"""How long the rally page retries before showing an error (``RECONNECT_MS`` in player.js)."""
TARGET_P95_MS = 100.0
"""The answers' 95th percentile a rally day is held to (DESIGN.md)."""
PASSING_STATUSES = frozenset({502, 503, 504})
"""Replies of a proxy whose server is restarting: the page sends the message again."""
REQUEST_TIMEOUT_SECONDS = 60.0
"""A reply slower than this counts as an error and the message is sent again."""


@dataclass
class Figures:
    """What one run measured."""

    pairs: int
    seconds: float
    interval: float
    clients: int = 1
    processes: int = 1
    """Server processes: more than one behind nginx (``deploy/rally-cluster.sh``)."""
    suite: str = "drawn by the page"
    requests: int = 0
    answers_sent: int = 0
    answers_stored: int = 0
    answers_lost: int = 0
    answers_doubled: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    retries: int = 0
    longest_retry_s: float = 0.0
    pages_giving_up: int = 0
    """Messages that kept failing longer than the page retries: it would show an error."""
    sessions_rebuilt: int | None = None
    """Pairs' sessions rebuilt from the store (another process had them, or a restart)."""
    latency_ms: dict[str, float] = field(default_factory=dict)
    answer_latency_ms: dict[str, float] = field(default_factory=dict)
    steady_answer_latency_ms: dict[str, float] = field(default_factory=dict)
    """Answers replied to once every pair had joined: the rally's pace without the joins."""
    health_latency_ms: dict[str, float] = field(default_factory=dict)
    requests_per_second: float = 0.0
    answers_per_second: float = 0.0
    server_peak_rss_mb: float | None = None
    server_cpu_ms_per_request: float | None = None
    server_cpu_share: float | None = None
    database_cpu_ms_per_request: float | None = None
    """PostgreSQL's CPU on this machine per request, over the run (SQLite: in the server's)."""
    database_cpu_share: float | None = None
    steady_requests_per_second: float = 0.0
    steady_server_cpu_ms_per_request: float | None = None
    steady_server_cpu_share: float | None = None
    client_cpu_ms_per_request: float = 0.0
    client_cpu_share: float = 0.0
    killed_at_s: float | None = None
    restart_s: float | None = None
    database_restarted_at_s: float | None = None
    database_restart_s: float | None = None
    """How long ``pg_ctl restart`` took (``--restart-database-at``): PostgreSQL was down."""
    load_average_1min_before: float = 0.0
    load_average_1min: float = 0.0
    database: str = "sqlite"
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


def stored_keys(db_url: str, keys_prefix: str) -> Counter[str]:
    """How many times each client key of this run is in the store."""
    from calculatice.store import connect_store
    from calculatice.store.models import Answer

    with connect_store(db_url) as store, store.engine.connect() as connection:
        query = select(Answer.client_key).where(Answer.client_key.like(f"{keys_prefix}-%"))
        return Counter(key for (key,) in connection.execute(query))


# ---------------------------------------------------------------- the pairs' side


class Connection:
    """One keep-alive HTTP/1.1 connection, just enough for the rally page's JSON posts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(
        self,
        method: str,
        target: str,
        host: str,
        body: bytes = b"",
        cookies: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its reply: status, the cookies it sets, the body."""
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {host}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        if cookies:
            pairs = (f"{name}={value}" for name, value in cookies.items())
            head.append("Cookie: " + "; ".join(pairs))
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        set_cookies = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                cookie, _, _ = value.strip().partition(";")
                cookie_name, _, cookie_value = cookie.partition("=")
                set_cookies[cookie_name] = cookie_value.strip('"')
        content = await self.reader.readexactly(length) if length else b""
        return status, set_cookies, content

    def close(self) -> None:
        self.writer.close()


class Pairs:
    """The pairs of one client process, their measurements and the clock of the run."""

    def __init__(
        self,
        url: str,
        interval: float,
        stop_at: float,
        run_id: str,
        steady_seconds: float,
        ahead: bool = True,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.host_header = parsed.netloc
        self.page = f"{parsed.path.rstrip('/')}/rallye"
        self.api = f"{self.page}/api"
        self.interval = interval
        self.ahead = ahead
        """Draw the screens buttons lead to from ``then`` (the page's way) rather than asking."""
        self.stop_at = stop_at
        self.run_id = run_id
        self.steady_from = stop_at - steady_seconds
        self.steady = 0
        self.latencies: list[float] = []
        self.answer_latencies: list[float] = []
        self.steady_answer_latencies: list[float] = []
        self.acknowledged: list[str] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self.retries = 0
        self.longest_retry = 0.0
        self.given_up = 0

    async def post(
        self, pair: dict[str, Any], message: dict[str, Any]
    ) -> tuple[dict | None, str | None]:
        """Send a message until it gets a reply, as the page does; the reply and the token."""
        body = json.dumps(message).encode()
        started = time.perf_counter()
        failing_since = None
        while True:
            try:
                if pair.get("connection") is None:
                    pair["connection"] = await Connection.open(self.host, self.port)
                async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                    status, cookies, content = await pair["connection"].request(
                        "POST", self.api, self.host_header, body, pair["cookies"]
                    )
                if status in PASSING_STATUSES:
                    raise _Passing(status)
                break
            except (
                OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, _Passing
            ) as error:  # fmt: skip
                if pair.get("connection") is not None:
                    pair["connection"].close()
                    pair["connection"] = None
                now = time.perf_counter()
                failing_since = failing_since or now
                if isinstance(error, TimeoutError):
                    self._error(f"{message['type']}: no reply in {REQUEST_TIMEOUT_SECONDS} s")
                if time.monotonic() > self.stop_at + REQUEST_TIMEOUT_SECONDS:
                    self._error(f"{message['type']}: {type(error).__name__}, given up")
                    return None, pair["cookies"].get(COOKIE)
                self.retries += 1
                await asyncio.sleep(RETRY_SECONDS)
        elapsed = time.perf_counter() - started
        if failing_since is not None:
            self.longest_retry = max(self.longest_retry, elapsed)
            self.given_up += elapsed > PAGE_GIVES_UP_SECONDS
        self.latencies.append(elapsed)
        steady = self.steady_from <= time.monotonic() < self.stop_at
        self.steady += steady
        if message["type"] == "answer":
            self.answer_latencies.append(elapsed)
            if steady:
                self.steady_answer_latencies.append(elapsed)
        if status != 200:
            self._error(f"{message['type']}: HTTP {status}")
            return None, pair["cookies"].get(COOKIE)
        reply = json.loads(content)
        if "error" in reply:
            self._error(f"{message['type']} -> {reply.get('screen')}: {reply['error']}")
        elif message["type"] == "answer" and reply.get("screen") == "feedback":
            self.acknowledged.append(message["key"])
        pair["cookies"].update(cookies)
        return reply, pair["cookies"].get(COOKIE)

    async def load_page(self, pair: dict[str, Any]) -> bool:
        """Load the page as a browser does first: it sets the route cookie that keeps the pair's
        join on the process that will serve its answers. Not counted among the messages."""
        try:
            pair["connection"] = await Connection.open(self.host, self.port)
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                status, cookies, _page = await pair["connection"].request(
                    "GET", self.page, self.host_header
                )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
            self._error(f"page: {type(error).__name__}")
            return False
        if status != 200:
            self._error(f"page: HTTP {status}")
            return False
        pair["cookies"].update(cookies)
        return True

    def _error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(text)

    async def pair(self, number: int, code: str, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        pair: dict[str, Any] = {"cookies": {}}
        name = f"Pair {_letters(number)} et Bench"
        if not await self.load_page(pair):
            return
        reply, pair["token"] = await self.post(pair, {"type": "join", "code": code, "name": name})
        if reply is None or not pair["token"] or reply.get("screen") != "title":
            self._error(f"join refused: {reply and reply.get('error')}")
            return
        answered = 0
        suite_at = None
        while reply is not None and time.monotonic() < self.stop_at:
            screen = reply.get("screen")
            if self.ahead and reply.get("then"):
                # "Suite", "Exercice suivant" and "Commencer" drawn by the page from the
                # reply's "then", as player.js does: nothing is sent.
                reply, suite_at = reply["then"], time.monotonic()
                continue
            if screen == "question" or (screen == "feedback" and not reply["question_done"]):
                await asyncio.sleep(self.interval * random.uniform(0.8, 1.2))
                if time.monotonic() >= self.stop_at:
                    break
                message = {
                    "type": "answer",
                    "response": str(random.randint(0, 99)),
                    "key": f"{self.run_id}-{number}-{answered}",
                }
                answered += 1
            elif screen == "feedback":
                message = {"type": "next"}
            elif screen == "result":
                message = {"type": "continue"}
            elif screen == "title":
                message = {"type": "begin"}
            else:
                break
            if suite_at is not None:
                message["suite"] = round(1000 * (time.monotonic() - suite_at))
                suite_at = None
            reply, pair["token"] = await self.post(pair, message)
        if pair.get("connection") is not None:
            pair["connection"].close()


def _letters(number: int) -> str:
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters.capitalize()


def client_process(task: dict[str, Any]) -> dict[str, Any]:
    """One client process: its share of the pairs, run to the end; what it measured."""
    pairs = Pairs(
        task["url"],
        task["interval"],
        task["stop_at"],
        task["run_id"],
        task["steady_seconds"],
        task["ahead"],
    )

    async def run() -> None:
        await asyncio.gather(
            *(pairs.pair(number, code, start) for number, code, start in task["pairs"])
        )

    cpu = time.process_time()
    asyncio.run(run())
    return {
        "latencies": pairs.latencies,
        "answer_latencies": pairs.answer_latencies,
        "steady_answer_latencies": pairs.steady_answer_latencies,
        "acknowledged": pairs.acknowledged,
        "errors": pairs.errors,
        "error_samples": pairs.error_samples,
        "retries": pairs.retries,
        "steady": pairs.steady,
        "longest_retry": pairs.longest_retry,
        "given_up": pairs.given_up,
        "cpu_seconds": time.process_time() - cpu,
    }


# ---------------------------------------------------------------- the run


class _Passing(Exception):
    """A proxy's reply that the page treats as a network failure (:data:`PASSING_STATUSES`)."""


class Server:
    """The server this run started (``None`` process with ``--url``), killed and restarted."""

    def __init__(self, stack: contextlib.ExitStack, folder: Path, db_url: str) -> None:
        self.stack = stack
        self.folder = folder
        self.db_url = db_url
        self.secret = {"CALCULATICE_RALLY_SECRET": uuid.uuid4().hex}
        self.running: RunningServer | None = None
        self.spent_cpu = 0.0

    def start(self, port: int | None = None) -> str:
        self.running = self.stack.enter_context(
            running_server(
                self.folder, self.db_url, ["--no-demo", "--pool-size", "0"], self.secret, port
            )
        )
        return self.running.url

    def status_urls(self) -> list[str]:
        """Each process's own ``/rallye/status``."""
        return [] if self.running is None else [f"{self.running.url}/rallye/status"]

    def pids(self) -> list[int]:
        """The server's process (its children are counted with it)."""
        return [] if self.running is None else [self.running.process.pid]

    def cpu_seconds(self) -> float:
        """CPU time the server processes have used so far (user and system)."""
        return self.spent_cpu + _cpu_seconds(self.pids())

    def kill_and_restart(self) -> float:
        """SIGKILL the server, start it again on the same port; seconds until it answers."""
        assert self.running is not None
        self.spent_cpu = self.cpu_seconds()
        port = urllib.parse.urlsplit(self.running.url).port
        self.running.process.kill()
        self.running.process.wait()
        started = time.monotonic()
        self.start(port)
        return time.monotonic() - started


class Cluster:
    """``deploy/rally-cluster.sh``: several server processes behind nginx, one database.

    On one machine the database can be the same SQLite file for every
    process (WAL: one writer at a time, readers never blocked).
    """

    def __init__(self, folder: Path, db_url: str, processes: int) -> None:
        self.folder = folder / "cluster"
        self.db_url = db_url
        self.processes = processes
        self.spent_cpu = 0.0
        self.restarted: list[subprocess.Popen] = []

    def start(self) -> str:
        # nginx's port and the processes' after it.
        port = free_ports(self.processes + 1)
        environment = {**os.environ, "CALCULATICE_RALLY_SECRET": uuid.uuid4().hex}
        subprocess.run(
            [DEPLOY, "start", self.db_url, str(self.processes), str(port), str(self.folder)],
            check=True,
            env=environment,
        )
        self.port = port
        return f"http://127.0.0.1:{port}"

    def status_urls(self) -> list[str]:
        """Each process's own ``/rallye/status`` (they listen after nginx's port)."""
        return [
            f"http://127.0.0.1:{self.port + number}/rallye/status"
            for number in range(1, self.processes + 1)
        ]

    def stop(self) -> None:
        subprocess.run([DEPLOY, "stop", str(self.folder)], check=False)
        for process in self.restarted:
            process.wait()

    def kill_and_restart(self) -> float:
        """SIGKILL the first server process, start it again as it was; seconds until it answers.

        Meanwhile nginx sends its pairs to the others (``proxy_next_upstream``),
        which rebuild them from the store; when it is back, they return to it.
        """
        pid_file = self.folder / "server-0" / "pid"
        victim = psutil.Process(int(pid_file.read_text()))
        command, environment, folder = victim.cmdline(), victim.environ(), victim.cwd()
        port = int(command[command.index("--port") + 1])
        self.spent_cpu += _cpu_seconds([victim.pid])
        victim.kill()
        victim.wait(30)
        started = time.monotonic()
        with (self.folder / "server-0" / "log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        self.restarted.append(process)
        pid_file.write_text(f"{process.pid}\n")
        health = f"http://127.0.0.1:{port}/calculatice/health"
        while time.monotonic() - started < 180:
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=1) as reply:
                if reply.status == 200:
                    return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"the restarted server did not answer on {health}")

    def pids(self) -> list[int]:
        """The server processes and nginx's master (its workers are counted with it)."""
        files = [*sorted(self.folder.glob("server-*/pid")), self.folder / "nginx" / "nginx.pid"]
        return [int(path.read_text()) for path in files if path.is_file()]

    def cpu_seconds(self) -> float:
        """CPU time the server processes and nginx have used so far (user and system)."""
        return self.spent_cpu + _cpu_seconds(self.pids())


def restart_postgres(data_dir: Path) -> float:
    """Restart the PostgreSQL cluster of ``data_dir`` (fast: connections cut); its seconds.

    As ``scripts/start-postgres.sh`` runs it: Debian's ``pg_ctl`` as the
    ``postgres`` user, with the options it was started with.
    """
    pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    started = time.monotonic()
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(pg_ctl), "restart", "-D", str(data_dir),
         "-m", "fast", "-w", "-t", "60", "-l", str(data_dir / "server.log")],
        check=True, cwd="/", stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.monotonic() - started


def database_cpu_seconds(db_url: str) -> float | None:
    """CPU time PostgreSQL's processes on this machine have used so far; ``None`` on SQLite.

    Every ``postgres`` process counts (the clusters of this machine): the
    benchmark's database server shares the cores with the servers under test.
    A backend that ends during the run takes its time with it, but the
    servers keep their connections for the whole run.
    """
    if not db_url.startswith("postgresql"):
        return None
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] == "postgres" and process.info["cpu_times"] is not None:
            total += process.info["cpu_times"].user + process.info["cpu_times"].system
    return total


def _processes(pids: list[int]) -> list[psutil.Process]:
    """These processes and their children, those still running."""
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            found += [process, *process.children(recursive=True)]
    return found


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for process in _processes(pids):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


async def sample_memory(server: Server | Cluster, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        rss = 0
        for process in _processes(server.pids()):
            with contextlib.suppress(psutil.Error):
                rss += process.memory_info().rss
        peak[0] = max(peak[0], rss / 2**20)
        await asyncio.sleep(1)


async def sample_health(url: str, samples: list[float], stop: asyncio.Event) -> None:
    parsed = urllib.parse.urlsplit(url)
    target = f"{parsed.path.rstrip('/')}/calculatice/health"
    connection = None
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if connection is None:
                connection = await Connection.open(parsed.hostname, parsed.port or 80)
            await connection.request("GET", target, parsed.netloc)
            samples.append(time.perf_counter() - started)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if connection is not None:
                connection.close()
            connection = None
        await asyncio.sleep(0.1)


def sessions_rebuilt(server: Server | Cluster) -> int | None:
    """Pairs' sessions the server's processes rebuilt from the store (``/rallye/status``).

    A process restarted by ``--kill-at`` counts from its restart only.
    """
    total = 0
    for url in server.status_urls():
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                total += json.load(reply)["rebuilt"]
        except (OSError, ValueError, KeyError):
            return None
    return total


async def steady_cpu(server: Server | Cluster | None, start: float, stop: float) -> float | None:
    """The server's CPU seconds between two moments of the run (``None``: not measured)."""
    if server is None:
        return None
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    before = server.cpu_seconds()
    await asyncio.sleep(max(0.0, stop - time.monotonic()))
    return server.cpu_seconds() - before


async def run_load(
    url: str,
    codes: list[str],
    arguments: argparse.Namespace,
    figures: Figures,
    server: Server | Cluster | None,
) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    started = time.monotonic() + 1.0
    stop_at = started + arguments.ramp + arguments.seconds
    # The steady state: every pair has joined and the bank is loaded.
    steady_seconds = max(1.0, arguments.seconds - 5.0)
    shares: list[list[tuple[int, str, float]]] = [[] for _ in range(arguments.clients)]
    for number in range(figures.pairs):
        start = started + arguments.ramp * number / figures.pairs
        shares[number % arguments.clients].append(
            (number, codes[number // PAIRS_PER_CLASS], start)
        )
    tasks = [
        {
            "url": url,
            "interval": arguments.interval,
            "stop_at": stop_at,
            "run_id": run_id,
            "steady_seconds": steady_seconds,
            "ahead": not arguments.suite_round_trip,
            "pairs": share,
        }
        for share in shares
    ]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    health: list[float] = []
    peak = [0.0]
    samplers = [asyncio.create_task(sample_health(url, health, stop))]
    if server is not None:
        samplers.append(asyncio.create_task(sample_memory(server, peak, stop)))
    with ProcessPoolExecutor(len(tasks), mp_context=get_context("fork")) as pool:
        clients = [loop.run_in_executor(pool, client_process, task) for task in tasks]
        steady = asyncio.create_task(steady_cpu(server, stop_at - steady_seconds, stop_at))
        if arguments.kill_at is not None and server is not None:
            await asyncio.sleep(max(0.0, started + arguments.kill_at - time.monotonic()))
            figures.killed_at_s = arguments.kill_at
            figures.restart_s = round(await asyncio.to_thread(server.kill_and_restart), 1)
        if arguments.restart_database_at is not None:
            await asyncio.sleep(
                max(0.0, started + arguments.restart_database_at - time.monotonic())
            )
            figures.database_restarted_at_s = arguments.restart_database_at
            figures.database_restart_s = round(
                await asyncio.to_thread(restart_postgres, arguments.pg_data), 1
            )
        results = await asyncio.gather(*clients)
        steady_spent = await steady
    if server is not None:
        figures.sessions_rebuilt = await asyncio.to_thread(sessions_rebuilt, server)
    stop.set()
    await asyncio.gather(*samplers)

    latencies = [value for result in results for value in result["latencies"]]
    answer_latencies = [value for result in results for value in result["answer_latencies"]]
    figures.seconds = round(time.monotonic() - started, 1)
    figures.requests = len(latencies)
    figures.requests_per_second = round(len(latencies) / max(figures.seconds, 1), 1)
    figures.errors = sum(result["errors"] for result in results)
    figures.error_samples = [text for result in results for text in result["error_samples"]][:10]
    figures.retries = sum(result["retries"] for result in results)
    figures.longest_retry_s = round(max(result["longest_retry"] for result in results), 2)
    figures.pages_giving_up = sum(result["given_up"] for result in results)
    figures.latency_ms = _percentiles(latencies)
    figures.answer_latency_ms = _percentiles(answer_latencies)
    figures.steady_answer_latency_ms = _percentiles(
        [value for result in results for value in result["steady_answer_latencies"]]
    )
    figures.health_latency_ms = _percentiles(health)
    steady_requests = sum(result["steady"] for result in results)
    figures.steady_requests_per_second = round(steady_requests / steady_seconds, 1)
    if server is not None:
        figures.server_peak_rss_mb = round(peak[0], 1)
        if steady_spent is not None:
            figures.steady_server_cpu_ms_per_request = round(
                1000 * steady_spent / max(steady_requests, 1), 3
            )
            figures.steady_server_cpu_share = round(steady_spent / steady_seconds, 2)
    return {
        "run_id": run_id,
        "acknowledged": [key for result in results for key in result["acknowledged"]],
        "client_cpu": sum(result["cpu_seconds"] for result in results),
        "answer_count": len(answer_latencies),
    }


def check_stored(figures: Figures, db_url: str, run_id: str, acknowledged: list[str]) -> None:
    """Acknowledged answers against the store: each must be there exactly once."""
    stored = stored_keys(db_url, run_id)
    figures.answers_sent = len(acknowledged)
    figures.answers_stored = sum(stored.values())
    figures.answers_lost = sum(1 for key in acknowledged if stored[key] == 0)
    figures.answers_doubled = sum(1 for count in stored.values() if count > 1)


def compare_with_voila(figures: Figures, arguments: argparse.Namespace) -> dict[str, Any]:
    """How many pupils the Voilà pupil page holds at the same target, and the ratio.

    ``benchmarks/pupil_capacity.py`` adds pupils to ``calculatice serve``'s pupil
    page (a kernel each) until its answers' 95th percentile passes
    :data:`TARGET_P95_MS` or a page fails. Pages are compared with pages: a
    pair shares one rally page.
    """
    capacity = _pupil_capacity().measure_pupil_capacity(
        latency_ms=TARGET_P95_MS,
        interval=arguments.interval,
        suite_round_trip=arguments.suite_round_trip,
        progress=print,
    )
    held = (
        figures.answer_latency_ms.get("p95", float("inf")) <= TARGET_P95_MS
        and figures.answers_lost == 0
        and figures.answers_doubled == 0
        and figures.errors == 0
    )
    pages = figures.pairs if held else 0
    return {
        "rally_pages_held": pages,
        "voila_pages_held": capacity["held"],
        "ratio": round(pages / capacity["held"], 1) if capacity["held"] and pages else None,
        "voila_failed_at": capacity["failed_at"],
        "voila_failure": capacity["failure"],
        "voila_levels": capacity["levels"],
    }


def _pupil_capacity():
    """``pupil_capacity.py``, imported by path (``benchmarks`` is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "pupil_capacity", PROJECT / "benchmarks" / "pupil_capacity.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["pupil_capacity"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs answering at once")
    parser.add_argument("--seconds", type=float, default=60, help="load after the ramp, in s")
    parser.add_argument("--ramp", type=float, default=20, help="joins spread over this, in s")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between answers")
    parser.add_argument("--clients", type=int, default=1, help="client processes")
    parser.add_argument("--kill-at", type=float, default=None, help="kill -9 the server then")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes, one per core by default; more than one: behind nginx, "
        "by deploy/rally-cluster.sh",
    )
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite)")
    parser.add_argument(
        "--restart-database-at",
        type=float,
        default=None,
        help="restart PostgreSQL (pg_ctl restart -m fast) that many seconds after the first join",
    )
    parser.add_argument(
        "--pg-data",
        type=Path,
        default=Path("/tmp/calculatice-pg"),
        help="the data folder of the PostgreSQL that --restart-database-at restarts",
    )
    parser.add_argument("--url", default=None, help="use this server instead of starting one")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file for the figures")
    parser.add_argument(
        "--suite-round-trip",
        action="store_true",
        help='send "Suite", "Exercice suivant" and "Commencer" to the server, as pages did '
        'before replies carried "then"',
    )
    parser.add_argument(
        "--no-voila",
        action="store_true",
        help="skip the Voilà pupil page's capacity (pupil_capacity.py, about 7 minutes)",
    )
    arguments = parser.parse_args()
    if arguments.kill_at is not None and arguments.url:
        parser.error("--kill-at needs the server this run starts (no --url)")
    if arguments.restart_database_at is not None and not (arguments.db or "").startswith(
        "postgresql"
    ):
        parser.error("--restart-database-at needs a PostgreSQL --db")
    if arguments.processes > 1 and arguments.url:
        parser.error("--processes starts its own servers: no --url")
    if arguments.processes > 1 and shutil.which("nginx") is None:
        parser.error(
            f"{arguments.processes} processes need nginx in front "
            "(apt-get install nginx-light), or give --processes 1"
        )

    folder = Path(tempfile.mkdtemp(prefix="rally-load-"))
    db_url = arguments.db or f"sqlite:///{folder / 'rally.sqlite'}"
    codes = prepare(db_url, arguments.pairs)
    figures = Figures(arguments.pairs, arguments.seconds, arguments.interval, arguments.clients)
    figures.processes = arguments.processes
    if arguments.suite_round_trip:
        figures.suite = "a request"
    figures.machine = f"{platform.node()} {os.cpu_count()} CPU, Python {platform.python_version()}"
    figures.database = db_url.split(":", 1)[0]
    figures.load_average_1min_before = round(os.getloadavg()[0], 2)
    with contextlib.ExitStack() as stack:
        server = None
        if arguments.url:
            url = arguments.url.rstrip("/")
        elif arguments.processes > 1:
            server = Cluster(folder, db_url, arguments.processes)
            stack.callback(server.stop)
            url = server.start()
        else:
            server = Server(stack, folder, db_url)
            url = server.start()
        cpu_before = server.cpu_seconds() if server is not None else 0.0
        # A restarted PostgreSQL starts its processes' CPU from nothing: not measured then.
        restarting = arguments.restart_database_at is not None
        database_before = None if restarting else database_cpu_seconds(db_url)
        wall = time.monotonic()
        outcome = asyncio.run(run_load(url, codes, arguments, figures, server))
        wall = time.monotonic() - wall
        requests = max(figures.requests, 1)
        figures.client_cpu_ms_per_request = round(1000 * outcome["client_cpu"] / requests, 3)
        figures.client_cpu_share = round(outcome["client_cpu"] / wall, 2)
        figures.load_average_1min = round(os.getloadavg()[0], 2)
        if database_before is not None:
            database_spent = database_cpu_seconds(db_url) - database_before
            figures.database_cpu_ms_per_request = round(1000 * database_spent / requests, 3)
            figures.database_cpu_share = round(database_spent / wall, 2)
        if server is not None:
            spent = server.cpu_seconds() - cpu_before
            figures.server_cpu_ms_per_request = round(1000 * spent / requests, 3)
            figures.server_cpu_share = round(spent / wall, 2)
    figures.answers_per_second = round(outcome["answer_count"] / max(figures.seconds, 1), 1)
    check_stored(figures, db_url, outcome["run_id"], outcome["acknowledged"])

    report = {**asdict(figures), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    if not arguments.no_voila:
        report["voila"] = compare_with_voila(figures, arguments)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
