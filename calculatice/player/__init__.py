"""The pupil-facing exercise player.

:mod:`~calculatice.player.session` holds the logic (pure Python, JSON-like
messages in and out); :mod:`~calculatice.player.widget` shows it in Jupyter
and Voilà as an anywidget; ``static/player.js`` is the one front-end module,
whose transport is either the widget's messages or plain HTTP.

The widget is not imported here, so that a server importing the session
does not import ipywidgets.
"""

from calculatice.player.session import (
    AnswerRecord,
    MemoryRecorder,
    NullRecorder,
    PlayerSession,
    Recorder,
)

__all__ = ["AnswerRecord", "MemoryRecorder", "NullRecorder", "PlayerSession", "Recorder"]
