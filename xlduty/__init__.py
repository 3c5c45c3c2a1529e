"""xlduty: Japanese import duty (関税) and import consumption tax (輸入消費税), computed as Japan Customs does.

    >>> from xlduty import compute
    >>> line = {"hs_code": "6109.10-020", "origin": "CN", "value": 300000}
    >>> compute({"date": "2026-11-01", "lines": [line]}).totals.total
    54300
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlduty.version import __version__

if TYPE_CHECKING:
    from xlduty.core.engine import Engine, compute, compute_batch
    from xlduty.core.errors import DataError, InputError


def __getattr__(name: str) -> Any:  # lazy: `xlduty compute` must start fast
    if name in ("compute", "compute_batch", "Engine"):
        from xlduty.core import engine

        return getattr(engine, name)
    if name in ("InputError", "DataError", "XlDutyError"):
        from xlduty.core import errors

        return getattr(errors, name)
    raise AttributeError(name)


__all__ = ["DataError", "Engine", "InputError", "__version__", "compute", "compute_batch"]
