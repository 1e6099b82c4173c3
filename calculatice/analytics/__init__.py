"""Inspectors' analytics: the tidy answer table, anonymisation, item statistics, figures.

Nothing here is imported by the pupil page or the player: pandas, numpy and
scipy cost a kernel tens of megabytes and seconds that a pupil's page must
not pay. Import the submodules you need (:mod:`.tidy`, :mod:`.privacy`,
:mod:`.simulate`, :mod:`.items`, :mod:`.mistakes`, :mod:`.reports`).
"""
