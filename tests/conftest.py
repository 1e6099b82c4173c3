"""Shared fixtures: the project's bank, a writable copy of it, the command runner, and
a schema of its own in the test PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from calculatice.catalogue import Bank, load_bank
from calculatice.demo import ensure_demo
from calculatice.rally.organise import (
    create_rally,
    definition_of_rally,
    open_rally,
    register_class,
)
from calculatice.store import Store, open_store
from calculatice.store.database import scratch_schema

PROJECT = Path(__file__).resolve().parent.parent
BANK_FOLDER = PROJECT / "exercices"
EDITION_2027 = PROJECT / "data" / "rallies" / "2027.yaml"
PG_URL_VARIABLE = "CALCULATICE_TEST_PG_URL"
"""Where the PostgreSQL tests run: the URL that ``scripts/start-postgres.sh`` prints."""


def test_postgres_url() -> str:
    """The test PostgreSQL's URL; without one, fail under CI and skip elsewhere."""
    url = os.environ.get(PG_URL_VARIABLE, "").strip()
    if not url:
        reason = f"needs {PG_URL_VARIABLE} (scripts/start-postgres.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


test_postgres_url.__test__ = False  # a helper, not a test


def postgres_schema(prefix: str) -> contextlib.AbstractContextManager[str]:
    """A URL on a new, empty schema of the test PostgreSQL, dropped afterwards."""
    return scratch_schema(test_postgres_url(), prefix)


@pytest.fixture(scope="session")
def postgres_schemas() -> Callable[[str], contextlib.AbstractContextManager[str]]:
    """:func:`postgres_schema` for fixtures of any scope: ``with postgres_schemas("x") as url``."""
    return postgres_schema


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """The URL of an empty schema of the test PostgreSQL, for one test."""
    with postgres_schema("test") as url:
        yield url


@pytest.fixture(scope="session")
def bank() -> Bank:
    """The project's exercise bank, loaded once."""
    return load_bank(BANK_FOLDER)


@pytest.fixture
def bank_copy(tmp_path: Path) -> Path:
    """A copy of the bank that a test may break."""
    target = tmp_path / "exercices"
    shutil.copytree(BANK_FOLDER, target)
    return target


class FakeClock:
    """A players' clock, in seconds, that moves only when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store on a SQLite file of the test's own."""
    opened = open_store(f"sqlite:///{tmp_path / 'pupils.sqlite'}")
    yield opened
    opened.close()


@pytest.fixture
def demo_code(store: Store, bank: Bank) -> str:
    """The code of the demo séance, created in :func:`store`."""
    return ensure_demo(store, bank).seance_code


@pytest.fixture
def runner() -> CliRunner:
    """Runs the ``calculatice`` command in-process."""
    return CliRunner()


@pytest.fixture
def open_rally_class(bank: Bank, tmp_path: Path) -> Callable[[str], str]:
    """Make the 2027 rally in a database, register a CM2 class, open it; the class code.

    The first exercise gets 18 s a question rather than 6, so that a loaded
    machine (a restart, two processes starting) does not time a question out.
    """

    def make(db_url: str) -> str:
        raw = yaml.safe_load(EDITION_2027.read_text("utf-8"))
        raw["rounds"][0]["exercises"][0]["overrides"] = {"questions": 10, "question_seconds": 18}
        edition = tmp_path / "2027.yaml"
        edition.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return _register_cm2_class(db_url, bank, edition, opened=True)

    return make


@pytest.fixture
def rally_class(bank: Bank) -> Callable[[str], str]:
    """Make the 2027 rally in a database and register a CM2 class (the rally left scheduled,
    to open with its window); the class code."""
    return lambda db_url: _register_cm2_class(db_url, bank, EDITION_2027, opened=False)


def _register_cm2_class(db_url: str, bank: Bank, edition: Path, *, opened: bool) -> str:
    with open_store(db_url) as store:
        rally = create_rally(store, bank, edition)
        classroom = register_class(
            store, rally, definition_of_rally(rally, bank), school_code="0590001A",
            class_name="CM2 A", level="CM2", late=True,
        )  # fmt: skip
        if opened:
            open_rally(store, rally)
    return classroom.code
