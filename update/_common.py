"""Helpers shared by the data-build scripts: where the raw data is, and deterministic writing."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from xlduty.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
DEFAULT_RAW = ROOT.parent / "shared" / "data" / "raw"
CREDIT = "出典：税関ホームページ（https://www.customs.go.jp/）を加工して作成"


def write_json_gz(path: Path, obj: object) -> str:
    """Write ``obj`` as gzipped JSON, byte-for-byte reproducible (mtime 0), atomically; return sha256."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    data = gzip.compress(raw, compresslevel=9, mtime=0)
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data, mode=0o644)
