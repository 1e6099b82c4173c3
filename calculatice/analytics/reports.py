"""The inspectors' tables: participation, scores, speed, errors, and funnel limits for classes.

Every function takes the (anonymised) tidy table and returns an aggregate:
nothing here lists a pupil. Classes are compared with funnel limits
(Spiegelhalter 2005), never ranked.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.stats import norm

from calculatice.analytics.constants import FUNNEL_LEVELS
from calculatice.analytics.mistakes import CATEGORIES, classify
from calculatice.numbers import read_number
from calculatice.scoring import speed_accuracy_score


def participation(table: pd.DataFrame, by: str = "district") -> pd.DataFrame:
    """How many schools, classes and participants took part, per ``by`` (district, level…)."""
    return table.groupby(by).agg(
        schools=("school_id", "nunique"),
        classes=("class_id", "nunique"),
        participants=("participant_id", "nunique"),
        answers=("outcome", "size"),
    )


def participant_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Each participant's score (questions ended right) and total, with level, class, sector."""
    final = table.drop_duplicates(["participant_id", "exercise_id", "question_index"], keep="last")
    return final.groupby("participant_id").agg(
        level=("level", "first"),
        class_id=("class_id", "first"),
        district=("district", "first"),
        sector=("sector", "first"),
        score=("outcome", lambda outcome: int((outcome == "right").sum())),
        total=("outcome", "size"),
    )


def score_distribution(table: pd.DataFrame, by: str = "level") -> pd.DataFrame:
    """Quartiles and mean of the success rate (score / total), per ``by``."""
    scores = participant_scores(table)
    rate = scores["score"] / scores["total"]
    return rate.groupby(scores[by]).describe()[["count", "mean", "25%", "50%", "75%"]]


def speed(table: pd.DataFrame, limit_seconds: float = 20.0) -> pd.DataFrame:
    """Per exercise: median response time (answered tries) and mean speed-accuracy score.

    The speed-accuracy score is :func:`calculatice.scoring.speed_accuracy_score`
    with ``limit_seconds`` as the time limit: fast right answers near 1, fast
    wrong ones near −1.
    """
    answered = table[table["outcome"].isin(["right", "wrong"])]
    seconds = answered["response_ms"].astype(float) / 1000
    correct = answered["outcome"].eq("right").to_numpy()
    scores = [
        speed_accuracy_score(bool(right), float(time), limit_seconds)
        for right, time in zip(correct, seconds, strict=True)
    ]
    answered = answered.assign(seconds=seconds, speed_accuracy=scores)
    return answered.groupby("exercise_id").agg(
        median_seconds=("seconds", "median"), speed_accuracy=("speed_accuracy", "mean")
    )


def error_categories(table: pd.DataFrame, by: str = "exercise_id") -> pd.DataFrame:
    """Wrong typed answers counted by category (:data:`~.mistakes.CATEGORIES`), per ``by``."""
    wrong = table[table["outcome"] == "wrong"]
    pairs = wrong[["question_shown", "expected", "read_as"]].drop_duplicates()
    category = {
        (shown, expected, read_as): _category(shown, expected, read_as)
        for shown, expected, read_as in pairs.itertuples(index=False)
    }
    labels = [
        category[key]
        for key in zip(wrong["question_shown"], wrong["expected"], wrong["read_as"], strict=True)
    ]
    counts = pd.crosstab(wrong[by], pd.Series(labels, index=wrong.index, name="category"))
    return counts.reindex(columns=list(CATEGORIES), fill_value=0)


def _category(shown: str, expected: str, read_as: str | None) -> str:
    expected_value = read_number(str(expected), allow_fraction=True)
    answer = read_number(str(read_as), allow_fraction=True) if isinstance(read_as, str) else None
    if expected_value is None or answer is None:
        return "other"
    return classify(shown, Fraction(expected_value), Fraction(answer))


def class_funnel(table: pd.DataFrame) -> pd.DataFrame:
    """Each class's success rate, size, and the funnel limits around the overall rate.

    The limits are the normal approximation of a binomial proportion with
    ``n`` questions answered: ``p̄ ± z·sqrt(p̄(1 − p̄)/n)`` for 95 % and 99.8 %.
    Class ids are pseudonyms; plot success against ``n``, do not sort.
    """
    final = table.drop_duplicates(["participant_id", "exercise_id", "question_index"], keep="last")
    final = final[final["outcome"] != "not_reached"]
    classes = final.groupby("class_id").agg(
        n=("outcome", "size"),
        right=("outcome", lambda outcome: int((outcome == "right").sum())),
        pupils=("participant_id", "nunique"),
        level=("level", "first"),
    )
    overall = classes["right"].sum() / classes["n"].sum()
    classes["success"] = classes["right"] / classes["n"]
    spread = np.sqrt(overall * (1 - overall) / classes["n"])
    for coverage in FUNNEL_LEVELS:
        z = norm.ppf(0.5 + coverage / 2)
        name = f"{coverage * 100:g}".replace(".", "")
        classes[f"lower_{name}"] = (overall - z * spread).clip(lower=0)
        classes[f"upper_{name}"] = (overall + z * spread).clip(upper=1)
    classes["overall"] = overall
    return classes
