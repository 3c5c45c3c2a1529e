"""``xlduty addin path|config``: where the add-in is, and the user config that tells it which Python to start.

Both shipped files run xlwings' VBA with PROJECT_NAME ``xlduty`` (``xlduty.excel.build``): the add-in
(custom add-in module) and the quote template (standalone module) read their settings from the
``xlduty.conf`` sheet, then ``xlduty.conf`` beside the workbook, then
``%USERPROFILE%\\.xlduty\\xlduty.conf`` — the file ``configure`` writes, so one command sets up both.
xlwings' own ``%USERPROFILE%\\.xlwings\\xlwings.conf`` (the stock xlwings add-in and other xlwings
workbooks read it) is left alone unless asked (``--xlwings-conf``, for the stock add-in route in the README).
These files are VBA ``Input #`` lists of ``"KEY","value"`` lines, read by VBA in the system code page (cp932
on Japanese Windows): we write in that encoding, set the interpreter keys and keep every other line byte for byte.
"""

from __future__ import annotations

import locale
import os
import sys
from pathlib import Path

from xlduty.excel.macros import template_path
from xlduty.files import write_atomic


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


def conf_encoding() -> str:
    """The code page VBA's ``Input #`` reads with: the system's ANSI code page (cp932 on a Japanese Windows).

    ``locale.getencoding()``, not ``getpreferredencoding``: under Python's UTF-8 mode (``PYTHONUTF8=1``, ``-X utf8``,
    the default from Python 3.15) the latter says utf-8 whatever the code page, and VBA would misread the path."""
    return locale.getencoding() or "utf-8"


def update_conf(path: Path, values: dict[str, str], encoding: str | None = None) -> None:
    """Set ``values`` in a ``"KEY","value"`` file, keeping its other lines as they are; written atomically.

    A value the code page cannot hold (a user name outside it) is refused: VBA would read a different path."""
    encoding = encoding or conf_encoding()
    new = []
    for k, v in values.items():
        try:
            new.append(f"{_quote(k)},{_quote(v)}".encode(encoding))
        except UnicodeEncodeError:
            raise ValueError(f"{v} cannot be written in the code page {encoding} that Excel reads "
                             "this file with: install Python in a folder whose path it can hold") from None
    keep = []
    if path.exists():
        wanted = {k.lower().encode("ascii") for k in values}
        for line in path.read_bytes().splitlines():
            key = line.split(b",", 1)[0].strip().strip(b'"').lower()
            if key and key not in wanted:
                keep.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, b"\r\n".join(keep + new) + b"\r\n")


USER_CONF = (".xlduty", "xlduty.conf")      # read by the add-in and the template (PROJECT_NAME xlduty)
XLWINGS_CONF = (".xlwings", "xlwings.conf")  # xlwings' own, shared with every other xlwings workbook


def configure(home: Path | None = None, python: Path | None = None, *, xlwings_conf: bool = False,
              template: bool = False, encoding: str | None = None) -> list[Path]:
    """Write the interpreter into the user config the add-in and the quote template read (and, with
    ``xlwings_conf``, into xlwings' own, for the stock xlwings add-in); return the files written.

    ``template`` is the old name of ``xlwings_conf``, from when the template read xlwings' file."""
    home = home or Path(os.environ.get("USERPROFILE") or Path.home())
    python = python or interpreter()
    values = {"INTERPRETER_WIN": str(python), "INTERPRETER_MAC": str(python)}
    written = []
    targets = [USER_CONF] + ([XLWINGS_CONF] if xlwings_conf or template else [])
    for folder, name in targets:
        path = home / folder / name
        update_conf(path, values, encoding)
        written.append(path)
    return written
