"""xlwings Lite (Excel on Mac, the web and Windows, Python in the browser): the same worksheet functions as the
Windows add-in, from the same table, checked where they run.

On CPython (always):
- ``workbook/lite/main.py`` and ``requirements.txt`` are what ``workbook/build.py`` writes from the catalog today;
- read as text, main.py declares exactly the functions, argument names, optional arguments, descriptions and
  argument help that the shipped add-in registers (read by olevba out of ``workbook/xlduty.xlam``), every argument
  with ``err_to_str``, every range with ``ndim=2``, every closed set of words as a ``Literal``, and each of those
  words is one the function accepts;
- the module and every function run with each optional library unimportable (a slim install).

Under Pyodide 314 in Node, offline, in one process (``tests/pyodide_env.py``): xlwings' own
``custom_functions_meta`` registers that same function list and help, and ``custom_functions_call``, given each
call's arguments as Office.js sends them (a cell as a 1×1 matrix, an error cell as an error object, a date as its
serial number, an omitted argument as null), returns exactly what the CPython functions return for the same cells,
converted as the Lite runtime converts a result. The calls are the README's example formulas and cases of the
golden and function tests: one line and many, spilled ranges, errors. No optional library is imported there, the
rules are read prebuilt (no YAML parsed) and nothing is cached on disk.

The Pyodide part calls xlwings PRO code (``xlwings.server``: PolyForm Noncommercial or xlwings' commercial licence)
with the noncommercial key, in this test only, as issue 19 directs (tests/pyodide/lite_calls.py says so too).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyodide_env
import pytest
import yaml
from slim import run_slim
from test_excel_fidelity import registrations, shipped_modules

from xlduty import __version__
from xlduty.excel import catalog, lite
from xlduty.excel.cells import split_args

ROOT = Path(__file__).resolve().parents[1]
LITE = ROOT / "workbook" / "lite"
D = "2026-11-01"
EXCEL_EPOCH = date(1899, 12, 30)
ERROR_TYPES = {"#DIV/0!": "Div0", "#N/A": "NotAvailable", "#NAME?": "Name", "#NULL!": "Null", "#NUM!": "Num",
               "#REF!": "Ref", "#VALUE!": "Value"}


# --- the Lite module is made from the catalog, and declares what the add-in registers ----------------------

def test_the_lite_files_are_a_fresh_build() -> None:
    """``python workbook/build.py --check`` covers them too; here without building the workbooks."""
    assert (LITE / "main.py").read_text(encoding="utf-8") == lite.module_source()
    assert (LITE / "requirements.txt").read_text(encoding="utf-8") == lite.requirements()


@dataclass
class Declared:
    """One function as main.py declares it."""

    doc: str
    params: list[tuple[str, bool]] = field(default_factory=list)            # (name, optional)
    args: dict[str, dict[str, Any]] = field(default_factory=dict)           # @arg keywords by name
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)       # Literal words by name
    calls: str = ""


def declared() -> dict[str, Declared]:
    """main.py read with ``ast``: nothing imported, so this runs without xlwings' server code."""
    tree = ast.parse((LITE / "main.py").read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        fn = Declared(ast.get_docstring(node, clean=False) or "")
        assert isinstance(node.decorator_list[0], ast.Name) and node.decorator_list[0].id == "func", node.name
        for deco in node.decorator_list[1:]:
            assert isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name) and deco.func.id == "arg"
            name = ast.literal_eval(deco.args[0])
            fn.args[name] = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
        args = node.args.args
        defaults = [None] * (len(args) - len(node.args.defaults)) + list(node.args.defaults)
        for a, default in zip(args, defaults, strict=True):
            assert default is None or (isinstance(default, ast.Constant) and default.value is None), node.name
            fn.params.append((a.arg, default is not None))
            if a.annotation is not None:
                literal = a.annotation
                assert isinstance(literal, ast.Subscript) and ast.unparse(literal.value) == "Literal", node.name
                fn.choices[a.arg] = tuple(ast.literal_eval(literal.slice))
        fn.calls = ast.unparse(node.body[-1])
        out[node.name] = fn
    return out


