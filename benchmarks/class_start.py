"""A class of pupils opens the pupil page at the same moment: how long until question 1?

Starts ``calculatice serve`` (preheated pool) and plain ``voila`` on the same
notebook, one after the other, each on a free loopback port with a fresh
SQLite database, and sends a burst of simulated pupils to each. A simulated
pupil speaks the page's protocol as the browser does (VOILA.md: real browsers
on 2 cores measure themselves): it GETs the page, reads the kernel id and the
widget's model id from it, opens the kernel's websocket, asks the widget
control comm for the widgets' state (as the page's widget manager does), then
sends the player's requests as anywidget custom messages (``join``, ``begin``,
``answer``…) and waits for each reply, as ``player.js`` does.

Measured, per server: time from the GET to the reply that draws question 1,
the answer-to-feedback time, and the unique memory (USS) of each pupil's
kernel and of the server (under ``calculatice serve`` the kernels only relay
to the server, which plays every pupil's séance). ``--browser-check``
instead compares one protocol pupil with one real Chromium pupil
(Playwright) on the same server: same messages, same replies.

Run from the project folder::

    .venv/bin/python benchmarks/class_start.py                 # 30 pupils, both servers
    .venv/bin/python benchmarks/class_start.py --only pool --pupils 10
    .venv/bin/python benchmarks/class_start.py --browser-check

Figures go to stdout and to ``benchmarks/results/class_start.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from websockets.asyncio.client import connect

from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "class_start.json"
PUPIL_NOTEBOOK = "eleve.ipynb"

START_TIMEOUT_S = 120.0
POOL_TIMEOUT_S = 300.0
PUPIL_TIMEOUT_S = 180.0
REPLY_TIMEOUT_S = 60.0
QUIET_CPU_PERCENT = 15.0
"""Kernels using less CPU than this (in total) have finished starting and pre-rendering."""

TARGET_FIRST_QUESTION_S = 5.0
TARGET_FEEDBACK_P95_MS = 100.0
TARGET_KERNEL_USS_MB = 45.0

CONFIG_DATA = re.compile(
    r'<script id="jupyter-config-data" type="application/json">\s*(\{.*?\})\s*</script>', re.S
)
WIDGET_VIEW = re.compile(
    r'"application/vnd\.jupyter\.widget-view\+json":\s*\{"model_id":\s*"(\w+)"'
)
CONTROL_TARGET = "jupyter.widget.control"
TYPED_KINDS = {"number", "flash", "picture", "expression"}


# ---------------------------------------------------------------------- figures


def percentile(values: list[float], fraction: float) -> float | None:
    """The value below which ``fraction`` of ``values`` lie (linear interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict[str, float | int | None]:
    """Median, 95th percentile and maximum of a list of figures (None when empty)."""
    return {
        "count": len(values),
        "median": statistics.median(values) if values else None,
        "p95": percentile(values, 0.95),
        "max": max(values) if values else None,
    }


# ---------------------------------------------------------------------- one pupil


@dataclass
class PupilResult:
    """What one simulated pupil saw; times in seconds from the page's GET."""

    name: str
    kernel_id: str = ""
    page_s: float | None = None
    widget_s: float | None = None
    joined_s: float | None = None
    first_question_s: float | None = None
    feedback_ms: list[float] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)
    error: str | None = None


def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> dict:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "benchmark",
            "session": session,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": metadata or {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


def _decode(frame: str | bytes) -> dict:
    """A kernel message from a websocket frame (JSON text, or jupyter_server's binary form)."""
    if isinstance(frame, str):
        return json.loads(frame)
    count = int.from_bytes(frame[:4], "big")
    offsets = [int.from_bytes(frame[4 + 4 * i : 8 + 4 * i], "big") for i in range(count)]
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0] : end])


def parse_page(html: str) -> tuple[str, str]:
    """The kernel id and the player widget's model id, from a rendered pupil page."""
    config = CONFIG_DATA.search(html)
    if config is None:
        raise RuntimeError("no jupyter-config-data in the page")
    kernel_id = json.loads(config.group(1)).get("kernelId")
    view = WIDGET_VIEW.search(html)
    if not kernel_id or view is None:
        raise RuntimeError("no kernel id or no widget view in the page")
    return kernel_id, view.group(1)


