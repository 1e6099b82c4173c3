"""The inspector's dashboard over a department's rally: 4 million answers, how fast, how big?

Simulates a rally of 4 million answers once (the real bank and marking rules,
:mod:`calculatice.analytics.simulate`, one district at a time) and caches it
under ``benchmarks/.cache/`` as Parquet and as CSV. Then builds every table of
the inspector's dashboard three ways, each in a child process of its own so
that its peak memory (``ru_maxrss``) is its own:

- ``calculatice``: :func:`calculatice.analytics.dashboard.load_answers` on the
  Parquet file (only the columns the tables need, text as categories) and
  :func:`calculatice.analytics.dashboard.dashboard_tables`;
- ``calculatice-csv``: the same from the CSV file;
- ``pandas``: the plain way, ``pd.read_csv`` of the whole CSV file, then the
  per-row functions of :mod:`calculatice.analytics.reports` and
  :mod:`calculatice.analytics.items` with no categories and no column pruning.

Targets (DESIGN.md): under 10 s and 2 GB. Run from the project folder::

    .venv/bin/python benchmarks/analytics.py              # all variants
    .venv/bin/python benchmarks/analytics.py --only calculatice --rows 400000

A smaller ``--rows`` takes the first rows of a larger rally already cached
(else it simulates one). The figures of the ``calculatice`` variants are
split into imports, reading, tables and figures.

Figures go to stdout and to ``benchmarks/results/analytics.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
RESULTS = Path(__file__).resolve().parent / "results" / "analytics.json"
VARIANTS = ("calculatice", "calculatice-csv", "pandas")
TARGET_SECONDS = 10.0
TARGET_MIB = 2048.0

# One district of the simulated department: 25 schools × 4 classes × 12 pairs,
# 10 exercises per level, about 150,000 answers.
DISTRICT_SHAPE = {"districts": 1, "schools": 25, "classes": 4, "pairs": 12, "exercises": 10}


def cached_answers(rows: int) -> tuple[Path, Path]:
    """The Parquet and CSV files of a simulated rally of ``rows`` answers, made once."""
    parquet = CACHE / f"answers-{rows}.parquet"
    csv = CACHE / f"answers-{rows}.csv"
    if parquet.exists() and csv.exists():
        return parquet, csv
    CACHE.mkdir(parents=True, exist_ok=True)
    # The cache never belongs in the repository, whoever's .gitignore is in force.
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    larger = sorted(
        (int(path.stem.split("-")[1]), path)
        for path in CACHE.glob("answers-*.parquet")
        if int(path.stem.split("-")[1]) > rows
    )
    if larger:
        # A smaller run (while developing) takes the first rows of a larger rally.
        _head_to_files(larger[0][1], rows, parquet, csv)
    else:
        _simulate_to_files(rows, parquet, csv)
    return parquet, csv


def _head_to_files(source: Path, rows: int, parquet: Path, csv: Path) -> None:
    import pyarrow.parquet as pq

    from calculatice.analytics.constants import CSV_NULL

    head = pq.ParquetFile(source).iter_batches(batch_size=rows)
    table = next(head).to_pandas()
    partial_parquet = parquet.with_suffix(".parquet.part")
    partial_csv = csv.with_suffix(".csv.part")
    table.to_parquet(partial_parquet, index=False)
    table.to_csv(partial_csv, index=False, na_rep=CSV_NULL, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    partial_parquet.rename(parquet)
    partial_csv.rename(csv)


def _simulate_to_files(rows: int, parquet: Path, csv: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm import tqdm

    from calculatice.analytics.constants import CSV_NULL
    from calculatice.analytics.simulate import RallyShape, simulate

    written = 0
    writer = None
    partial_parquet = parquet.with_suffix(".parquet.part")
    partial_csv = csv.with_suffix(".csv.part")
    with tqdm(total=rows, unit=" réponses", desc="Simulation") as progress:
        district = 0
        while written < rows:
            chunk = simulate(RallyShape(**DISTRICT_SHAPE, seed=district, rally="rallye-2026"))
            chunk = _as_district(chunk, district).iloc[: rows - written]
            arrow = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(partial_parquet, arrow.schema)
            writer.write_table(arrow)
            chunk.to_csv(
                partial_csv,
                mode="w" if district == 0 else "a",
                header=district == 0,
                index=False,
                na_rep=CSV_NULL,
                date_format="%Y-%m-%dT%H:%M:%S.%fZ",
            )
            written += len(chunk)
            progress.update(len(chunk))
            district += 1
    writer.close()
    partial_parquet.rename(parquet)
    partial_csv.rename(csv)


def _as_district(chunk, district: int):
    """One simulated district renamed so that districts and ids do not collide."""
    chunk = chunk.copy()
    chunk["district"] = f"Circonscription {district + 1:02d}"
    for column in ("participant_id", "class_id", "school_id"):
        chunk[column] = f"d{district:02d}" + chunk[column].astype(str)
    return chunk


def _child(variant: str, parquet: Path, csv: Path) -> dict:
    """Build every table of the dashboard one way; time it and report the peak memory."""
    started = time.perf_counter()
    if variant == "pandas":
        rows, tables = _plain_pandas(csv)
    else:
        from calculatice.analytics.aggregates import dashboard_tables, load_answers
        from calculatice.analytics.figures import dashboard_figures

        loaded = time.perf_counter()
        answers = load_answers(parquet if variant == "calculatice" else csv)
        read = time.perf_counter()
        built = dashboard_tables(answers)
        drawn = time.perf_counter()
        dashboard_figures(built)
        rows = len(answers)
        tables = {
            "import_seconds": round(loaded - started, 2),
            "read_seconds": round(read - loaded, 2),
            "tables_seconds": round(drawn - read, 2),
            "figures_seconds": round(time.perf_counter() - drawn, 2),
            "items": len(built.items),
            "rasch_items": int(built.items["b"].notna().sum()),
        }
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux: the child's own peak resident memory, imports included.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "variant": variant,
        "rows": rows,
        "seconds": round(seconds, 2),
        "peak_mib": round(peak_mib),
        **tables,
    }


def _plain_pandas(csv: Path) -> tuple[int, dict]:
    """The tables the plain way: the whole CSV, object columns, per-row functions."""
    import numpy as np
    import pandas as pd

    from calculatice.analytics import items, reports

    loaded = time.perf_counter()
    table = pd.read_csv(csv, keep_default_na=False, na_values=["\\N"])
    read_seconds = time.perf_counter() - loaded
    reports.participation(table, by="district")
    reports.participation(table, by="level")
    reports.score_distribution(table)
    reports.speed(table)
    reports.error_categories(table)
    reports.class_funnel(table)
    fitted = 0
    for _level, rows in table.groupby("level"):
        scores = items.score_matrix(rows)
        scores = scores.loc[:, (scores.mean() > 0) & (scores.mean() < 1)]
        items.classical_items(scores)
        with np.errstate(all="ignore"):
            items.fit_rasch(scores)
        fitted += scores.shape[1]
    return len(table), {
        "read_seconds": round(read_seconds, 2),
        "items": fitted,
        "rasch_items": fitted,
    }


def _run_variant(variant: str, parquet: Path, csv: Path, timeout: float) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--parquet",
        str(parquet),
        "--csv",
        str(csv),
    ]
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=PROJECT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"variant": variant, "error": f"gave up after {timeout:.0f} s"}
    if completed.returncode != 0:
        return {"variant": variant, "error": completed.stderr.strip().splitlines()[-1]}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    return result


def _print_table(results: list[dict]) -> None:
    print(
        f"{'variant':<16} {'rows':>10} {'read s':>8} {'total s':>8} {'wall s':>8} {'peak MiB':>9}"
    )
    for result in results:
        if "error" in result:
            print(f"{result['variant']:<16} {result['error']}")
            continue
        print(
            f"{result['variant']:<16} {result['rows']:>10,} {result['read_seconds']:>8.2f} "
            f"{result['seconds']:>8.2f} {result['wall_seconds']:>8.2f} {result['peak_mib']:>9,}"
        )
    for result in results:
        if "tables_seconds" in result:
            print(
                f"{result['variant']}: imports {result['import_seconds']:.2f} s, "
                f"read {result['read_seconds']:.2f} s, tables {result['tables_seconds']:.2f} s, "
                f"figures {result['figures_seconds']:.2f} s"
            )
    print(f"targets: under {TARGET_SECONDS:g} s and {TARGET_MIB:,.0f} MiB (total s, peak MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--only", choices=VARIANTS, action="append")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(_child(arguments.child, arguments.parquet, arguments.csv)))
        return

    parquet, csv = cached_answers(arguments.rows)
    load_before = os.getloadavg()
    results = [
        _run_variant(variant, parquet, csv, arguments.timeout)
        for variant in arguments.only or VARIANTS
    ]
    _print_table(results)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "rows": arguments.rows,
        "targets": {"seconds": TARGET_SECONDS, "peak_mib": TARGET_MIB},
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
