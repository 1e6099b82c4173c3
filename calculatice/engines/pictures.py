"""Small inline SVG pictures drawn by Python: clock faces, shaded shapes, coins and notes.

Every picture is a self-contained ``<svg>`` element: a ``viewBox``, no
external reference, no script, ``role="img"`` and a French ``<title>``. The
title describes what is drawn without giving the answer away, since the
picture reaches the browser before the pupil answers. Coordinates are
rounded to two decimals so that the same question gives the same text.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

_NAMESPACE = "http://www.w3.org/2000/svg"
_INK = "#263238"
_SHADE = "#4f8fd6"
_PAPER = "#ffffff"


def _number(value: float) -> str:
    """A coordinate with at most two decimals, without a trailing ``.0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def svg_document(width: int, height: int, title: str, body: list[str]) -> str:
    """Wrap drawing elements in an accessible ``<svg>`` of the given size."""
    return (
        f'<svg xmlns="{_NAMESPACE}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _polar(center: float, radius: float, degrees: float) -> tuple[str, str]:
    """The point at ``degrees`` clockwise from twelve o'clock on a circle."""
    radians = math.radians(degrees)
    return (
        _number(center + radius * math.sin(radians)),
        _number(center - radius * math.cos(radians)),
    )


def clock_svg(hour: int, minute: int) -> str:
    """An analogue clock with a twelve-hour dial showing ``hour`` (0-23) and ``minute``.

    The hour hand moves between the hours as the minutes go by (half-way
    between 3 and 4 at 3 h 30), as on a real clock.
    """
    center = 100
    body = [
        f'<circle cx="{center}" cy="{center}" r="94" fill="{_PAPER}" '
        f'stroke="{_INK}" stroke-width="4"/>'
    ]
    for tick in range(60):
        inner = 80 if tick % 5 == 0 else 85
        x1, y1 = _polar(center, inner, tick * 6)
        x2, y2 = _polar(center, 90, tick * 6)
        width = 3 if tick % 5 == 0 else 1
        body.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{_INK}" '
            f'stroke-width="{width}"/>'
        )
    for number in range(1, 13):
        x, y = _polar(center, 67, number * 30)
        body.append(
            f'<text x="{x}" y="{y}" font-family="sans-serif" font-size="18" '
            f'text-anchor="middle" dominant-baseline="central" fill="{_INK}">{number}</text>'
        )
    # Angles in half degrees are exact, so the hands are drawn upright and rotated.
    hour_angle = _number(((hour % 12) * 60 + minute) / 2)
    minute_angle = _number(minute * 6)
    body.append(
        f'<line x1="{center}" y1="{center + 8}" x2="{center}" y2="{center - 48}" '
        f'stroke="{_INK}" stroke-width="8" stroke-linecap="round" '
        f'transform="rotate({hour_angle} {center} {center})"/>'
    )
    body.append(
        f'<line x1="{center}" y1="{center + 12}" x2="{center}" y2="{center - 78}" '
        f'stroke="{_SHADE}" stroke-width="4" stroke-linecap="round" '
        f'transform="rotate({minute_angle} {center} {center})"/>'
    )
    body.append(f'<circle cx="{center}" cy="{center}" r="5" fill="{_INK}"/>')
    return svg_document(200, 200, "Horloge à aiguilles", body)


_SHAPE_TITLE = "Figure partagée en parts égales, dont certaines sont coloriées"


def _fill(shaded: bool) -> str:
    return _SHADE if shaded else _PAPER


def bar_svg(parts: int, shaded: frozenset[int]) -> str:
    """A rectangle cut into ``parts`` equal strips; the strips in ``shaded`` are coloured."""
    strip = 36 if parts <= 8 else 24 if parts <= 12 else 16
    width, height = parts * strip + 8, 88
    body = [
        f'<rect x="{4 + index * strip}" y="4" width="{strip}" height="80" '
        f'fill="{_fill(index in shaded)}" stroke="{_INK}" stroke-width="2"/>'
        for index in range(parts)
    ]
    return svg_document(width, height, _SHAPE_TITLE, body)


def grid_svg(rows: int, columns: int, shaded: frozenset[int]) -> str:
    """A rectangle cut into ``rows`` × ``columns`` equal squares, numbered row by row."""
    side = 32 if max(rows, columns) <= 6 else 20
    body = [
        f'<rect x="{4 + (index % columns) * side}" y="{4 + (index // columns) * side}" '
        f'width="{side}" height="{side}" fill="{_fill(index in shaded)}" '
        f'stroke="{_INK}" stroke-width="2"/>'
        for index in range(rows * columns)
    ]
    return svg_document(columns * side + 8, rows * side + 8, _SHAPE_TITLE, body)


def disc_svg(parts: int, shaded: frozenset[int]) -> str:
    """A disc cut into ``parts`` equal sectors from twelve o'clock, clockwise."""
    center, radius = 80, 74
    body = []
    for index in range(parts):
        start = _polar(center, radius, 360 * index / parts)
        end = _polar(center, radius, 360 * (index + 1) / parts)
        large = 1 if parts == 1 else 0
        body.append(
            f'<path d="M{center},{center} L{start[0]},{start[1]} '
            f'A{radius},{radius} 0 {large} 1 {end[0]},{end[1]} Z" '
            f'fill="{_fill(index in shaded)}" stroke="{_INK}" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
    return svg_document(160, 160, _SHAPE_TITLE, body)


def euro_label(cents: int) -> str:
    """How a coin or a note is labelled: ``2 €``, ``50 c``."""
    return f"{cents // 100}\u00a0€" if cents >= 100 else f"{cents}\u00a0c"


def money_svg(pieces: list[int]) -> str:
    """Coins (round) and notes (rectangles) laid out in a row, values in cents.

    Notes are 500 cents (5 €) and more; coins are smaller values. Each is
    labelled with its value, as pupils see on real money.
    """
    body = []
    x = 6
    for cents in pieces:
        label = euro_label(cents)
        if cents >= 500:
            body.append(
                f'<rect x="{x}" y="14" width="92" height="52" rx="4" fill="#cfe8cf" '
                f'stroke="{_INK}" stroke-width="2"/>'
                f'<text x="{x + 46}" y="40" font-family="sans-serif" font-size="18" '
                f'font-weight="bold" text-anchor="middle" dominant-baseline="central" '
                f'fill="{_INK}">{label}</text>'
            )
            x += 100
        else:
            radius = 26 if cents >= 100 else 21 if cents >= 10 else 17
            colour = "#f2d675" if cents >= 10 else "#d9955b"
            body.append(
                f'<circle cx="{x + radius}" cy="40" r="{radius}" fill="{colour}" '
                f'stroke="{_INK}" stroke-width="2"/>'
                f'<text x="{x + radius}" y="40" font-family="sans-serif" font-size="14" '
                f'font-weight="bold" text-anchor="middle" dominant-baseline="central" '
                f'fill="{_INK}">{label}</text>'
            )
            x += 2 * radius + 8
    return svg_document(max(x, 60), 80, "Pièces et billets en euros", body)