def response_for(question: dict) -> Any:
    """A (usually wrong) answer of the right shape for a question, as the page would send."""
    kind = question.get("kind", "number")
    if kind == "choice":
        return 0
    if kind == "multi":
        return [0]
    if kind == "grid":
        return ["1"] * max(1, len(question.get("cells", [])))
    return "1"


class WidgetChannel:
    """The kernel websocket of one page, seen as the player's widget transport."""

    def __init__(self, ws, model_id: str) -> None:
        self._ws = ws
        self._model_id = model_id
        self._session = uuid.uuid4().hex
        self._prefix = uuid.uuid4().hex[:10]
        self._counter = 0
        self._pending: dict[str, asyncio.Future] = {}
        self._control_id = uuid.uuid4().hex
        self._states: asyncio.Future = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                message = _decode(frame)
                if message.get("msg_type") != "comm_msg":
                    continue
                content = message.get("content", {})
                data = content.get("data", {})
                if content.get("comm_id") == self._control_id:
                    if data.get("method") == "update_states" and not self._states.done():
                        self._states.set_result(data.get("states", {}))
                elif content.get("comm_id") == self._model_id and data.get("method") == "custom":
                    reply = data.get("content") or {}
                    waiting = self._pending.pop(reply.get("id"), None)
                    if waiting is not None and not waiting.done():
                        waiting.set_result(reply.get("reply"))
        except websockets.ConnectionClosed:
            pass
        finally:
            failure = ConnectionError("websocket closed")
            for waiting in [self._states, *self._pending.values()]:
                if not waiting.done():
                    waiting.set_exception(failure)

    async def widget_states(self) -> dict:
        """Open the widget control comm and fetch every widget's state, as the page does."""
        # The control comm refuses a client that does not say its protocol version (VOILA.md).
        opening = {"comm_id": self._control_id, "target_name": CONTROL_TARGET, "data": {}}
        await self._send("comm_open", opening, {"version": "1.0.0"})
        request = {"comm_id": self._control_id, "data": {"method": "request_states"}}
        await self._send("comm_msg", request, {"version": "1.0.0"})
        return await asyncio.wait_for(self._states, REPLY_TIMEOUT_S)

    async def request(self, message: dict) -> dict:
        """Send one player request and wait for its reply, matched by id like ``player.js``."""
        self._counter += 1
        request_id = f"{self._prefix}-{self._counter}"
        waiting = asyncio.get_running_loop().create_future()
        self._pending[request_id] = waiting
        payload = {"method": "custom", "content": {"id": request_id, "message": message}}
        await self._send("comm_msg", {"comm_id": self._model_id, "data": payload})
        return await asyncio.wait_for(waiting, REPLY_TIMEOUT_S)

    async def _send(self, msg_type: str, content: dict, metadata: dict | None = None) -> None:
        await self._ws.send(json.dumps(_message(msg_type, content, self._session, metadata)))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._ws.close()


async def run_pupil(
    base_url: str,
    page_path: str,
    code: str,
    name: str,
    answers: int,
    think_s: float = 0.0,
    start: asyncio.Event | None = None,
) -> PupilResult:
    """One pupil: open the page, join, begin, answer ``answers`` times; never raises."""
    result = PupilResult(name)
    if start is not None:
        await start.wait()
    try:
        await asyncio.wait_for(
            _play(result, base_url, page_path, code, answers, think_s), PUPIL_TIMEOUT_S
        )
    except Exception as problem:
        result.error = f"{type(problem).__name__}: {problem}"[:300]
    return result


async def _play(
    result: PupilResult, base_url: str, page_path: str, code: str, answers: int, think_s: float
) -> None:
    channel, reply = await open_session(result, base_url, page_path, code)
    try:
        for _step in range(answers * 6):
            if len(result.feedback_ms) >= answers:
                break
            reply = await _next_step(channel, reply, result, think_s)
            if reply is None:
                break
    finally:
        await channel.close()


