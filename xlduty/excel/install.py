"""``xlduty addin path|config``: where the add-in is, and the user config that tells it which Python to start.

The add-in's VBA (xlwings' custom add-in module, PROJECT_NAME ``xlduty``) reads its settings from the
``xlduty.conf`` sheet, then ``xlduty.conf`` beside the active workbook, then
``%USERPROFILE%\\.xlduty\\xlduty.conf``; the quote template (standalone, PROJECT_NAME ``xlwings``)
reads ``%USERPROFILE%\\.xlwings\\xlwings.conf``. Both files are VBA ``Input #`` lists of
``"KEY","value"`` lines. We set the interpreter keys and keep every other line the user has.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from xlduty.excel.macros import template_path


def addin_path() -> Path:
    """The installed ``xlduty.xlam`` (beside the template)."""
    path = template_path().with_name("xlduty.xlam")
    if not path.exists():
        raise FileNotFoundError("the add-in xlduty.xlam is not installed: reinstall xlduty")
    return path


def interpreter() -> Path:
    """The interpreter the add-in should start: this one, as ``pythonw.exe`` on Windows (no console window)."""
    exe = Path(sys.executable)
    windowless = exe.with_name("pythonw.exe")
    return windowless if windowless.exists() else exe


def _quote(value: str) -> str:
    return '"' + value.replace('"', "'") + '"'


def update_conf(path: Path, values: dict[str, str]) -> None:
    """Set ``values`` in a ``"KEY","value"`` file, keeping its other lines; written atomically."""
    keep = []
    if path.exists():
        wanted = {k.lower() for k in values}
        for line in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
            key = line.split(",", 1)[0].strip().strip('"').lower()
            if key and key not in wanted:
                keep.append(line)
    lines = keep + [f"{_quote(k)},{_quote(v)}" for k, v in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\r\n") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def configure(home: Path | None = None, python: Path | None = None) -> list[Path]:
    """Write the interpreter into the add-in's and the template's user config files; return them."""
    home = home or Path(os.environ.get("USERPROFILE") or Path.home())
    python = python or interpreter()
    values = {"INTERPRETER_WIN": str(python), "INTERPRETER_MAC": str(python)}
    written = []
    for folder, name in ((".xlduty", "xlduty.conf"), (".xlwings", "xlwings.conf")):
        path = home / folder / name
        update_conf(path, values)
        written.append(path)
    return written