def com_registration() -> dict[str, tuple[str, list[tuple[str, str, bool]]]]:
    """What the shipped add-in registers, read out of workbook/xlduty.xlam by olevba: {name: (description,
    [(argument, help, optional)])} from the VBA wrappers Excel calls and their MacroOptions help."""
    modules = shipped_modules("xlam")
    helps = registrations(modules["XlDutyFunctions"])
    wrappers = dict(re.findall(r"^Function (\w+)\((.*)\)\r?$", modules["xlwings_udfs"], re.M))
    out = {}
    for name, (description, texts) in helps.items():
        params = [(p.removeprefix("Optional "), p.startswith("Optional ")) for p in wrappers[name].split(", ")]
        out[name] = (description, [(p, h, o) for (p, o), h in zip(params, texts, strict=True)])
    return out


def test_main_declares_what_the_add_in_registers() -> None:
    """Same functions, same argument names in the same order, the same optional ones, the same texts; an error cell
    arrives as its text everywhere (never as a blank: an #N/A origin must not mean 'no preference'), a range as
    rows, and each function calls the catalog's callable with its arguments in order."""
    ours = declared()
    theirs = com_registration()
    assert set(ours) == set(theirs) == set(catalog.BY_NAME) and len(ours) == 16
    for name, (description, params) in theirs.items():
        fn = ours[name]
        assert fn.doc == description, name
        assert fn.params == [(p, o) for p, _h, o in params], name
        assert [(p, fn.args[p]["doc"]) for p, _o in fn.params] == [(p, h) for p, h, _o in params], name
        ranges = {a.name for a in catalog.BY_NAME[name].args if a.range}
        for p, options in fn.args.items():
            assert options.get("err_to_str") is True, (name, p)
            assert options.get("ndim") == (2 if p in ranges else None), (name, p)
        assert fn.calls == f"return _XLDUTY[{name!r}].call({', '.join(p for p, _o in fn.params)})"


def test_closed_sets_of_words_are_dropdowns_the_functions_accept() -> None:
    """``lang``, ``what``, ``field`` … are ``Literal``s in main.py (xlwings makes each an Excel dropdown), with the
    catalog's words; each word, given to the function, is never refused as a bad value of that argument."""
    ours = declared()
    expected = {(fn.name, a.name): a.choices for fn in catalog.FUNCTIONS for a in fn.args if a.choices}
    assert {(n, p): c for n, fn in ours.items() for p, c in fn.choices.items()} == expected
    assert {("HS_NAME", "lang"), ("XLDUTY_INFO", "what"), ("QUOTE_TOTALS", "field")} <= set(expected)
    lines = [["T-shirts", "6109.10-020", "CN", 200.0, 1500.0, 40.0, None]]
    quote = [lines, None, None, "2026-11-20", "CIF", "JPY", None, 0.3, "price", None]
    for (name, param), words in expected.items():
        fn = catalog.BY_NAME[name]
        for word in words:
            args: dict[str, Any] = {a.name: None for a in fn.args}
            if name in ("HS_NAME",):
                args["hs_code"] = "6109.10-020"
            if name.startswith("QUOTE_"):
                args.update(zip([a.name for a in catalog.QUOTE_ARGS], quote, strict=True))
                args.update({"line_no": 1, "target": 2000} if name == "QUOTE_REVERSE" else {})
            if name == "REGISTRATION_NUMBER":
                args["number"] = "T7123456789012" if word == "corporation" else "T1123456789012"
            args[param] = word
            result = fn.call(*args.values())
            text = json.dumps(result, ensure_ascii=False)
            label = catalog.RENAMED.get(param, param)
            assert f"({param})" not in text and f"({label})" not in text, (name, param, word, text[:200])


