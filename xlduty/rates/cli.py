"""``xlduty rates refresh|list|use|rollback|report``: the refreshed tables from the command line.

``xlduty.cli`` mounts these with ``add_parser(sub)``; ``main`` runs them alone (tests, or
``python -m xlduty.rates.cli rates list``). Exit codes: 0 done; 2 bad input or a refresh that changed
nothing (one line on stderr saying why, nothing on stdout). Kept to argparse at import time: the
main CLI builds this parser on every start.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlduty.command import note, write

EXIT_FAIL = 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rates`` and its subcommands to the main CLI's subparsers."""
    from xlduty.command import count_arg, seconds_arg, word_arg

    p = subparsers.add_parser("rates", help="refresh the tariff and FX tables from Japan Customs; list, use or "
                                            "roll back the stored versions")
    sub = p.add_subparsers(dest="rates_command", required=True, metavar="{refresh,list,use,rollback,report}")
    r = sub.add_parser("refresh", help="fetch the newest tariff edition and customs weekly FX, check, switch to them")
    r.add_argument("--source", metavar="URL", help="base URL (default https://www.customs.go.jp)")
    r.add_argument("--insecure-host", action="store_true",
                   help="allow a --source that is not HTTPS to www.customs.go.jp (a mirror, a test server)")
    r.add_argument("--allow-older", action="store_true", help="accept an edition or week older than the one in use")
    r.add_argument("--only", type=word_arg, choices=("tariff", "fx"),
                   help="refresh only the tariff or only the FX table")
    r.add_argument("--chapters", metavar="NN,NN", help="refresh only these chapters of the edition in use")
    r.add_argument("--pace", type=seconds_arg, metavar="S", help="seconds between requests (default 0.5)")
    r.add_argument("--timeout", type=seconds_arg, metavar="S", help="seconds to wait for a page to answer (default 30)")
    r.add_argument("--attempts", type=count_arg, metavar="N", help="tries per page (default 4)")
    r.add_argument("--fx-archive-weeks", type=count_arg, metavar="N",
                   help="fill at most N weeks the FX table lacks from the weekly PDFs, newest first "
                        "(default 52; 0: none)")
    r.add_argument("--allow-fx-jump", metavar="ISO,ISO", help="let these currencies (or `all`) through a week-to-week "
                                                             "move over 30%% or a change of quotation unit (1 ↔ 100)")
    r.add_argument("--gap-editions", type=count_arg, metavar="N",
                   help="also fetch at most N editions the site lists between those stored and its newest "
                        "(default 2; 0: only report them)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    sub.add_parser("list", help="stored versions; * marks those in use")
    u = sub.add_parser("use", help="put a stored version in use (`bundled`: the bundled tables)")
    u.add_argument("version")
    sub.add_parser("rollback", help="back to the versions in use before the last switch")
    rp = sub.add_parser("report", help="the change report of a version (default: those in use)")
    rp.add_argument("version", nargs="?")
    p.set_defaults(func=run)
    return p


def _fail(message: str) -> int:
    note(message)
    return EXIT_FAIL


def run(args: argparse.Namespace) -> int:
    """Run one ``rates`` subcommand; errors become one line on stderr and exit code 2."""
    from xlduty.core.errors import DataError

    try:
        return _COMMANDS[args.rates_command](args)
    except DataError as exc:  # StoreError, BusyError, a damaged active.json
        return _fail(str(exc))


def _refresh(args: argparse.Namespace) -> int:
    import dataclasses

    from tqdm import tqdm

    from xlduty.rates.pipeline import refresh
    from xlduty.rates.sources import FetchSettings

    if args.insecure_host and not args.source:
        return _fail("--insecure-host needs an explicit --source")
    settings = FetchSettings()
    overrides = {k: v for k, v in (("pace", args.pace), ("read_timeout", args.timeout), ("attempts", args.attempts))
                 if v is not None}   # none negative: seconds_arg and count_arg refuse it
    settings = dataclasses.replace(settings, **overrides)
    extra = {k: v for k, v in (("fx_archive_weeks", args.fx_archive_weeks), ("gap_editions", args.gap_editions))
             if v is not None}
    if args.allow_fx_jump:
        extra["allow_fx_jumps"] = [c.strip().upper() for c in args.allow_fx_jump.split(",") if c.strip()]
    chapters = None
    if args.chapters:
        chapters = [c.strip().zfill(2) for c in args.chapters.split(",") if c.strip()]
        if not all(c.isdigit() and 1 <= int(c) <= 97 and c != "77" for c in chapters):
            return _fail(f"--chapters {args.chapters}: chapters are 01–97 (no 77)")
    bar = tqdm(total=1, unit="step", file=sys.stderr, disable=True if args.no_progress else None, leave=False,
               desc="xlduty rates refresh")

    def progress(done: int, total: int, what: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(what, refresh=False)
        bar.refresh()

    try:
        report = refresh(args.source, progress=progress, allow_older=args.allow_older, insecure_host=args.insecure_host,
                         what=(args.only,) if args.only else ("tariff", "fx"), chapters=chapters, settings=settings,
                         **extra)
    finally:
        bar.close()
    if not report.ok:
        return _fail(f"rates refresh failed: {report.error} (nothing changed: the previous tables remain in use)")
    write(str(report) + "\n")
    for gap in report.tariff.gaps if report.tariff is not None else []:   # said on stderr too: easy to miss
        note(f"warning: edition {gap.edition} is listed on the site but not stored; its dates are computed on "
             f"edition {gap.computed_on}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from xlduty.core.tables import KINDS
    from xlduty.rates.store import Store

    store = Store()
    state = store.state()
    names = {"tariff": "tariff (実行関税率表)", "fx": "fx (税関長公示レート)"}
    out = []
    for kind in KINDS:
        in_use = getattr(state, kind)
        if in_use is not None and in_use not in store.versions(kind):   # a damaged pointer: the bundled one is read
            in_use = None
        out.append(names[kind] + ":")
        for version in reversed(store.versions(kind)):
            try:
                m = store.manifest(kind, version)
                info = f"{m.created_at}  {m.summary}"
            except (OSError, ValueError):
                info = "(manifest unreadable)"
            out.append(f"  {'*' if version == in_use else ' '} {version:<14} {info}")
        out.append(f"  {'*' if in_use is None else ' '} {'bundled':<14} {_bundled(kind)}")
    if state.history:
        prev = state.history[-1]
        out.append(f"rollback would restore: tariff {prev.tariff or 'bundled'}, fx {prev.fx or 'bundled'}")
    write("\n".join(out) + "\n")
    return 0


def _bundled(kind: str) -> str:
    from datetime import date, timedelta

    from xlduty.core.tables import editions, read_json_gz, rules_dir

    if kind == "tariff":
        return "editions " + ", ".join(name for name, _start in editions(str(rules_dir()))) + " (shipped with xlduty)"
    book = read_json_gz(rules_dir() / "fx" / "customs_weekly.json.gz")
    first = date.fromisoformat(book["first_week"])
    return f"weeks {first} – {first + timedelta(weeks=book['weeks'], days=-1)} (shipped with xlduty)"


def _use(args: argparse.Namespace) -> int:
    from xlduty.rates import use

    state = use(args.version)
    write(f"in use: tariff {state.tariff or 'bundled'}, fx {state.fx or 'bundled'}\n")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from xlduty.rates import rollback

    state = rollback()
    write(f"rolled back; in use: tariff {state.tariff or 'bundled'}, fx {state.fx or 'bundled'}\n")
    return 0


def _report(args: argparse.Namespace) -> int:
    from xlduty.rates import report_text

    write(report_text(args.version) + "\n")
    return 0


_COMMANDS = {"refresh": _refresh, "list": _list, "use": _use, "rollback": _rollback, "report": _report}


def main(argv: list[str] | None = None) -> int:
    """``xlduty rates ...`` on its own (the main CLI mounts the same parser, with the same error handling)."""
    from xlduty.command import run_alone

    return run_alone(add_parser, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
