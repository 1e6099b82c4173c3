"""Shared fixtures: the project's bank, a writable copy of it, and the command runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from calculatice.catalogue import Bank, load_bank
from calculatice.demo import ensure_demo
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
