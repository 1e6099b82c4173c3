"""The engines (matrices): every module of this package registers its engines.

Adding an engine is adding a module here whose classes are decorated with
:func:`~calculatice.engines.base.register`; nothing else needs to list it.
"""

import importlib
import pkgutil

from calculatice.engines.base import (
    Engine,
    Kind,
    Outcome,
    Question,
    Verdict,
    all_engines,
    check_response,
    get_engine,
    register,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"base", "text"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Engine",
    "Kind",
    "Outcome",
    "Question",
    "Verdict",
    "all_engines",
    "check_response",
    "get_engine",
    "register",
]
