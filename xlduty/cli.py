"""Command line: ``xlduty compute FILE|-``, ``xlduty recalc IN -o OUT``, ``xlduty rates …``, ``xlduty quote …``,
``xlduty addin …``.

Exit codes: 0 ok; 2 invalid input (one line on stderr naming the field, nothing on stdout);
3 bundled data missing or broken; 4 an optional part is not installed (the line names the extra to install).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from xlduty.command import new_parser, read_json, run


def cmd_compute(args: argparse.Namespace) -> int:
    from xlduty.core.engine import CollectionPaused, compute_batch
    from xlduty.core.errors import InputError

    with CollectionPaused():   # input, results and output form no cycles: a large batch runs ×1.3 faster
        data = read_json(args.file)
        if isinstance(data, list):
            if not data:
                raise InputError("", "the batch is empty")
            out: Any = [r.to_dict() for r in compute_batch(data)]
        elif isinstance(data, dict):
            try:
                out = compute_batch([data])[0].to_dict()
            except InputError as exc:
                raise InputError(exc.field.removeprefix("[0]").lstrip("."), exc.message) from None
        else:
            raise InputError("", "the input must be a declaration (JSON object) or a batch (JSON array)")
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=None if args.compact else 2) + "\n")
    return 0


def cmd_recalc(args: argparse.Namespace) -> int:
    """Recalculate a workbook into another file; the summary goes to stderr, stdout stays empty."""
    import gc

    from xlduty.recalc import recalc

    report = recalc(args.file, args.output)
    sys.stderr.write(f"xlduty: {args.output}: {report.summary()}\n")
    gc.freeze()  # the process ends now: spare the exit its collection pass over the run's objects (~0.7 s)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p, sub = new_parser()
    c = sub.add_parser("compute", help="compute a declaration (JSON object) or a batch (JSON array)")
    c.add_argument("file", help="JSON file, or - for standard input")
    c.add_argument("--compact", action="store_true", help="one-line JSON output")
    c.set_defaults(func=cmd_compute)
    r = sub.add_parser("recalc", help="recalculate a workbook (.xlsx/.xlsm) without Excel into another file")
    r.add_argument("file", help="the workbook to recalculate (left unchanged)")
    r.add_argument("-o", "--output", required=True, help="where to write the recalculated workbook")
    r.set_defaults(func=cmd_recalc)
    from xlduty.rates.cli import add_parser as add_rates_parser

    add_rates_parser(sub)
    from xlduty.quote.cli import add_parser as add_quote_parser

    add_quote_parser(sub)
    e = sub.add_parser("export-pdf", help="render a quote workbook to PDF without Excel (recalculated; LibreOffice)")
    e.add_argument("file", help="the workbook (left unchanged)")
    e.add_argument("-o", "--output", required=True, help="the PDF to write")
    e.add_argument("--sheets", help="sheets to print, comma-separated (default: Quote,Lines,Costs — those it has)")
    e.add_argument("--customer", action="store_true",
                   help="the 見積書 for the customer alone (= --sheets 見積書): no costing sheet")
    e.set_defaults(func=cmd_export_pdf)
    a = sub.add_parser("addin", help="the Excel add-in: where it is, and the user config naming this Python")
    a.add_argument("action", choices=["path", "config"],
                   help="path: print where xlduty.xlam is; config: write ~/.xlduty/xlduty.conf so the add-in "
                        "and the quote template start this interpreter")
    a.add_argument("--xlwings-conf", "--template", dest="xlwings_conf", action="store_true",
                   help="with config: also set the interpreter in ~/.xlwings/xlwings.conf, which the stock "
                        "xlwings add-in and other xlwings workbooks read (xlduty's own files do not need it)")
    a.set_defaults(func=cmd_addin)
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
    sys.stderr.write(f"xlduty: wrote {path}\n")
    return 0


def cmd_addin(args: argparse.Namespace) -> int:
    """Print the add-in path; with ``config``, first point the add-in at this Python environment."""
    from xlduty.excel import install

    try:
        path = install.addin_path()
    except FileNotFoundError as exc:
        from xlduty.core.errors import DataError

        raise DataError(str(exc)) from None
    if args.action == "config":
        try:
            files = install.configure(xlwings_conf=args.xlwings_conf)
        except ValueError as exc:
            from xlduty.core.errors import InputError

            raise InputError("interpreter", str(exc)) from None
        for written in files:
            sys.stderr.write(f"xlduty: wrote {written} (interpreter {install.interpreter()})\n")
    sys.stdout.write(f"{path}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser, argv)


if __name__ == "__main__":
    sys.exit(main())
