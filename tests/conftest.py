"""Shared fixtures: the project's bank, a writable copy of it, and the command runner."""

from __future__ import annotations

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

PROJECT = Path(__file__).resolve().parent.parent
BANK_FOLDER = PROJECT / "exercices"


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
        raw = yaml.safe_load((PROJECT / "data" / "rallies" / "2027.yaml").read_text("utf-8"))
        raw["rounds"][0]["exercises"][0]["overrides"] = {"questions": 10, "question_seconds": 18}
        edition = tmp_path / "2027.yaml"
        edition.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        with open_store(db_url) as store:
            rally = create_rally(store, bank, edition)
            classroom = register_class(
                store, rally, definition_of_rally(rally, bank), school_code="0590001A",
                class_name="CM2 A", level="CM2", late=True,
            )  # fmt: skip
            open_rally(store, rally)
        return classroom.code

    return make
