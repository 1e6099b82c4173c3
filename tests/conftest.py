"""Shared fixtures: the project's bank, a writable copy of it, and the command runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from calculatice.catalogue import Bank, load_bank

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
def runner() -> CliRunner:
    """Runs the ``calculatice`` command in-process."""
    return CliRunner()
