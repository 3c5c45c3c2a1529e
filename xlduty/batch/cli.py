"""``xlduty batch IN -o OUT``: a CSV or Parquet batch, one row per declaration line, computed into CSV, Parquet or
JSONL (see README, "xlduty batch").

Exit codes: 0 every row computed; 4 some rows or declarations failed (their ``error`` cell says why; the others are
computed and the output is written); 2 the input as a whole cannot be read, or the output not written (nothing is
written); 3 bundled data missing or broken; 5 an optional part missing (Parquet, Dask, ``--progress``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlduty.command import EXIT_SOME_FAILED, count_arg, note, word_arg


def cmd_batch(args: argparse.Namespace) -> int:
    from xlduty.batch.columns import declared
    from xlduty.batch.run import run_batch
    from xlduty.core.errors import InputError

    if args.chunk_size < 1:
        raise InputError("--chunk-size", "give a number of rows of 1 or more")   # the option, as the user typed it
    if args.scheduler and args.engine != "dask":
        raise InputError("--scheduler", "it is for --engine dask")
    # the options for the whole batch, checked before anything is read: a bad one is refused here (exit 2), never
    # repeated as the error of every row
    defaults: dict[str, Any] = declared(
        date=args.date, simplified=args.simplified, personal_use=True if args.personal_use else None,
        fx_rates=args.fx_rates, tariff_edition=args.tariff_edition,
        pork_emergency=None if args.pork_emergency is None else args.pork_emergency == "yes",
        label=lambda name: "--" + name.replace("_", "-"))
    delimiter = {"tab": "\t", "\\t": "\t"}.get(args.delimiter or "", args.delimiter)
    summary = run_batch(args.file, args.output, totals=args.totals, defaults=defaults, encoding=args.encoding,
                        delimiter=delimiter, chunk=args.chunk_size, engine=args.engine, scheduler=args.scheduler,
                        workers=args.workers, progress=args.progress)
    if summary.unread:
        note(f"columns carried over unread: {', '.join(summary.unread)}")
    if summary.replaced:
        note(f"input columns replaced by the computed ones: {', '.join(summary.replaced)}")
    note(f"wrote {args.output}{' and ' + args.totals if args.totals else ''}: {summary.text()}")
    return EXIT_SOME_FAILED if summary.failed_rows else 0   # the exit's collection is spared by cli.console()


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``batch`` to the ``xlduty`` sub-commands (``xlduty/cli.py`` calls this)."""
    p = subparsers.add_parser(
        "batch", help="a CSV/Parquet batch (one row per line) into CSV, Parquet or JSONL, a bad row never stopping it",
        description="Exit codes: 0 every row computed; 4 some rows failed (see their error column; the rest are "
                    "written); 2 the input or output as a whole is refused (nothing written); 3 bundled data broken; "
                    "5 an optional part missing.")
    p.add_argument("file", help="the batch: .csv (UTF-8 with or without BOM, or cp932) or .parquet")
    p.add_argument("-o", "--output", required=True, help="the results: .csv (UTF-8 with BOM), .parquet or .jsonl")
    p.add_argument("--totals", metavar="PATH",
                   help="write each declaration's totals to this file (.csv/.parquet/.jsonl) instead of on its first "
                        "row")
    d = p.add_argument_group("declaration fields for rows that have no column (or a blank cell) for them")
    d.add_argument("--date", help="declaration date, YYYY-MM-DD")
    d.add_argument("--simplified", type=word_arg, choices=["auto", "always", "never"])
    d.add_argument("--personal-use", action="store_true")
    d.add_argument("--fx-rates", metavar="ISO:RATE,…", help="yen per unit, e.g. USD:155.39,EUR:162.1")
    d.add_argument("--tariff-edition", help="compute on this edition (e.g. 2026_04_01)")
    d.add_argument("--pork-emergency", type=word_arg, choices=["yes", "no"],
                   help="whether the emergency measure for pork (関税暫定措置法7条の6) is in force on the date "
                        "(default: as the rule data records it)")
    r = p.add_argument_group("reading")
    r.add_argument("--delimiter", help="CSV delimiter (default: the one of , tab ; | the header holds most; "
                                       "'tab' for a tab)")
    r.add_argument("--encoding", help="CSV encoding (default: UTF-8, with or without BOM, else cp932)")
    r.add_argument("--chunk-size", type=count_arg, default=20_000, help="rows per chunk (default 20,000)")
    e = p.add_argument_group("where it runs")
    e.add_argument("--engine", type=word_arg, choices=["local", "dask"], default="local",
                   help="local: this process; dask: the chunks on a Dask distributed cluster")
    e.add_argument("--scheduler", metavar="ADDRESS",
                   help="the Dask scheduler (tcp://host:8786); default: a LocalCluster of worker processes here")
    e.add_argument("--workers", type=count_arg,
                   help="worker processes of the LocalCluster (default, or 0: one per core)")
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=cmd_batch)
    return p


if __name__ == "__main__":
    from xlduty.command import run_alone

    sys.exit(run_alone(add_parser, sys.argv[1:]))
