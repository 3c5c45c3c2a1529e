"""Build the bundled customs weekly exchange rates (rules/fx/customs_weekly.json.gz).

Usage: python -m update.fx [RAW_DIR]   (default: ../shared/data/raw)

税関長公示レート (関税定率法4条の7, 施行規則1条): one figure per currency per Sunday–Saturday week,
quoted per 1 unit or per 100 units. Figures are kept exactly as published, as text, with the
quotation unit ("10.03/100"). Rows that say a currency equals another (BND = SGD, LUF = BEF) are
kept as aliases so the conversion can say so.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from update._common import CREDIT, DEFAULT_RAW, RULES, write_json_gz

ALIAS_NOTES = {"シンガポール・ドルと等価": "SGD", "ベルギー・フランと等価": "BEF"}


def build(raw: Path) -> dict:
    src = raw / "jp_customs_fx" / "customs_fx_weekly_2002-01-06_2020-09-26.csv.gz"
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(src.read_bytes()).decode("utf-8"))))
    weeks = sorted({r["week_start"] for r in rows})
    first = date.fromisoformat(weeks[0])
    for i, w in enumerate(weeks):
        if date.fromisoformat(w) != first + timedelta(weeks=i) or date.fromisoformat(w).weekday() != 6:
            raise SystemExit(f"week {w} breaks the Sunday sequence")
    pos = {w: i for i, w in enumerate(weeks)}
    rates: dict[str, list[str | None]] = {}
    aliases: dict[str, dict[str, str]] = {}
    for r in rows:
        iso, w = r["iso"], r["week_start"]
        if r["rate_published"]:
            series = rates.setdefault(iso, [None] * len(weeks))
            text = r["rate_published"] if r["per_units"] == "1" else f"{r['rate_published']}/{r['per_units']}"
            if series[pos[w]] not in (None, text):
                raise SystemExit(f"{iso} {w}: two figures {series[pos[w]]} and {text}")
            series[pos[w]] = text
        elif r["note"] in ALIAS_NOTES:
            aliases.setdefault(iso, {})[w] = ALIAS_NOTES[r["note"]]
    return {
        "format": 1,
        "source": "https://www.customs.go.jp/tetsuzuki/kawase/ (weekly PDFs kouji-rateYYYYMMDD-YYYYMMDD.pdf)",
        "credit": CREDIT + "（税関長公示レート）",
        "first_week": weeks[0],
        "weeks": len(weeks),
        "rates": dict(sorted(rates.items())),
        "aliases": {iso: sorted(set(v.values()))[0] for iso, v in sorted(aliases.items())},
    }


def main(argv: list[str]) -> None:
    raw = Path(argv[0]) if argv else DEFAULT_RAW
    book = build(raw)
    out = RULES / "fx" / "customs_weekly.json.gz"
    write_json_gz(out, book)
    print(f"{out.relative_to(RULES.parent)}: {book['weeks']} weeks from {book['first_week']}, "
          f"{len(book['rates'])} currencies")


if __name__ == "__main__":
    main(sys.argv[1:])
