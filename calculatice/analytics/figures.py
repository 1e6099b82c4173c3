"""The inspector's figures, drawn from published aggregates only.

A plotly figure carries its data into the page, so every function here takes
a table of :class:`~.aggregates.DashboardTables` (already aggregated, small
cells hidden) and never the answer table. Titles and axes are French, with a
decimal comma and a space between thousands (``separators=", "``). Classes
are compared with a funnel plot, never ranked.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from calculatice.analytics.aggregates import DashboardTables
from calculatice.analytics.mistakes import CATEGORIES
from calculatice.analytics.privacy import MIN_PUPILS

SEPARATORS = ", "
"""Plotly's decimal then thousands separator: a decimal comma and a space."""

LEVEL_COLOURS = {
    "CP": "#1b9e77",
    "CE1": "#d95f02",
    "CE2": "#7570b3",
    "CM1": "#e7298a",
    "CM2": "#66a61e",
    "6e": "#e6ab02",
}
"""One colour per level, the same in every figure."""

_NNBSP = "\u202f"


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        xaxis_title=x_title,
        yaxis_title=y_title,
        separators=SEPARATORS,
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend_title_text="",
    )
    return figure


def _empty(figure: go.Figure, message: str) -> go.Figure:
    figure.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _too_few() -> str:
    return f"Pas assez de participants (moins de {MIN_PUPILS} par case){_NNBSP}: rien à montrer."


def score_figure(scores: pd.DataFrame) -> go.Figure:
    """Boxes of the success rate per level: quartiles, 10th and 90th percentiles, mean."""
    figure = go.Figure()
    for level, row in scores.iterrows():
        figure.add_trace(
            go.Box(
                name=str(level),
                x=[str(level)],
                q1=[row["q1"]],
                median=[row["median"]],
                q3=[row["q3"]],
                lowerfence=[row["p10"]],
                upperfence=[row["p90"]],
                mean=[row["mean"]],
                marker_color=LEVEL_COLOURS.get(str(level)),
                hovertemplate=f"{level} · {int(row['participants'])} participants<extra></extra>",
            )
        )
    figure = _layout(
        figure,
        "Réussite par niveau (moustaches : 10 % et 90 % des participants)",
        "Niveau",
        "Part des questions réussies",
    )
    figure.update_yaxes(tickformat=".0%", range=[0, 1.02])
    figure.update_layout(showlegend=False)
    return _empty(figure, _too_few()) if scores.empty else figure


def items_figure(items: pd.DataFrame) -> go.Figure:
    """Each question's proportion right ``p`` against its Rasch difficulty ``b``."""
    figure = go.Figure()
    for level, rows in items.groupby("level", sort=False):
        labels = [
            f"{exercise} · question {index + 1}"
            for exercise, index in zip(rows["exercise_id"], rows["question_index"], strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                name=str(level),
                x=rows["p"],
                y=rows["b"],
                mode="markers",
                text=labels,
                customdata=rows["participants"],
                marker={"color": LEVEL_COLOURS.get(str(level)), "size": 8, "opacity": 0.8},
                hovertemplate="%{text}<br>p = %{x:.2f} · b = %{y:.2f}"
                " · %{customdata} participants<extra></extra>",
            )
        )
    figure = _layout(
        figure,
        "Difficulté des questions : taux de réussite p et difficulté de Rasch b",
        "Taux de réussite p",
        "Difficulté b (logits, centrée par niveau)",
    )
    figure.update_xaxes(tickformat=".0%")
    return _empty(figure, _too_few()) if items.empty else figure


