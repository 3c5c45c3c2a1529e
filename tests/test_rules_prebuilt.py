"""The rule files prebuilt at wheel-build time (hatch_build.py) are the YAML, exactly: the same data in the same
order, the same validated rules, and a wheel computes byte for byte what the checkout computes.

Why prebuilt: where no user cache helps (a first run; xlwings Lite, where the cache is off), parsing the YAML is the
largest single cost of the first calculation. The YAML stays the source; a checkout keeps reading it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from conftest import script_module

from xlduty.core import rules
from xlduty.core.tables import rules_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return script_module(ROOT / "hatch_build.py", "hatch_build")


def _ordered(value: Any) -> str:
    """A text that differs whenever the data or the order of any mapping or list differs; dates as ISO text."""
    return json.dumps(value, ensure_ascii=False, default=lambda d: d.isoformat() if isinstance(d, date) else None)


def test_the_document_is_every_rule_file_in_its_own_order(hook: ModuleType) -> None:
    document = json.loads(hook.rules_document(rules_dir()))
    files = sorted(p.name for p in rules_dir().glob("*.yaml"))
    assert sorted(document) == files and {"incoterms.yaml", "preference_parties.yaml"} <= set(files)
    for name in files:
        parsed = yaml.load((rules_dir() / name).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        assert _ordered(document[name]) == _ordered(parsed), name
    assert rules.PREBUILT == hook.PREBUILT


def test_the_rules_read_from_it_are_the_rules_read_from_yaml(hook: ModuleType, tmp_path: Path) -> None:
    """Validated from either source: equal, field for field and in the order of every mapping (which decides, for
    example, the order preference columns are compared in)."""
    for p in rules_dir().glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / rules.PREBUILT).write_bytes(hook.rules_document(rules_dir()))
    (tmp_path / "consumption_tax.yaml").write_text("not: [the prebuilt document is read", encoding="utf-8")
    from_yaml = rules._validate_rules(rules_dir())
    prebuilt = rules._validate_rules(tmp_path)
    assert prebuilt == from_yaml
    assert _ordered(prebuilt.model_dump()) == _ordered(from_yaml.model_dump())
    assert rules.rule_file(tmp_path / "incoterms.yaml") == rules.rule_file(rules_dir() / "incoterms.yaml")


def test_a_damaged_document_is_a_data_error(tmp_path: Path) -> None:
    from xlduty.core.errors import DataError

    (tmp_path / rules.PREBUILT).write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match=r"cannot read .*prebuilt\.json"):
        rules.rule_file(tmp_path / "rounding.yaml")
    (tmp_path / rules.PREBUILT).write_text("{}", encoding="utf-8")
    rules._prebuilt.cache_clear()
    with pytest.raises(DataError, match=r"cannot read .*rounding.yaml: not in .*prebuilt.json"):
        rules.rule_file(tmp_path / "rounding.yaml")
    rules._prebuilt.cache_clear()


def test_the_wheel_is_pure_and_carries_the_tables(xlduty_wheel: Path) -> None:
    """py3-none-any, the bundled tables and the prebuilt rules inside, and only the calculation's three
    dependencies outside the extras."""
    assert xlduty_wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(xlduty_wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for part in ("_rules/prebuilt.json", "_rules/countries.json", "_rules/tariff/editions.json",
                 "_rules/tariff/2026_07_09.json.gz", "_rules/fx/customs_weekly.json.gz", "_rules/rounding.yaml",
                 "_workbook/xlduty.xlam"):
        assert f"xlduty/{part}" in names, part
    plain = sorted(line.split(": ", 1)[1] for line in meta.splitlines()
                   if line.startswith("Requires-Dist:") and "extra ==" not in line)
    assert plain == ["platformdirs>=4", "pydantic<3,>=2.6", "pyyaml>=6.0"]


def _compute(path: Path | None, *args: str) -> str:
    """``xlduty …`` run from the installed wheel at ``path`` (or the checkout), no user cache: stdout. The wheel's
    run must parse no YAML (it reads the prebuilt rules); the checkout's does."""
    env = {**os.environ, "XLDUTY_CACHE_DIR": "off", "PYTHONPATH": str(path or ROOT)}
    code = ("import sys, xlduty\nfrom xlduty.cli import main\nrc = main(sys.argv[1:])\n"
            f"assert xlduty.__file__.startswith({str(path or ROOT)!r}), xlduty.__file__\n"
            f"assert ('yaml' in sys.modules) == {path is None}\nsys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, encoding="utf-8",
                         cwd=path or ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_wheel_computes_what_the_checkout_computes(xlduty_wheel: Path, tmp_path: Path) -> None:
    """The README's example declaration and quote: the same bytes from the installed wheel (prebuilt rules, no YAML
    parsed) as from the checkout (YAML)."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
                    str(xlduty_wheel)], check=True, capture_output=True, timeout=300)
    for name in ("declaration.json", "quote.json"):
        shutil.copy(ROOT / "examples" / name, target / name)
    for command in (("compute", "declaration.json"), ("quote", "quote.json")):
        wheel = _compute(target, *command)
        checkout = _compute(None, command[0], str(ROOT / "examples" / command[1]))
        assert wheel == checkout and len(wheel) > 1000, command
