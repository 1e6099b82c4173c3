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
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from threadpoolctl import threadpool_limits

from calculatice.analytics.constants import CSV_NULL, FUNNEL_LEVELS, LEVELS, OUTCOMES
from calculatice.analytics.errors import TableError
from calculatice.analytics.items import RaschData, fit_rasch_data
from calculatice.analytics.mistakes import CATEGORIES, classify
from calculatice.analytics.privacy import MIN_PUPILS, suppress_small_cells, with_margins
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

RASCH_SPREAD: float | None = None
"""The spread of abilities of the Rasch fit: ``None`` estimates it (the Rasch model proper).

It used to be fixed at 1 because its estimate ran off to infinity: the
old fit took ``log(1 − p)`` of probabilities rounded to 1, got ``0 × −inf
= NaN`` at wide spreads, and BFGS then wandered. The fit now works in log
space (:func:`.items.fit_rasch_data`) and finds a finite spread; a fit
that still fails falls back to 1 with a warning.
"""


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
    # Arrow buffers are freed as each column is converted: one copy in memory, not two.
    answers = arrow.to_pandas(split_blocks=True, self_destruct=True)
    del arrow
    if path.suffix.lower() != ".parquet":
        answers = _text_nulls(answers)
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
    # Text is read straight into dictionaries; CSV_NULL becomes missing in pandas, where
    # removing a category recodes integer codes instead of comparing millions of strings.
    return pa_csv.read_csv(path, convert_options=convert)


def _text_nulls(answers: pd.DataFrame) -> pd.DataFrame:
    """Turn the CSV's ``\\N`` in text columns into missing values."""
    nulls = {
        column: answers[column].cat.remove_categories([CSV_NULL])
        for column in TEXT_COLUMNS
        if CSV_NULL in answers[column].cat.categories
    }
    return answers.assign(**nulls) if nulls else answers


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
    """The answers of one rally, level and district (each ``None`` for all).

    With nothing to filter, the table itself (no copy).
    """
    mask = None
    for column in ("rally", "level", "district"):
        value = getattr(selection, column)
        if value is not None:
            matches = (answers[column] == value).to_numpy()
            mask = matches if mask is None else mask & matches
    return answers if mask is None else answers[mask]


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


# Every table below works on integer codes: text columns are categories (their
# codes index their categories, unused ones included), read as numpy arrays;
# no table copies the answers.

FINAL_COLUMNS = ("level", "exercise_id", "question_index", "participant_id", "class_id", "outcome")
"""The columns the tables read from each question's final row."""


def _coded(answers: pd.DataFrame) -> pd.DataFrame:
    """The answers with text as categories and numbers as numpy types (as they are, if so)."""
    converted = {}
    for column in TEXT_COLUMNS:
        if column in answers and not isinstance(answers[column].dtype, pd.CategoricalDtype):
            converted[column] = answers[column].astype("category")
    if answers["question_index"].dtype.kind not in "iu":
        converted["question_index"] = answers["question_index"].to_numpy(dtype=np.int64)
    if answers["response_ms"].dtype != np.float64:
        values = answers["response_ms"].to_numpy(dtype=float, na_value=np.nan)
        converted["response_ms"] = values
    if not converted:
        return answers
    return answers.assign(**converted)


def _codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A category column's codes as int64 (``-1`` for missing)."""
    return frame[column].cat.codes.to_numpy().astype(np.int64)


def _size(frame: pd.DataFrame, column: str) -> int:
    return len(frame[column].cat.categories)


def _is(frame: pd.DataFrame, column: str, value: str) -> np.ndarray:
    """``frame[column] == value`` as a numpy array, on the codes of a category column."""
    if not isinstance(frame[column].dtype, pd.CategoricalDtype):
        return (frame[column] == value).to_numpy(dtype=bool, na_value=False)
    categories = frame[column].cat.categories
    if value not in categories:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].cat.codes.to_numpy() == categories.get_loc(value)


