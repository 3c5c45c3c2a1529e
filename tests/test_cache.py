"""The per-user data cache: a hit returns what the sources gave; a changed, damaged or disabled cache
never changes an answer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from xlduty.core import cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(d))
    return d


def test_hit_miss_and_change(cache_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "rates.txt"
    src.write_text("7.4%")
    calls: list[str] = []

    def build() -> dict[str, str]:
        calls.append("built")
        return {"rate": src.read_text()}

    assert cache.cached("t", [src], build, codec="marshal") == {"rate": "7.4%"}
    assert cache.cached("t", [src], build, codec="marshal") == {"rate": "7.4%"}
    assert calls == ["built"]
    src.write_text("10.9%")
    os.utime(src, ns=(1, 1))           # a new stamp, even on a coarse clock
    assert cache.cached("t", [src], build, codec="marshal") == {"rate": "10.9%"}
    assert len(list(cache_dir.glob("t-*.marshal"))) == 1   # the stale entry is gone


def test_damaged_entry_is_rebuilt(cache_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.yaml"
    src.write_text("x")
    cache.cached("d", [src], lambda: [1, 2, 3])
    (entry,) = cache_dir.glob("d-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert cache.cached("d", [src], lambda: [4]) == [4]


def test_an_entry_of_an_earlier_layout_is_never_read(cache_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry pickled before a cached class moved (the rules once pickled as ``xlduty.rules.Rules``) misses:
    the layout is part of the key, so it is rebuilt from the sources, and the stale file is dropped."""
    src = tmp_path / "rules.yaml"
    src.write_text("x")
    layout = cache.LAYOUT
    monkeypatch.setattr(cache, "LAYOUT", layout - 1)
    assert cache.cached("r", [src], lambda: "as the old layout pickled it") == "as the old layout pickled it"
    monkeypatch.setattr(cache, "LAYOUT", layout)
    assert cache.cached("r", [src], lambda: "rebuilt") == "rebuilt"
    assert len(list(cache_dir.glob("r-*.pickle"))) == 1


def test_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    src = tmp_path / "a"
    src.write_text("x")
    assert cache.cached("o", [src], lambda: 5) == 5
    assert cache.cache_dir() is None


def test_rules_from_cache_equal_the_sources(cache_dir: Path) -> None:
    from xlduty.core.rules import _validate_rules, load_rules
    from xlduty.core.tables import rules_dir

    load_rules.cache_clear()
    first = load_rules()
    load_rules.cache_clear()
    assert load_rules() == first == _validate_rules(rules_dir())
    assert list(cache_dir.glob("rules-*.pickle"))
    load_rules.cache_clear()


def test_off_under_pyodide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Under Pyodide (xlwings Lite) the installed files get a new modification time every session, so an entry
    would never be read again: the cache is off there, whatever XLDUTY_CACHE_DIR says, and nothing is written."""
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    assert cache.cache_dir() == tmp_path
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert cache.cache_dir() is None
    assert cache.cached("x", [Path(__file__)], lambda: 42) == 42
    assert list(tmp_path.iterdir()) == []
