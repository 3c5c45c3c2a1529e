"""What the commands share, below every one of them (``cli.py``, ``quote/cli.py``): reading a JSON input exactly,
and running a parsed command with one error handling.

Exit codes: 0 ok; 2 invalid input (one line on stderr naming the field, nothing on stdout); 3 bundled data missing
or broken; 4 an optional part is not installed (the line names the extra: ``xlduty.extras``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

EXIT_INPUT = 2
EXIT_DATA = 3
EXIT_MISSING = 4


def read_json(source: str) -> Any:
    """A JSON file (or ``-``: standard input), numbers as exact Decimals; a clear InputError otherwise."""
    from xlduty.core.errors import InputError

    try:   # bytes: json reads UTF-8 (with or without a BOM), UTF-16 and UTF-32
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError("", f"cannot read {source}: {exc.strerror}") from None
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError("", f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError:
        raise InputError("", f"{source} is not UTF-8 text (nor UTF-16/32 with a BOM; Shift_JIS?): save it as UTF-8"
                         ) from None
    except RecursionError:
        raise InputError("", f"{source} is nested too deeply to read") from None
    except ArithmeticError:   # an exponent beyond what Decimal holds: 1e9999999999999999999
        raise InputError("", f"{source} has a number out of range") from None
    except ValueError as exc:   # Python's limit on the digits of an integer (CVE-2020-10735)
        why = (f"has a number of more than {sys.get_int_max_str_digits():,} digits" if "digits" in str(exc)
               else f"is not valid JSON: {exc}")
        raise InputError("", f"{source} {why}") from None


def new_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The ``xlduty`` parser, and the sub-parsers its commands mount themselves on (``add_parser(sub)``)."""
    p = argparse.ArgumentParser(prog="xlduty", description="Japanese import duty and consumption tax, to the yen.")
    return p, p.add_subparsers(dest="command", required=True)


def run(build: Callable[[], argparse.ArgumentParser], argv: list[str] | None) -> int:
    """Parse ``argv`` with the parser ``build`` makes, run the command it names, and turn an input or data error
    into its exit code and one line on stderr."""
    # xlduty uses no pydantic plugins: skip their discovery through importlib.metadata (start-up time).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = build().parse_args(argv)
    from xlduty.core.errors import DataError, InputError

    try:
        return args.func(args)
    except InputError as exc:
        sys.stderr.write(f"xlduty: {exc}\n")
        return EXIT_INPUT
    except DataError as exc:
        sys.stderr.write(f"xlduty: data error: {exc}\n")
        return EXIT_DATA
    except ModuleNotFoundError as exc:
        from xlduty.extras import missing_extra

        if (message := missing_extra(exc)) is None:
            raise
        sys.stderr.write(f"xlduty: {message}\n")
        return EXIT_MISSING


def run_alone(add_parser: Callable[[Any], Any], argv: list[str]) -> int:
    """One command run on its own (``python -m xlduty.quote.cli``): the ``xlduty`` parser with that command alone
    mounted, and the same error handling."""
    def build() -> argparse.ArgumentParser:
        p, sub = new_parser()
        add_parser(sub)
        return p

    return run(build, argv)