def _distinct_per_group(groups: np.ndarray, members: np.ndarray, n_groups: int) -> np.ndarray:
    """How many distinct members each group has (e.g. participants per class)."""
    span = int(members.max()) + 1 if members.size else 1
    pairs = pd.unique(groups * span + members)
    return np.bincount(pairs // span, minlength=n_groups)


def _item_codes(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """One integer per (exercise, question), and the number of questions per exercise."""
    questions = int(frame["question_index"].max()) + 1 if len(frame) else 1
    item = _codes(frame, "exercise_id") * questions
    return item + frame["question_index"].to_numpy(), questions


def _final_rows(chosen: pd.DataFrame) -> pd.DataFrame:
    """The last row of each participant's question (the question's result), some columns."""
    if chosen.empty:
        return chosen[list(FINAL_COLUMNS)]
    item, questions = _item_codes(chosen)
    span = questions * _size(chosen, "exercise_id")
    key = _codes(chosen, "participant_id") * span + item
    last = ~pd.Series(key).duplicated(keep="last").to_numpy()
    return chosen[list(FINAL_COLUMNS)][last]


def summary(chosen: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Participants, classes, schools, answers and success rate of the selection.

    Every figure is hidden when the selection has fewer participants than the minimum.
    """
    participants = chosen["participant_id"].nunique()
    reached = ~_is(final, "outcome", "not_reached")
    right = _is(final, "outcome", "right")
    success = float(right.sum() / reached.sum()) if reached.any() else np.nan
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
    n_districts, n_levels = _size(chosen, "district"), _size(chosen, "level")
    counts = _distinct_per_group(
        districts * n_levels + levels, _codes(chosen, "participant_id"), n_districts * n_levels
    )
    table = pd.DataFrame(
        counts.reshape(n_districts, n_levels),
        index=pd.Index(chosen["district"].cat.categories, name="district"),
        columns=pd.Index(chosen["level"].cat.categories, name="level"),
    )
    # Districts and levels of other selections are categories too: not cells of this table.
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
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
    n = _size(final, "participant_id")
    right = np.bincount(participant, weights=_is(final, "outcome", "right"), minlength=n)
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
    (:func:`.items.fit_rasch_data`, every participant of the level) on the
    questions reached by enough participants; not-reached questions are
    missing, not wrong. A question everyone got right (or wrong) has no
    finite difficulty: ``b`` is ``NaN``.
    """
    columns = ["level", "exercise_id", "question_index", "participants", "p", "b"]
    reached = ~_is(final, "outcome", "not_reached")
    if not reached.any():
        return pd.DataFrame(columns=columns)
    level = _codes(final, "level")[reached]
    item, questions = _item_codes(final)
    item = item[reached]
    participant = _codes(final, "participant_id")[reached]
    right = _is(final, "outcome", "right")[reached]
    n_items = questions * _size(final, "exercise_id")
    cell = level * n_items + item
    count = np.bincount(cell, minlength=_size(final, "level") * n_items)
    wins = np.bincount(cell, weights=right, minlength=count.size)
    shown = np.flatnonzero(count >= MIN_PUPILS)
    levels = final["level"].cat.categories
    exercises = final["exercise_id"].cat.categories
    items = pd.DataFrame(
        {
            "level": np.asarray(levels[shown // n_items], dtype=object),
            "exercise_id": np.asarray(exercises[shown % n_items // questions], dtype=object),
            "question_index": shown % questions,
            "participants": count[shown],
            "p": wins[shown] / count[shown],
            "b": np.nan,
        }
    )
    for code in np.unique(shown // n_items):
        in_level = (shown // n_items) == code
        of_level = level == code
        items.loc[in_level, "b"] = _rasch_difficulties(
            str(levels[code]),
            participant[of_level],
            item[of_level],
            right[of_level],
            shown[in_level] % n_items,
        )
    order = items["level"].map({name: rank for rank, name in enumerate(LEVELS)})
    return (
        items.assign(_order=order)
        .sort_values(["_order", "exercise_id", "question_index"])[columns]
        .reset_index(drop=True)
    )


def _rasch_difficulties(
    level: str,
    participant: np.ndarray,
    item: np.ndarray,
    right: np.ndarray,
    items: np.ndarray,
) -> np.ndarray:
    """Centred Rasch difficulties of one level's ``items`` from its reached final rows.

    A question everyone got right (or wrong) has no finite difficulty: it
    gets ``NaN`` and stays out of the fit.
    """
    difficulties = np.full(items.size, np.nan)
    column = np.full(int(max(item.max(), items.max())) + 1, -1)
    column[items] = np.arange(items.size)
    column = column[item]
    kept = column >= 0
    # Rows numbered by participant code, without sorting.
    present = np.zeros(int(participant.max()) + 1, dtype=bool)
    present[participant[kept]] = True
    row = np.cumsum(present) - 1
    if present.sum() < MIN_PUPILS:
        return difficulties
    matrix = np.full((int(present.sum()), items.size), np.nan)
    matrix[row[participant[kept]], column[kept]] = right[kept]
    data = RaschData.from_scores(matrix)
    # One BLAS thread: the matrices are small, and threads that spin while waiting for a
    # busy core made the fit twice as slow on a loaded two-core server.
    with threadpool_limits(1, user_api="blas"):
        fit = fit_rasch_data(data, sd=RASCH_SPREAD)
        if not (fit.converged and np.isfinite(fit.sd)):
            logger.warning("Rasch fit of level %s: spread not estimated, fixed at 1", level)
            fit = fit_rasch_data(data, sd=1.0)
    if not fit.converged:
        logger.warning("Rasch fit of level %s did not converge: difficulties left out", level)
        return difficulties
    logger.info("Rasch fit of level %s: ability spread %.2f logit", level, fit.sd)
    finite = np.isfinite(fit.difficulty)
    if finite.sum() < 2:
        return difficulties
    difficulties[finite] = fit.difficulty[finite] - fit.difficulty[finite].mean()
    return difficulties


def speed(chosen: pd.DataFrame, limit_seconds: float = SPEED_LIMIT_SECONDS) -> pd.DataFrame:
    """Per exercise: participants, median response time (s), mean speed-accuracy score.

    The score is Math Garden's ``(2x − 1)(1 − t/d)``, 0 at or past ``d``
    (:func:`calculatice.scoring.speed_accuracy_score`, here on whole columns).
    Exercises answered by too few participants are dropped.
    """
    right = _is(chosen, "outcome", "right")
    answered = right | _is(chosen, "outcome", "wrong")
    seconds = chosen["response_ms"].to_numpy()[answered] / 1000
    sign = np.where(right[answered], 1.0, -1.0)
    score = np.where(
        seconds >= limit_seconds, 0.0, sign * (1 - np.clip(seconds, 0, None) / limit_seconds)
    )
    exercise = _codes(chosen, "exercise_id")[answered]
    n = _size(chosen, "exercise_id")
    participants = _distinct_per_group(exercise, _codes(chosen, "participant_id")[answered], n)
    answers = np.bincount(exercise, minlength=n)
    present = np.flatnonzero(answers > 0)
    table = pd.DataFrame(
        {
            "participants": participants[present],
            "median_seconds": _group_medians(exercise, seconds, n)[present],
            "speed_accuracy": np.bincount(exercise, weights=score, minlength=n)[present]
            / answers[present],
        },
        index=pd.Index(chosen["exercise_id"].cat.categories[present], name="exercise_id"),
    )
    return table[table["participants"] >= MIN_PUPILS]


def _group_medians(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """The median of ``values`` in each group (``NaN`` for an empty one; missing values skipped).

    The values are put in group order (a stable sort of small integers), then
    each group's middle one or two are found by partial sorting.
    """
    present = ~np.isnan(values)
    groups, values = groups[present], values[present]
    order = np.argsort(groups, kind="stable")
    ordered = values[order]
    sizes = np.bincount(groups, minlength=n_groups)
    ends = np.cumsum(sizes)
    medians = np.full(n_groups, np.nan)
    for group in np.flatnonzero(sizes):
        run = ordered[ends[group] - sizes[group] : ends[group]]
        middle = (run.size - 1) // 2, run.size // 2
        run = np.partition(run, middle)
        medians[group] = (run[middle[0]] + run[middle[1]]) / 2
    return medians


def error_categories(chosen: pd.DataFrame) -> pd.DataFrame:
    """Wrong answers per exercise × category of error (:data:`.mistakes.CATEGORIES`), with totals.

    A cell is hidden when fewer participants than the minimum gave its wrong
    answers, and so are the cells (totals included) that would give it back.
    """
    wrong = _is(chosen, "outcome", "wrong")
    exercises = chosen["exercise_id"].cat.categories
    if not wrong.any():
        return pd.DataFrame(0.0, index=pd.Index([], name="exercise_id"), columns=list(CATEGORIES))
    category = _categories_of(chosen, wrong)
    exercise = _codes(chosen, "exercise_id")[wrong]
    n_categories = len(CATEGORIES)
    cells = exercise * n_categories + category
    size = len(exercises) * n_categories
    answers = np.bincount(cells, minlength=size).reshape(-1, n_categories)
    pupils = _distinct_per_group(cells, _codes(chosen, "participant_id")[wrong], size)
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


def _categories_of(chosen: pd.DataFrame, wrong: np.ndarray) -> np.ndarray:
    """The error category (its number in :data:`CATEGORIES`) of each wrong answer.

    Each distinct (question, expected, answer) is classified once.
    """
    key_columns = ["question_shown", "expected", "read_as"]
    # Codes shifted by one so that a missing value (code -1) becomes 0.
    codes = [_codes(chosen, column)[wrong] + 1 for column in key_columns]
    spans = [_size(chosen, column) + 1 for column in key_columns]
    key = (codes[0] * spans[1] + codes[1]) * spans[2] + codes[2]
    inverse, uniques = pd.factorize(key)
    names = list(CATEGORIES)
    texts = {column: [None, *chosen[column].cat.categories.tolist()] for column in key_columns}
    labels = np.empty(len(uniques), dtype=np.int64)
    for number, combined in enumerate(uniques):
        shown, expected, read_as = (
            texts[column][code]
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
    reached = ~_is(final, "outcome", "not_reached")
    if not reached.any():
        return pd.DataFrame(columns=["n", "success"]), pd.DataFrame(), 0
    classroom = _codes(final, "class_id")[reached]
    n_classes = _size(final, "class_id")
    answered = np.bincount(classroom, minlength=n_classes)
    right = np.bincount(
        classroom, weights=_is(final, "outcome", "right")[reached], minlength=n_classes
    )
    pupils = _distinct_per_group(classroom, _codes(final, "participant_id")[reached], n_classes)
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
        z = NormalDist().inv_cdf(0.5 + coverage / 2)
        name = f"{coverage * 100:g}".replace(".", "")
        limits[f"lower_{name}"] = np.clip(overall - z * spread, 0, 1)
        limits[f"upper_{name}"] = np.clip(overall + z * spread, 0, 1)
    return limits
