"""Refresh the tariff schedule and the customs weekly exchange rates from the official site, safely.

    >>> from xlduty.rates import refresh
    >>> report = refresh()            # doctest: +SKIP
    >>> print(report)                 # the human summary; report.ok is False (with the reason) if nothing changed

New tables are stored, versioned, in the user data directory (``$XLDUTY_DATA_DIR`` overrides it) and
switched into use atomically; the bundled tables remain the fallback. ``xlduty rates list|use|rollback``
moves between versions. This package is an adapter above the calculation core: the core reads the tables in use
through ``xlduty.core.tables`` and never imports it. The heavy parts (HTTP, HTML, PDF, pydantic) load only for a
refresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlduty.rates.models import ActiveState
    from xlduty.rates.pipeline import Progress, invalidate_caches, refresh
    from xlduty.rates.report import RefreshReport


def active_tariff_dir() -> Path:
    """The ``tariff/`` folder in use (``editions.json`` and one ``<edition>.json.gz`` per edition)."""
    from xlduty.core.tables import tables_dir

    return tables_dir("tariff") / "tariff"


def active_fx_path() -> Path:
    """The customs weekly FX table in use (``customs_weekly.json.gz``)."""
    from xlduty.core.tables import fx_table_path

    return fx_table_path()


def use(version: str) -> ActiveState:
    """Put a stored version into use (``bundled``: both bundled tables); verifies its files first."""
    from xlduty.rates.pipeline import invalidate_caches
    from xlduty.rates.store import Store

    store = Store()
    with store.lock():
        state = store.use(version)
    invalidate_caches()
    return state


def rollback() -> ActiveState:
    """Back to the versions in use before the last switch."""
    from xlduty.rates.pipeline import invalidate_caches
    from xlduty.rates.store import Store

    store = Store()
    with store.lock():
        state = store.rollback()
    invalidate_caches()
    return state


def report_text(version: str | None = None) -> str:
    """The stored change report of ``version``, or of the versions in use (for the CLI and the ribbon)."""
    from xlduty.core.tables import KINDS
    from xlduty.rates.report import FxChanges, TariffChanges, render_fx, render_tariff
    from xlduty.rates.store import Store

    if version == "bundled":   # a name `rates use` takes: the tables xlduty ships, which no refresh reported
        return ("bundled: the tables shipped with xlduty have no refresh report "
                "(`xlduty rates list` shows their editions)")
    store = Store()
    if version is None:
        state = store.state()
        pairs = [(k, getattr(state, k)) for k in KINDS]
    else:
        pairs = [(store.kind_of(version), version)]
    lines = []
    for kind, v in pairs:
        if v is None:
            lines.append(f"{kind}: the bundled table is in use (no refresh report)")
            continue
        store.check_name(kind, v)
        path = store.version_dir(kind, v) / "report.json"
        if not path.is_file():
            lines.append(f"{kind} {v}: no report stored")
            continue
        data = path.read_bytes()
        try:
            changes = (TariffChanges if kind == "tariff" else FxChanges).model_validate_json(data)
        except ValueError as exc:
            from xlduty.rates.errors import StoreError

            raise StoreError(f"{path} is damaged ({str(exc).splitlines()[0]})") from None
        lines.extend(render_tariff(changes) if kind == "tariff" else render_fx(changes))  # type: ignore[arg-type]
    return "\n".join(lines)


def __getattr__(name: str) -> Any:  # lazy: importing xlduty.rates must stay cheap
    if name in ("refresh", "invalidate_caches", "Progress", "CHAPTERS"):
        from xlduty.rates import pipeline as module

        return getattr(module, name)
    if name in ("RefreshReport", "TariffChanges", "FxChanges"):
        from xlduty.rates import report

        return getattr(report, name)
    if name in ("Limits",):
        from xlduty.rates import models

        return models.Limits
    if name in ("FetchSettings", "DEFAULT_SOURCE"):
        from xlduty.rates import sources

        return getattr(sources, name)
    raise AttributeError(name)


__all__ = ["FetchSettings", "Limits", "Progress", "RefreshReport", "active_fx_path", "active_tariff_dir",
           "invalidate_caches", "refresh", "report_text", "rollback", "use"]
