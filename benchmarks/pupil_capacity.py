"""How many pupils the Voilà pupil page holds on this machine before answers get slow.

Starts ``calculatice serve`` (the product: a preheated kernel pool for
``dashboards/eleve.ipynb``, whose kernels relay the player's messages to
the server's ``/eleve/api``) on a free loopback port with a fresh SQLite
database and the demo séance, then adds simulated pupils level by level
(20, 40, 80, 100… pupils in all). Every pupil already in keeps answering every
``interval`` seconds (±20 %), as ``rally_load.py``'s pairs do, with "Suite"
after each feedback that ends a question (drawn by the page from the
feedback's ``then``, as ``player.js`` does, or a ``next`` round trip with
``--suite-round-trip``), "Exercice suivant" after an exercise and "Rejouer"
after the last one (the demo séance is short; a pupil who replays keeps
loading the server as a pupil in class would).

The pupils speak the page's own protocol, with the client of
``class_start.py`` (GET the page, the kernel websocket, the widgets' state,
anywidget custom messages ``join``, ``begin``, ``answer``, ``next``…).

At each level, over a window of ``step_seconds`` once the newcomers have
reached question 1: answer-to-feedback latency (median, 95th, 99th
percentile, computed as ``rally_load.py`` does), pages that did not reach
question 1 within the limit, errors, the memory of the server and of the
kernels (USS and RSS), and the CPU of the server, the kernels and this
client. The run stops at the first level whose answers' 95th percentile
exceeds ``latency_ms``, where a pupil fails, or whose memory would exceed a
safe share of the machine's; the largest level that held is the page's
capacity. ``rally_load.py`` calls :func:`measure_pupil_capacity` for the
ratio between rally pairs and Voilà pupils held on the same machine.

Run from the project folder (heavy: under ``flock /tmp/bench.lock``)::

    .venv/bin/python benchmarks/pupil_capacity.py
    .venv/bin/python benchmarks/pupil_capacity.py --steps 10 20 40 --step-seconds 20

Figures go to stdout (a table) and to ``benchmarks/results/pupil_capacity.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "pupil_capacity.json"


def _class_start():
    """``class_start.py``, imported by path (``benchmarks`` is not a package)."""
    module = sys.modules.get("class_start")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "class_start", PROJECT / "benchmarks" / "class_start.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["class_start"] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
    return module


class_start = _class_start()

PAGE_REPLY_TIMEOUT_S = 10.0
"""How long ``player.js`` waits for a reply before it shows an error (``REPLY_TIMEOUT_MS``)."""
FIRST_QUESTION_LIMIT_S = 30.0
"""A page not showing question 1 this long after its GET counts as failed (see the README)."""
KERNEL_USS_ESTIMATE_MB = 45.0
"""Unique memory of one pool kernel, for the check before the start (measured: 39 MB)."""
SERVER_USS_ESTIMATE_MB = 250.0
MAX_POOL_SIZE = 200
"""The largest pool ``calculatice serve`` accepts (``ServeSettings.pool_size``)."""
MAX_FILL_DELAY_S = 3600.0
"""The largest refill delay ``calculatice serve`` accepts."""
DEFAULT_FILL_DELAY_S = 60.0
"""``calculatice serve``'s own refill delay."""
DEFAULT_STEPS = (20, 40, 80, 100, 120, 140, 160, 200)


# ---------------------------------------------------------------------- figures


