"""The per-user data cache: a hit returns what the sources gave; a changed, damaged or disabled cache
never changes an answer."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

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


def test_an_entry_changed_in_place_is_rebuilt_not_read(cache_dir: Path, tmp_path: Path) -> None:
    """A damaged entry that still unpickles (here the rate text 7.4% turned 9.4%, the same length: a lost or flipped
    block would do the same) would silently change every duty; its CRC-32 no longer matches, so it is rebuilt."""
    src = tmp_path / "rates.txt"
    src.write_text("7.4%")
    assert cache.cached("c", [src], lambda: {"rate": "7.4%"}) == {"rate": "7.4%"}
    (entry,) = cache_dir.glob("c-*.pickle")
    data = entry.read_bytes()
    assert data.count(b"7.4%") == 1
    entry.write_bytes(data.replace(b"7.4%", b"9.4%"))
    calls: list[str] = []
    assert cache.cached("c", [src], lambda: calls.append("built") or {"rate": "7.4%"}) == {"rate": "7.4%"}
    assert calls == ["built"]
    assert cache.cached("c", [src], lambda: {"rate": "never built"}) == {"rate": "7.4%"}   # the rebuilt entry is read


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


@pytest.mark.parametrize("where", ["a file", "a file's child"])
def test_an_unusable_cache_folder_is_ignored(where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XLDUTY_CACHE_DIR naming a file (or a path through one) is a cache that cannot be used: the value is built from
    the sources, as with the cache off, and nothing is raised (it raised NotADirectoryError from the branch that drops a
    damaged entry, and ``xlduty compute`` failed with exit 3 blaming the bundled rules)."""
    afile = tmp_path / "afile"
    afile.write_bytes(b"")
    monkeypatch.setenv(cache.ENV, str(afile if where == "a file" else afile / "sub"))
    src = tmp_path / "rules.yaml"
    src.write_text("x")
    assert cache.cached("u", [src], lambda: {"built": 1}) == {"built": 1}
    assert cache.cached("u", [src], lambda: [1], codec="marshal") == [1]
    assert afile.read_bytes() == b""


def test_compute_with_an_unusable_cache_folder(tmp_path: Path) -> None:
    """The command computes as without a cache (exit 0, the example's figures)."""
    import json
    import subprocess

    afile = tmp_path / "afile"
    afile.write_bytes(b"")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, cache.ENV: str(afile), "XLDUTY_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-m", "xlduty", "compute", str(root / "examples" / "declaration.json")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["totals"]["total"] == 186700


def test_decoding_an_entry_leaves_collection_as_it_was(cache_dir: Path, tmp_path: Path) -> None:
    """An entry is decoded with cyclic collection paused (``cache._decoded``), and collection is back as it was after a
    hit and after a damaged entry (the Excel server runs for days: left off, its cycles would never be freed); a
    caller that paused it itself finds it still paused."""
    import gc

    src = tmp_path / "book.json"
    src.write_text("x")
    assert cache.cached("g", [src], lambda: [[1, 2]] * 3, codec="marshal") == [[1, 2]] * 3
    (entry,) = cache_dir.glob("g-*.marshal")
    seen: list[bool] = []

    def build() -> list[int]:
        seen.append(gc.isenabled())   # the rebuild after a damaged entry runs with collection on
        return [4]

    assert gc.isenabled()
    assert cache.cached("g", [src], build, codec="marshal") == [[1, 2]] * 3 and gc.isenabled()
    entry.write_bytes(b"\xff damaged")
    assert cache.cached("g", [src], build, codec="marshal") == [4] and gc.isenabled() and seen == [True]
    gc.disable()
    try:
        assert cache.cached("g", [src], build, codec="marshal") == [4] and not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("shape", ["dict", "list"])
def test_an_edition_nested_deeper_than_a_book_reads_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              shape: str) -> None:
    """A tariff edition (a rates store under ``XLDUTY_DATA_DIR`` is the user's to edit) holding a value 700 deep, which
    JSON reads, reads as it did before editions were held once (``tables.held_once``, ceca3c9): its lines as the
    bundled book's, the extra value kept. Walking it recursively hit the recursion limit, and the RecursionError was
    said as "the input is nested too deeply to read" (exit 2), blaming the declaration."""
    import gzip
    import json

    from xlduty.core import tables

    bundled = tables.rules_dir() / "tariff"
    book = tables.read_json_gz(bundled / "2026_07_09.json.gz")
    deep: object = 1
    for _ in range(700):
        deep = {"a": deep} if shape == "dict" else [deep]
    (tmp_path / "tariff").mkdir()
    (tmp_path / "tariff" / "2026_07_09.json.gz").write_bytes(gzip.compress(json.dumps({**book, "x": deep}).encode()))
    for where in ("off", str(tmp_path / "cache")):
        monkeypatch.setenv(cache.ENV, where)
        for _ in range(2):   # with the cache on: filled, then read back
            got = tables.read_edition("2026_07_09", str(tmp_path))
            assert got["lines"] == book["lines"] and got["x"] == deep


@pytest.mark.parametrize(("damage", "words"), [
    (lambda b: b.pop("lines"), "the book has no 'lines'"),
    (lambda b: b.update(rates=[]), "lines[0] cells are not 27 rate references"),
    (lambda b: b["lines"][5].pop(), "lines[5] is not a row of 7 fields"),
    (lambda b: b["lines"][9].__setitem__(0, "6109.10-020"), "lines[9] code '6109.10-020' is not a 9-digit code"),
    (lambda b: b["lines"][2].__setitem__(2, 10 ** 6), "lines[2] path points at no heading path"),
    (lambda b: b.update(effective_from="someday"), "effective_from 'someday' is not a date"),
])
def test_a_damaged_edition_is_refused_naming_the_fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any,
                                                       words: str) -> None:
    """A stored edition of the wrong shape (a rates store is the user's to edit) is refused when it is read, naming
    the first fault and how to put the bundled tables back; its lines are decoded lazily, so it used to surface
    later as an internal error or as a fault blamed on the declaration's ``lines[0].hs_code``."""
    import gzip
    import json

    from xlduty.core import tables
    from xlduty.core.errors import DataError

    for name, _start in tables.editions(str(tables.rules_dir())):   # the bundled books, read unchecked: they pass
        tables.checked_book(tables.read_json_gz(tables.rules_dir() / "tariff" / f"{name}.json.gz"))
    book = tables.read_json_gz(tables.rules_dir() / "tariff" / "2026_07_09.json.gz")
    damage(book)
    (tmp_path / "tariff").mkdir()
    (tmp_path / "tariff" / "2026_07_09.json.gz").write_bytes(gzip.compress(json.dumps(book).encode()))
    for where in ("off", str(tmp_path / "cache")):
        monkeypatch.setenv(cache.ENV, where)
        with pytest.raises(DataError) as caught:
            tables.read_edition("2026_07_09", str(tmp_path))
        assert words in str(caught.value) and "xlduty rates use bundled" in str(caught.value)
