"""The inspector's tables, fast enough for a department's rally, and safe to publish.

:func:`load_answers` reads only the columns the tables need, with text as
categories, from the anonymised table (Parquet or CSV). :func:`dashboard_tables`
builds every table of the inspector's dashboard and report from it, with
integer codes and numpy rather than per-row Python, and hides every cell
about fewer than :data:`~.privacy.MIN_PUPILS` participants (a participant is
a pupil or a pair: counting pairs as one errs on the safe side).

Each table is an aggregate: no row of any of them is about one participant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from calculatice.analytics.errors import TableError
from calculatice.analytics.items import fit_rasch
from calculatice.analytics.mistakes import CATEGORIES, classify
from calculatice.analytics.privacy import MIN_PUPILS, suppress_small_cells, with_margins
from calculatice.analytics.reports import FUNNEL_LEVELS
from calculatice.analytics.tidy import CSV_NULL, OUTCOMES
from calculatice.catalogue import LEVELS
from calculatice.numbers import read_number

logger = logging.getLogger(__name__)

TEXT_COLUMNS = (
    "rally",
    "level",
    "exercise_id",
    "question_shown",
    "expected",
    "read_as",
    "outcome",
    "participant_id",
    "class_id",
    "school_id",
    "district",
)
"""The text columns the tables read, each loaded as a category."""

NUMBER_COLUMNS = {"question_index": pa.int32(), "response_ms": pa.float64()}
"""The number columns the tables read, with their type."""

SPEED_LIMIT_SECONDS = 20.0
"""The time limit ``d`` of the speed-accuracy score (as in :func:`.reports.speed`)."""

RASCH_SPREAD = 1.0
"""The spread of abilities of the Rasch fit, fixed: the model with discrimination 1.

Estimating it as well sends it off to infinity on simulated rallies (a
shortcoming of :func:`.items.fit_rasch` still to be looked into); with it
fixed, the difficulties keep their order and their logit scale.
"""

RASCH_TOLERANCE = 1e-3
"""The fit's gradient tolerance: difficulties within 1e-5 logit of a strict fit, 8 times faster."""

RASCH_PARTICIPANTS = 1000
"""Participants per level the Rasch fit uses at most (drawn with a fixed seed).

A thousand give each difficulty a standard error of about 0.07 logit,
and keep the fit under a second on a department's rally.
"""

FINAL_SCORES = {"right": 1.0, "wrong": 0.0, "timeout": 0.0, "empty": 0.0}
"""A question's score from the outcome of its last row; ``not_reached`` is missing."""


@dataclass(frozen=True)
class Selection:
    """Which answers a page is about; ``None`` means all of them."""

    rally: str | None = None
    level: str | None = None
    district: str | None = None

    def title(self) -> str:
        """The selection in French, for a title."""
        parts = [
            self.rally or "tous les rallyes",
            f"niveau {self.level}" if self.level else "tous niveaux",
            self.district or "toutes circonscriptions",
        ]
        return " · ".join(parts)


@dataclass(frozen=True)
class DashboardTables:
    """Every table of the inspector's page, already suppressed (``NaN`` for a hidden cell).

    Attributes
    ----------
    summary
        One row: participants, classes, schools, answers, success rate.
    participation
        Participants per district × level, with totals.
    scores
        Per level: participants and the 10th, 25th, 50th, 75th, 90th
        percentiles and mean of the success rate (no minimum or maximum,
        which would be one participant's score).
    items
        Per question: level, participants who reached it, proportion right
        ``p`` and the Rasch difficulty ``b`` (logits, centred per level).
    speed
        Per exercise: participants, median response time and mean
        speed-accuracy score of the answered tries.
    errors
        Wrong answers per exercise × category of error, with totals.
    funnel
        Per class with enough participants: questions answered ``n`` and
        success rate; no class id, never sorted by success.
    funnel_limits
        The overall rate and the 95 % and 99.8 % limits along ``n``.
    hidden_classes
        Classes left out of the funnel for having too few participants.
    """

    selection: Selection
    summary: pd.DataFrame
    participation: pd.DataFrame
    scores: pd.DataFrame
    items: pd.DataFrame
    speed: pd.DataFrame
    errors: pd.DataFrame
    funnel: pd.DataFrame
    funnel_limits: pd.DataFrame
    hidden_classes: int


