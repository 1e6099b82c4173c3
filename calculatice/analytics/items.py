"""Item statistics: classical item analysis and the Rasch model by marginal maximum likelihood.

An item is one question of one exercise (``exercise_id``, ``question_index``);
its score for a participant is the final result of the question: 1 when it
ended right, 0 when it ended wrong or timed out, missing when it was not
reached. Missing is not wrong: a pupil stopped by the clock tells nothing
about the questions never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

QUADRATURE_POINTS = 121
"""Nodes of the integrals over ability, 0.1 apart on ±6 (irtQ uses 49, mirt 61; more costs
little once participants are grouped by :class:`RaschData`)."""

QUADRATURE_BOUND = 6.0
"""The nodes span ±6 standard deviations of ability."""


def score_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Participants × items, 1 right, 0 wrong or timed out, ``NaN`` when not reached.

    Empty answers that were followed by another try do not count: the
    question's last row decides. Columns are ``(exercise_id, question_index)``.
    """
    final = table.drop_duplicates(["participant_id", "exercise_id", "question_index"], keep="last")
    scores = final["outcome"].map({"right": 1.0, "wrong": 0.0, "timeout": 0.0, "empty": 0.0})
    final = final.assign(score=scores)
    return final.pivot_table(
        index="participant_id",
        columns=["exercise_id", "question_index"],
        values="score",
        aggfunc="first",
        dropna=False,
    )


