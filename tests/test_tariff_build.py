"""The bundled schedule is what update/tariff.py builds from the raw data, and inheritance is right."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from update import _common, tariff

RAW = _common.DEFAULT_RAW / "jp_tariff"
pytestmark = pytest.mark.skipif(not RAW.exists(), reason="shared/data/raw is not beside the repo")


def test_rebuild_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Running the build again gives the same bytes as the committed rules/tariff (reproducible, current)."""
    monkeypatch.setattr(tariff, "RULES", tmp_path)
    tariff.main([str(_common.DEFAULT_RAW)])
    committed = json.loads((_common.RULES / "tariff" / "editions.json").read_text())["editions"]
    for e in committed:
        built = hashlib.sha256((tmp_path / "tariff" / e["file"]).read_bytes()).hexdigest()
        on_disk = hashlib.sha256((_common.RULES / "tariff" / e["file"]).read_bytes()).hexdigest()
        assert built == e["sha256"] == on_disk, e["edition"]


def test_inheritance_matches_the_page_rows() -> None:
    """A 9-digit line's empty cell takes the nearest ancestor row's value (level-based), for all 27 columns."""
    rows = list(csv.DictReader((RAW / "tariff_rows_2026_07_09.csv").open(encoding="utf-8")))
    lines = list(csv.DictReader((RAW / "tariff_lines_2026_07_09.csv").open(encoding="utf-8")))
    stack: list[tuple[int, dict[str, str]]] = []
    derived = []
    for r in rows:
        level = int(r["level"])
        while stack and stack[-1][0] >= level:
            stack.pop()
        if r["stat_suffix"]:
            cells = {}
            for c in tariff.RATE_COLUMNS:
                v = r[c] or next((a[c] for _, a in reversed(stack) if a[c]), "")
                cells[c] = v
            derived.append((r["code9"], cells))
        stack.append((level, r))
    assert len(derived) == len(lines) == 9654
    for (code, cells), line in zip(derived, lines, strict=True):
        assert code == line["code9"]
        assert cells == {c: line[c] for c in tariff.RATE_COLUMNS}, code
