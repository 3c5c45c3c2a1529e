"""Build the bundled tariff schedule (rules/tariff/) from the flattened 実行関税率表 CSVs.

Usage: python -m update.tariff [RAW_DIR]   (default: ../shared/data/raw)

Each edition becomes ``rules/tariff/<edition>.json.gz``: distinct rate texts and description paths
stored once, lines referring to them by index. Every rate text must parse (xlduty.core.rate_parser);
the build fails otherwise, so the bundle never holds a cell the calculator cannot read.
Rates are kept as printed; a cell left empty on a 9-digit row inherits from its nearest ancestor
row (already applied in the lines CSVs; tests/test_tariff_build.py re-derives it from the rows CSV).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from update._common import CREDIT, DEFAULT_RAW, RULES, write_bytes_atomic, write_json_gz
from xlduty.core.rate_parser import parse_rate

RATE_COLUMNS = [
    "rate_general", "rate_temporary", "rate_wto", "rate_gsp", "rate_ldc",
    "epa_singapore", "epa_mexico", "epa_malaysia", "epa_chile", "epa_thailand", "epa_indonesia",
    "epa_brunei", "epa_asean", "epa_philippines", "epa_switzerland", "epa_vietnam", "epa_india",
    "epa_peru", "epa_australia", "epa_mongolia", "epa_cptpp", "epa_eu", "epa_uk",
    "epa_rcep_asean_au_nz", "epa_rcep_china", "epa_rcep_korea", "epa_us",
]
FORMAT = 1


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def build_edition(path: Path) -> dict:
    rows = _read_csv(path)
    edition = rows[0]["edition"]
    missing = [c for c in RATE_COLUMNS if c not in rows[0]]
    if missing:
        raise SystemExit(f"{path.name}: columns missing: {missing}")
    rates: dict[str, int] = {}
    paths: dict[str, int] = {}
    lines = []
    for r in rows:
        idx = []
        for col in RATE_COLUMNS:
            text = r[col].strip()
            if not text:
                idx.append(-1)
                continue
            if text not in rates:
                parse_rate(text)  # raises on an unknown notation: fix the parser, never the data
                rates[text] = len(rates)
            idx.append(rates[text])
        p = r["description_path_ja"]
        if p not in paths:
            paths[p] = len(paths)
        lines.append([r["code9"], r["description_ja"], paths[p], r["unit_1"], r["unit_2"].replace("\n", " "),
                      r["other_laws"], idx])
    y, m, d = (int(x) for x in edition.split("_"))
    return {
        "format": FORMAT,
        "edition": edition,
        "effective_from": date(y, m, d).isoformat(),
        "source": f"https://www.customs.go.jp/tariff/{edition}/index.htm",
        "credit": CREDIT + "（実行関税率表）",
        "columns": RATE_COLUMNS,
        "rates": list(rates),
        "paths": list(paths),
        "lines": lines,
    }


def build_hs_en(raw: Path) -> dict:
    rows = _read_csv(raw / "jp_hs_en" / "hs_2025_04_01_en_hs2_hs4_hs6.csv")
    return {"edition": "2025_04_01", "credit": CREDIT + "（英語版実行関税率表）",
            "descriptions": {r["code"]: r["description_en"] for r in rows}}


def main(argv: list[str]) -> None:
    raw = Path(argv[0]) if argv else DEFAULT_RAW
    src = raw / "jp_tariff"
    index = []
    for path in sorted(src.glob("tariff_lines_*.csv*")):
        book = build_edition(path)
        out = RULES / "tariff" / f"{book['edition']}.json.gz"
        digest = write_json_gz(out, book)
        index.append({"edition": book["edition"], "effective_from": book["effective_from"],
                      "file": out.name, "lines": len(book["lines"]), "sha256": digest})
        print(f"{out.relative_to(RULES.parent)}: {len(book['lines'])} lines, {len(book['rates'])} rate texts")
    index.sort(key=lambda e: e["effective_from"])
    hs_en = build_hs_en(raw)
    write_json_gz(RULES / "tariff" / "hs_en.json.gz", hs_en)
    write_bytes_atomic(RULES / "tariff" / "editions.json",
                       (json.dumps({"editions": index}, ensure_ascii=False, indent=1) + "\n").encode())


if __name__ == "__main__":
    main(sys.argv[1:])