def test_the_module_and_every_function_run_on_a_slim_install() -> None:
    """main.py imported as Lite would, with every optional library unimportable and xlwings standing in as the
    decorators it lends (xlwings itself is Lite's; the Windows add-in's xlwings is an extra): every README example
    formula gives its figure."""
    code = f"""
import json, sys, types
shim = types.ModuleType("xlwings")
shim.func = lambda f=None, **k: f if f is not None else (lambda g: g)
shim.arg = lambda *a, **k: (lambda g: g)
sys.modules["xlwings"] = shim
sys.path.insert(0, {str(LITE)!r})
import main
cases = json.loads(sys.argv[1])
print(json.dumps([getattr(main, n)(*a) for n, a in cases], ensure_ascii=False))
print(json.dumps(sorted(m for m in ("openpyxl", "lxml", "numpy", "formulas", "requests") if m in sys.modules)))
"""
    out = run_slim(code, json.dumps([(c.name, c.com) for c in README_CASES]))
    assert out.returncode == 0, out.stderr
    results, imported = (json.loads(line) for line in out.stdout.splitlines())
    assert results == README_FIGURES and len(results) == 10 and 94300 in results
    assert imported == []


# --- the calls: cells as each front end hands them over ---------------------------------------------------

ERR_NA = "#N/A"   # an error cell: the COM add-in (err_to_str) passes its text


@dataclass(frozen=True)
class Case:
    """A call as the COM add-in's xlwings passes the cells (numbers as float, blank as None, an error as its text,
    a date cell as datetime, a range as rows); ``office`` overrides how Office.js sends an argument (by position)
    where that differs from the plain translation (a blank cell referenced, rather than an argument left out)."""

    name: str
    com: tuple[Any, ...]
    office: dict[int, Any] = field(default_factory=dict)


TSHIRTS = ["T-shirts", "6109.10-020", "CN", 200.0, 1500.0, 40.0, None]
LAPTOPS = ["Laptops", "8471.30-000", "CN", 2.0, 100000.0, 5.0, None]
BLANK7 = [None] * 7
DOCUMENT = [["株式会社テスト食品"], ["御中"], ["Q-77"], ["2026-11-10"], ["2026-12-10"], [None], ["翌月納品"], [None],
            [None], ["サンプル輸入株式会社"], ["東京都"], ["03-0000-0000"], ["法人"], ["T7123456789012"]]


def _quote(lines: list[list[Any]], *, margin: float | None = None, margin_on: str | None = None,
           options: str | None = None, origin: str | None = None) -> tuple[Any, ...]:
    rows = [[*r[:2], origin or r[2], *r[3:]] if any(r) else r for r in lines]
    return (rows, None, None, "2026-11-20", "CIF", "JPY", None, margin, margin_on, options)


def readme_cases() -> tuple[list[Case], list[Any]]:
    """The README's example formulas, as the Windows acceptance kit types them and the Lite workbook shows them
    (workbook/acceptance/cases.yaml), read into the cells a COM call receives; and their expected values."""
    spec = yaml.safe_load((ROOT / "workbook" / "acceptance" / "cases.yaml").read_text(encoding="utf-8"))
    inputs = {ref: float(v) if isinstance(v, int) else v for ref, v in spec["inputs"].items()}

    def value(text: str) -> Any:
        if not text:
            return None
        if text.startswith('"'):
            return text[1:-1].replace('""', '"')
        if m := re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", text):
            column, top, _, bottom = m.groups()
            return [[inputs[f"{column}{row}"]] for row in range(int(top), int(bottom) + 1)]
        return float(text)

    cases, expected = [], []
    for case in spec["formulas"]:
        name, _, rest = case["formula"].removeprefix("=").partition("(")
        cases.append(Case(name, tuple(value(a) for a in split_args(rest.removesuffix(")")))))
        want = case["expected"]
        expected.append(want.replace("{xlduty_version}", __version__) if isinstance(want, str) else want)
    return cases, expected


