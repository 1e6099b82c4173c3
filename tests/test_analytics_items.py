"""Item statistics checked against published results, and the inspectors' aggregate tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

from calculatice.analytics.items import (
    RaschData,
    _quadrature,
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

# LSAT section 6 (Bock and Lieberman 1970; Thissen 1982): how many of 1,000 examinees gave
# each response pattern to the 5 items, patterns in binary order 00000, 00001, …, 11111.
LSAT6_COUNTS = [
    3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15,
    10, 29, 14, 81, 3, 28, 15, 80, 16, 56, 21, 173, 11, 61, 28, 298,
]  # fmt: skip
LSAT6_PATTERNS = np.array(list(itertools.product([0, 1], repeat=5)), dtype=float)

# The same data as published with the BUGS "LSAT: item response" example, in the Stan
# repository: stan-dev/stan, src/models/bugs_examples/vol1/lsat/lsat.data.R (commit
# 452837a57d8708d50b033029fdfb2c0a7e2201fd): cumulative counts of the 32 patterns, whose
# response matrix lists item 1 as the slowest-changing digit (binary order).
STAN_LSAT_CULM = [
    3, 9, 11, 22, 23, 24, 27, 31, 32, 40, 40, 56, 56, 59, 61, 76,
    86, 115, 129, 210, 213, 241, 256, 336, 352, 408, 429, 602, 613, 674, 702, 1000,
]  # fmt: skip

# R package ltm, rasch(data = LSAT, IRT.param = TRUE), 21 Gauss–Hermite points, as printed by
# summary() in the R Markdown document "Bayesian IRT" (Reginald Ziedzor, 2020; found in the
# code search index, file id 17070676907, repository not named there): log.Lik -2466.938,
# Dffclt.Item 1..5 and Dscrmn. The same fit by irtQ's est_irt(LSAT6, model = "1PLM") (49
# rectangular points on ±6), in the example output of irtQ's reference page est_irt
# (hwangQ/irtQ, reference/est_irt.md, stored version id 71150659097): slope 0.7551678,
# difficulties -3.6151311 -1.3223732 -0.3176192 -1.7300276 -2.7800696, -2loglik 4933.875.
LTM_FREE_DIFFICULTY = [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802]
LTM_FREE_DISCRIMINATION = 0.7551
LTM_FREE_LOG_LIKELIHOOD = -2466.938

# The slope fixed at 1: irtQ's est_irt(LSAT6, D = 1, model = "1PLM", fix.a.1pl = TRUE,
# a.val.1pl = 1) in the same page: Log-likelihood -2473.054, difficulties (2 decimals)
# -2.87 -1.06 -0.26 -1.39 -2.22. No printed ltm output of rasch(LSAT, constraint =
# cbind(6, 1)) was found in the search corpora; irtQ's figures are the reference here.
IRTQ_FIXED_DIFFICULTY = [-2.87, -1.06, -0.26, -1.39, -2.22]
IRTQ_FIXED_LOG_LIKELIHOOD = -2473.054


def test_the_analytics_levels_are_the_catalogue_levels():
    from calculatice.analytics.constants import LEVELS
    from calculatice.catalogue import LEVELS as CATALOGUE_LEVELS

    assert LEVELS == CATALOGUE_LEVELS


def test_lsat6_counts_match_the_published_data():
    assert sum(LSAT6_COUNTS) == 1000
    assert list(np.diff([0, *STAN_LSAT_CULM])) == LSAT6_COUNTS


def test_rasch_with_unit_spread_matches_irtq_on_lsat6():
    fit = fit_rasch(LSAT6_PATTERNS, sd=1.0, weights=LSAT6_COUNTS)

    assert fit.converged
    np.testing.assert_allclose(fit.difficulty, IRTQ_FIXED_DIFFICULTY, atol=0.005)
    assert fit.log_likelihood == pytest.approx(IRTQ_FIXED_LOG_LIKELIHOOD, abs=0.001)


def test_rasch_with_estimated_spread_matches_ltm_on_lsat6():
    # ltm's logit a·(z − b*) with z ~ N(0, 1) is ours θ − b with θ = a·z: sd = a, b = a·b*.
    fit = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)

    assert fit.converged
    assert fit.sd == pytest.approx(LTM_FREE_DISCRIMINATION, abs=0.0001)
    np.testing.assert_allclose(fit.difficulty / fit.sd, LTM_FREE_DIFFICULTY, atol=0.0002)
    assert fit.log_likelihood == pytest.approx(LTM_FREE_LOG_LIKELIHOOD, abs=0.001)


def _simulated_rasch(people: int, items: int, sd: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    difficulty = np.linspace(-1.5, 1.5, items)
    ability = rng.normal(0.0, sd, people)
    right = rng.random((people, items)) < expit(ability[:, None] - difficulty[None, :])
    return right.astype(float), difficulty


def _uncompressed_fit(matrix: np.ndarray, sd: float | None):
    """The marginal likelihood summed participant by participant, maximised by scipy."""
    nodes, log_weights = _quadrature()
    observed = ~np.isnan(matrix)
    right = np.where(observed, matrix, 0.0)
    wrong = np.where(observed, 1.0 - matrix, 0.0)

    def negative(parameters):
        spread = np.exp(parameters[-1]) if sd is None else sd
        distance = spread * nodes[:, None] - parameters[: matrix.shape[1]][None, :]
        # log p = −log(1 + e^−x), log(1 − p) = −log(1 + e^x)
        joint = right @ -np.logaddexp(0, -distance).T + wrong @ -np.logaddexp(0, distance).T
        return -logsumexp(joint + log_weights[None, :], axis=1).sum()

    start = np.zeros(matrix.shape[1] + (sd is None))
    result = minimize(negative, start, method="BFGS", options={"gtol": 1e-7})
    return result.x, -result.fun


@pytest.mark.parametrize("sd", [None, 1.0])
def test_grouped_fit_equals_the_participant_by_participant_likelihood(sd):
    matrix, _ = _simulated_rasch(300, 6, 1.3, seed=2)
    matrix[np.random.default_rng(3).random(matrix.shape) < 0.15] = np.nan  # some not reached

    fit = fit_rasch(matrix, sd=sd)
    parameters, log_likelihood = _uncompressed_fit(matrix, sd)

    data = RaschData.from_scores(matrix)
    assert data.weight.sum() == 300
    assert data.weight.size < 300
    np.testing.assert_allclose(fit.difficulty, parameters[:6], atol=1e-4)
    if sd is None:
        assert np.log(fit.sd) == pytest.approx(parameters[-1], abs=1e-4)
    assert fit.log_likelihood == pytest.approx(log_likelihood, abs=1e-6)


def test_identical_patterns_weighted_or_repeated_give_the_same_fit():
    repeated = np.repeat(LSAT6_PATTERNS, LSAT6_COUNTS, axis=0)

    fit = fit_rasch(repeated)
    weighted = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)

    np.testing.assert_allclose(fit.difficulty, weighted.difficulty, atol=1e-10)
    assert fit.log_likelihood == pytest.approx(weighted.log_likelihood, rel=1e-12)
    # Complete answers: one group per raw score, 0 to 5.
    assert RaschData.from_scores(repeated).weight.size == 6


def test_spread_is_estimated_on_a_long_round():
    # 100 items, as a level's round: the spread used to run off to infinity here.
    matrix, difficulty = _simulated_rasch(3000, 100, 1.5)

    fit = fit_rasch(matrix)

    assert fit.converged
    assert fit.sd == pytest.approx(1.5, abs=0.08)
    assert np.abs(fit.centred.to_numpy() - (difficulty - difficulty.mean())).max() < 0.25
    # Far from the optimum the likelihood stays finite: it is computed in log space.
    assert np.isfinite(fit_rasch(matrix, sd=30.0, max_iterations=1).log_likelihood)


def test_items_all_right_or_all_wrong_or_never_reached_stay_out_of_the_fit():
    matrix = np.column_stack(
        [
            LSAT6_PATTERNS,
            np.ones(32),
            np.zeros(32),
            np.full(32, np.nan),
        ]
    )

    fit = fit_rasch(matrix, weights=LSAT6_COUNTS)
    reference = fit_rasch(LSAT6_PATTERNS, weights=LSAT6_COUNTS)

    np.testing.assert_allclose(fit.difficulty[:5], reference.difficulty, atol=1e-8)
    assert fit.difficulty[5] == -np.inf
    assert fit.difficulty[6] == np.inf
    assert np.isnan(fit.difficulty[7])


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


def test_dashboard_difficulties_are_the_rasch_fit_of_the_score_matrix(rally):
    from calculatice.analytics.aggregates import dashboard_tables

    table = dashboard_tables(rally).items
    scores = score_matrix(rally)
    answered = scores.notna().sum()
    p = scores.mean()
    kept = scores.loc[:, (answered >= 10) & (p > 0) & (p < 1)]
    fit = fit_rasch(kept)

    assert fit.converged and 0.3 < fit.sd < 5
    expected = fit.centred
    shown = table.set_index(["exercise_id", "question_index"])["b"].dropna()
    assert len(shown) == kept.shape[1]
    np.testing.assert_allclose(shown.loc[expected.index].to_numpy(), expected, atol=1e-8)
    np.testing.assert_allclose(
        table["p"].to_numpy(),
        p.loc[table.set_index(["exercise_id", "question_index"]).index].to_numpy(),
        atol=1e-12,
    )