def load_answers(path: str | Path) -> pd.DataFrame:
    """Read the columns of an anonymised answer table that the tables need, text as categories.

    Parameters
    ----------
    path
        A ``.parquet`` file, or a CSV file as :func:`.tidy.write_table` writes it.

    Raises
    ------
    TableError
        When the file is missing or unreadable, lacks a column, or has an unknown outcome.
    """
    path = Path(path)
    columns = [*TEXT_COLUMNS, *NUMBER_COLUMNS]
    try:
        if path.suffix.lower() == ".parquet":
            arrow = _read_parquet(path, columns)
        else:
            arrow = _read_csv(path, columns)
    except FileNotFoundError:
        raise TableError(path.name, [(None, "(fichier)", "fichier introuvable")]) from None
    except KeyError as error:
        raise TableError(path.name, [(None, str(error.args[0]), "colonne absente")]) from None
    except (OSError, pa.ArrowException) as error:
        raise TableError(
            path.name, [(None, "(fichier)", f"fichier illisible ({error})")]
        ) from None
    answers = arrow.to_pandas()
    _check_outcomes(answers, path.name)
    logger.info("loaded %d answers from %s", len(answers), path)
    return answers


def _read_parquet(path: Path, columns: list[str]) -> pa.Table:
    names = pq.read_schema(path).names
    for column in columns:
        if column not in names:
            raise KeyError(column)
    arrow = pq.read_table(path, columns=columns, read_dictionary=list(TEXT_COLUMNS))
    return arrow.cast(_schema(columns))


