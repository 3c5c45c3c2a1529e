"""Command line: ``xlduty compute FILE|-``, ``xlduty recalc IN -o OUT``, ``xlduty rates …``, ``xlduty quote …``,
``xlduty addin …``.

Exit codes: ``xlduty.command`` and the README's "Exit codes" list them.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable
from typing import Any

from xlduty.command import StandardOutput, new_parser, note, read_json, run, word_arg, write


def cmd_compute(args: argparse.Namespace) -> int:
    from xlduty.core.engine import CollectionPaused, compute_batch
    from xlduty.core.errors import InputError

    if args.format == "jsonl" or args.keep_going or not args.explain:
        return compute_items(args)
    with CollectionPaused():   # input, results and output form no cycles: a large batch runs ×1.3 faster
        data = read_json(args.file)
        if isinstance(data, list):
            if not data:
                raise InputError("", "the batch is empty")
            results = compute_batch(data)
        elif isinstance(data, dict):
            try:
                results = compute_batch([data])
            except InputError as exc:
                raise InputError(exc.field.removeprefix("[0]").lstrip("."), exc.message) from None
        else:
            raise InputError("", "the input must be a declaration (JSON object) or a batch (JSON array)")
        single = isinstance(data, dict)
        del data   # freed now, not left to the exit: the output reuses its memory (a batch's peak is its output)
        if args.compact or not _write_indented(results, single):
            out: Any = [r.to_dict() for r in results]
            write(json.dumps(out[0] if single else out, ensure_ascii=False, indent=None if args.compact else 2) + "\n")
            _leave(out)
        _leave(results)
    return 0


_EXITING = False   # set by ``console``: the xlduty command, whose process ends when ``main`` returns
_LEFT: list[Any] = []


def _leave(obj: Any) -> None:
    """What the command has done with (its results), left to the process's exit where the process ends once they
    are written (``console``): freeing 20,000 results one object at a time takes 0.15 s, the exit nothing. Frozen now
    with all else the command made, so that no collection scans them again: the first one after the command's
    paused collection would scan everything made while it was paused (10 ms after a declaration validated through
    pydantic, whose import falls in it)."""
    if _EXITING:
        _LEFT.append(obj)
        gc.freeze()


_PART = 16   # results rendered and written by orjson together: their dicts still in the cache (256: ×1.15 slower)


def _write_indented(results: list[Any], single: bool) -> bool:
    """The results written as ``json.dumps(…, ensure_ascii=False, indent=2)`` writes them to a UTF-8 standard output,
    byte for byte, rendered by orjson (``indented_json``) a few at a time (``_PART``; an array of them, its brackets
    dropped: its items as the whole array holds them) and written once all are: False, with nothing written, where it
    cannot (no orjson, an output that is not plain UTF-8, or something orjson refuses: the caller then writes them as
    before)."""
    from xlduty.command import indented_json

    dumps = indented_json()
    if dumps is None or not StandardOutput.plain_utf8():
        return False
    try:
        if single:
            parts = [dumps(results[0].to_dict())]
        else:   # b"[\n" + the items, each indented by 2 and separated by b",\n" + b"\n]"
            parts = [dumps([r.to_dict() for r in results[k:k + _PART]]) for k in range(0, len(results), _PART)]
    except TypeError:   # orjson.JSONEncodeError: an int beyond 64 bits, a lone surrogate …
        return False
    out = StandardOutput()
    if single:
        out.write(parts[0] + b"\n")
    else:
        out.write(b"[\n")
        for k, part in enumerate(parts):   # each part's items, its own brackets left out (not copied)
            if k:
                out.write(b",\n")
            out.write(memoryview(part)[2:-2])
        out.write(b"\n]\n")
    out.flush()
    return True


def compute_items(args: argparse.Namespace) -> int:
    """``compute`` with ``--format jsonl`` (a result per line, written as each is computed, from JSON or JSONL read
    as it comes), ``--keep-going`` (an error object in place of each failing declaration, exit 4 if any) or
    ``--no-explain`` (no explanation: the figures, rates, notes and warnings)."""
    from xlduty.command import EXIT_SOME_FAILED, item_errors, read_declarations, read_json
    from xlduty.core.engine import CollectionPaused, engine
    from xlduty.core.errors import InputError

    run = engine().compute
    explain, keep_going, jsonl = args.explain, args.keep_going, args.format == "jsonl"
    out = StandardOutput()
    dumps = _dumps("jsonl" if jsonl else "compact" if args.compact else "indented")
    plain = (_orjson() or dumps) if jsonl else dumps
    failed = 0
    with CollectionPaused():
        if jsonl:
            items: Any = read_declarations(args.file, keep_going=keep_going)
            single = False
        else:
            data = read_json(args.file, items=keep_going)   # with --keep-going, each bad item its own error
            single = isinstance(data, dict)
            if isinstance(data, list):
                if not data:
                    raise InputError("", "the batch is empty")
                items = item_errors(data) if keep_going else data
            elif single:
                items = item_errors(data) if keep_going else [data]
            else:
                raise InputError("", "the input must be a declaration (JSON object) or a batch (JSON array)")
        pending: list[Any] = []   # the results not yet written: with --format jsonl, as lines, 256 at a time
        for i, item in enumerate(items):
            try:
                if type(item) is not dict:
                    if isinstance(item, InputError):
                        raise item
                    if not isinstance(item, dict):
                        raise InputError(f"[{i}]", "a declaration must be a JSON object with date and lines")
                value: Any = run(item).to_dict(explain)
            except InputError as exc:
                err = exc if exc.field.startswith("[") else exc.within(f"[{i}]")
                if single:
                    err = InputError(err.field.removeprefix(f"[{i}]").lstrip("."), err.message)
                if not keep_going:
                    if jsonl:
                        _flush_lines(out, pending)
                        out.flush()
                    raise err from None
                failed += 1
                field = err.field.removeprefix(f"[{i}]").lstrip(".")
                value = {"index": i, "error": f"{field}: {err.message}" if field else err.message,
                         "field": field, "message": err.message}
            if jsonl:   # written at once, while the result is fresh in the cache
                try:
                    pending.append(plain(value))   # orjson's own dumps: no Python call of ours per line
                except TypeError:   # orjson.JSONEncodeError: what only the batch writer's dumps writes (or refuses)
                    pending.append(dumps(value))
                if len(pending) >= 256:
                    _flush_lines(out, pending)
            else:
                pending.append(value)
        if jsonl:
            _flush_lines(out, pending)
        else:
            out.write(dumps(pending[0] if single else pending) + b"\n")
        _leave(items)
        _leave(pending)
    out.flush()
    return EXIT_SOME_FAILED if failed else 0   # the exit's collection is spared by console()


def _flush_lines(out: StandardOutput, lines: list[bytes]) -> None:
    """JSONL lines written, each ended by a newline, and forgotten."""
    if lines:
        lines.append(b"")
        out.write(b"\n".join(lines))
        lines.clear()


def _orjson() -> Callable[[Any], bytes] | None:
    """orjson's ``dumps``, where installed (the ``batch`` extra)."""
    try:
        from orjson import dumps
    except ImportError:
        return None
    return dumps