def speed_figure(speed: pd.DataFrame) -> go.Figure:
    """Per exercise: median response time against the mean speed-accuracy score."""
    figure = go.Figure(
        go.Scatter(
            x=speed["median_seconds"],
            y=speed["speed_accuracy"],
            mode="markers",
            text=[str(exercise) for exercise in speed.index],
            customdata=speed["participants"],
            marker={"size": 10, "color": "#4c78a8"},
            hovertemplate="%{text}<br>%{x:.1f} s · score %{y:.2f}"
            " · %{customdata} participants<extra></extra>",
        )
    )
    figure = _layout(
        figure,
        "Vitesse par exercice",
        "Temps de réponse médian (s)",
        "Score vitesse-exactitude moyen",
    )
    figure.update_yaxes(range=[-1, 1])
    return _empty(figure, _too_few()) if speed.empty else figure


def errors_figure(errors: pd.DataFrame) -> go.Figure:
    """Wrong answers per exercise, stacked by category of error; hidden cells left out."""
    body = errors.drop(index="Total", columns="Total", errors="ignore")
    figure = go.Figure()
    for category, label in CATEGORIES.items():
        if category not in body:
            continue
        figure.add_trace(
            go.Bar(
                name=label,
                y=[str(exercise) for exercise in body.index],
                x=body[category],
                orientation="h",
                hovertemplate=f"%{{y}}<br>{label}{_NNBSP}: %{{x}} réponses<extra></extra>",
            )
        )
    figure = _layout(
        figure,
        f"Erreurs typiques par exercice (cases masquées : moins de {MIN_PUPILS} participants)",
        "Réponses fausses",
        "",
    )
    figure.update_layout(barmode="stack", height=max(380, 28 * len(body) + 140))
    figure.update_yaxes(autorange="reversed")
    shown = body.notna().to_numpy().any() if not body.empty else False
    return figure if shown else _empty(figure, _too_few())


def funnel_figure(funnel: pd.DataFrame, limits: pd.DataFrame, hidden_classes: int) -> go.Figure:
    """Classes' success rate against questions answered, inside 95 % and 99.8 % limits."""
    figure = go.Figure()
    if not limits.empty:
        for name, label, dash in (("998", "99,8 %", "dot"), ("95", "95 %", "dash")):
            for side in ("lower", "upper"):
                figure.add_trace(
                    go.Scatter(
                        x=limits["n"],
                        y=limits[f"{side}_{name}"],
                        mode="lines",
                        name=f"limites à {label}",
                        legendgroup=name,
                        showlegend=side == "lower",
                        line={"color": "#888888", "dash": dash, "width": 1.5},
                        hoverinfo="skip",
                    )
                )
        figure.add_trace(
            go.Scatter(
                x=limits["n"],
                y=limits["overall"],
                mode="lines",
                name="moyenne de la sélection",
                line={"color": "#333333", "width": 1.5},
                hoverinfo="skip",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=funnel["n"],
            y=funnel["success"],
            mode="markers",
            name="une classe",
            marker={"color": "#4c78a8", "size": 7, "opacity": 0.7},
            hovertemplate="%{x} questions · réussite %{y:.0%}<extra></extra>",
        )
    )
    hidden = "classe non montrée" if hidden_classes == 1 else "classes non montrées"
    note = (
        f" ({hidden_classes} {hidden}, de moins de {MIN_PUPILS} participants)"
        if hidden_classes
        else ""
    )
    figure = _layout(
        figure,
        f"Entonnoir des classes{note}",
        "Questions répondues par la classe",
        "Réussite de la classe",
    )
    figure.update_yaxes(tickformat=".0%")
    return _empty(figure, _too_few()) if funnel.empty else figure


def dashboard_figures(tables: DashboardTables) -> dict[str, go.Figure]:
    """Every figure of the inspector's page, by name, in the order they are shown."""
    return {
        "scores": score_figure(tables.scores),
        "items": items_figure(tables.items),
        "speed": speed_figure(tables.speed),
        "errors": errors_figure(tables.errors),
        "funnel": funnel_figure(tables.funnel, tables.funnel_limits, tables.hidden_classes),
    }


def figure_html(figure: go.Figure, *, include_plotlyjs: bool) -> str:
    """The figure as an HTML fragment; with plotly.js inline when asked (opens offline)."""
    return figure.to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        config={"displaylogo": False},
    )
