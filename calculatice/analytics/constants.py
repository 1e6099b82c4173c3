"""Constants shared by the analytics modules, importable without pandas, pandera or scipy.

The inspector's dashboard imports them on every start: keeping them here
spares it the schema library and the store's models (:mod:`.tidy`),
scipy's statistics (:mod:`.reports`) and the exercise bank's engines
(:mod:`calculatice.catalogue`, for the levels alone).
"""

from __future__ import annotations

LEVELS = ("CP", "CE1", "CE2", "CM1", "CM2", "6e")
"""The school levels in order, as :data:`calculatice.catalogue.LEVELS` (a test checks)."""

OUTCOMES = ("right", "wrong", "empty", "timeout", "not_reached")
"""What one answer was; ``not_reached``: a question never shown before time ran out."""

CSV_NULL = "\\N"
"""How a CSV file writes a missing value, so that an empty answer ``""`` stays apart from it."""

FUNNEL_LEVELS = (0.95, 0.998)
"""Coverage of the funnel's inner and outer limits (about 2 and 3 standard deviations)."""
