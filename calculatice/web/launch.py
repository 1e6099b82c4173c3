"""Start ``calculatice serve`` in the background on a free loopback port, and stop it.

The browser tests, the rally's HTTP tests, the benchmarks and the screenshot
script all need a real server of their own; this is the one way they start it.
They drive Debian's Chromium, launched with :data:`CHROMIUM_FLAGS`.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
)
"""How Playwright starts Debian's Chromium here: headless, as root, asking no one for updates."""


class ServerStartError(RuntimeError):
    """The server stopped or did not answer in time; the message holds its log."""


@dataclass(frozen=True)
class RunningServer:
    """A server started by :func:`running_server`: its address, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path


def chromium_executable() -> str:
    """Debian's Chromium (Playwright cannot download its own browser here)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError("Debian's chromium is needed: apt-get install chromium")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports free on 127.0.0.1, below the ephemeral range.

    For servers started side by side (``deploy/rally-cluster.sh`` puts its
    processes on the ports after nginx's). A port the system hands out to
    outgoing connections (its ephemeral range) may be taken by one between
    the asking and the binding, as a server process that connects to
    PostgreSQL does while the next one starts: those are avoided.
    """
    low, _high = _ephemeral_range()
    top = max(low - count, 10_001)
    for _ in range(200):
        first = random.randrange(10_000, top)
        if all(_port_free(first + step) for step in range(count)):
            return first
    raise OSError(f"aucune suite de {count} ports libres sous {low}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextmanager
def running_server(
    folder: Path,
    db_url: str,
    options: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[RunningServer]:
    """Run ``python -m calculatice serve`` in ``folder`` until the block ends.

    Parameters
    ----------
    folder
        Working folder: the server's state, its log (``server.log``) and ``HOME``.
    db_url
        The database it serves.
    options
        More options of ``calculatice serve`` (``--pool-size``, ``--no-demo``…).
    environment
        Variables added to the current environment.
    port
        The port to listen on; a free one by default (given, to restart a
        server where its clients expect it).

    Raises
    ------
    ServerStartError
        The server stopped, or its health URL did not answer within two minutes.
    """
    port = free_port() if port is None else port
    log = folder / "server.log"
    variables = {
        **os.environ,
        "CALCULATICE_DB_URL": db_url,
        "HOME": str(folder),
        **(environment or {}),
    }
    command = [
        sys.executable, "-m", "calculatice", "serve", "--port", str(port),
        "--state-dir", str(folder / "state"),
        "--dashboards", str(PROJECT / "dashboards"), "--bank", str(PROJECT / "exercices"),
        *options,
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=folder, env=variables, stdout=output, stderr=subprocess.STDOUT
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        # Started in the background, Voilà ignores SIGINT: SIGTERM stops it.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerStartError(f"calculatice serve stopped:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/calculatice/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise ServerStartError(f"calculatice serve did not answer in time:\n{server.log.read_text()}")
