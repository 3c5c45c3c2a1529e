"""Start-up: what a plain command imports, and the rules as plain records (core/rules.py, core/declaration.py).

Importing pydantic costs more than the rest of a start-up (bench/startup.py): a plain batch or declaration, with the
rules read back from the user cache, must never import it. The rule records must hold what the pydantic models
validated, and refuse bad rule data as the models did.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xlduty.core.errors import DataError
from xlduty.core.tables import rules_dir

ROOT = Path(__file__).resolve().parents[1]
ROW = {"declaration": "D0", "hs_code": "2921.21-000", "origin": "TH", "value": "196745", "currency": "USD",
       "freight": "5341", "claim_preference": "true"}
PLAIN = {"date": "2026-11-20", "fx_rates": {"USD": 155}, "lines": [
    {"hs_code": "6109.10-020", "origin": "CN", "value": 1800, "currency": "USD"}]}


def test_a_plain_batch_and_declaration_never_import_pydantic(tmp_path: Path) -> None:
    """With the cache warm, ``xlduty batch`` of one plain row and ``xlduty compute`` of a plain declaration run without
    pydantic, and give what the models' path gives (``Engine(fast=False)``, which validates through pydantic)."""
    import json

    from xlduty.core.engine import Engine

    rows = tmp_path / "one.csv"
    with rows.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, list(ROW))
        w.writeheader()
        w.writerow(ROW)
    (tmp_path / "plain.json").write_text(json.dumps(PLAIN), encoding="utf-8")
    env = {**os.environ, "XLDUTY_CACHE_DIR": str(tmp_path / "cache"), "XLDUTY_DATA_DIR": str(tmp_path / "data")}
    code = ("import sys\nfrom xlduty.cli import main\n"
            "assert main(['batch', 'one.csv', '-o', 'out.csv', '--date', '2026-11-20', '--fx-rates', 'USD:155.39']) "
            "== 0\nassert main(['compute', 'plain.json']) == 0\n"
            "print('pydantic' in sys.modules, file=sys.stderr)\n")
    for run in ("fills the cache", "reads it"):
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                             encoding="utf-8", timeout=120)
        assert out.returncode == 0, out.stderr
        if run == "reads it":
            assert out.stderr.splitlines()[-1] == "False", out.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as fh:
        (got,) = list(csv.DictReader(fh))
    declared = {"date": "2026-11-20", "fx_rates": {"USD": Decimal("155.39")}, "lines": [
        {"hs_code": ROW["hs_code"], "origin": "TH", "value": 196745, "currency": "USD", "freight": 5341,
         "claim_preference": True}]}
    want = Engine(fast=False).compute(declared)
    line = want.lines[0]
    assert int(got["total"]) == line.duty + line.national_ct + line.local_ct + line.excise
    assert int(got["declaration_total"]) == want.totals.total
    assert json.loads(out.stdout)["totals"]["total"] == Engine(fast=False).compute(PLAIN).totals.total


def test_rules_records_hold_what_the_models_validated() -> None:
    """The records equal the pydantic models' values field for field (an alias, a validator, a default factory
    among them), and are read-only as the frozen models were."""
    from xlduty.core import rules

    records = rules._validate_rules(rules_dir())
    models = rules._models()
    raw = {key: rules.rule_file(rules_dir() / name) for key, name in rules._FILES.items()}
    for key in ("de_minimis", "simplified"):
        raw[key] = raw[key]["versions"]
    assert records.model_dump() == models[rules.Rules].model_validate(raw).model_dump()
    first = records.consumption_tax.rates[0]   # from: 1997-04-01, national_standard: "4%", local_ratio: "25/100"
    assert (first.start, first.national_standard, first.local_fraction) == (date(1997, 4, 1), Decimal(4), (25, 100))
    with pytest.raises(AttributeError, match="read-only"):
        first.national_standard = Decimal(5)  # type: ignore[misc]
    assert records == rules._validate_rules(rules_dir()) and records != first


