"""Run Basic procedures of one document in LibreOffice and print their results as JSON (one line).

Run by tests/lo_basic.py with a Python that has LibreOffice's ``uno`` module (Debian: python3-uno), not the
project's virtual environment:  python3 lo_basic_runner.py DOC LIBRARY PROFILE_DIR CALLS_JSON
CALLS_JSON is a list of ["Module.Procedure", [arguments]]. LibreOffice imports an .xlsm's VBA project as a
Basic library named after the project, in VBA-compatibility mode; macros are allowed for this document only.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def _prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> int:
    doc_path, library, profile, calls_text = sys.argv[1:5]
    calls = json.loads(calls_text)
    pipe = f"xlduty_lo_{os.getpid()}"
    proc = subprocess.Popen(
        ["soffice", f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}", "--headless", "--norestore",
         "--invisible", f"--accept=pipe,name={pipe};urp;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(240):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        if ctx is None:
            raise SystemExit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        # MacroExecutionMode 4: ALWAYS_EXECUTE_NO_WARN, for this document only.
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(doc_path)), "_blank", 0,
                                           (_prop("Hidden", True), _prop("MacroExecutionMode", 4)))
        provider = doc.getScriptProvider()
        results = []
        for name, args in calls:
            script = provider.getScript(f"vnd.sun.star.script:{library}.{name}?language=Basic&location=document")
            results.append(script.invoke(tuple(args), (), ())[0])
        print(json.dumps(results, ensure_ascii=False))
        doc.close(True)
    finally:
        if desktop is not None:
            with contextlib.suppress(Exception):
                desktop.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
