"""Atomic writes: the target is replaced whole, keeps a readable mode, and survives a failed write intact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlduty.files import atomic_file, write_atomic


def test_new_file_gets_the_usual_mode_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "quote.pdf"
        write_atomic(target, b"one")
        assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"one", 0o644)
        target.chmod(0o640)
        write_atomic(target, b"two")
        assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"two", 0o640)
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
