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
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

QUADRATURE_POINTS = 61
"""Gauss–Hermite nodes for the integrals over ability (ltm uses 21; more costs little)."""


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
    :attr:`centred` subtracts the mean difficulty, the usual report.
    """

    items: tuple
    difficulty: np.ndarray
    sd: float
    log_likelihood: float
    converged: bool

    @property
    def centred(self) -> pd.Series:
        """Difficulties minus their mean."""
        return pd.Series(self.difficulty - self.difficulty.mean(), index=list(self.items))


def fit_rasch(
    scores: pd.DataFrame | np.ndarray,
    *,
    sd: float | None = None,
    weights=None,
    tolerance: float = 1e-7,
) -> RaschFit:
    """Fit ``P(right) = 1/(1 + exp(−(θ − b)))`` with ``θ ~ N(0, sd²)`` by marginal ML.

    The integral over θ uses Gauss–Hermite quadrature; the log-likelihood is
    maximised directly (BFGS on its analytic gradient). Missing scores
    (not reached) simply leave their term out.

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
        Largest gradient of the log-likelihood at which the fit stops (BFGS ``gtol``).
    """
    matrix = np.asarray(scores, dtype=float)
    items = (
        tuple(scores.columns)
        if isinstance(scores, pd.DataFrame)
        else tuple(range(matrix.shape[1]))
    )
    weights = np.ones(matrix.shape[0]) if weights is None else np.asarray(weights, float)
    observed = ~np.isnan(matrix)
    right = np.where(observed, matrix, 0.0)
    wrong = np.where(observed, 1.0 - matrix, 0.0)
    nodes, log_node_weights = _quadrature()

    def negative_log_likelihood(parameters: np.ndarray):
        difficulty = parameters[: matrix.shape[1]]
        spread = np.exp(parameters[-1]) if sd is None else sd
        # p[q, j]: probability of right at node q for item j.
        theta = spread * nodes
        p = expit(theta[:, None] - difficulty[None, :])
        log_p, log_q = np.log(p), np.log1p(-p)
        joint = right @ log_p.T + wrong @ log_q.T + log_node_weights[None, :]
        marginal = logsumexp(joint, axis=1)
        posterior = np.exp(joint - marginal[:, None]) * weights[:, None]
        # d(−log L)/db_j = Σ_i w_i x_ij − Σ_i obs_ij w_i E_post[p_j].
        expected_right = posterior @ p
        gradient = list(
            (weights[:, None] * right).sum(axis=0) - (expected_right * observed).sum(axis=0)
        )
        if sd is None:
            # d/d log σ: Σ_q post_q Σ_j (x_j − p_qj·obs) θ_q.
            per_node = right.sum(axis=1)[:, None] - observed @ p.T
            gradient.append(-(posterior * per_node * theta[None, :]).sum())
        return -(weights @ marginal), np.array(gradient)

    start = -_logit(np.clip(np.nanmean(matrix, axis=0), 0.02, 0.98))
    parameters = start if sd is not None else np.append(start, 0.0)
    result = minimize(
        negative_log_likelihood,
        parameters,
        jac=True,
        method="BFGS",
        options={"gtol": tolerance, "maxiter": 500},
    )
    difficulty = result.x[: matrix.shape[1]]
    spread = float(np.exp(result.x[-1])) if sd is None else float(sd)
    return RaschFit(items, difficulty, spread, float(-result.fun), bool(result.success))


def eap_abilities(fit: RaschFit, scores: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Each participant's expected a posteriori ability (finite even for perfect scores)."""
    matrix = np.asarray(scores, dtype=float)
    observed = ~np.isnan(matrix)
    right = np.where(observed, matrix, 0.0)
    wrong = np.where(observed, 1.0 - matrix, 0.0)
    nodes, log_node_weights = _quadrature()
    theta = fit.sd * nodes
    p = expit(theta[:, None] - fit.difficulty[None, :])
    joint = right @ np.log(p).T + wrong @ np.log1p(-p).T + log_node_weights[None, :]
    posterior = np.exp(joint - logsumexp(joint, axis=1)[:, None])
    return posterior @ theta


def _quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights for E[f(Z)], Z ~ N(0, 1) (probabilists' Hermite)."""
    nodes, node_weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_POINTS)
    return nodes, np.log(node_weights / node_weights.sum())


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))