def _read_csv(path: Path, columns: list[str]) -> pa.Table:
    with path.open("rb") as header_file:
        header = header_file.readline().decode("utf-8").strip().split(",")
    for column in columns:
        if column not in header:
            raise KeyError(column)
    convert = pa_csv.ConvertOptions(
        include_columns=columns,
        column_types=_schema(columns),
        null_values=[CSV_NULL, ""],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    # Only CSV_NULL is missing text; an empty answer stays "" (strings_can_be_null=False).
    arrow = pa_csv.read_csv(path, convert_options=convert)
    return _text_nulls(arrow)


def _text_nulls(arrow: pa.Table) -> pa.Table:
    """Turn the CSV's ``\\N`` in text columns into missing values."""
    for position, name in enumerate(arrow.column_names):
        if name in TEXT_COLUMNS:
            column = arrow.column(name).cast(pa.string())
            column = pa.compute.if_else(pa.compute.equal(column, CSV_NULL), None, column)
            arrow = arrow.set_column(position, name, column.dictionary_encode())
    return arrow


def _schema(columns: list[str]) -> pa.Schema:
    text = pa.dictionary(pa.int32(), pa.string())
    return pa.schema([(name, NUMBER_COLUMNS.get(name, text)) for name in columns])


def _check_outcomes(answers: pd.DataFrame, source: str) -> None:
    unknown = set(answers["outcome"].cat.categories) - set(OUTCOMES)
    if unknown:
        shown = ", ".join(sorted(unknown))
        reason = f"valeurs non permises ({shown})"
        raise TableError(source, [(None, "outcome", reason)])


def select(answers: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The answers of one rally, level and district (each ``None`` for all)."""
    mask = np.ones(len(answers), dtype=bool)
    for column in ("rally", "level", "district"):
        value = getattr(selection, column)
        if value is not None:
            mask &= (answers[column] == value).to_numpy()
    return answers[mask]


def choices(answers: pd.DataFrame, column: str) -> list[str]:
    """The values present in a column, levels in school order, others sorted."""
    present = [str(value) for value in answers[column].dropna().unique()]
    if column == "level":
        return [level for level in LEVELS if level in present]
    return sorted(present)


def dashboard_tables(answers: pd.DataFrame, selection: Selection | None = None) -> DashboardTables:
    """Every table of the inspector's page for one selection, small cells hidden.

    Parameters
    ----------
    answers
        The table :func:`load_answers` returns (or a tidy table).
    selection
        The rally, level and district to keep; all answers by default.
    """
    selection = selection or Selection()
    chosen = _coded(select(answers, selection))
    final = _final_rows(chosen)
    funnel, limits, hidden_classes = class_funnel(final)
    return DashboardTables(
        selection=selection,
        summary=summary(chosen, final),
        participation=participation(chosen),
        scores=score_percentiles(final),
        items=item_difficulty(final),
        speed=speed(chosen),
        errors=error_categories(chosen),
        funnel=funnel,
        funnel_limits=limits,
        hidden_classes=hidden_classes,
    )


# Every table below works on integer codes: a frame with one code column per
# text column and the numbers, built once per selection.


def _coded(answers: pd.DataFrame) -> pd.DataFrame:
    coded = {}
    for column in TEXT_COLUMNS:
        values = answers[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("category")
        values = values.cat.remove_unused_categories()
        coded[column] = values.reset_index(drop=True)
    coded["question_index"] = answers["question_index"].to_numpy(dtype=np.int64)
    coded["response_ms"] = answers["response_ms"].to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(coded, index=pd.RangeIndex(len(answers)))


def _codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].cat.codes.to_numpy().astype(np.int64)


def _distinct_per_group(groups: np.ndarray, members: np.ndarray, n_groups: int) -> np.ndarray:
    """How many distinct members each group has (e.g. participants per class)."""
    span = int(members.max()) + 1 if members.size else 1
    pairs = pd.unique(groups * span + members)
    return np.bincount(pairs // span, minlength=n_groups)


def _final_rows(chosen: pd.DataFrame) -> pd.DataFrame:
    """The last row of each participant's question: the question's result."""
    if chosen.empty:
        return chosen
    item = _codes(chosen, "exercise_id") * (int(chosen["question_index"].max()) + 1)
    item += chosen["question_index"].to_numpy()
    key = _codes(chosen, "participant_id") * (int(item.max()) + 1) + item
    return chosen[~pd.Series(key).duplicated(keep="last").to_numpy()]


def summary(chosen: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Participants, classes, schools, answers and success rate of the selection.

    Every figure is hidden when the selection has fewer participants than the minimum.
    """
    participants = chosen["participant_id"].nunique()
    reached = final[final["outcome"] != "not_reached"]
    success = float((reached["outcome"] == "right").mean()) if len(reached) else np.nan
    row = {
        "participants": participants,
        "classes": chosen["class_id"].nunique(),
        "schools": chosen["school_id"].nunique(),
        "answers": len(chosen),
        "success": success,
    }
    frame = pd.DataFrame([row], dtype=float)
    return frame if participants >= MIN_PUPILS else frame * np.nan


def participation(chosen: pd.DataFrame) -> pd.DataFrame:
    """Participants per district × level, with totals; small cells and their giveaways hidden."""
    if chosen.empty:
        return pd.DataFrame(dtype=float)
    districts, levels = _codes(chosen, "district"), _codes(chosen, "level")
    n_levels = len(chosen["level"].cat.categories)
    cells = districts * n_levels + levels
    counts = _distinct_per_group(
        cells, _codes(chosen, "participant_id"), cells.max() + 1 if len(cells) else 0
    )
    counts = np.pad(counts, (0, len(chosen["district"].cat.categories) * n_levels - counts.size))
    table = pd.DataFrame(
        counts.reshape(-1, n_levels),
        index=pd.Index(chosen["district"].cat.categories, name="district"),
        columns=pd.Index(chosen["level"].cat.categories, name="level"),
    )
    table = table[[level for level in LEVELS if level in table.columns]].sort_index()
    if table.empty:
        return table.astype(float)
    hidden = suppress_small_cells(table)
    return with_margins(table).astype(float).mask(hidden)


def score_percentiles(final: pd.DataFrame) -> pd.DataFrame:
    """Per level: participants and percentiles of the success rate; small levels dropped.

    A participant's success rate is their questions ended right over their
    questions, not-reached ones included (they count 0 in a score).
    """
    if final.empty:
        return pd.DataFrame(columns=["participants", "p10", "q1", "median", "q3", "p90", "mean"])
    participant = _codes(final, "participant_id")
    n = len(final["participant_id"].cat.categories)
    right = np.bincount(participant, weights=(final["outcome"] == "right").to_numpy(), minlength=n)
    total = np.bincount(participant, minlength=n)
    level = np.full(n, -1)
    level[participant] = _codes(final, "level")
    seen = total > 0
    rates = pd.Series(right[seen] / total[seen])
    by_level = pd.Series(final["level"].cat.categories[level[seen]], index=rates.index)
    grouped = rates.groupby(by_level)
    table = pd.DataFrame(
        {
            "participants": grouped.size(),
            "p10": grouped.quantile(0.10),
            "q1": grouped.quantile(0.25),
            "median": grouped.median(),
            "q3": grouped.quantile(0.75),
            "p90": grouped.quantile(0.90),
            "mean": grouped.mean(),
        }
    )
    table = table.reindex([level for level in LEVELS if level in table.index])
    return table[table["participants"] >= MIN_PUPILS]


def item_difficulty(final: pd.DataFrame) -> pd.DataFrame:
    """Per question reached by enough participants: ``p`` and the centred Rasch ``b``.

    The Rasch model is fitted per level by marginal maximum likelihood
    (:func:`.items.fit_rasch`) on the questions reached by enough
    participants; not-reached questions are missing, not wrong.
    """
    reached = final[final["outcome"] != "not_reached"]
    scores = reached["outcome"].map(FINAL_SCORES).to_numpy(dtype=float)
    keys = ["level", "exercise_id", "question_index"]
    frame = pd.DataFrame({key: reached[key] for key in keys}).assign(score=scores)
    items = frame.groupby(keys, observed=True, sort=True)["score"].agg(["size", "mean"])
    items.columns = ["participants", "p"]
    items = items[items["participants"] >= MIN_PUPILS].reset_index()
    items["level"] = items["level"].astype(str)
    items["exercise_id"] = items["exercise_id"].astype(str)
    items["b"] = np.nan
    for level in items["level"].unique():
        in_level = items["level"] == level
        items.loc[in_level, "b"] = _rasch_difficulties(reached, items[in_level])
    order = items["level"].map({level: rank for rank, level in enumerate(LEVELS)})
    return (
        items.assign(_order=order)
        .sort_values(["_order", "exercise_id", "question_index"])[
            ["level", "exercise_id", "question_index", "participants", "p", "b"]
        ]
        .reset_index(drop=True)
    )


def _rasch_difficulties(reached: pd.DataFrame, items: pd.DataFrame) -> np.ndarray:
    """Centred Rasch difficulties of one level's items, in the order of ``items``.

    A question everyone got right (or wrong) has no finite difficulty: it
    gets ``NaN`` and stays out of the fit.
    """
    difficulties = np.full(len(items), np.nan)
    fitted = ((items["p"] > 0) & (items["p"] < 1)).to_numpy()
    if fitted.sum() < 2:
        return difficulties
    level = items["level"].iloc[0]
    rows = reached[(reached["level"] == level).to_numpy()]
    item_keys = pd.MultiIndex.from_frame(items.loc[fitted, ["exercise_id", "question_index"]])
    row_keys = pd.MultiIndex.from_arrays([rows["exercise_id"].astype(str), rows["question_index"]])
    column = item_keys.get_indexer(row_keys)
    kept = column >= 0
    participant, _ = pd.factorize(rows["participant_id"].to_numpy()[kept])
    if participant.size == 0 or participant.max() + 1 < MIN_PUPILS:
        return difficulties
    matrix = np.full((participant.max() + 1, int(fitted.sum())), np.nan)
    matrix[participant, column[kept]] = rows["outcome"].map(FINAL_SCORES).to_numpy(float)[kept]
    matrix = _sample_rows(matrix, RASCH_PARTICIPANTS)
    # BFGS's line search may try a step where p rounds to 1; it backs off by itself.
    # One BLAS thread: the matrices are small, and threads that spin while waiting for a
    # busy core made the fit twice as slow on a loaded two-core server.
    with (
        threadpool_limits(1, user_api="blas"),
        np.errstate(divide="ignore", invalid="ignore", over="ignore"),
    ):
        fit = fit_rasch(matrix, sd=RASCH_SPREAD, tolerance=RASCH_TOLERANCE)
    if not np.isfinite(fit.difficulty).all():
        logger.warning("Rasch fit of level %s diverged: difficulties left out", level)
        return difficulties
    if not fit.converged:
        # BFGS stops on precision loss near the optimum, short of its strict gtol.
        logger.info("Rasch fit of level %s stopped short of its tolerance", level)
    difficulties[fitted] = fit.difficulty - fit.difficulty.mean()
    return difficulties


def _sample_rows(matrix: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` rows of the matrix, drawn at random with a fixed seed."""
    if matrix.shape[0] <= most:
        return matrix
    rows = np.random.default_rng(0).choice(matrix.shape[0], size=most, replace=False)
    return matrix[np.sort(rows)]


def speed(chosen: pd.DataFrame, limit_seconds: float = SPEED_LIMIT_SECONDS) -> pd.DataFrame:
    """Per exercise: participants, median response time (s), mean speed-accuracy score.

    The score is Math Garden's ``(2x − 1)(1 − t/d)``, 0 at or past ``d``
    (:func:`calculatice.scoring.speed_accuracy_score`, here on whole columns).
    Exercises answered by too few participants are dropped.
    """
    answered = chosen[chosen["outcome"].isin(["right", "wrong"]).to_numpy()]
    seconds = answered["response_ms"].to_numpy() / 1000
    sign = np.where((answered["outcome"] == "right").to_numpy(), 1.0, -1.0)
    score = np.where(
        seconds >= limit_seconds, 0.0, sign * (1 - np.clip(seconds, 0, None) / limit_seconds)
    )
    exercise = _codes(answered, "exercise_id")
    n = len(answered["exercise_id"].cat.categories)
    participants = _distinct_per_group(exercise, _codes(answered, "participant_id"), n)
    frame = pd.DataFrame({"exercise": exercise, "seconds": seconds, "score": score})
    grouped = frame.groupby("exercise")
    table = pd.DataFrame(
        {
            "participants": participants[grouped.size().index],
            "median_seconds": grouped["seconds"].median(),
            "speed_accuracy": grouped["score"].mean(),
        }
    )
    table.index = pd.Index(answered["exercise_id"].cat.categories[table.index], name="exercise_id")
    return table[table["participants"] >= MIN_PUPILS]


def error_categories(chosen: pd.DataFrame) -> pd.DataFrame:
    """Wrong answers per exercise × category of error (:data:`.mistakes.CATEGORIES`), with totals.

    A cell is hidden when fewer participants than the minimum gave its wrong
    answers, and so are the cells (totals included) that would give it back.
    """
    wrong = chosen[(chosen["outcome"] == "wrong").to_numpy()]
    exercises = wrong["exercise_id"].cat.categories
    if wrong.empty:
        return pd.DataFrame(0.0, index=pd.Index([], name="exercise_id"), columns=list(CATEGORIES))
    category = _categories_of(wrong)
    exercise = _codes(wrong, "exercise_id")
    n_categories = len(CATEGORIES)
    cells = exercise * n_categories + category
    size = len(exercises) * n_categories
    answers = np.bincount(cells, minlength=size).reshape(-1, n_categories)
    pupils = _distinct_per_group(cells, _codes(wrong, "participant_id"), size)
    pupils = pupils.reshape(-1, n_categories)
    table = pd.DataFrame(
        answers, index=pd.Index(exercises, name="exercise_id"), columns=list(CATEGORIES)
    )
    table = table[table.sum(axis=1) > 0]
    pupils_table = pd.DataFrame(pupils, index=pd.Index(exercises), columns=list(CATEGORIES)).loc[
        table.index
    ]
    # Cells with too few participants become 0 so that they are hidden first.
    hidden = suppress_small_cells(table.where(pupils_table >= MIN_PUPILS, 0))
    return with_margins(table).astype(float).mask(hidden)


def _categories_of(wrong: pd.DataFrame) -> np.ndarray:
    """The error category (its number in :data:`CATEGORIES`) of each wrong answer.

    Each distinct (question, expected, answer) is classified once.
    """
    key_columns = ["question_shown", "expected", "read_as"]
    # Codes shifted by one so that a missing value (code -1) becomes 0.
    codes = [_codes(wrong, column) + 1 for column in key_columns]
    spans = [len(wrong[column].cat.categories) + 1 for column in key_columns]
    key = (codes[0] * spans[1] + codes[1]) * spans[2] + codes[2]
    inverse, uniques = pd.factorize(key)
    names = list(CATEGORIES)
    labels = np.empty(len(uniques), dtype=np.int64)
    for number, combined in enumerate(uniques):
        shown, expected, read_as = (
            _category_value(wrong, column, code)
            for column, code in zip(
                key_columns,
                (
                    combined // spans[2] // spans[1],
                    combined // spans[2] % spans[1],
                    combined % spans[2],
                ),
                strict=True,
            )
        )
        labels[number] = names.index(_category(str(shown), str(expected), read_as))
    return labels[inverse]


def _category_value(frame: pd.DataFrame, column: str, shifted_code: int) -> str | None:
    return None if shifted_code == 0 else str(frame[column].cat.categories[shifted_code - 1])


def _category(shown: str, expected: str, read_as: str | None) -> str:
    expected_value = read_number(expected, allow_fraction=True)
    answer = read_number(read_as, allow_fraction=True) if isinstance(read_as, str) else None
    if expected_value is None or answer is None:
        return "other"
    return classify(shown, Fraction(expected_value), Fraction(answer))


def class_funnel(final: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Classes' success against questions answered, the funnel limits, and the hidden classes.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, int)
        Per class with enough participants: ``n`` and ``success`` (no id,
        in no particular order); the limits along ``n`` (``overall``,
        ``lower_95``, ``upper_95``, ``lower_998``, ``upper_998``); the
        number of classes left out.
    """
    reached = final[(final["outcome"] != "not_reached").to_numpy()]
    if reached.empty:
        return pd.DataFrame(columns=["n", "success"]), pd.DataFrame(), 0
    classroom = _codes(reached, "class_id")
    n_classes = len(reached["class_id"].cat.categories)
    answered = np.bincount(classroom, minlength=n_classes)
    right = np.bincount(
        classroom, weights=(reached["outcome"] == "right").to_numpy(), minlength=n_classes
    )
    pupils = _distinct_per_group(classroom, _codes(reached, "participant_id"), n_classes)
    present = answered > 0
    shown = present & (pupils >= MIN_PUPILS)
    overall = right.sum() / answered.sum()
    classes = pd.DataFrame({"n": answered[shown], "success": right[shown] / answered[shown]})
    # In the order of the pseudonyms, which says nothing: never sorted by success.
    return classes, funnel_limits(overall, answered[present]), int((present & ~shown).sum())


def funnel_limits(overall: float, sizes: np.ndarray, points: int = 60) -> pd.DataFrame:
    """The funnel's limits ``p̄ ± z·sqrt(p̄(1 − p̄)/n)`` along ``n``, for 95 % and 99.8 %."""
    low, high = max(int(sizes.min()), 1), max(int(sizes.max()), 2)
    n = np.unique(np.geomspace(low, high, points).round().astype(int))
    limits = pd.DataFrame({"n": n, "overall": overall})
    spread = np.sqrt(overall * (1 - overall) / n)
    for coverage in FUNNEL_LEVELS:
        z = norm.ppf(0.5 + coverage / 2)
        name = f"{coverage * 100:g}".replace(".", "")
        limits[f"lower_{name}"] = np.clip(overall - z * spread, 0, 1)
        limits[f"upper_{name}"] = np.clip(overall + z * spread, 0, 1)
    return limits