README_CASES, README_FIGURES = readme_cases()
HS2 = [["6109.10-020"], ["8471.30-000"]]
CASES: list[Case] = [
    *README_CASES,
    # golden figures (tests/test_golden.py) through the cells, the rate given in options
    Case("DUTY", (None, 500000.0, None, None, D, "rate=12%; simplified=never")),
    Case("CONSUMPTION_TAX", (None, 500000.0, None, None, D, "rate=12%; simplified=never")),
    Case("DUTY_TOTALS", ([[None]] * 3, [[10999.0]] * 3, None, None, D, "rate=10%; simplified=never")),
    Case("DUTY_LINES", ([[None]] * 3, [[10999.0]] * 3, None, None, D, "rate=10%; simplified=never",
                        "duty,national_ct,local_ct")),
    Case("DUTY_TOTALS", ([[None]] * 6, [[1999.0]] * 6, None, None, D, "rate=無税; simplified=never", "total")),
    Case("DUTY", (None, 12000.0, None, None, D, "rate=0.5%; simplified=never")),
    Case("CONSUMPTION_TAX", (None, 12000.0, None, None, D, "rate=0.5%; simplified=never")),
    # cells as Excel hands them over (tests/test_excel_functions.py)
    Case("DUTY", (610910020.0, 300000.0, "CN", None, datetime(2026, 11, 1))),
    Case("DUTY", (610910020.0, 300000.0, "CN", None, "2026/11/01")),
    Case("DUTY", (201.3, 300000.0, "AU", None, D)),
    Case("DUTY", (6109.1, 300000.0, "CN", None, D)),
    Case("DUTY", ("6109.10-020", 300000.0, None, None, D), {2: [[""]]}),   # a blank origin cell
    Case("DUTY", ("6109.10-020", "abc", "CN", None, D)),
    Case("DUTY", ("6109.10-020", None, "CN", None, D)),
    Case("DUTY", ("6109.10-020", 1000.0, "CHN", None, D)),
    Case("DUTY", ("6109.10-020", 1000.0, "UK", None, D)),
    Case("DUTY", ("6109.10-020", 1000.0, "CN", None, D, "colour=red")),
    Case("DUTY", ("6109.10-020", 30000.0, "CN", None, D, "claim=epa_eu")),
    Case("DUTY", ("6109.10-999", 1000.0, "CN", None, D)),
    Case("DUTY", (None, 100000.0, None, None, "2019-09-01", "rate=10%; reduced=yes")),
    Case("DUTY", ("2204.21-020", 100000.0, None, 10.0, D, "unit=kg")),
    Case("DUTY", ("6109.10-020", "1e5000", "CN", None, D)),
    Case("DUTY", ("6109.10-020", 300000.0, "CN", None, ERR_NA)),
    Case("DUTY", ("6109.10-020", 300000.0, ERR_NA, None, D)),     # an #N/A origin: an error, never "no preference"
    Case("DUTY", ("6109.10-020", 300000.0, "CN", None, D, "#VALUE!")),
    Case("DUTY", ("6109.10-020", 1000.0, "CN", None, D, "currency=USD")),   # an FX week not bundled
    Case("DUTY", ("6109.10-020", 1000.0, "US", None, D, "currency=USD; fx=155.39; simplified=never")),
    Case("EXEMPTION", ("6109.10-020", 8000.0, "CN", None, D)),
    Case("DUTY_RATE", ("9004.10-000", 50000.0, None, None, D)),
    Case("DUTY_RATE", ("8471.30-000", None, "CN", None, D)),
    Case("DUTY_EXPLAIN", ("6109.10-020", 300000.0, "CN", None, D)),
    Case("CUSTOMS_FX", ("USD", D)),                                   # a missing FX week: a clear cell error
    Case("HS_NAME", ("6109.10-020", D, None)),
    Case("HS_NAME", ("6109.10-020", D, None), {2: ""}),              # the lang cell referenced, blank
    Case("DUTY_LINES", ([["6109.10-020"], ["8471.30-000"], [None]], [[312000.0], [208000.0], [None]], "CN", None,
                        "2026-11-20", None, "duty,consumption_tax")),
    Case("DUTY_TOTALS", ([["6109.10-020"], ["8471.30-000"], [None]], [[312000.0], [208000.0], [None]], "CN", None,
                         "2026-11-20")),
    Case("DUTY_LINES", ([["8471.30-000"], ["8471.30-000"]], [[6000.0], [6000.0]], "CN", None, D, None, "exemption")),
    Case("DUTY_TOTALS", ([["6109.10-020", "8471.30-000"]], [[300000.0, 400000.0]], "CN", None, D, None, "total")),
    Case("DUTY_TOTALS", ([["6109.10-020", "x"], ["8471.30-000", "y"]], [[1.0], [2.0]], "CN", None, D)),
    Case("DUTY_LINES", (HS2, [[300000.0], [None]], "CN", None, D)),
    Case("DUTY_TOTALS", ([["6109.10-020"], [ERR_NA]], [[300000.0], [ERR_NA]], "CN", None, D)),
    Case("DUTY_LINES", ([["6109.10-020"], ["9999.99-999"]], [[1000.0], [2000.0]], "CN", None, D)),
    Case("XLDUTY_INFO", ("fx_week", 46346.0)),
    Case("XLDUTY_INFO", ("bogus",)),
    Case("XLDUTY_INFO", ("xlwings",)),
    # quotes (tests/test_quote_functions.py, tests/test_customer_quote.py)
    Case("QUOTE_LINES", (*_quote([TSHIRTS, BLANK7, LAPTOPS]), "duty,goods_yen")),
    Case("QUOTE_TOTALS", (*_quote([TSHIRTS, LAPTOPS]), "landed_cost")),
    Case("QUOTE_TOTALS", (*_quote([TSHIRTS], options="claim=yes"), "duty")),
    Case("QUOTE_REVERSE", (*_quote([TSHIRTS, LAPTOPS]), 1.0, 1700.0, "unit_cost")),
    Case("QUOTE_TREATMENTS", _quote([TSHIRTS], origin="VN")),
    Case("QUOTE_CUSTOMER", (*_quote([TSHIRTS, LAPTOPS], margin=0.3, margin_on="cost"), DOCUMENT, "table")),
    Case("QUOTE_CUSTOMER", (*_quote([TSHIRTS, LAPTOPS], margin=0.3, margin_on="cost"), DOCUMENT, "total")),
    Case("REGISTRATION_NUMBER", ("Ｔ7123456789012",)),
    Case("REGISTRATION_NUMBER", ("T1123456789012", "個人")),        # a word the dropdown does not list still counts
]


