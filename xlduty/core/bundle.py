"""Where the bundled data lives (kept free of heavy imports: start-up time matters)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from xlduty.core.errors import DataError


@lru_cache(maxsize=1)
def rules_dir() -> Path:
    """The bundled ``rules/`` folder: beside the package in a checkout, inside it in a wheel."""
    package = Path(__file__).resolve().parent.parent   # xlduty/
    for candidate in (package.parent / "rules", package / "_rules"):
        if (candidate / "tariff" / "editions.json").exists():
            return candidate
    raise DataError("the bundled rules/ folder is missing: reinstall xlduty")
