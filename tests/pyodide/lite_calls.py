"""Run under Pyodide by tests/test_lite.py and bench/lite.py: xlduty's Lite module as the xlwings Lite runtime
runs it, with nothing else between.

    lite_calls.py LITE_DIR CALLS.json RESULTS.json

LITE_DIR holds main.py (workbook/lite/main.py). CALLS.json: ``{"calls": [{"name": …, "args": […]}, …],
"repeat": {"name": …, "args": [[…], …]}}`` — each call's arguments as Office.js sends them. The module is imported
and registered (``custom_functions_meta``), each call made (``custom_functions_call``), then ``repeat`` timed call
by call. RESULTS.json gets the registration, each result (or the exception raised), the timings (wall and CPU
time of this process), which optional libraries were imported, and whether anything was cached on disk.

xlwings' ``custom_functions_meta`` / ``custom_functions_call`` are xlwings PRO code (``xlwings/pro``: PolyForm
Noncommercial 1.0.0, or xlwings' commercial licence). They are used here only, in a test, with the
``noncommercial`` key, as the project's issue 19 directs; a licence key in ``XLWINGS_LICENSE_KEY`` replaces it.
The Lite add-in itself runs the same calls under its own licence; users need no key.
"""

import json
import os
import sys
import time
from pathlib import Path

import js

LITE_DIR, CALLS, RESULTS = sys.argv[1:4]
OPTIONAL = ("openpyxl", "lxml", "numpy", "formulas", "schedula", "requests", "urllib3", "tenacity", "pdfplumber",
            "tqdm", "filelock", "xlsxwriter", "yaml")


def clock() -> tuple[float, float]:
    usage = js.process.cpuUsage()   # this process's CPU time: Node's, which runs Pyodide
    return time.perf_counter(), (usage.user + usage.system) / 1e6


def since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = clock()
    return {"wall": wall - start[0], "cpu": cpu - start[1]}


async def session() -> dict:
    os.environ["XLWINGS_ON_SERVER"] = "true"   # what the Lite runtime sets before it imports xlwings
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    start = clock()
    import xlwings
    from xlwings.server import custom_functions_call, custom_functions_meta

    timings = {"import_xlwings": since(start)}
    sys.path.insert(0, LITE_DIR)
    start = clock()
    import main

    meta = custom_functions_meta(main)
    timings["register"] = since(start)
    plan = json.loads(Path(CALLS).read_text(encoding="utf-8"))

    async def call(name: str, args: list) -> object:
        data = {"func_name": name, "args": args, "client": "Office.js", "version": xlwings.__version__,
                "runtime": "1.4", "culture_info_name": "ja-JP", "date_format": "yyyy/m/d",
                "caller_address": "[Book1]Sheet1!B2"}
        return await custom_functions_call(data, main)

    results = []
    for i, spec in enumerate(plan["calls"]):
        start = clock()
        try:
            results.append({"result": await call(spec["name"], spec["args"])})
        except Exception as exc:   # the Lite runtime shows it as #VALUE! with this message
            results.append({"raised": f"{type(exc).__name__}: {exc}"})
        if i == 0:
            timings["first_call"] = since(start)
    per_call = []
    for args in plan.get("repeat", {}).get("args", []):
        start = clock()
        await call(plan["repeat"]["name"], args)
        per_call.append(since(start))

    import platformdirs

    from xlduty.core import cache

    written = Path(platformdirs.user_cache_dir("xlduty", appauthor=False)).exists()
    return {"meta": meta, "results": results, "timings": timings, "per_call": per_call,
            "python": sys.version.split()[0], "platform": sys.platform,
            "imported": sorted(m for m in OPTIONAL if m in sys.modules),
            "cache": {"dir": None if cache.cache_dir() is None else str(cache.cache_dir()), "written": written}}


Path(RESULTS).write_text(json.dumps(await session(), ensure_ascii=False), encoding="utf-8")  # noqa: F704 (Pyodide)