def _office_value(v: Any) -> Any:
    """One cell as Office.js sends it and Pyodide hands it to Python: a JS number that is whole becomes an int."""
    if v is None:
        return ""                                                        # an empty cell inside a range
    if isinstance(v, str) and v in ERROR_TYPES:
        return {"type": "Error", "basicValue": v, "errorType": ERROR_TYPES[v]}
    if isinstance(v, datetime):
        v = float((v.date() - EXCEL_EPOCH).days)                         # a date cell: its serial number
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def office_args(case: Case) -> list[Any]:
    """The call's arguments as the Lite runtime receives them: each a matrix (a cell 1×1, a range its rows), an
    argument left out as null, and an argument with a closed set of words as a plain string (Excel passes a
    dropdown argument as a scalar)."""
    spec = catalog.BY_NAME[case.name]
    out: list[Any] = []
    for i, a in enumerate(spec.args):
        v = case.com[i] if i < len(case.com) else None
        if i in case.office:
            out.append(case.office[i])
        elif v is None:
            out.append(None)
        elif a.choices:
            out.append(v)
        elif isinstance(v, list):
            out.append([[_office_value(c) for c in row] for row in v])
        else:
            out.append([[_office_value(v)]])
    return out


def office_result(value: Any) -> Any:
    """A function's result as the Lite runtime returns it to Excel: always a matrix; None as an empty text; a text
    that is exactly an Excel error as that error (other texts, such as ``#エラー …``, stay text)."""
    rows = value if isinstance(value, list) else [[value]]

    def cell(v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, str) and v in ERROR_TYPES:
            return {"type": "Error", "errorType": ERROR_TYPES[v]}
        return v

    return [[cell(v) for v in row] for row in rows]


