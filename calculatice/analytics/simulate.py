"""A realistic rally, simulated: the tidy answer table of many pairs of pupils.

The questions are the bank's, drawn by the real engines; every answer goes
through the real marking rules (:class:`~calculatice.scoring.ExerciseRun`),
so attempts, time-outs and not-reached questions follow them exactly. What
is invented is the pupils:

- abilities: normal, shifted by level, by the school's sector and by a
  class and a school effect;
- item difficulty: from the question's features (digits of the answer,
  carries, the exercise's level), on the logit scale;
- right or wrong by the Rasch model, ``P = 1 / (1 + exp(-(θ - b)))``;
- response times log-normal, slower on harder items and for weaker pupils;
- wrong answers typical of mental arithmetic (:mod:`.mistakes`);
- questions not reached when the exercise's time runs out.

Random numbers are drawn with numpy, in bulk, from one seed: the same seed
gives the same table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from calculatice.analytics.mistakes import typical_wrong_answers
from calculatice.analytics.tidy import COLUMNS, validate
from calculatice.catalogue import LEVELS, Exercise, load_bank
from calculatice.engines.base import Kind, Outcome
from calculatice.numbers import write_number
from calculatice.scoring import ExerciseRun

logger = logging.getLogger(__name__)

SECTOR_SHARES = {"public": 0.62, "rep": 0.16, "rep_plus": 0.08, "private": 0.14}
"""How often a school of each sector is drawn (roughly the Nord department's mix)."""

SECTOR_SHIFT = {"public": 0.0, "rep": -0.35, "rep_plus": -0.6, "private": 0.15}
"""Ability shift by sector, in logits: the gaps national evaluations report, rounded."""

RALLY_START = pd.Timestamp("2026-03-17T08:30:00Z")
"""When the simulated rally opens; classes start within the following six hours."""

EMPTY_SHARE = 0.03
"""Share of first tries that are unreadable (empty): they cost no attempt."""

_OUTCOME_CODES = ("right", "wrong", "empty", "timeout", "not_reached")


@dataclass(frozen=True)
class RallyShape:
    """The size of a simulated rally; counts are per parent (schools per district…)."""

    districts: int = 3
    schools: int = 4
    classes: int = 2
    pairs: int = 12
    exercises: int = 5
    levels: tuple[str, ...] = LEVELS
    rally: str = "rallye-simule"
    seed: int = 0


@dataclass
class _Item:
    exercise: Exercise
    question_index: int
    shown: str
    expected: str
    right_typed: str
    difficulty: float
    wrong_typed: tuple[str, ...]


def simulate(shape: RallyShape) -> pd.DataFrame:
    """Simulate a rally and return its tidy answer table (ids already pseudonyms).

    Parameters
    ----------
    shape
        How many districts, schools, classes, pairs and exercises, and the seed.

    Returns
    -------
    pandas.DataFrame
        The validated tidy table, one row per answer given.
    """
    rng = np.random.default_rng(shape.seed)
    pupils = _population(shape, rng)
    rounds = _rounds(shape)
    parts = [
        _answers_of_level(shape, rounds[level], pupils[pupils["level"] == level], rng)
        for level in shape.levels
        if rounds[level] and (pupils["level"] == level).any()
    ]
    table = pd.concat(parts, ignore_index=True)
    logger.info("simulated %d answers for %d participants", len(table), len(pupils))
    return validate(table, "simulation")


def _population(shape: RallyShape, rng: np.random.Generator) -> pd.DataFrame:
    """Participants with their class, school, district, sector, level and ability."""
    n_schools = shape.districts * shape.schools
    n_classes = n_schools * shape.classes
    sectors = rng.choice(list(SECTOR_SHARES), size=n_schools, p=list(SECTOR_SHARES.values()))
    school_effect = rng.normal(0.0, 0.25, n_schools)
    class_level = rng.choice(np.array(shape.levels), size=n_classes)
    class_effect = rng.normal(0.0, 0.3, n_classes)

    class_of = np.repeat(np.arange(n_classes), shape.pairs)
    school_of = class_of // shape.classes
    district_of = school_of // shape.schools
    shift = np.array([SECTOR_SHIFT[sector] for sector in sectors])
    ability = (
        rng.normal(0.6, 1.0, class_of.size)
        + shift[school_of]
        + school_effect[school_of]
        + class_effect[class_of]
    )
    return pd.DataFrame(
        {
            "participant_id": [f"p{number:07d}" for number in range(class_of.size)],
            "class_id": [f"c{number:05d}" for number in class_of],
            "school_id": [f"s{number:05d}" for number in school_of],
            "district": [f"Circonscription {number + 1:02d}" for number in district_of],
            "sector": sectors[school_of],
            "level": class_level[class_of],
            "ability": ability,
            "start": rng.uniform(0, 6 * 3600, n_classes)[class_of],
        }
    )


def _rounds(shape: RallyShape) -> dict[str, list[list[_Item]]]:
    """Each level's round: its exercises (typed-number ones) and their questions."""
    bank = load_bank()
    rounds = {}
    for level in shape.levels:
        chosen = [
            exercise
            for exercise in bank.select(levels=[level])
            if exercise.questions(shape.seed)[0].kind is Kind.NUMBER
        ][: shape.exercises]
        rounds[level] = [_items(exercise, f"{shape.rally}/{level}", level) for exercise in chosen]
    return rounds


def _items(exercise: Exercise, seed: str, level: str) -> list[_Item]:
    items = []
    for index, question in enumerate(exercise.questions(seed)):
        expected = Fraction(question.expected)
        wrong = typical_wrong_answers(question.prompt, expected) or {"other": expected + 3}
        items.append(
            _Item(
                exercise=exercise,
                question_index=index,
                shown=question.prompt,
                expected=question.solution,
                right_typed=question.solution,
                difficulty=_difficulty(question.features, exercise, level),
                wrong_typed=tuple(write_number(answer) for answer in wrong.values()),
            )
        )
    return items


def _difficulty(features, exercise: Exercise, level: str) -> float:
    """An item's difficulty in logits, from its features and how early its level is."""
    digits = float(features.get("answer_digits", 2))
    carries = float(features.get("carries", 0)) + float(features.get("borrows", 0))
    # An exercise meant for an older class than this one is harder for it.
    gap = max(LEVELS.index(min(exercise.levels, key=LEVELS.index)) - LEVELS.index(level), 0)
    return -1.2 + 0.45 * (digits - 1) + 0.5 * carries + 0.6 * gap


def _answers_of_level(
    shape: RallyShape, exercises: list[list[_Item]], pupils: pd.DataFrame, rng
) -> pd.DataFrame:
    """Every answer of one level's participants to its round."""
    columns: dict[str, list] = {name: [] for name in ("pupil", "item", "attempt", "outcome")}
    columns.update(typed=[], response_ms=[], at_ms=[])
    flat_items = [item for items in exercises for item in items]
    offsets = np.cumsum([0] + [len(items) for items in exercises])
    abilities = pupils["ability"].to_numpy()
    elapsed = np.zeros(len(pupils))
    for number, items in enumerate(exercises):
        _run_exercise(items, offsets[number], abilities, elapsed, rng, columns)
    return _tidy_rows(shape, columns, flat_items, pupils)


def _run_exercise(items, first_item, abilities, elapsed, rng, columns) -> None:
    """Draw every participant's tries at one exercise in bulk, then mark them with ExerciseRun."""
    common = items[0].exercise.common
    n, questions, tries = abilities.size, len(items), common.attempts + 1
    difficulty = np.array([item.difficulty for item in items])
    logit = abilities[:, None, None] - difficulty[None, :, None]
    # A second try is a little less likely right: the easy slips are already fixed.
    logit = logit - 0.4 * (np.arange(tries) > 0)[None, None, :]
    right = rng.random((n, questions, tries)) < 1.0 / (1.0 + np.exp(-logit))
    empty = rng.random((n, questions)) < EMPTY_SHARE
    median_s = 3.0 + 1.5 * np.clip(difficulty[None, :] - abilities[:, None] + 1.0, 0, None)
    seconds = median_s[:, :, None] * rng.lognormal(0.0, 0.45, (n, questions, tries))
    wrong_pick = rng.integers(0, 1 << 30, (n, questions, tries))

    for pupil in range(n):
        run = ExerciseRun(common, started_at=0.0)
        now = 0.0
        for question in range(questions):
            if run.finished:
                break
            run.start_question(now)
            shown_at = now
            item = first_item + question
            if empty[pupil, question]:
                now += 1.0
                step = run.validate(Outcome.EMPTY, now)
                # The second spent on an empty answer may pass a deadline: then it timed out.
                outcome, typed = ("empty", "") if step.outcome == "empty" else ("timeout", None)
                _add(columns, pupil, item, 0, outcome, typed, now - shown_at, elapsed[pupil] + now)
                if step.question_done:
                    continue
            for attempt in range(tries):
                now += float(seconds[pupil, question, attempt])
                deadline = _deadline(run)
                if deadline is not None and now > deadline:
                    now = deadline
                    step = run.time_out(None, now)
                    ms = now - shown_at
                    _add(
                        columns,
                        pupil,
                        item,
                        step.attempt,
                        "timeout",
                        None,
                        ms,
                        elapsed[pupil] + now,
                    )
                    break
                is_right = bool(right[pupil, question, attempt])
                step = run.validate(Outcome.RIGHT if is_right else Outcome.WRONG, now)
                typed = -1 if is_right else int(wrong_pick[pupil, question, attempt])
                outcome = "right" if is_right else "wrong"
                _add(
                    columns,
                    pupil,
                    item,
                    step.attempt,
                    outcome,
                    typed,
                    now - shown_at,
                    elapsed[pupil] + now,
                )
                if step.question_done:
                    break
        for question in range(questions - run.not_reached, questions):
            _add(
                columns,
                pupil,
                first_item + question,
                0,
                "not_reached",
                None,
                None,
                elapsed[pupil] + now,
            )
        elapsed[pupil] += now + 20.0


def _deadline(run: ExerciseRun) -> float | None:
    deadlines = [d for d in (run.question_deadline(), run.exercise_deadline()) if d is not None]
    return min(deadlines) if deadlines else None


def _add(columns, pupil, item, attempt, outcome, typed, seconds, at_seconds) -> None:
    columns["pupil"].append(pupil)
    columns["item"].append(item)
    columns["attempt"].append(attempt)
    columns["outcome"].append(outcome)
    columns["typed"].append(typed)
    columns["response_ms"].append(None if seconds is None else round(seconds * 1000))
    columns["at_ms"].append(round(at_seconds * 1000))


def _tidy_rows(shape: RallyShape, columns, items: list[_Item], pupils: pd.DataFrame):
    """Turn the compact rows (indices into items and pupils) into the tidy table's columns."""
    item_index = np.array(columns["item"], dtype=np.int64)
    pupil_index = np.array(columns["pupil"], dtype=np.int64)
    typed = [
        _typed_text(items[item], choice)
        for item, choice in zip(columns["item"], columns["typed"], strict=True)
    ]
    chosen = pupils.iloc[pupil_index].reset_index(drop=True)
    start = pd.to_timedelta(chosen["start"].to_numpy(), unit="s")
    at = RALLY_START + start + pd.to_timedelta(np.array(columns["at_ms"]), unit="ms")
    table = pd.DataFrame(
        {
            "rally": shape.rally,
            "level": chosen["level"],
            "round": chosen["level"].map(lambda level: f"manche-{level}"),
            "exercise_id": [items[i].exercise.id for i in item_index],
            "engine": [items[i].exercise.engine for i in item_index],
            "question_index": [items[i].question_index for i in item_index],
            "question_shown": [items[i].shown for i in item_index],
            "expected": [items[i].expected for i in item_index],
            "typed": typed,
            "read_as": typed,
            "outcome": columns["outcome"],
            "attempt_number": columns["attempt"],
            "response_ms": pd.array(columns["response_ms"], dtype="Int64"),
            "answered_at": at.floor("ms"),
            "participant_id": chosen["participant_id"],
            "class_id": chosen["class_id"],
            "school_id": chosen["school_id"],
            "district": chosen["district"],
            "sector": chosen["sector"],
        }
    )
    return table[list(COLUMNS)]


def _typed_text(item: _Item, choice: int | str | None) -> str | None:
    if choice is None or choice == "":
        return None if choice is None else ""
    if choice == -1:
        return item.right_typed
    return item.wrong_typed[choice % len(item.wrong_typed)]
