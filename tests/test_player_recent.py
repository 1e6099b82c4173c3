"""The sessions a server keeps in memory: bounded, least recently used dropped first."""

from __future__ import annotations

from calculatice.player.recent import RecentSessions


def test_the_least_recently_used_is_dropped_beyond_the_size() -> None:
    kept: RecentSessions[str, list] = RecentSessions(2)
    lea, tom, zoe = ["Léa"], ["Tom"], ["Zoé"]
    kept.put("lea", lea)
    kept.put("tom", tom)
    assert kept.get("lea") is lea  # Léa is now the most recent
    kept.put("zoe", zoe)

    assert len(kept) == 2
    assert "tom" not in kept and kept.get("tom") is None
    assert kept.get("lea") is lea and kept.get("zoe") is zoe


def test_discard_forgets_only_the_value_it_was_given() -> None:
    kept: RecentSessions[str, list] = RecentSessions(5)
    stale, rebuilt = ["ancienne"], ["reconstruite"]
    kept.put("pair", stale)
    kept.put("pair", rebuilt)
    kept.discard("pair", stale)
    assert kept.get("pair") is rebuilt
    kept.discard("pair", rebuilt)
    assert "pair" not in kept and len(kept) == 0