def latency_summary(milliseconds: list[float]) -> dict[str, float]:
    """Median, 95th and 99th percentile, maximum and count, in ms, as ``rally_load.py`` has them.

    The percentiles are nearest-rank values (``sorted[int(share × count)]``),
    so that the two benchmarks' figures compare; empty when there is no value.
    """
    if not milliseconds:
        return {}
    ordered = sorted(milliseconds)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {
        "median": round(median, 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
        "count": len(ordered),
    }


# ---------------------------------------------------------------------- one pupil


@dataclass
class Pupil:
    """One simulated pupil who keeps answering; times from ``time.monotonic()``."""

    name: str
    level: int
    kernel_id: str = ""
    first_question_s: float | None = None
    answers: list[tuple[float, float]] = field(default_factory=list)
    """Each answer: when it was sent, and its reply's latency in ms."""
    pending_since: float | None = None
    """When the answer waiting for its reply was sent (``None``: none is waiting)."""
    errors: list[tuple[float, str]] = field(default_factory=list)
    failed: str | None = None
    """Why the pupil stopped before the end (late page, no reply, connection lost)."""
    late_page: bool = False
    replays: int = 0
    finished: bool = False
    """The séance reached its end screen (it should not: the last exercise is replayed)."""


async def play_pupil(
    pupil: Pupil,
    server: Any,
    interval: float,
    stop: asyncio.Event,
    first_question_limit_s: float,
    suite_round_trip: bool,
) -> None:
    """Open the page, then answer every ``interval`` s (±20 %) until ``stop``; never raises."""
    opened = class_start.PupilResult(pupil.name)
    try:
        channel, reply = await asyncio.wait_for(
            class_start.open_session(opened, server.url, server.page_path, server.code),
            first_question_limit_s,
        )
    except Exception as problem:
        pupil.kernel_id = opened.kernel_id
        pupil.late_page = isinstance(problem, TimeoutError)
        pupil.failed = (
            f"question 1 not shown within {first_question_limit_s:g} s"
            if pupil.late_page
            else f"page: {type(problem).__name__}: {problem}"[:300]
        )
        return
    pupil.kernel_id = opened.kernel_id
    pupil.first_question_s = opened.first_question_s
    try:
        await _keep_answering(pupil, channel, reply, interval, stop, not suite_round_trip)
    except Exception as problem:
        pupil.failed = f"{type(problem).__name__}: {problem}"[:300]
    finally:
        pupil.pending_since = None
        with contextlib.suppress(Exception):
            await channel.close()


async def _keep_answering(
    pupil: Pupil, channel: Any, reply: dict, interval: float, stop: asyncio.Event, suite: bool
) -> None:
    drawn_at: float | None = None  # when a feedback's "then" was drawn without asking
    while not stop.is_set():
        screen = reply.get("screen")
        question_open = screen == "question" or (
            screen == "feedback" and not reply.get("question_done", True)
        )
        timed = False
        if question_open:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval * random.uniform(0.8, 1.2))
            if stop.is_set():
                return
            message = {
                "type": "answer",
                "response": class_start.response_for(reply.get("question", {})),
                "key": uuid.uuid4().hex[:16],
            }
            timed = True
        elif screen == "feedback" and suite and isinstance(reply.get("then"), dict):
            # The page draws what "Suite" leads to itself and says so in its next message.
            reply = reply["then"]
            drawn_at = time.monotonic()
            continue
        elif screen == "feedback":
            message = {"type": "next"}
        elif screen == "result":
            message = {"type": "continue" if reply.get("has_next") else "replay"}
            pupil.replays += message["type"] == "replay"
        elif screen == "title":
            message = {"type": "begin"}
        else:
            pupil.finished = screen == "end"
            if not pupil.finished:
                raise RuntimeError(f"unexpected screen {screen!r}")
            return
        if drawn_at is not None:
            message["suite"] = round((time.monotonic() - drawn_at) * 1000)
            drawn_at = None
        sent = time.monotonic()
        if timed:
            pupil.pending_since = sent
        try:
            reply = await asyncio.wait_for(channel.request(message), PAGE_REPLY_TIMEOUT_S)
        except TimeoutError:
            raise TimeoutError(
                f"{message['type']}: no reply within {PAGE_REPLY_TIMEOUT_S:g} s "
                "(the page shows an error)"
            ) from None
        if timed:
            pupil.answers.append((sent, (time.monotonic() - sent) * 1000))
            pupil.pending_since = None
        if reply.get("error"):
            pupil.errors.append((sent, f"{message['type']} -> {reply.get('screen')}: "
                                       f"{reply['error']}"[:200]))  # fmt: skip