def _dumps(style: str) -> Any:
    """JSON as bytes: for ``jsonl`` the batch writer's (orjson where installed); else as the default output writes
    it (ensure_ascii off; indented, or one line with ``--compact``)."""
    if style == "jsonl":
        from xlduty.batch.write import jsonl_dumps

        return jsonl_dumps()
    indent = None if style == "compact" else 2
    from xlduty.command import indented_json

    fast = indented_json() if indent else None

    def dumps(obj: Any) -> bytes:
        if fast is not None:
            try:
                return fast(obj)
            except TypeError:   # orjson.JSONEncodeError: written below as before (or refused as before)
                pass
        return json.dumps(obj, ensure_ascii=False, indent=indent).encode("utf-8")

    return dumps


def cmd_recalc(args: argparse.Namespace) -> int:
    """Recalculate a workbook into another file; the summary goes to stderr, stdout stays empty (the exit's
    collection pass is spared by ``console``, as for every command)."""
    from xlduty.recalc import recalc

    report = recalc(args.file, args.output)
    note(f"{args.output}: {report.summary()}")
    return 0


def _compute_parser(sub: Any) -> None:
    c = sub.add_parser("compute", help="compute a declaration (JSON object) or a batch (JSON array)")
    c.add_argument("file", help="JSON file, or - for standard input")
    c.add_argument("--compact", action="store_true", help="one-line JSON output")
    c.add_argument("--format", type=word_arg, choices=["json", "jsonl"], default="json",
                   help="json: one document (default); jsonl: one result per line, written as each is computed "
                        "(the input may then be JSONL, one declaration per line, read as it comes)")
    c.add_argument("--keep-going", action="store_true",
                   help="a failing declaration gives an error object ({index, error, field, message}) in its place "
                        "and the others are computed; exit 4 if any failed")
    c.add_argument("--no-explain", dest="explain", action="store_false",
                   help="leave out the explanations: totals, line figures, rates, notes and warnings only")
    c.set_defaults(func=cmd_compute)


def _recalc_parser(sub: Any) -> None:
    r = sub.add_parser("recalc", help="recalculate a workbook (.xlsx/.xlsm) without Excel into another file")
    r.add_argument("file", help="the workbook to recalculate (left unchanged)")
    r.add_argument("-o", "--output", required=True, help="where to write the recalculated workbook")
    r.set_defaults(func=cmd_recalc)


def _rates_parser(sub: Any) -> None:
    from xlduty.rates.cli import add_parser

    add_parser(sub)


