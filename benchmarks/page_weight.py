"""What a pupil's first visit to the pupil page costs over the wire, ours against plain Voilà.

DESIGN.md holds the pupil page to 2 MB over the wire on a first visit, asking
no third party for anything (plain Voilà: about 9.8 MB uncompressed, and a
CDN). This script opens the page once in Debian's Chromium, with an empty
cache, for ``calculatice serve`` and for plain ``voila dashboards/eleve.ipynb``
in one run, and counts, from Chromium's own network events (the DevTools
protocol), every HTTP response until the join screen is drawn:

- bytes over the wire (``encodedDataLength``: headers and the body as sent,
  compressed or not) and bytes once decoded;
- the number of requests, the heaviest responses, and any request to a host
  other than the server's.

Websocket frames are not counted: they are the kernel's messages, not the
page. Run from the project folder (not in CI)::

    .venv/bin/python benchmarks/page_weight.py
    .venv/bin/python benchmarks/page_weight.py --only ours

Figures go to stdout and to ``benchmarks/results/page_weight.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "page_weight.json"
TARGET_MB = 2.0
JOIN_SCREEN = '.cq-player[data-screen="join"]'

sys.path.insert(0, str(Path(__file__).resolve().parent))


@contextmanager
def ours(folder: Path):
    """``calculatice serve`` with one preheated kernel; yields the page's URL."""
    from calculatice.web.launch import running_server

    db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
    with running_server(folder, db_url, ["--pool-size", "1", "--fill-delay", "0"]) as server:
        yield f"{server.url}/"


@contextmanager
def plain(folder: Path):
    """Plain ``voila dashboards/eleve.ipynb``, default settings; yields the page's URL."""
    from class_start import start_plain_server, stop_server

    server = start_plain_server(folder)
    try:
        yield f"{server.url}{server.page_path}"
    finally:
        stop_server(server)


def first_visit(url: str) -> dict[str, Any]:
    """Open ``url`` in a fresh Chromium profile and count what it fetched until the join screen."""
    from playwright.sync_api import sync_playwright

    from calculatice.web.launch import CHROMIUM_FLAGS, chromium_executable

    responses: dict[str, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            page = browser.new_context().new_page()
            devtools = page.context.new_cdp_session(page)
            devtools.send("Network.enable")
            devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})

            def received(event: dict) -> None:
                response = event["response"]
                responses[event["requestId"]] = {
                    "url": response["url"],
                    "status": response["status"],
                    "encoding": response.get("headers", {}).get("Content-Encoding")
                    or response.get("headers", {}).get("content-encoding"),
                    "decoded": 0,
                    "wire": None,
                }

            def data(event: dict) -> None:
                if event["requestId"] in responses:
                    responses[event["requestId"]]["decoded"] += event["dataLength"]

            def finished(event: dict) -> None:
                if event["requestId"] in responses:
                    responses[event["requestId"]]["wire"] = event["encodedDataLength"]

            devtools.on("Network.responseReceived", received)
            devtools.on("Network.dataReceived", data)
            devtools.on("Network.loadingFinished", finished)
            page.goto(url)
            page.wait_for_selector(JOIN_SCREEN, timeout=120_000)
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    return summarise(url, list(responses.values()))


def summarise(url: str, responses: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, the heaviest responses, and the requests that left the server's host."""
    host = urlsplit(url).netloc
    done = [response for response in responses if response["wire"] is not None]
    heaviest = sorted(done, key=lambda response: response["wire"], reverse=True)[:8]
    return {
        "url": url,
        "requests": len(responses),
        "wire_mb": sum(response["wire"] for response in done) / 1e6,
        "decoded_mb": sum(response["decoded"] for response in done) / 1e6,
        "compressed_responses": sum(1 for response in done if response["encoding"]),
        "third_party": sorted(
            {r["url"] for r in responses if urlsplit(r["url"]).netloc not in ("", host)}
        ),
        "heaviest": [
            {
                "path": urlsplit(response["url"]).path,
                "wire_kb": round(response["wire"] / 1e3, 1),
                "decoded_kb": round(response["decoded"] / 1e3, 1),
                "encoding": response["encoding"],
            }
            for response in heaviest
        ],
    }


def report(runs: dict[str, dict[str, Any]]) -> str:
    """The figures as a small text table."""
    lines = [f"{'':24}" + "".join(f"{name:>14}" for name in runs)]
    for label, key, digits in (
        ("requests", "requests", 0),
        ("over the wire, MB", "wire_mb", 2),
        ("decoded, MB", "decoded_mb", 2),
        ("compressed responses", "compressed_responses", 0),
    ):
        cells = "".join(f"{runs[name][key]:>14.{digits}f}" for name in runs)
        lines.append(f"{label:24}{cells}")
    third = "".join(f"{len(runs[name]['third_party']):>14d}" for name in runs)
    lines.append(f"{'third-party requests':24}{third}")
    if {"ours", "plain"} <= runs.keys():
        ratio = runs["plain"]["wire_mb"] / runs["ours"]["wire_mb"]
        lines.append(f"plain Voilà sends {ratio:.1f}× the bytes; target: at most {TARGET_MB} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("ours", "plain"), help="measure one server only")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file for the figures")
    arguments = parser.parse_args(argv)
    servers = {"ours": ours, "plain": plain}
    runs: dict[str, dict[str, Any]] = {}
    for name, start in servers.items():
        if arguments.only not in (None, name):
            continue
        with (
            tempfile.TemporaryDirectory(prefix=f"page-weight-{name}-") as folder,
            start(Path(folder)) as url,
        ):
            runs[name] = first_visit(url)
    print(report(runs))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "voila": version("voila"),
                    "playwright": version("playwright"),
                },
                "target_mb": TARGET_MB,
                "runs": runs,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
