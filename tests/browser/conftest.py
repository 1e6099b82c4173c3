"""A live ``calculatice serve`` on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from calculatice.catalogue import load_bank
from calculatice.demo import DEMO_CLASS
from calculatice.seances import create_seance, parse_item
from calculatice.store import Store, open_store
from calculatice.web.launch import (
    CHROMIUM_FLAGS,
    PROJECT,
    chromium_executable,
    running_server,
)


@dataclass(frozen=True)
class LiveServer:
    """A running server: where it listens, its database, and the demo séance's code."""

    url: str
    db_url: str
    demo_code: str
    log: Path

    def store(self) -> Store:
        return open_store(self.db_url)

    def new_seance(self, *specs: str, title: str = "Séance de test") -> str:
        """A séance of the demo class made of ``EXERCISE_ID[:option=value...]``; its code."""
        with self.store() as store:
            [classroom] = [room for room in store.classrooms() if room.name == DEMO_CLASS]
            items = [parse_item(spec) for spec in specs]
            return create_seance(
                store, load_bank(PROJECT / "exercices"), title, items, classroom.id
            ).code


def _chromium() -> str:
    try:
        return chromium_executable()
    except FileNotFoundError as missing:
        pytest.fail(f"{missing} (the browser tests drive it)")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``calculatice serve`` on a fresh SQLite file with its demo data, stopped at the end."""
    folder = tmp_path_factory.mktemp("server")
    db_url = f"sqlite:///{folder / 'calculatice.sqlite'}"
    with running_server(folder, db_url, ["--pool-size", "2", "--fill-delay", "0"]) as server:
        yield LiveServer(server.url, db_url, _demo_code(server.log), server.log)


def _demo_code(log: Path) -> str:
    for line in log.read_text().splitlines():
        if "code " in line and "démonstration" in line:
            return line.rsplit("code ", 1)[1].strip().replace("-", "")
    pytest.fail(f"no demo code in the server's output:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from Debian, launched once per test module.

    Not once per session: Playwright's sync API keeps an event loop running in the
    main thread while it is open, which would break every later test that runs
    asyncio or its own Playwright.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=list(CHROMIUM_FLAGS)
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page; navigated away at the end so its kernel is freed."""
    context = browser.new_context(locale="fr-FR")
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    opened.close(run_before_unload=True)
    context.close()
