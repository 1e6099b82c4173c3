"""The rally simulator: seeded, faithful to the marking rules, with typical errors."""

from __future__ import annotations

import pandas as pd
import pytest

from calculatice.analytics.mistakes import classify
from calculatice.analytics.simulate import RallyShape, simulate
from calculatice.catalogue import load_bank

SHAPE = RallyShape(districts=2, schools=2, classes=2, pairs=6, exercises=4)


@pytest.fixture(scope="module")
def rally() -> pd.DataFrame:
    return simulate(SHAPE)


def test_same_seed_gives_the_same_table(rally):
    pd.testing.assert_frame_equal(simulate(SHAPE), rally)
    other = simulate(RallyShape(**{**SHAPE.__dict__, "seed": 1}))
    assert not other["outcome"].equals(rally["outcome"])


def test_every_participant_is_counted_once_per_unit(rally):
    assert rally["participant_id"].nunique() == 2 * 2 * 2 * 6
    assert rally["class_id"].nunique() == 8
    assert rally.groupby("class_id")["school_id"].nunique().eq(1).all()


def test_answers_follow_the_marking_rules(rally):
    bank = load_bank()
    question = rally.groupby(["participant_id", "exercise_id", "question_index"])
    rights = question["outcome"].apply(lambda outcome: (outcome == "right").sum())
    assert rights.max() == 1
    last = question.tail(1)
    # A question ends right, wrong after its last attempt, timed out, or not reached.
    assert set(last["outcome"]) <= {"right", "wrong", "timeout", "not_reached"}
    attempts = {
        exercise_id: bank.get(exercise_id).common.attempts
        for exercise_id in rally["exercise_id"].unique()
    }
    assert (rally["attempt_number"] <= rally["exercise_id"].map(attempts)).all()
    assert rally.loc[rally["outcome"] == "not_reached", "response_ms"].isna().all()
    assert rally.loc[rally["outcome"] != "not_reached", "response_ms"].notna().all()


def test_questions_come_from_the_bank(rally):
    bank = load_bank()
    row = rally.iloc[0]
    exercise = bank.get(row["exercise_id"])
    questions = exercise.questions(f"{SHAPE.rally}/{row['level']}")
    assert row["question_shown"] == questions[row["question_index"]].prompt
    assert row["engine"] == exercise.engine


def test_wrong_answers_are_typical_ones(rally):
    wrong = rally[rally["outcome"] == "wrong"].head(300)
    categories = [
        classify(shown, int(expected), int(typed))
        for shown, expected, typed in zip(
            wrong["question_shown"], wrong["expected"], wrong["typed"], strict=True
        )
        if expected.isdigit() and typed.isdigit()
    ]
    assert len(categories) > 100
    assert categories.count("other") < len(categories) / 10


def test_weaker_sectors_and_harder_items_score_lower():
    table = simulate(RallyShape(districts=4, schools=6, classes=2, pairs=10, levels=("CM1",)))
    final = table.drop_duplicates(["participant_id", "exercise_id", "question_index"], keep="last")
    rate = final["outcome"].eq("right").groupby(final["sector"]).mean()
    assert rate["rep_plus"] < rate["public"]