async def open_session(
    result: PupilResult, base_url: str, page_path: str, code: str
) -> tuple[WidgetChannel, dict]:
    """Open the page, join the séance and begin, as a pupil does: the channel and question 1.

    Fills ``result``'s times (seconds from the GET) and screens; raises on any
    failure, with the channel closed. The caller closes the channel it gets.
    """
    began = time.perf_counter()

    def since() -> float:
        return time.perf_counter() - began

    async with httpx.AsyncClient(timeout=PUPIL_TIMEOUT_S) as client:
        page = await client.get(f"{base_url}{page_path}")
        page.raise_for_status()
    result.kernel_id, model_id = parse_page(page.text)
    result.page_s = since()

    ws_url = base_url.replace("http://", "ws://", 1)
    channel_url = f"{ws_url}/api/kernels/{result.kernel_id}/channels?session_id={uuid.uuid4()}"
    ws = await connect(
        channel_url, max_size=None, open_timeout=REPLY_TIMEOUT_S, ping_interval=None
    )
    channel = WidgetChannel(ws, model_id)
    try:
        states = await channel.widget_states()
        initial = states.get(model_id, {}).get("state", {}).get("_initial", {})
        if initial.get("screen") != "join":
            raise RuntimeError(f"the widget's first screen is {initial.get('screen')!r}")
        result.widget_s = since()

        reply = await channel.request({"type": "join", "code": code, "name": result.name})
        result.screens.append(reply.get("screen", "?"))
        if reply.get("screen") != "title":
            raise RuntimeError(f"join refused: {reply.get('error') or reply.get('screen')}")
        result.joined_s = since()
        reply = await channel.request({"type": "begin"})
        result.screens.append(reply.get("screen", "?"))
        if reply.get("screen") != "question":
            raise RuntimeError(f"no question after begin: {reply.get('screen')}")
        result.first_question_s = since()
    except BaseException:
        await channel.close()
        raise
    return channel, reply


async def _next_step(
    channel: WidgetChannel, reply: dict, result: PupilResult, think_s: float
) -> dict | None:
    """Act on the screen as a pupil would; answers are timed. ``None`` at the end."""
    screen = reply.get("screen")
    question_open = screen == "question" or (
        screen == "feedback" and not reply.get("question_done", True)
    )
    if question_open:
        if think_s > 0:
            await asyncio.sleep(random.uniform(0.5, 1.5) * think_s)
        message = {
            "type": "answer",
            "response": response_for(reply.get("question", {})),
            "key": uuid.uuid4().hex[:16],
        }
        sent = time.perf_counter()
        reply = await channel.request(message)
        result.feedback_ms.append((time.perf_counter() - sent) * 1000)
    elif screen == "feedback":
        reply = await channel.request({"type": "next"})
    elif screen == "result" and reply.get("has_next"):
        reply = await channel.request({"type": "continue"})
    elif screen == "title":
        reply = await channel.request({"type": "begin"})
    else:
        return None
    result.screens.append(reply.get("screen", "?"))
    if reply.get("error"):
        raise RuntimeError(f"the page said: {reply['error']}")
    return reply


def pupil_name(index: int) -> str:
    """A distinct first name per pupil, letters only as the join screen wants: Élève Ab…"""
    letters = ""
    index += 26
    while index:
        index, rest = divmod(index, 26)
        letters = chr(97 + rest) + letters
    return f"Élève {letters.capitalize()}"


async def run_class(
    base_url: str, page_path: str, code: str, pupils: int, answers: int, think_s: float
) -> list[PupilResult]:
    """A burst: every pupil starts at the same moment."""
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(
            run_pupil(base_url, page_path, code, pupil_name(i), answers, think_s, start)
        )
        for i in range(pupils)
    ]
    await asyncio.sleep(0.1)
    start.set()
    return list(await asyncio.gather(*tasks))


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    """A TCP port free on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running server: its process, address, the page to open and the demo code."""

    kind: str
    process: subprocess.Popen
    url: str
    page_path: str
    code: str
    log: Path


