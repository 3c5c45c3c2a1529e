"""Build the bundled list of country codes (rules/countries.json) that an origin is checked against.

Usage: python -m update.countries [ISO3166_1_JSON]
(default: the ``databases/iso3166-1.json`` of the installed pycountry, a test dependency)

ISO 3166-1 alpha-2 codes with their English short names, as the Debian iso-codes data that pycountry ships
records them. Why bundled: the check needs ~250 codes, and pycountry's wheel is 8 MB, more than everything else
xlwings Lite downloads when a workbook opens. The codes are facts; the file says where they were read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from update._common import RULES, write_bytes_atomic

OUT = RULES / "countries.json"


def pycountry_source() -> tuple[Path, str]:
    """The installed pycountry's ISO 3166-1 file and a label naming its version."""
    from importlib import metadata

    import pycountry

    label = f"pycountry {metadata.version('pycountry')}"
    return Path(pycountry.__file__).parent / "databases" / "iso3166-1.json", label


def build(source: Path, label: str) -> bytes:
    """The file's bytes: one code per line, sorted, so that a change reads as a one-line diff."""
    entries = json.loads(source.read_text(encoding="utf-8"))["3166-1"]
    names = {e["alpha_2"]: e["name"] for e in entries}
    if len(names) != len(entries) or not all(len(c) == 2 and c.isascii() and c.isupper() for c in names):
        raise SystemExit(f"{source}: duplicate or malformed alpha-2 codes")
    head = {"format": 1, "standard": "ISO 3166-1 alpha-2",
            "source": f"Debian iso-codes, as {label} ships it (databases/iso3166-1.json)"}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "codes": {']
    lines += [f"  {json.dumps(code)}: {json.dumps(name, ensure_ascii=False)}," for code, name in sorted(names.items())]
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv: list[str]) -> None:
    source, label = (Path(argv[0]), Path(argv[0]).name) if argv else pycountry_source()
    data = build(source, label)
    write_bytes_atomic(OUT, data)
    print(f"{OUT.relative_to(RULES.parent)}: {len(json.loads(data)['codes'])} codes from {label}")


if __name__ == "__main__":
    main(sys.argv[1:])