def classical_items(scores: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Proportion right, item-rest correlation and alpha-if-deleted, and Cronbach's alpha.

    Computed on attempted items only: a not-reached item is left out of a
    pupil's total rather than counted wrong, since counting it wrong inflates
    alpha on speeded rounds. Participants who reached every item are used for
    alpha (its formula needs a complete matrix).

    Returns
    -------
    (pandas.DataFrame, float)
        One row per item (``p``, ``n``, ``item_rest``, ``alpha_if_deleted``), and alpha.
    """
    complete = scores.dropna()
    values = complete.to_numpy(dtype=float)
    total = values.sum(axis=1)
    rows = []
    for number, item in enumerate(scores.columns):
        attempted = scores[item].dropna()
        rest = total - values[:, number]
        rows.append(
            {
                "p": attempted.mean(),
                "n": attempted.size,
                "item_rest": _correlation(values[:, number], rest),
                "alpha_if_deleted": cronbach_alpha(np.delete(values, number, axis=1)),
            }
        )
    frame = pd.DataFrame(rows, index=scores.columns)
    return frame, cronbach_alpha(values)


def cronbach_alpha(values: np.ndarray) -> float:
    """Cronbach's alpha ``k/(k−1)·(1 − Σ var(x_i)/var(total))`` of a complete 0/1 matrix."""
    items = values.shape[1]
    if items < 2 or values.shape[0] < 2:
        return float("nan")
    total_variance = values.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return float("nan")
    return items / (items - 1) * (1 - values.var(axis=0, ddof=1).sum() / total_variance)


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


@dataclass(frozen=True)
class RaschFit:
    """A Rasch model fitted by marginal maximum likelihood.

    ``difficulty`` is on the logit scale with abilities ``N(0, sd²)``;
    :attr:`centred` subtracts the mean difficulty, the usual report. An item
    every participant got right (wrong) has difficulty ``-inf`` (``+inf``), an
    item nobody reached ``NaN``; they stay out of the fit. ``iterations``
    counts the Newton steps taken.
    """

    items: tuple
    difficulty: np.ndarray
    sd: float
    log_likelihood: float
    converged: bool
    iterations: int = 0

    @property
    def centred(self) -> pd.Series:
        """Difficulties minus the mean of the finite ones."""
        finite = np.isfinite(self.difficulty)
        mean = self.difficulty[finite].mean() if finite.any() else 0.0
        return pd.Series(self.difficulty - mean, index=list(self.items))


@dataclass(frozen=True)
class RaschData:
    """The sufficient statistics of a 0/1 score matrix under the Rasch model.

    Under the Rasch model a participant's likelihood depends on the item
    difficulties only through ``-Σ x_j b_j`` and, at each ability, through
    the raw score and the set of items answered. So the marginal likelihood
    needs only the weighted number right of each item (``right``) and the
    number of participants sharing each (items answered, raw score) pair.
    Identical response patterns (missing being a state of its own) always
    fall in the same group; on a round where everybody answers every item
    there are at most ``items + 1`` groups, whatever the number of participants.

    Attributes
    ----------
    right
        Weighted number right of each item.
    answered
        Weighted number of participants who answered each item.
    patterns
        The distinct sets of items answered, one 0/1 row each.
    pattern
        Each group's row in ``patterns``.
    score
        Each group's raw score (items right).
    weight
        How many participants (weighted) each group holds.
    """

    right: np.ndarray
    answered: np.ndarray
    patterns: np.ndarray
    pattern: np.ndarray
    score: np.ndarray
    weight: np.ndarray

    @classmethod
    def from_scores(cls, matrix: np.ndarray, weights: np.ndarray | None = None) -> RaschData:
        """Group the rows of a participants × items matrix of 1, 0 and ``NaN``."""
        matrix = np.asarray(matrix, dtype=float)
        n, items = matrix.shape
        weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        observed = ~np.isnan(matrix)
        right = np.where(observed, matrix, 0.0)
        if not np.isin(right, (0.0, 1.0)).all():
            raise ValueError("scores must be 1, 0 or NaN")
        keep = weights > 0
        observed, right, weights = observed[keep], right[keep], weights[keep]
        # One integer per set of items answered, then one per (set, raw score).
        packed = np.packbits(observed, axis=1)
        patterns_packed, pattern_of_row = np.unique(packed, axis=0, return_inverse=True)
        pattern_of_row = pattern_of_row.reshape(-1)
        score_of_row = right.sum(axis=1).astype(np.int64)
        key = pattern_of_row * (items + 1) + score_of_row
        groups, group_of_row = np.unique(key, return_inverse=True)
        patterns = np.unpackbits(patterns_packed, axis=1, count=items).astype(float)
        return cls(
            right=weights @ right,
            answered=weights @ observed,
            patterns=patterns,
            pattern=groups // (items + 1),
            score=(groups % (items + 1)).astype(float),
            weight=np.bincount(group_of_row.reshape(-1), weights=weights, minlength=groups.size),
        )

    def subset(self, items: np.ndarray) -> RaschData:
        """The statistics restricted to some items (scores of the others must be constant)."""
        dropped = ~items
        # A dropped item that is always right (when answered) adds 1 to every score that has it.
        always_right = dropped & (self.right == self.answered)
        score = self.score - self.patterns[self.pattern][:, always_right].sum(axis=1)
        patterns, pattern = np.unique(self.patterns[:, items], axis=0, return_inverse=True)
        pattern = pattern.reshape(-1)[self.pattern]
        key = pattern * (items.sum() + 1) + score.astype(np.int64)
        groups, group = np.unique(key, return_inverse=True)
        return RaschData(
            right=self.right[items],
            answered=self.answered[items],
            patterns=patterns,
            pattern=groups // (items.sum() + 1),
            score=(groups % (items.sum() + 1)).astype(float),
            weight=np.bincount(group.reshape(-1), weights=self.weight, minlength=groups.size),
        )


def fit_rasch(
    scores: pd.DataFrame | np.ndarray,
    *,
    sd: float | None = None,
    weights=None,
    tolerance: float = 1e-8,
    max_iterations: int = 100,
) -> RaschFit:
    """Fit ``P(right) = 1/(1 + exp(−(θ − b)))`` with ``θ ~ N(0, sd²)`` by marginal ML.

    The participants are first reduced to the model's sufficient statistics
    (:class:`RaschData`), then the log-likelihood is maximised by Newton's
    method with its exact Hessian, every term in log space. The integral over
    θ uses :data:`QUADRATURE_POINTS` equally spaced nodes. Missing scores (not
    reached) simply leave their term out.

    Parameters
    ----------
    scores
        Participants × items, 1, 0 or ``NaN``.
    sd
        The spread of abilities; ``None`` estimates it, a number fixes it
        (``sd=1`` is the one-parameter model with discrimination fixed at 1).
    weights
        How many participants share each row (response-pattern counts); 1 each by default.
    tolerance
        Largest change of a parameter (logits) at which the iterations stop.
    max_iterations
        Newton steps at most.
    """
    matrix = np.asarray(scores, dtype=float)
    items = (
        tuple(scores.columns)
        if isinstance(scores, pd.DataFrame)
        else tuple(range(matrix.shape[1]))
    )
    data = RaschData.from_scores(matrix, weights)
    return fit_rasch_data(
        data, items=items, sd=sd, tolerance=tolerance, max_iterations=max_iterations
    )


def fit_rasch_data(
    data: RaschData,
    *,
    items: tuple | None = None,
    sd: float | None = None,
    tolerance: float = 1e-8,
    max_iterations: int = 100,
) -> RaschFit:
    """:func:`fit_rasch` on statistics already gathered (same parameters)."""
    items = tuple(range(data.right.size)) if items is None else items
    difficulty = np.full(data.right.size, np.nan)
    difficulty[(data.answered > 0) & (data.right == 0)] = np.inf
    difficulty[(data.answered > 0) & (data.right == data.answered)] = -np.inf
    free = (data.right > 0) & (data.right < data.answered)
    if free.sum() == 0:
        spread = float("nan") if sd is None else float(sd)
        return RaschFit(items, difficulty, spread, float("nan"), False)
    if not free.all():
        data = data.subset(free)
    p = data.right / data.answered
    parameters = -np.log(p / (1 - p))
    if sd is None:
        parameters = np.append(parameters, 0.0)
    likelihood = _RaschLikelihood(data, sd)
    value, gradient, hessian = likelihood(parameters, second=True)
    converged = False
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        step = _newton_step(gradient, hessian)
        length = 1.0
        while True:
            candidate = parameters + length * step
            new_value = likelihood(candidate, second=False)[0]
            # Backtracking; the slack lets rounding noise at the optimum pass.
            if np.isfinite(new_value) and new_value >= value - 1e-12 * abs(value):
                break
            length /= 2
            if length < 1e-10:
                break
        if length < 1e-10:
            # No step raises the likelihood: at its maximum only if the step was tiny anyway.
            converged = bool(np.max(np.abs(step)) < np.sqrt(tolerance))
            break
        parameters = candidate
        value, gradient, hessian = likelihood(parameters, second=True)
        if np.max(np.abs(length * step)) < tolerance:
            converged = True
            break
    difficulty[free] = parameters[: int(free.sum())]
    spread = float(np.exp(parameters[-1])) if sd is None else float(sd)
    return RaschFit(items, difficulty, spread, float(value), converged, iterations)


def _newton_step(gradient: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """The ascent step ``−H⁻¹g``, damped until ``−H`` is positive definite."""
    negative = -hessian
    damping = 0.0
    scale = max(float(np.abs(np.diag(negative)).max()), 1e-12)
    for _ in range(60):
        try:
            factor = np.linalg.cholesky(negative + damping * np.eye(len(gradient)))
        except np.linalg.LinAlgError:
            damping = max(2 * damping, 1e-8 * scale)
            continue
        return np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))
    return gradient / scale


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1/(1 + e^−x)``, in log space: no overflow, full precision."""
    return np.exp(-np.logaddexp(0.0, -x))


def logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """``log Σ exp(values)`` along an axis, shifted by the largest value (numpy only)."""
    largest = np.max(values, axis=axis, keepdims=True)
    largest = np.where(np.isfinite(largest), largest, 0.0)
    total = np.log(np.sum(np.exp(values - largest), axis=axis, keepdims=True)) + largest
    return np.squeeze(total, axis=axis)


class _RaschLikelihood:
    """The marginal log-likelihood, its gradient and Hessian, from :class:`RaschData`.

    Group ``g`` (items answered ``o_g``, raw score ``s_g``, weight ``n_g``)
    contributes ``n_g log Σ_q w_q exp(h_gq)`` with
    ``h_gq = θ_q s_g − Σ_j o_gj log(1 + exp(θ_q − b_j))``, and the items
    ``−Σ_j R_j b_j`` (``R_j`` the number right). The parameters are the
    difficulties, then ``log sd`` when the spread is estimated.
    """

    def __init__(self, data: RaschData, sd: float | None) -> None:
        self.data = data
        self.sd = sd
        self.nodes, self.log_weights = _quadrature()
        self.answered = data.patterns[data.pattern]

    def __call__(self, parameters: np.ndarray, *, second: bool):
        data, answered, n = self.data, self.answered, self.data.weight
        items = data.right.size
        difficulty = parameters[:items]
        log_sd = parameters[items] if self.sd is None else np.log(self.sd)
        theta = np.exp(log_sd) * self.nodes
        distance = theta[:, None] - difficulty[None, :]
        # h[g, q], in log space throughout: log(1 + e^x) never overflows.
        h = (
            data.score[:, None] * theta[None, :]
            - answered @ np.logaddexp(0.0, distance).T
            + self.log_weights[None, :]
        )
        marginal = logsumexp(h, axis=1)
        value = float(n @ marginal - data.right @ difficulty)
        if not second:
            return value, None, None
        posterior = np.exp(h - marginal[:, None])
        p = expit(distance)
        pq = p * (1 - p)
        weighted = n[:, None] * posterior
        mean_p = posterior @ p  # E[p_j | group]
        expected = answered * mean_p  # ā[g, j]
        gradient_b = n @ expected - data.right
        hessian_bb = -np.diag(n @ (answered * (posterior @ pq)))
        # Σ_g n_g Σ_q π_gq a_gq a_gqᵀ, with a_gqj = o_gj p_qj: grouped by set of items answered.
        by_pattern = np.zeros((data.patterns.shape[0], theta.size))
        np.add.at(by_pattern, data.pattern, weighted)
        for row, mass in zip(data.patterns, by_pattern, strict=True):
            second_moment = (p * mass[:, None]).T @ p
            hessian_bb += second_moment * np.outer(row, row)
        hessian_bb -= (expected * n[:, None]).T @ expected
        if self.sd is not None:
            return value, gradient_b, hessian_bb
        # The spread: ∂h/∂log sd = θ_q e_gq with e_gq = s_g − Σ_j o_gj p_qj.
        excess = data.score[:, None] - answered @ p.T
        slope = theta[None, :] * excess
        mean_slope = (posterior * slope).sum(axis=1)
        gradient_u = n @ mean_slope
        cross = answered * ((posterior * theta[None, :]) @ pq)
        cross += answered * ((posterior * slope) @ p)
        hessian_bu = n @ cross - (expected * n[:, None]).T @ mean_slope
        curvature = slope - theta[None, :] ** 2 * (answered @ pq.T)
        hessian_uu = n @ ((posterior * (curvature + slope**2)).sum(axis=1) - mean_slope**2)
        gradient = np.append(gradient_b, gradient_u)
        hessian = np.block(
            [[hessian_bb, hessian_bu[:, None]], [hessian_bu[None, :], np.array([[hessian_uu]])]]
        )
        return value, gradient, hessian


def eap_abilities(fit: RaschFit, scores: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Each participant's expected a posteriori ability (finite even for perfect scores)."""
    matrix = np.asarray(scores, dtype=float)
    observed = ~np.isnan(matrix)
    usable = np.isfinite(fit.difficulty)
    right = np.where(observed, matrix, 0.0)[:, usable]
    observed = observed[:, usable].astype(float)
    nodes, log_node_weights = _quadrature()
    theta = fit.sd * nodes
    distance = theta[:, None] - fit.difficulty[None, usable]
    h = right.sum(axis=1)[:, None] * theta[None, :] - observed @ np.logaddexp(0.0, distance).T
    h += log_node_weights[None, :]
    posterior = np.exp(h - logsumexp(h, axis=1)[:, None])
    return posterior @ theta


def _quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights for E[f(Z)], Z ~ N(0, 1): equally spaced on ±6.

    Equally spaced nodes (the trapezoidal rule, as irtQ and mirt use) keep
    their accuracy when a long round makes each participant's likelihood a
    narrow peak, where Gauss–Hermite nodes, sparse away from 0, miss it.
    """
    nodes = np.linspace(-QUADRATURE_BOUND, QUADRATURE_BOUND, QUADRATURE_POINTS)
    log_density = -0.5 * nodes**2
    return nodes, log_density - logsumexp(log_density, axis=0)