def _quote_parser(sub: Any) -> None:
    from xlduty.quote.cli import add_parser

    add_parser(sub)


def _batch_parser(sub: Any) -> None:
    from xlduty.batch.cli import add_parser

    add_parser(sub)


def _export_pdf_parser(sub: Any) -> None:
    e = sub.add_parser("export-pdf", help="render a quote workbook to PDF without Excel (recalculated; LibreOffice)")
    e.add_argument("file", help="the workbook (left unchanged)")
    e.add_argument("-o", "--output", required=True, help="the PDF to write")
    e.add_argument("--sheets", help="sheets to print, comma-separated (default: Quote,Lines,Costs — those it has)")
    e.add_argument("--customer", action="store_true",
                   help="the 見積書 for the customer alone (= --sheets 見積書): no costing sheet")
    e.set_defaults(func=cmd_export_pdf)


def _addin_parser(sub: Any) -> None:
    a = sub.add_parser("addin", help="the Excel add-in: where it is, and the user config naming this Python")
    a.add_argument("action", type=word_arg, choices=["path", "config"],
                   help="path: print where xlduty.xlam is; config: write ~/.xlduty/xlduty.conf so the add-in "
                        "and the quote template start this interpreter")
    a.add_argument("--xlwings-conf", "--template", dest="xlwings_conf", action="store_true",
                   help="with config: also set the interpreter in ~/.xlwings/xlwings.conf, which the stock "
                        "xlwings add-in and other xlwings workbooks read (xlduty's own files do not need it)")
    a.set_defaults(func=cmd_addin)


_COMMANDS: dict[str, Callable[[Any], None]] = {   # in the order ``xlduty --help`` lists them
    "compute": _compute_parser, "recalc": _recalc_parser, "rates": _rates_parser, "quote": _quote_parser,
    "batch": _batch_parser, "export-pdf": _export_pdf_parser, "addin": _addin_parser}


_MOUNTED: str | None = None   # set by ``main``: the command its command line names, mounted alone


def build_parser() -> argparse.ArgumentParser:
    """The ``xlduty`` parser. Run by ``main`` for a command line naming a command, only that command is mounted:
    mounting the others (importing their modules, adding their options) costs start-up time the command never
    uses. Otherwise (``--help``, ``--version``, no command or an unknown one) all are, so that the listing and the
    errors are argparse's as before."""
    p, sub = new_parser()
    for name, mount in _COMMANDS.items():
        if _MOUNTED is None or name == _MOUNTED:
            mount(sub)
    return p


def cmd_export_pdf(args: argparse.Namespace) -> int:
    """Recalculate, keep values only, render the chosen sheets with their print setup."""
    from xlduty.export import export_pdf

    sheets = None if args.sheets is None else [s.strip() for s in args.sheets.split(",") if s.strip()]
    if args.customer:
        from xlduty.core.errors import InputError
        from xlduty.export import CUSTOMER_SHEETS

        if sheets is not None and sheets != list(CUSTOMER_SHEETS):
            raise InputError("sheets", "--customer prints the 見積書 alone: leave out --sheets")
        sheets = list(CUSTOMER_SHEETS)
    path = export_pdf(args.file, args.output, sheets)
    note(f"wrote {path}")
    return 0


def cmd_addin(args: argparse.Namespace) -> int:
    """Print the add-in path; with ``config``, first point the add-in at this Python environment."""
    from xlduty.excel import install

    try:
        path = install.addin_path()
    except FileNotFoundError as exc:
        from xlduty.core.errors import DataError

        raise DataError(str(exc)) from None
    files = []
    if args.action == "config":
        try:
            files = install.configure(xlwings_conf=args.xlwings_conf)
        except ValueError as exc:
            from xlduty.core.errors import InputError

            raise InputError("interpreter", str(exc)) from None
    write(f"{path}\n")   # first: a failure to print it is then the one line said
    for written in files:
        note(f"wrote {written} (interpreter {install.interpreter()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) in this process and return its exit code; what the
    command made is freed as usual, so that a caller going on (a wrapper, a test) keeps none of it."""
    global _MOUNTED
    line = sys.argv[1:] if argv is None else argv
    _MOUNTED = line[0] if line and line[0] in _COMMANDS else None
    try:
        return run(build_parser, argv)
    finally:
        _MOUNTED = None


def console() -> int:
    """The ``xlduty`` command itself (its script, ``python -m xlduty``): ``main``, in a process that ends when it
    returns, so what the command made is left to the exit (``_leave``) instead of being freed."""
    global _EXITING
    _EXITING = True
    try:
        code = main()
    finally:
        _EXITING = False
    # spare the exit its collection pass over every object left (the tables, the rate plans: 0.5-0.9 s after a
    # batch of 20,000 explained lines), and freeing what the command left (``_leave``) one object at a time:
    # held by a cycle in the frozen generation, which the exit's collection never visits, it is dropped whole
    _LEFT.append(_LEFT)
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console())