def _environment(folder: Path, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CALCULATICE_DB_URL": db_url,
        "CALCULATICE_BANK": str(PROJECT / "exercices"),
        "HOME": str(folder),
        "JUPYTER_CONFIG_DIR": str(folder / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(folder / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "jupyter-runtime"),
        "IPYTHONDIR": str(folder / "ipython"),
    }


def _wait_for_http(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer in time:\n{log.read_text()[-3000:]}")


def start_pool_server(folder: Path, pool_size: int, fill_delay: float | None = None) -> Server:
    """``calculatice serve`` with its preheated pool, on a fresh SQLite file."""
    port = free_port()
    db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
    log = folder / "server.log"
    command = [
        sys.executable, "-m", "calculatice", "serve",
        "--port", str(port),
        "--pool-size", str(pool_size),
        "--state-dir", str(folder / "state"),
        "--dashboards", str(PROJECT / "dashboards"),
        "--bank", str(PROJECT / "exercices"),
    ]  # fmt: skip
    if fill_delay is not None:
        command += ["--fill-delay", str(fill_delay)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=_environment(folder, db_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server("pool", process, url, f"/voila/render/{PUPIL_NOTEBOOK}", "", log)
    try:
        _wait_for_http(process, f"{url}/calculatice/health", log)
        match = re.search(r"code ([A-Z0-9-]+)", log.read_text())
        if match is None:
            raise RuntimeError(f"no demo code in the server's output:\n{log.read_text()}")
        server.code = match.group(1)
    except BaseException:
        stop_server(server)
        raise
    return server


def start_plain_server(folder: Path) -> Server:
    """Plain ``voila eleve.ipynb`` with default settings, on a fresh SQLite file with the demo."""
    from calculatice.catalogue import load_bank
    from calculatice.demo import ensure_demo
    from calculatice.store import open_store

    db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
    with open_store(db_url) as store:
        code = ensure_demo(store, load_bank(PROJECT / "exercices")).seance_code
    port = free_port()
    log = folder / "server.log"
    voila = Path(sys.executable).with_name("voila")
    command = [
        str(voila) if voila.exists() else shutil.which("voila") or "voila",
        str(PROJECT / "dashboards" / PUPIL_NOTEBOOK),
        "--port", str(port),
        "--no-browser",
        # `--ip` is ignored by Voilà 0.5 (VOILA.md); this keeps the server on loopback.
        "--Voila.ip=127.0.0.1",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=_environment(folder, db_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server("plain", process, url, "/", code, log)
    try:
        # Any answer will do: "/" itself would start a kernel.
        _wait_for_http(process, f"{url}/voila/static/", log)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    """SIGTERM (Voilà ignores SIGINT in the background), then kill what is left."""
    try:
        children = psutil.Process(server.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def kernel_processes(server: Server) -> dict[str, psutil.Process]:
    """The server's kernel processes, by kernel id (read from the connection file's name)."""
    found = {}
    try:
        children = psutil.Process(server.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for child in children:
        with contextlib.suppress(psutil.Error):
            command = " ".join(child.cmdline())
            match = re.search(r"kernel-([0-9a-f-]{36})\.json", command)
            if "ipykernel" in command and match:
                found[match.group(1)] = child
    return found


def uss_mb(processes: list[psutil.Process]) -> list[float]:
    """Unique memory (USS) of each process, in MB (10^6 bytes)."""
    sizes = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            sizes.append(process.memory_full_info().uss / 1e6)
    return sizes


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU time of processes, in seconds."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def wait_for_pool(server: Server, size: int, timeout: float | None = None) -> float:
    """Wait until Voilà says the pool is full and its kernels have gone quiet; returns seconds.

    Kernel processes exist long before their notebook has run: only Voilà's
    log line tells that every kernel of the pool has its page pre-rendered.
    ``timeout`` defaults to ``POOL_TIMEOUT_S``.
    """
    timeout = POOL_TIMEOUT_S if timeout is None else timeout
    began = time.monotonic()
    deadline = began + timeout
    filled = f"is filled with {size} kernel"
    while time.monotonic() < deadline:
        kernels = list(kernel_processes(server).values())
        if len(kernels) >= size and filled in server.log.read_text(errors="replace"):
            for kernel in kernels:
                with contextlib.suppress(psutil.Error):
                    kernel.cpu_percent(None)
            time.sleep(1.0)
            busy = 0.0
            for kernel in kernels:
                with contextlib.suppress(psutil.Error):
                    busy += kernel.cpu_percent(None)
            if busy < QUIET_CPU_PERCENT:
                return time.monotonic() - began
        else:
            time.sleep(0.5)
    raise RuntimeError(f"the pool did not fill in {timeout:.0f} s")


# ---------------------------------------------------------------------- one run


def measure(server: Server, pupils: int, answers: int, think_s: float) -> dict[str, Any]:
    """Send a class to a running server and gather the figures."""
    before = kernel_processes(server)
    idle_uss = uss_mb(list(before.values()))
    kernel_cpu_before = {kernel_id: cpu_seconds([p]) for kernel_id, p in before.items()}
    server_process = psutil.Process(server.process.pid)
    server_cpu = cpu_seconds([server_process])
    [server_uss_before] = uss_mb([server_process]) or [None]
    load = os.getloadavg()[0]
    began = time.perf_counter()
    results = asyncio.run(
        run_class(server.url, server.page_path, server.code, pupils, answers, think_s)
    )
    wall = time.perf_counter() - began
    kernels = kernel_processes(server)
    used = [kernels[r.kernel_id] for r in results if r.kernel_id in kernels]
    # Kernels started during the burst (plain Voilà) count from their start.
    burst_kernel_cpu = sum(
        cpu_seconds([kernels[r.kernel_id]]) - kernel_cpu_before.get(r.kernel_id, 0.0)
        for r in results
        if r.kernel_id in kernels
    )
    uss = uss_mb(used)
    [server_uss] = uss_mb([server_process]) or [None]
    first = [r.first_question_s for r in results if r.first_question_s is not None]
    feedback = [ms for r in results for ms in r.feedback_ms]
    return {
        "server": server.kind,
        "pupils": pupils,
        "answers_per_pupil": answers,
        "think_s": think_s,
        "load_1min_before": round(load, 2),
        "wall_s": round(wall, 2),
        "pupils_failed": sum(r.error is not None for r in results),
        "errors": sorted({r.error for r in results if r.error}),
        "kernels_before": len(before),
        "page_s": summary([r.page_s for r in results if r.page_s is not None]),
        "widget_state_s": summary([r.widget_s for r in results if r.widget_s is not None]),
        "joined_s": summary([r.joined_s for r in results if r.joined_s is not None]),
        "first_question_s": summary(first),
        "within_5s": sum(t <= TARGET_FIRST_QUESTION_S for t in first),
        "feedback_ms": summary(feedback),
        "kernel_uss_mb": summary(uss),
        "idle_pool_kernel_uss_mb": summary(idle_uss) if idle_uss else None,
        "server_uss_mb_before": server_uss_before,
        "server_uss_mb": server_uss,
        "server_cpu_s": round(cpu_seconds([server_process]) - server_cpu, 2),
        "pupil_kernels_cpu_s": round(burst_kernel_cpu, 2),
        "pupils_detail": [asdict(r) for r in results],
    }


def run_server(kind: str, pupils: int, answers: int, think_s: float) -> dict[str, Any]:
    """Start one server in a fresh folder, wait for it to be ready, measure, stop it."""
    with tempfile.TemporaryDirectory(prefix=f"class-start-{kind}-") as name:
        folder = Path(name)
        load_at_start = os.getloadavg()[0]
        began = time.monotonic()
        if kind == "pool":
            server = start_pool_server(folder, pool_size=pupils)
        else:
            server = start_plain_server(folder)
        try:
            ready = 0.0
            if kind == "pool":
                print(f"[{kind}] filling a pool of {pupils} kernels…", file=sys.stderr)
                ready = wait_for_pool(server, pupils)
            print(f"[{kind}] {pupils} pupils go", file=sys.stderr)
            figures = measure(server, pupils, answers, think_s)
            figures["load_1min_at_start"] = round(load_at_start, 2)
            figures["startup_s"] = round(time.monotonic() - began, 1)
            figures["pool_fill_s"] = round(ready, 1)
            return figures
        finally:
            stop_server(server)
            log = server.log.read_text(errors="replace")
            figures_log = [
                line for line in log.splitlines() if "Error" in line or "Timeout" in line
            ]
            if figures_log:
                print(f"[{kind}] server log errors: {figures_log[:5]}", file=sys.stderr)


# ---------------------------------------------------------------------- browser check


def browser_check(answers: int) -> dict[str, Any]:
    """One protocol pupil, then one Chromium pupil, on the same server: messages and times."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="class-start-check-") as name:
        server = start_pool_server(Path(name), pool_size=2, fill_delay=0)
        try:
            wait_for_pool(server, 2)
            protocol = asyncio.run(
                run_pupil(server.url, server.page_path, server.code, "Protocole", answers)
            )
            wait_for_pool(server, 2)
            sent: list[str] = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_executable(),
                    headless=True,
                    args=list(CHROMIUM_FLAGS),
                )
                page = browser.new_page()
                page.set_default_timeout(60_000)

                def record(frame: str | bytes) -> None:
                    sent.append(frame)

                page.on("websocket", lambda ws: ws.on("framesent", record))
                began = time.perf_counter()
                page.goto(f"{server.url}{server.page_path}")
                page.get_by_test_id("code").fill(server.code)
                page.get_by_test_id("name").fill("Navigateur")
                page.get_by_test_id("join").click()
                page.get_by_test_id("begin").click()
                page.get_by_test_id("prompt").wait_for()
                first_question = time.perf_counter() - began
                feedback = []
                for _ in range(answers):
                    page.get_by_test_id("answer").fill("1")
                    clicked = time.perf_counter()
                    page.get_by_test_id("validate").click()
                    page.locator("[data-testid=feedback][data-colour]").wait_for()
                    feedback.append((time.perf_counter() - clicked) * 1000)
                    if page.get_by_test_id("next").is_visible():
                        page.get_by_test_id("next").click()
                        if page.get_by_test_id("continue").is_visible():
                            break
                        page.get_by_test_id("answer").wait_for()
                page.close(run_before_unload=True)
                browser.close()
        finally:
            stop_server(server)
    return {
        "protocol": {
            "first_question_s": protocol.first_question_s,
            "feedback_ms": protocol.feedback_ms,
            "screens": protocol.screens,
            "error": protocol.error,
        },
        "browser": {
            "first_question_s": first_question,
            "feedback_ms": feedback,
            "messages_sent": _describe_frames(sent),
        },
    }


def _decode_v1(frame: bytes) -> dict:
    """A kernel message in the ``v1.kernel.websocket.jupyter.org`` form browsers use."""
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    parts = [frame[offsets[i] : offsets[i + 1]] for i in range(min(count - 1, 5))]
    header, _parent, metadata, content = (json.loads(part) for part in parts[1:5])
    return {"header": header, "metadata": metadata, "content": content}


def _describe_frames(frames: list[Any]) -> list[str]:
    """What the browser sent on the kernel websocket, one short line per message."""
    described = []
    for frame in frames:
        try:
            message = _decode(frame) if isinstance(frame, str) else _decode_v1(frame)
        except (ValueError, KeyError, TypeError, IndexError):
            described.append("?")
            continue
        msg_type = message.get("header", {}).get("msg_type", "?")
        content = message.get("content", {})
        data = content.get("data", {}) if isinstance(content, dict) else {}
        detail = content.get("target_name") or data.get("method") or ""
        inner = (data.get("content") or {}).get("message") if isinstance(data, dict) else None
        if isinstance(inner, dict):
            detail += f" {inner.get('type')}"
        version = message.get("metadata", {}).get("version")
        described.append(
            f"{msg_type} {detail}".strip() + (f" (version {version})" if version else "")
        )
    return described


# ---------------------------------------------------------------------- report


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(runs: dict[str, dict[str, Any]]) -> str:
    """The figures side by side, one column per server, with the ratio plain / pool."""
    kinds = list(runs)
    rows: list[tuple[str, list[Any]]] = []

    def row(label: str, pick, digits: int = 2) -> None:
        rows.append((label, [pick(runs[kind]) for kind in kinds], digits))

    row("pupils (failed)", lambda r: f"{r['pupils']} ({r['pupils_failed']})")
    row("load (1 min) at start", lambda r: r["load_1min_at_start"])
    row("load (1 min) at burst", lambda r: r["load_1min_before"])
    row("page GET s, median", lambda r: r["page_s"]["median"])
    row("question 1 s, median", lambda r: r["first_question_s"]["median"])
    row("question 1 s, p95", lambda r: r["first_question_s"]["p95"])
    row("question 1 s, max", lambda r: r["first_question_s"]["max"])
    row("within 5 s", lambda r: f"{r['within_5s']}/{r['pupils']}")
    row("feedback ms, median", lambda r: r["feedback_ms"]["median"], 1)
    row("feedback ms, p95", lambda r: r["feedback_ms"]["p95"], 1)
    row("feedback ms, max", lambda r: r["feedback_ms"]["max"], 1)
    row("kernel USS MB, median", lambda r: r["kernel_uss_mb"]["median"], 1)
    row("kernel USS MB, max", lambda r: r["kernel_uss_mb"]["max"], 1)
    row("server USS MB, before", lambda r: r.get("server_uss_mb_before"), 1)
    row("server USS MB, after", lambda r: r.get("server_uss_mb"), 1)
    row("server CPU s (burst)", lambda r: r["server_cpu_s"])
    row("kernels CPU s (burst)", lambda r: r["pupil_kernels_cpu_s"])
    width = max(len(label) for label, _, _ in rows) + 2
    lines = [f"{'':<{width}}" + "".join(f"{kind:>14}" for kind in kinds)]
    for label, values, digits in rows:
        cells = "".join(f"{_cell(v, digits):>14}" for v in values)
        if len(values) == 2 and all(isinstance(v, float) and v for v in values):
            cells += f"{values[1] / values[0]:>10.1f}×"
        lines.append(f"{label:<{width}}{cells}")
    targets = (
        f"Targets: all see question 1 within {TARGET_FIRST_QUESTION_S:g} s; feedback p95 "
        f"≤ {TARGET_FEEDBACK_P95_MS:g} ms; kernel USS ≤ {TARGET_KERNEL_USS_MB:g} MB."
    )
    return "\n".join([*lines, targets])


def machine() -> dict[str, Any]:
    """The machine and versions the figures were measured with."""
    from importlib.metadata import version

    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "voila": version("voila"),
        "ipykernel": version("ipykernel"),
        "jupyter_server": version("jupyter_server"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=30, help="pupils in the burst")
    parser.add_argument("--answers", type=int, default=5, help="answers per pupil")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a pupil thinks before answering"
    )
    parser.add_argument("--only", choices=["pool", "plain"], help="one server only")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file for the figures")
    parser.add_argument(
        "--browser-check", action="store_true", help="compare one protocol pupil with Chromium"
    )
    options = parser.parse_args(argv)

    if options.browser_check:
        report = {"machine": machine(), "browser_check": browser_check(options.answers)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0

    kinds = [options.only] if options.only else ["pool", "plain"]
    runs = {
        kind: run_server(kind, options.pupils, options.answers, options.think) for kind in kinds
    }
    print(table(runs))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "targets": {
            "first_question_s": TARGET_FIRST_QUESTION_S,
            "feedback_p95_ms": TARGET_FEEDBACK_P95_MS,
            "kernel_uss_mb": TARGET_KERNEL_USS_MB,
        },
        "runs": runs,
    }
    options.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"Figures written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