def test_bad_rule_data_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A month of 13 in rules/tariff_cycle.yaml breaks the record's bound (Field(ge=1, le=12)): DataError, the field
    named, as the pydantic model said it."""
    from xlduty.core import rules

    d = tmp_path / "rules"
    shutil.copytree(rules_dir(), d, ignore=shutil.ignore_patterns("tariff", "fx", "prebuilt.json"))
    text = (d / "tariff_cycle.yaml").read_text(encoding="utf-8")
    (d / "tariff_cycle.yaml").write_text(text.replace("  month: 4\n", "  month: 13\n"), encoding="utf-8")
    with pytest.raises(DataError, match=r"(?s)1 validation error for Rules.*tariff_cycle\.annual_edition\.month.*"
                                        r"less than or equal to 12"):
        rules._validate_rules(d)


def test_rule_records_made_in_code_are_validated_and_copies_are_new_records() -> None:
    """Rule data made in code (tests, what-ifs) is validated as the rule files are (a date from its text; a
    verification mark outside V-off, V-sec, U, C refused); ``model_copy`` gives a new record with the fields replaced,
    the original unchanged, and refuses a field the record does not have."""
    from xlduty.core.rules import InferredExclusion

    fields = {"name_ja": "甲", "hs": ["0203"], "why": "w", "source": "s", "checked": "2026-01-01"}
    made = InferredExclusion.validated(**fields, verified="U")
    assert (made.checked, made.verified) == (date(2026, 1, 1), "U")
    with pytest.raises(ValueError, match="verified"):
        InferredExclusion.validated(**fields, verified="maybe")
    copy = made.model_copy(update={"hs": ["0204"]})
    assert (copy.hs, made.hs, copy.name_ja) == (["0204"], ["0203"], "甲")
    with pytest.raises(AttributeError, match="no field 'hz'"):
        made.model_copy(update={"hz": ["0204"]})


def _rules_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the rule files (no tables) with ``old`` replaced by ``new`` once in ``name``."""
    d = tmp_path / "rules"
    shutil.copytree(rules_dir(), d, ignore=shutil.ignore_patterns("tariff", "fx", "prebuilt.json"))
    text = (d / name).read_text(encoding="utf-8")
    assert old in text
    (d / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return d


@pytest.mark.parametrize(("name", "old", "new", "where", "words"), [
    # each kind of check the records' annotations carry: an after-validator, a before-validator, a Literal, an alias,
    # extra keys forbidden, a bound, a default factory's type, a nested record's required field
    ("consumption_tax.yaml", 'local_ratio: "25/100"', 'local_ratio: "abc"', "consumption_tax.rates.0.local_ratio",
     "Invalid literal for Fraction"),
    ("consumption_tax.yaml", 'national_standard: "4%"', "national_standard: null",
     "consumption_tax.rates.0.national_standard", "Decimal input should be"),
    ("consumption_tax.yaml", "verified: V-sec}", "verified: V-xx}", "consumption_tax.rates.0.verified",
     "Input should be 'V-off', 'V-sec', 'U' or 'C'"),
    ("consumption_tax.yaml", "from: 1997-04-01", "from: yesterday", "consumption_tax.rates.0.from",
     "valid date"),
    ("consumption_tax.yaml", "from: 1997-04-01", "from: 1997-04-01, start: 1997-04-02",
     "consumption_tax.rates.0.start", "Extra inputs are not permitted"),
    ("tariff_cycle.yaml", "  day: 1\n", "  day: 0\n", "tariff_cycle.annual_edition.day",
     "greater than or equal to 1"),
    ("liquor_tax.yaml", "names: [ビール, beer]", "names: 5", "liquor.categories.beer.names", "valid list"),
    ("preference_parties.yaml", "exclusions: [{from: 2022-04-21", "exclusions: [{from: 2022-04-21, exclusions: []",
     "parties.columns.rate_wto.parties.RU.exclusions.0.exclusions", "Extra inputs are not permitted"),
    ("simplified_tariff.yaml", '"no": 1', '"nr": 1', "simplified.0.categories.0.no", "Field required"),
    # a malformed amount: a raw decimal.InvalidOperation or ZeroDivisionError before; "0.282" passed, then broke
    # every calculation (CTRate.local_fraction)
    ("consumption_tax.yaml", 'national_standard: "4%"', 'national_standard: "abc%"',
     "consumption_tax.rates.0.national_standard", "'abc%' is not a percentage"),
    ("consumption_tax.yaml", 'national_reduced: "6.24%"', 'national_reduced: "6.2.4%"',
     "consumption_tax.rates.2.national_reduced", "'6.2.4%' is not a percentage"),
    ("consumption_tax.yaml", 'local_ratio: "25/100"', 'local_ratio: "1/0"', "consumption_tax.rates.0.local_ratio",
     "'1/0' divides by zero"),
    ("consumption_tax.yaml", 'local_ratio: "22/78"', 'local_ratio: "0.282"', "consumption_tax.rates.2.local_ratio",
     "'0.282' is not a ratio of two whole numbers"),
    # a number, but not a tax rate: -5% (or 1E+30%) used to be taken and give negative or absurd consumption tax
    ("consumption_tax.yaml", 'national_standard: "4%"', 'national_standard: "-5%"',
     "consumption_tax.rates.0.national_standard", "'-5%' is not a percentage from 0 to 100"),
])
def test_each_kind_of_rule_check_still_refuses(tmp_path: Path, name: str, old: str, new: str, where: str,
                                               words: str) -> None:
    """The records' annotations keep every check of the pydantic models they replaced (ceca3c9's ``rules.py``: the
    same words, compared rule file by rule file): one edit breaking each kind of check is a DataError naming the
    field. The bundled data passes them all, so only broken data shows a check gone. The error names the rule file
    too (it named the folder)."""
    from xlduty.core import rules

    d = _rules_with(tmp_path, name, old, new)
    with pytest.raises(DataError) as e:
        rules._validate_rules(d)
    assert str(e.value).startswith(f"invalid rule data in {d / name}: "), str(e.value)
    assert re.search(f"\n{re.escape(where)}\n  [^\n]*{re.escape(words)}", str(e.value)), str(e.value)


def test_rule_records_compare_and_hash_by_every_field() -> None:
    """Two records are equal when every field is (the last one too), and equal records hash alike; a record holding a
    list is unhashable, as the frozen pydantic models were."""
    from xlduty.core.rules import load_rules

    loaded = load_rules()
    first = loaded.consumption_tax.rates[0]
    same = first.model_copy(update={})
    assert same == first and hash(same) == hash(first) and same is not first
    assert first.model_copy(update={"verified": "U"}) != first    # the last field
    assert first.model_copy(update={"start": None}) != first      # the first
    with pytest.raises(TypeError, match="unhashable"):
        hash(loaded.food)


def test_a_copied_record_works_out_its_cached_values_again() -> None:
    """A copy with a new local ratio must not keep the local fraction its original worked out (22/78 since 2014):
    the local consumption tax of a what-if would be the old one while the record says otherwise."""
    from xlduty.core.rules import load_rules

    current = load_rules().consumption_tax.rates[-1]
    assert current.local_fraction == (22, 78)
    assert current.model_copy(update={"local_ratio": "25/100"}).local_fraction == (25, 100)


def test_a_record_made_directly_says_how_to_make_one() -> None:
    """``CTRate(...)`` said "object() takes no arguments": a record is made from validated data, and the error says
    how (``validated``); made so, a malformed percentage is pydantic's error (a ValueError naming the field), not
    decimal's InvalidOperation."""
    from xlduty.core.rules import CTRate, DeMinimisVersion

    fields = {"from": "2019-10-01", "national_standard": "7.8%", "local_ratio": "22/78", "basis": "b", "source": "s",
              "verified": "V-off"}
    with pytest.raises(TypeError, match=r"CTRate is rule data.*CTRate\.validated\(\.\.\.\)"):
        CTRate(**fields)
    with pytest.raises(TypeError, match=r"DeMinimisVersion\.validated"):
        DeMinimisVersion()
    assert CTRate.validated(**fields).local_fraction == (22, 78)
    with pytest.raises(ValueError, match=r"national_standard\n.*'abc%' is not a percentage"):
        CTRate.validated(**{**fields, "national_standard": "abc%"})


def test_a_rule_file_without_its_versions_is_named(tmp_path: Path) -> None:
    """de_minimis.yaml and simplified_tariff.yaml hold a list under ``versions``: without it the loader raised a raw
    KeyError; it is a DataError naming the file."""
    from xlduty.core import rules

    d = _rules_with(tmp_path, "de_minimis.yaml", "versions:", "version:")
    with pytest.raises(DataError, match=re.escape(f"invalid rule data in {d / 'de_minimis.yaml'}: versions: give")):
        rules._validate_rules(d)
