"""Item statistics checked against published results, and the inspectors' aggregate tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from calculatice.analytics.items import (
    classical_items,
    cronbach_alpha,
    eap_abilities,
    fit_rasch,
    score_matrix,
)
from calculatice.analytics.mistakes import classify, typical_wrong_answers
from calculatice.analytics.reports import (
    class_funnel,
    error_categories,
    participation,
    score_distribution,
    speed,
)
from calculatice.analytics.simulate import RallyShape, simulate

# LSAT section 6 (Bock and Lieberman 1970): how many of 1,000 examinees gave each
# response pattern to the 5 items, patterns in binary order 00000, 00001, …, 11111.
LSAT6_COUNTS = [
    3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15,
    10, 29, 14, 81, 3, 28, 15, 80, 16, 56, 21, 173, 11, 61, 28, 298,
]  # fmt: skip
LSAT6_PATTERNS = np.array(list(itertools.product([0, 1], repeat=5)), dtype=float)


def test_lsat6_has_a_thousand_examinees():
    assert sum(LSAT6_COUNTS) == 1000


def test_rasch_with_unit_spread_matches_ltm_on_lsat6():
    # ltm: rasch(LSAT, constraint = cbind(6, 1)); Log.Lik -2473.054.
    fit = fit_rasch(LSAT6_PATTERNS, sd=1.0, weights=LSAT6_COUNTS)

    assert fit.converged
    np.testing.assert_allclose(fit.difficulty, [-2.872, -1.063, -0.258, -1.388, -2.219], atol=0.01)
    assert fit.log_likelihood == pytest.approx(-2473.054, abs=0.01)


def test_rasch_with_estimated_spread_matches_bock_and_aitkin_on_lsat6():
    # ltm: rasch(LSAT) gives a common discrimination 0.755, Log.Lik -2466.938; centred
    # logit difficulties as Bock and Aitkin (1981) report them.
    fit = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)

    assert fit.sd == pytest.approx(0.755, abs=0.005)
    np.testing.assert_allclose(
        fit.centred.to_numpy(), [-1.256, 0.476, 1.235, 0.168, -0.625], atol=0.01
    )
    assert fit.log_likelihood == pytest.approx(-2466.938, abs=0.01)


def test_eap_ability_is_finite_for_a_perfect_score_and_ordered():
    fit = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)

    abilities = eap_abilities(fit, LSAT6_PATTERNS)

    assert np.isfinite(abilities).all()
    assert abilities[0] < abilities[1] < abilities[-1]
    assert abilities[-1] < 1.0


def test_not_reached_items_are_missing_not_wrong():
    full = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)
    cut = LSAT6_PATTERNS.copy()
    cut[LSAT6_PATTERNS[:, 4] == 1, 4] = np.nan  # only wrong answers to item 5 kept

    partial = fit_rasch(cut, weights=LSAT6_COUNTS)

    assert partial.difficulty[4] > full.difficulty[4] + 2


def test_cronbach_alpha_of_a_known_matrix():
    scores = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    # item variances 0.25, 1/3, 0.25 (ddof 1); total variance 5/3.
    assert cronbach_alpha(scores) == pytest.approx(1.5 * (1 - (0.25 + 1 / 3 + 0.25) / (5 / 3)))


@pytest.fixture(scope="module")
def rally() -> pd.DataFrame:
    return simulate(RallyShape(districts=2, schools=3, classes=2, pairs=12, levels=("CE2",)))


def test_classical_items_on_a_simulated_round(rally):
    scores = score_matrix(rally)
    items, alpha = classical_items(scores)

    assert scores.shape[0] == 2 * 3 * 2 * 12
    assert items["p"].between(0, 1).all()
    assert items["item_rest"].mean() > 0.1
    assert 0.5 < alpha < 1


def test_participation_counts_every_unit(rally):
    table = participation(rally)

    assert table["schools"].sum() == 6
    assert table["classes"].sum() == 12
    assert table["participants"].sum() == 144


def test_score_distribution_and_speed(rally):
    distribution = score_distribution(rally)
    timing = speed(rally)

    assert distribution.loc["CE2", "count"] == 144
    assert (timing["median_seconds"] > 0).all()
    assert timing["speed_accuracy"].between(-1, 1).all()


def test_error_categories_count_every_wrong_answer(rally):
    counts = error_categories(rally, by="district")

    assert counts.to_numpy().sum() == (rally["outcome"] == "wrong").sum()
    assert counts["other"].sum() < counts.to_numpy().sum() / 2


def test_funnel_limits_follow_the_binomial_spread(rally):
    funnel = class_funnel(rally)

    assert (funnel["lower_998"] <= funnel["lower_95"]).all()
    assert (funnel["upper_95"] <= funnel["upper_998"]).all()
    overall = funnel["overall"].iloc[0]
    half_width = 1.959964 * np.sqrt(overall * (1 - overall) / funnel["n"])
    np.testing.assert_allclose(funnel["upper_95"] - overall, half_width, rtol=1e-5)
    assert overall == pytest.approx(funnel["right"].sum() / funnel["n"].sum())


@pytest.mark.parametrize(
    ("shown", "expected", "answer", "category"),
    [
        ("7 × 8 = …", 56, 15, "other_operation"),
        ("7 × 8 = …", 63, 63, "neighbour_fact"),
        ("7 × 8 = …", 56, 48, "neighbour_fact"),
        ("38 + 27 = …", 65, 55, "place_value"),
        ("38 + 27 = …", 65, 66, "off_by_one"),
        ("38 + 27 = …", 65, 56, "digits_swapped"),
        ("30 + 4 = …", 34, 304, "juxtaposed"),
        ("38 + 27 = …", 65, 91, "other"),
    ],
)
def test_wrong_answers_are_sorted_into_their_category(shown, expected, answer, category):
    assert classify(shown, expected, answer) == category


def test_typical_wrong_answers_fall_in_the_category_they_stand_for():
    made = typical_wrong_answers("7 × 8 = …", 56)

    assert set(made) >= {"other_operation", "neighbour_fact", "off_by_one", "digits_swapped"}
    assert all(classify("7 × 8 = …", 56, answer) == name for name, answer in made.items())
