"""The rally load benchmark still measures what it says, at a tiny size.

``benchmarks/rally_load.py`` is run by hand; this test keeps it from
rotting: its command line, with two server processes behind nginx on one
SQLite file (``deploy/rally-cluster.sh``), a few pairs for a few seconds,
and the report it writes checked figure by figure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = PROJECT / "benchmarks" / "rally_load.py"


def test_two_processes_on_one_sqlite_file_store_every_acknowledged_answer(
    tmp_path: Path,
) -> None:
    if shutil.which("nginx") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("needs nginx (apt-get install nginx-light)")
        pytest.skip("needs nginx (apt-get install nginx-light)")
    output = tmp_path / "figures.json"
    command = [
        sys.executable, str(SCRIPT), "--pairs", "40", "--ramp", "2", "--seconds", "6",
        "--interval", "1", "--processes", "2", "--no-voila", "--output", str(output),
    ]  # fmt: skip

    finished = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert (figures["pairs"], figures["processes"], figures["database"]) == (40, 2, "sqlite")
    assert figures["errors"] == 0 and figures["error_samples"] == []
    # Each pair answers about once a second for the 6 s after the joins.
    assert 40 * 3 <= figures["answers_sent"] <= 40 * 10
    assert figures["answers_stored"] == figures["answers_sent"]
    assert (figures["answers_lost"], figures["answers_doubled"]) == (0, 0)
    latency = figures["answer_latency_ms"]
    assert latency["count"] == figures["answers_sent"]
    assert 0 < latency["median"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    # Two servers and nginx: each server alone takes well over 50 MB.
    assert figures["server_peak_rss_mb"] > 2 * 50
    assert figures["steady_server_cpu_ms_per_request"] > 0
    # Every pair loaded the page first: its join and its answers went to one process.
    assert figures["sessions_rebuilt"] == 0
    assert "voila" not in figures


def test_join_benchmark_compares_a_first_answer_on_either_process(tmp_path: Path) -> None:
    output = tmp_path / "join.json"
    command = [
        sys.executable, str(PROJECT / "benchmarks" / "rally_join.py"),
        "--pairs", "8", "--rounds", "2", "--output", str(output),
    ]  # fmt: skip

    finished = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert (figures["pairs"], len(figures["rounds"]), figures["database"]) == (8, 2, "sqlite")
    for phase in ("join", "first_answer_same_process", "first_answer_other_process"):
        assert 0 < figures[phase]["cpu_ms"] <= 1000 and figures[phase]["wall_ms"] > 0
    same = figures["first_answer_same_process"]["cpu_ms"]
    assert figures["other_to_same_cpu_ratio"] == round(
        figures["first_answer_other_process"]["cpu_ms"] / same, 1
    )
