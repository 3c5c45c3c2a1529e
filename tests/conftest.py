"""Test isolation: every test sees the bundled tables, never a developer's refreshed ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``XLDUTY_DATA_DIR`` at an empty folder for the session (subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("xlduty-data")
    old = os.environ.get("XLDUTY_DATA_DIR")
    os.environ["XLDUTY_DATA_DIR"] = str(folder)
    os.environ.setdefault("XLDUTY_CACHE_DIR", str(tmp_path_factory.mktemp("xlduty-cache")))
    from xlduty.core import tables

    tables.clear_cache()
    yield folder
    if old is None:
        os.environ.pop("XLDUTY_DATA_DIR", None)
    else:
        os.environ["XLDUTY_DATA_DIR"] = old
