"""The ``formulas`` engine, imported fast, and the cell values it works with.

``formulas.functions.stat`` imports ``scipy.stats``, ``scipy.linalg`` and ``scipy.interpolate`` at
import time (about 0.9 s, most of a ``recalc`` run's start-up) although only a few statistical functions
(KURT, SKEW, NORM.S.INV, FORECAST…) use them. ``load`` lends that module stand-ins that import the real
scipy module on first use, then takes them out of ``sys.modules`` so every other importer gets scipy
itself.
"""

from __future__ import annotations

import importlib
import sys
import types
from functools import cache
from typing import Any

_DEFERRED = ("scipy.stats", "scipy.linalg", "scipy.interpolate")


class _Deferred(types.ModuleType):
    """A scipy submodule seen by ``formulas.functions.stat``: attributes resolve on first real use."""

    importing = True

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if _Deferred.importing:
            return _Later(self.__name__, attr)
        return getattr(importlib.import_module(self.__name__), attr)


class _Later:
    """``from scipy.interpolate import interp1d`` at import time: the function is fetched when called."""

    def __init__(self, module: str, attr: str) -> None:
        self._where = (module, attr)

    def _get(self) -> Any:
        module, attr = self._where
        return getattr(importlib.import_module(module), attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._get()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._get(), attr)


@cache
def load() -> Any:
    """Import ``formulas`` with every function module loaded; returns the ``formulas`` module."""
    if "formulas.functions.stat" not in sys.modules and not any(m in sys.modules for m in _DEFERRED):
        for name in _DEFERRED:
            sys.modules[name] = _Deferred(name)
        try:
            importlib.import_module("formulas.functions.stat")
        finally:
            _Deferred.importing = False
            for name in _DEFERRED:
                if isinstance(sys.modules.get(name), _Deferred):
                    del sys.modules[name]
    import formulas
    from formulas.functions import get_functions

    get_functions()
    return formulas


def empty() -> Any:
    """The engine's marker for an empty cell (``schedula.EMPTY``)."""
    import schedula

    return schedula.EMPTY


@cache
def error_type() -> type:
    from formulas.tokens.operand import XlError

    return XlError


_errors: dict[str, Any] = {}


def error(text: str) -> Any:
    """The engine's error value for ``#N/A`` etc.; errors it does not know (``#SPILL!``) are made alike."""
    if not _errors:
        from formulas.tokens.operand import Error

        _errors.update(Error.errors)
    found = _errors.get(text)
    if found is None:
        found = _errors[text] = error_type()(text)
    return found