# ---------------------------------------------------------------------- the server's side


def _server_processes(server: Any) -> tuple[psutil.Process, dict[str, psutil.Process]]:
    return psutil.Process(server.process.pid), class_start.kernel_processes(server)


def _memory_mb(process: psutil.Process) -> tuple[float, float]:
    """USS and RSS of one process, in MB (10^6 bytes); zeros if it is gone."""
    try:
        info = process.memory_full_info()
    except psutil.Error:
        return 0.0, 0.0
    return info.uss / 1e6, info.rss / 1e6


def memory_figures(server: Any, taken: set[str]) -> dict[str, float | int]:
    """Memory of the server, of the pupils' kernels and of the idle pool kernels, in MB."""
    main, kernels = _server_processes(server)
    server_uss, server_rss = _memory_mb(main)
    pupils = [_memory_mb(p) for kernel_id, p in kernels.items() if kernel_id in taken]
    idle = [_memory_mb(p) for kernel_id, p in kernels.items() if kernel_id not in taken]
    pupils_uss = sum(uss for uss, _ in pupils)
    idle_uss = sum(uss for uss, _ in idle)
    try:
        open_files = main.num_fds()
    except psutil.Error:
        open_files = None
    return {
        "server_open_files": open_files,
        "server_uss_mb": round(server_uss, 1),
        "server_rss_mb": round(server_rss, 1),
        "pupil_kernels": len(pupils),
        "pupil_kernels_uss_mb": round(pupils_uss, 1),
        "pupil_kernels_rss_mb": round(sum(rss for _, rss in pupils), 1),
        "pupil_kernel_uss_mb_median": round(sorted(u for u, _ in pupils)[len(pupils) // 2], 1)
        if pupils
        else None,
        "idle_kernels": len(idle),
        "idle_kernels_uss_mb": round(idle_uss, 1),
        "total_uss_mb": round(server_uss + pupils_uss + idle_uss, 1),
        "total_rss_mb": round(server_rss + sum(r for _, r in pupils) + sum(r for _, r in idle), 1),
    }


def cpu_figures(server: Any, taken: set[str]) -> dict[str, float]:
    """CPU seconds so far: the server, the pupils' kernels, the idle kernels, this client."""
    main, kernels = _server_processes(server)
    return {
        "server": class_start.cpu_seconds([main]),
        "pupil_kernels": class_start.cpu_seconds(
            [p for kernel_id, p in kernels.items() if kernel_id in taken]
        ),
        "idle_kernels": class_start.cpu_seconds(
            [p for kernel_id, p in kernels.items() if kernel_id not in taken]
        ),
        "client": time.process_time(),
    }


def _log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line[:200] for line in lines if "Error" in line or "Traceback" in line]


# ---------------------------------------------------------------------- one level


async def _wait_window_answers(pupils: list[Pupil], until: float) -> None:
    """Wait until no answer sent before ``until`` waits for its reply (at most the page's 10 s)."""
    deadline = time.monotonic() + PAGE_REPLY_TIMEOUT_S + 0.5
    while time.monotonic() < deadline:
        if not any(p.pending_since is not None and p.pending_since < until for p in pupils):
            return
        await asyncio.sleep(0.05)


def _level_figures(
    level: int,
    pupils: list[Pupil],
    newcomers: list[Pupil],
    arrival: tuple[float, float],
    window: tuple[float, float],
) -> dict[str, Any]:
    """The latency, failure and error figures of one level (memory and CPU come apart)."""
    start, end = window

    def sent_in(low: float, high: float) -> list[float]:
        values = [ms for p in pupils for sent, ms in p.answers if low <= sent < high]
        # An answer still waiting counts with the wait so far: at least that slow.
        values += [
            (time.monotonic() - p.pending_since) * 1000
            for p in pupils
            if p.pending_since is not None and low <= p.pending_since < high
        ]
        return values

    firsts = [p.first_question_s for p in newcomers if p.first_question_s is not None]
    errors = [text for p in pupils for when, text in p.errors if arrival[0] <= when < end]
    failed = [p for p in pupils if p.failed]
    return {
        "pupils": level,
        "newcomers": len(newcomers),
        "arrival_s": round(arrival[1] - arrival[0], 1),
        "window_s": round(end - start, 1),
        "first_question_s": {
            "median": round(sorted(firsts)[len(firsts) // 2], 2) if firsts else None,
            "max": round(max(firsts), 2) if firsts else None,
        },
        "late_pages": sum(p.late_page for p in newcomers),
        "pupils_failed": len(failed),
        "failures": sorted({p.failed for p in failed})[:5],
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "pupils_answering": sum(any(start <= s < end for s, _ in p.answers) for p in pupils),
        "answer_ms": latency_summary(sent_in(start, end)),
        "answer_ms_during_arrival": latency_summary(sent_in(*arrival)),
        "answers_per_second": round(len(sent_in(start, end)) / max(end - start, 1e-9), 1),
    }


# ---------------------------------------------------------------------- the run


def measure_pupil_capacity(
    *,
    latency_ms: float = 100.0,
    interval: float = 2.0,
    steps: Sequence[int] = DEFAULT_STEPS,
    step_seconds: float = 30.0,
    arrival_seconds: float = 10.0,
    first_question_limit_s: float = FIRST_QUESTION_LIMIT_S,
    memory_share: float = 0.75,
    pool_size: int | None = None,
    fill_delay: float | None = None,
    suite_round_trip: bool = False,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Add pupils to the Voilà pupil page level by level until one level fails; the figures.

    Parameters
    ----------
    latency_ms
        A level fails when its answers' 95th percentile (answer sent to
        feedback received) exceeds this, in ms.
    interval
        Mean seconds between a pupil's feedback and its next answer (each
        wait drawn within ±20 %), as in ``rally_load.py``.
    steps
        The levels: how many pupils in all (increasing), e.g. 10, then 10
        more to make 20, then 20 more to make 40.
    step_seconds
        Length of a level's measuring window, which starts once every
        newcomer has reached question 1 (or failed).
    arrival_seconds
        The newcomers of a level open the page spread evenly over this.
    first_question_limit_s
        A newcomer whose page has not shown question 1 this long after its
        GET fails the level.
    memory_share
        Share of the memory available at the start that the server and its
        kernels may use: the run stops before a level that would use more,
        and levels whose pool could not fit are dropped before the start.
    pool_size
        Preheated kernels; default the largest level (at most 200, the
        largest pool ``calculatice serve`` accepts), so that every pupil of
        the run gets a kernel started before it came, as an operator sizes
        the pool to the pupils expected.
    fill_delay
        Seconds before a used pool kernel is replaced; default 3600 s (the
        largest allowed) when the pool holds every pupil, so that no refill
        starts during the run, else the server's default, 60 s: pupils
        beyond the pool get the kernels refilled since.
    suite_round_trip
        Send ``next`` for "Suite", as pages did before a feedback carried
        ``"then"``; by default the pupil draws the ``"then"`` itself and its
        next message carries ``"suite"``, as ``player.js`` does.
    folder
        Where the server's database, state and log go; default a temporary
        folder, removed afterwards.
    progress
        Called with one line of text at each stage (default: stderr).

    Returns
    -------
    dict
        JSON-ready. ``held`` (largest level that held, 0 if none),
        ``failed_at`` (the level that failed, ``None`` if all held or the
        run stopped for memory), ``failure`` (why, in words), ``levels``
        (one dict per level measured: ``pupils``, ``newcomers``,
        ``answer_ms`` and ``answer_ms_during_arrival`` with
        ``median``/``p95``/``p99``/``max``/``count`` in ms,
        ``answers_per_second``, ``first_question_s`` of the newcomers,
        ``late_pages``, ``pupils_failed`` and ``failures``, ``errors`` and
        ``error_samples``, ``memory`` in MB with the server's open files,
        ``cpu_cores`` of the server, pupils' kernels, idle kernels and this
        client, ``load_1min``, ``held``, ``reason``); the settings used
        (``latency_ms``, ``interval``, ``steps``, ``pool_size``,
        ``fill_delay``…), ``memory_limit_mb``, ``pool_fill_s``,
        ``startup_s``, ``answers_acknowledged``, ``replays``,
        ``server_log_problems``, ``load_1min_before``/``after``,
        ``duration_s`` and ``machine``.
    """
    levels = sorted({int(n) for n in steps if int(n) > 0})
    if not levels:
        raise ValueError("steps must hold at least one positive level")
    say = progress or (lambda text: print(f"[pupil_capacity] {text}", file=sys.stderr))
    available_mb = psutil.virtual_memory().available / 1e6
    memory_limit_mb = memory_share * available_mb
    dropped = []
    while (
        len(levels) > 1
        and (pool_size or levels[-1]) * KERNEL_USS_ESTIMATE_MB + SERVER_USS_ESTIMATE_MB
        > memory_limit_mb
    ):
        dropped.append(levels.pop())
    pool = pool_size if pool_size is not None else min(levels[-1], MAX_POOL_SIZE)
    if fill_delay is not None:
        delay = fill_delay
    else:
        delay = MAX_FILL_DELAY_S if levels[-1] <= pool else DEFAULT_FILL_DELAY_S
    report: dict[str, Any] = {
        "held": 0,
        "failed_at": None,
        "failure": None,
        "latency_ms": latency_ms,
        "interval": interval,
        "steps": levels,
        "steps_dropped_for_memory": dropped,
        "step_seconds": step_seconds,
        "arrival_seconds": arrival_seconds,
        "first_question_limit_s": first_question_limit_s,
        "pool_size": pool,
        "fill_delay": delay,
        "suite_round_trip": suite_round_trip,
        "memory_limit_mb": round(memory_limit_mb),
        "load_1min_before": round(os.getloadavg()[0], 2),
        "levels": [],
    }
    began = time.monotonic()
    temporary = folder is None
    folder = Path(tempfile.mkdtemp(prefix="pupil-capacity-")) if folder is None else folder
    try:
        say(f"starting calculatice serve with a pool of {pool} kernels")
        server = class_start.start_pool_server(folder, pool_size=pool, fill_delay=delay)
        try:
            report["pool_fill_s"] = round(
                class_start.wait_for_pool(server, pool, timeout=max(300.0, 3.0 * pool)), 1
            )
            report["startup_s"] = round(time.monotonic() - began, 1)
            say(f"pool of {pool} full after {report['startup_s']} s")
            asyncio.run(
                _run_levels(
                    server, report, levels, say,
                    latency_ms=latency_ms, interval=interval, step_seconds=step_seconds,
                    arrival_seconds=arrival_seconds,
                    first_question_limit_s=first_question_limit_s,
                    memory_limit_mb=memory_limit_mb, suite_round_trip=suite_round_trip,
                )
            )  # fmt: skip
        finally:
            class_start.stop_server(server)
            report["server_log_problems"] = _log_problems(server.log)[:10]
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    report["duration_s"] = round(time.monotonic() - began, 1)
    report["load_1min_after"] = round(os.getloadavg()[0], 2)
    report["machine"] = class_start.machine()
    return report


async def _run_levels(
    server: Any,
    report: dict[str, Any],
    levels: list[int],
    say: Callable[[str], None],
    *,
    latency_ms: float,
    interval: float,
    step_seconds: float,
    arrival_seconds: float,
    first_question_limit_s: float,
    memory_limit_mb: float,
    suite_round_trip: bool,
) -> None:
    stop = asyncio.Event()
    pupils: list[Pupil] = []
    tasks: list[asyncio.Task] = []
    baseline = await asyncio.to_thread(memory_figures, server, set())
    report["memory_before_mb"] = baseline
    previous_total = baseline["total_uss_mb"]
    try:
        for level in levels:
            newcomers = [
                Pupil(class_start.pupil_name(number), level)
                for number in range(len(pupils), level)
            ]
            pupils.extend(newcomers)
            say(f"{level} pupils: {len(newcomers)} open the page")
            arrival_start = time.monotonic()
            for index, pupil in enumerate(newcomers):
                delay = arrival_start + arrival_seconds * index / len(newcomers)
                await asyncio.sleep(max(0.0, delay - time.monotonic()))
                tasks.append(
                    asyncio.create_task(
                        play_pupil(
                            pupil, server, interval, stop, first_question_limit_s, suite_round_trip
                        )
                    )
                )
            while any(p.first_question_s is None and p.failed is None for p in newcomers):
                await asyncio.sleep(0.1)
            arrival_end = time.monotonic()

            taken = {p.kernel_id for p in pupils if p.kernel_id}
            cpu_before = await asyncio.to_thread(cpu_figures, server, taken)
            window_start = time.monotonic()
            await asyncio.sleep(step_seconds)
            window_end = time.monotonic()
            cpu_after = await asyncio.to_thread(cpu_figures, server, taken)
            await _wait_window_answers(pupils, window_end)
            figures = _level_figures(
                level, pupils, newcomers, (arrival_start, arrival_end), (window_start, window_end)
            )
            seconds = window_end - window_start
            figures["cpu_cores"] = {
                name: round((cpu_after[name] - cpu_before[name]) / seconds, 2)
                for name in cpu_after
            }
            figures["load_1min"] = round(os.getloadavg()[0], 2)
            memory = await asyncio.to_thread(memory_figures, server, taken)
            figures["memory"] = memory

            # The memory the next level would add, at this level's cost per pupil.
            per_pupil = max(0.0, memory["total_uss_mb"] - previous_total) / max(1, len(newcomers))
            following = [n for n in levels if n > level]
            predicted = memory["total_uss_mb"] + per_pupil * (
                (following[0] - level) if following else 0
            )
            figures["memory_per_newcomer_mb"] = round(per_pupil, 2)
            previous_total = memory["total_uss_mb"]

            reasons = []
            p95 = figures["answer_ms"].get("p95")
            if p95 is None:
                reasons.append("no answer measured")
            elif p95 > latency_ms:
                reasons.append(f"answer p95 {p95:g} ms > {latency_ms:g} ms")
            if figures["pupils_failed"]:
                reasons.append(f"{figures['pupils_failed']} pupil(s) failed")
            if figures["errors"]:
                reasons.append(f"{figures['errors']} error reply(ies)")
            if memory["total_uss_mb"] > memory_limit_mb:
                reasons.append(f"memory {memory['total_uss_mb']:.0f} MB > limit")
            figures["held"] = not reasons
            figures["reason"] = "; ".join(reasons) or None
            report["levels"].append(figures)
            say(
                f"{level} pupils: answer p50/p95/p99 "
                f"{figures['answer_ms'].get('median')}/{p95}/{figures['answer_ms'].get('p99')} ms"
                f", {figures['pupils_failed']} failed, {figures['errors']} errors, "
                f"load {figures['load_1min']}: {'held' if not reasons else figures['reason']}"
            )
            if reasons:
                report["failed_at"] = level
                report["failure"] = figures["reason"]
                break
            report["held"] = level
            if following and predicted > memory_limit_mb:
                report["failure"] = (
                    f"stopped before {following[0]} pupils: memory would reach "
                    f"{predicted:.0f} MB > {memory_limit_mb:.0f} MB"
                )
                break
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    report["answers_acknowledged"] = sum(len(p.answers) for p in pupils)
    report["replays"] = sum(p.replays for p in pupils)
    report["pupils_finished"] = sum(p.finished for p in pupils)


# ---------------------------------------------------------------------- report


def table(report: dict[str, Any]) -> str:
    """One line per level: latency, failures, memory, CPU, load."""
    header = (
        f"{'pupils':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'ans/s':>6} "
        f"{'Q1 max s':>8} {'late':>4} {'fail':>4} {'err':>4} {'srv MB':>7} "
        f"{'kern MB':>8} {'idle MB':>8} {'srv cpu':>7} {'kern cpu':>8} {'client':>6} "
        f"{'load':>5}  result"
    )
    lines = [header]
    for level in report["levels"]:
        answers = level["answer_ms"]
        memory = level["memory"]
        cpu = level["cpu_cores"]

        def cell(value: Any, width: int, digits: int = 1) -> str:
            if value is None:
                return f"{'—':>{width}}"
            if isinstance(value, float):
                return f"{value:>{width}.{digits}f}"
            return f"{value:>{width}}"

        lines.append(
            " ".join(
                [
                    cell(level["pupils"], 6),
                    cell(answers.get("median"), 7),
                    cell(answers.get("p95"), 7),
                    cell(answers.get("p99"), 7),
                    cell(level["answers_per_second"], 6),
                    cell(level["first_question_s"]["max"], 8, 2),
                    cell(level["late_pages"], 4),
                    cell(level["pupils_failed"], 4),
                    cell(level["errors"], 4),
                    cell(memory["server_uss_mb"], 7, 0),
                    cell(memory["pupil_kernels_uss_mb"], 8, 0),
                    cell(memory["idle_kernels_uss_mb"], 8, 0),
                    cell(cpu["server"], 7, 2),
                    cell(cpu["pupil_kernels"] + cpu["idle_kernels"], 8, 2),
                    cell(cpu["client"], 6, 2),
                    cell(level["load_1min"], 5, 2),
                ]
            )
            + ("  held" if level["held"] else f"  FAILED: {level['reason']}")
        )
    lines.append(
        f"Held: {report['held']} pupils (target: answer p95 ≤ {report['latency_ms']:g} ms, "
        f"no pupil failing; pool {report['pool_size']}, answers every {report['interval']:g} s "
        f"± 20 %, Suite {'a request' if report['suite_round_trip'] else 'drawn by the page'}"
        "). Memory in MB USS; CPU in cores over the window."
    )
    if report.get("failure") and report["failed_at"] is None:
        lines.append(report["failure"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, nargs="+", default=list(DEFAULT_STEPS), help="pupils in all"
    )
    parser.add_argument("--latency-ms", type=float, default=100.0, help="answer p95 limit")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between answers")
    parser.add_argument("--step-seconds", type=float, default=30.0, help="measuring window")
    parser.add_argument("--arrival-seconds", type=float, default=10.0, help="newcomers' spread")
    parser.add_argument("--pool-size", type=int, default=None, help="default: the largest step")
    parser.add_argument(
        "--fill-delay", type=float, default=None, help="default: 3600 s, or 60 beyond the pool"
    )
    parser.add_argument(
        "--suite-round-trip", action="store_true", help="'next' for Suite, as older pages"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file for the figures")
    options = parser.parse_args(argv)
    report = measure_pupil_capacity(
        latency_ms=options.latency_ms,
        interval=options.interval,
        steps=options.steps,
        step_seconds=options.step_seconds,
        arrival_seconds=options.arrival_seconds,
        pool_size=options.pool_size,
        fill_delay=options.fill_delay,
        suite_round_trip=options.suite_round_trip,
    )
    print(table(report))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"Figures written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