@pytest.fixture(scope="module")
def pyodide_session(xlduty_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Node process for every Lite check (starting Pyodide and installing the wheels takes seconds)."""
    try:
        env = pyodide_env.prepare()
    except pyodide_env.Unavailable as exc:
        pytest.skip(f"Pyodide cannot run here: {exc}")
    work = tmp_path_factory.mktemp("lite")
    calls = [{"name": c.name, "args": office_args(c)} for c in CASES]
    calls += [{"name": "NO_SUCH_FUNCTION", "args": []}, {"name": "XLDUTY_INFO", "args": ["python"]}]
    repeat = {"name": "DUTY", "args": [[[["6109.10-020"]], [[300001 + i]], [["CN"]], None, [[D]], None]
                                       for i in range(50)]}
    (work / "calls.json").write_text(json.dumps({"calls": calls, "repeat": repeat}, ensure_ascii=False),
                                     encoding="utf-8")
    out = env.run(ROOT / "tests" / "pyodide" / "lite_calls.py", "/lite", "/work/calls.json", "/work/results.json",
                  xlduty_wheel=xlduty_wheel, mounts={LITE: "/lite", work: "/work"})
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads((work / "results.json").read_text(encoding="utf-8"))


def test_under_pyodide_xlwings_registers_what_the_add_in_registers(pyodide_session: dict[str, Any]) -> None:
    """xlwings' custom_functions_meta, as the Lite runtime calls it: the function list, each description and each
    argument's name, help and optionality equal the shipped add-in's registration; the closed sets of words are
    Excel enums (dropdowns) with the catalog's words; every other argument takes any value or range."""
    meta = pyodide_session["meta"]
    theirs = com_registration()
    got = {f["name"]: f for f in meta["functions"]}
    assert set(got) == set(theirs)
    for name, (description, params) in theirs.items():
        fn = got[name]
        assert (fn["id"], fn["description"]) == (name, description)
        assert [(p["name"], p["description"], bool(p.get("optional"))) for p in fn["parameters"]] == params, name
        for p, a in zip(fn["parameters"], catalog.BY_NAME[name].args, strict=True):
            if a.choices:
                assert (p["dimensionality"], p["type"], p["customEnumId"]) == ("scalar", "string",
                                                                               f"{name}.{a.name}".upper())
            else:
                assert (p["dimensionality"], p["type"]) == ("matrix", "any"), (name, a.name)
    enums = {e["id"]: [v["stringValue"] for v in e["values"]] for e in meta["enums"]}
    assert enums == {f"{fn.name}.{a.name}".upper(): list(a.choices) for fn in catalog.FUNCTIONS for a in fn.args
                     if a.choices}


def test_under_pyodide_every_call_returns_what_cpython_returns(pyodide_session: dict[str, Any]) -> None:
    """Each call through custom_functions_call equals the CPython function on the same cells (converted as the Lite
    runtime converts a result); the README's examples give the README's figures."""
    results = pyodide_session["results"]
    assert len(results) == len(CASES) + 2 and len(CASES) >= 60
    assert {c.name for c in CASES} == set(catalog.BY_NAME)   # every function is called
    for case, got in zip(CASES, results, strict=False):
        expected = office_result(catalog.BY_NAME[case.name].call(*case.com))
        assert got == {"result": expected}, case
    assert [r["result"][0][0] for r in results[:len(README_FIGURES)]] == README_FIGURES
    assert results[-2]["raised"].startswith("AttributeError")   # an unknown name: the Lite runtime's #VALUE!
    # what the workbook reached: Python in the browser (CPython names its executable here)
    assert results[-1] == {"result": [[f"{pyodide_session['python']} (Pyodide {lite.PYODIDE_VERSION})"]]}
    spills = [r["result"] for r in results[:-2] if len(r["result"]) > 1 or len(r["result"][0]) > 1]
    errors = [r["result"] for r in results[:-2] if str(r["result"][0][0]).startswith("#エラー")]
    assert len(spills) >= 8 and len(errors) >= 20


def test_under_pyodide_nothing_optional_is_loaded_and_nothing_cached(pyodide_session: dict[str, Any]) -> None:
    """Only the calculation's packages were installed (a slim install for real); of the optional libraries and
    PyYAML none was imported (the rules came prebuilt); the user cache is off and wrote nothing."""
    assert (pyodide_session["platform"], pyodide_session["python"][:4]) == ("emscripten", "3.14")
    assert pyodide_session["imported"] == []
    assert pyodide_session["cache"] == {"dir": None, "written": False}
    assert len(pyodide_session["per_call"]) == 50



# --- the workbook: main.py and requirements.txt where xlwings Lite keeps them -------------------------------

LITE_WORKBOOK = ROOT / "workbook" / "xlduty-lite.xlsx"
WE = "{http://schemas.microsoft.com/office/webextensions/webextension/2010/11}"


def test_the_lite_workbook_is_a_fresh_build() -> None:
    from xlduty.excel.build import lite_workbook

    built = lite_workbook(lite.WHEEL_URL)
    assert built == lite_workbook(lite.WHEEL_URL) == LITE_WORKBOOK.read_bytes()


def test_the_workbook_keeps_the_code_as_lite_saved_workbooks_do() -> None:
    """As in the workbooks xlwings Lite saved that were read (add-in 1.0.0.0-11 and -18): the package relates a
    task pane part, which relates one web-extension part naming the add-in by its Office Store id; that part holds
    one property per file, its value the file's text as JSON; and marks the workbook as using the add-in's custom
    functions. The values decode to workbook/lite/main.py and requirements.txt exactly."""
    import zipfile
    from xml.etree import ElementTree as ET

    with zipfile.ZipFile(LITE_WORKBOOK) as z:
        types = ET.fromstring(z.read("[Content_Types].xml"))
        rels = ET.fromstring(z.read("_rels/.rels"))
        pane_rels = ET.fromstring(z.read("xl/webextensions/_rels/taskpanes.xml.rels"))
        extension = ET.fromstring(z.read("xl/webextensions/webextension1.xml"))
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/xl/webextensions/taskpanes.xml"] == "application/vnd.ms-office.webextensiontaskpanes+xml"
    assert overrides["/xl/webextensions/webextension1.xml"] == "application/vnd.ms-office.webextension+xml"
    assert ("http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes",
            "xl/webextensions/taskpanes.xml") in {(r.get("Type"), r.get("Target")) for r in rels}
    assert [(r.get("Type"), r.get("Target")) for r in pane_rels] == [
        ("http://schemas.microsoft.com/office/2011/relationships/webextension", "webextension1.xml")]
    reference = extension.find(f"{WE}reference")
    assert reference is not None and (reference.get("id"), reference.get("storeType")) == ("wa200008175", "OMEX")
    settings = {p.get("name"): p.get("value") for p in extension.iter(f"{WE}property")}
    assert json.loads(settings["main.py"]) == (LITE / "main.py").read_text(encoding="utf-8")
    assert json.loads(settings["requirements.txt"]) == (LITE / "requirements.txt").read_text(encoding="utf-8")
    assert json.loads(settings["pyodideVersion"]) == lite.PYODIDE_VERSION == "314.0.8"
    assert extension.find(f".//{WE}containsCustomFunctions") is not None


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui")
def test_an_independent_reader_opens_the_workbook(tmp_path: Path) -> None:
    """LibreOffice reads the package with the added parts: the example formulas (as text), the cells to type them
    into, the expected values and the inputs are where the acceptance kit puts them."""
    import csv
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([str(soffice), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
                    str(tmp_path), str(LITE_WORKBOOK)], check=True, capture_output=True, timeout=180)
    rows = list(csv.reader((tmp_path / "xlduty-lite.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][:3] == ["式 / formula", "入力してください / type it here", "期待値 / expected"]
    assert rows[1][:3] == ['=DUTY("6109.10-020",300000,"CN",,"2026-11-01")', "", "22200"]
    assert rows[6][:3] == ['=DUTY_TOTALS(A20:A21,B20:B21,"CN",,"2026-11-01",,"total")', "", "94300"]
    assert [r[:2] for r in rows[19:21]] == [["6109.10-020", "300000"], ["8471.30-000", "400000"]]
