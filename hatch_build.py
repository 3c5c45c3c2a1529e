"""The wheel's build step (a hatchling build hook): every rule file parsed once, at build time, into one JSON
document that the wheel carries beside the YAML (``xlduty/_rules/prebuilt.json``).

Why: with no user cache to help (a first run; xlwings Lite, where the cache is off), parsing the YAML is the
largest single cost of the first calculation — 0.2–0.8 s under Pyodide, whose PyYAML may have no C parser.
``xlduty.core.rules.rule_file`` reads this document when the rules folder has one, else the YAML: a checkout
and an editable install keep reading the YAML, which stays the source of truth. The document keeps the YAML's
order (lists and mappings) and writes dates as ISO text, which the rule models read back as the same dates;
tests/test_rules_prebuilt.py holds the two equal.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PREBUILT = "prebuilt.json"   # = xlduty.core.rules.PREBUILT


def rules_document(folder: Path) -> bytes:
    """Each ``*.yaml`` of ``folder`` by file name, as the YAML safe loader reads it, in one JSON text."""
    import yaml

    def iso(value: Any) -> str:
        if isinstance(value, datetime.date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} in a rule file has no JSON form")

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = {p.name: yaml.load(p.read_text(encoding="utf-8"), Loader=loader) for p in sorted(folder.glob("*.yaml"))}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=iso).encode("utf-8")


class PrebuiltRules(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":   # an editable install reads the YAML
            return
        self._folder = Path(tempfile.mkdtemp(prefix="xlduty-build-"))
        path = self._folder / PREBUILT
        path.write_bytes(rules_document(Path(self.root) / "rules"))
        build_data["force_include"][str(path)] = f"xlduty/_rules/{PREBUILT}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        folder = getattr(self, "_folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
