"""What the commands share, below every one of them (``cli.py``, ``quote/cli.py``, ``rates/cli.py``): reading a JSON
input exactly, numbers on the command line, writing to standard output, and running a parsed command with ONE error
handling, so that every command fails the same way: one line on stderr, nothing on stdout, no traceback.

Exit codes (README, "Exit codes"):

- 0: done.
- 1: an error xlduty did not foresee (a bug): one line naming it; ``XLDUTY_DEBUG=1`` shows the traceback.
- 2: the input, a file or the system refused: invalid input or arguments (one line naming the field or argument), a
  file that cannot be read or written (missing, a folder, no permission, disk full, a closed pipe: one line naming
  it), a refresh that changed nothing.
- 3: xlduty's own data (bundled or stored tables) missing or broken.
- 4: a batch run to the end with some items failed (``compute --keep-going``, ``batch``): each failed item carries
  its error.
- 5: an optional part of xlduty is not installed: the line names the extra to install (``xlduty.extras``).
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from xlduty.core.errors import InputError

EXIT_OK = 0
EXIT_BUG = 1
EXIT_INPUT = 2
EXIT_DATA = 3
EXIT_SOME_FAILED = 4
EXIT_MISSING = 5
EXIT_INTERRUPTED = 130
STDOUT = "standard output"


# --- reading a JSON input ---------------------------------------------------------------------------------------

class _Twice(dict):   # type: ignore[type-arg]
    """An object of the JSON input in which a key was given twice (``keys_twice``: those keys)."""

    keys_twice: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: the object, or a ``_Twice`` marking the keys given twice (found with their path
    after parsing: json builds inner objects first and does not say where they are)."""
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    twice = _Twice(d)
    seen: set[str] = set()
    twice.keys_twice = [k for k, _v in pairs if k in seen or seen.add(k)]   # type: ignore[func-returns-value]
    return twice


class _Unread:
    """A number of the JSON input that cannot be held (an exponent beyond Decimal's range, an integer of more digits
    than Python converts), kept in its place when items are read one by one (``loads(…, items=True)``)."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def _decimal_or_unread(text: str) -> Decimal | _Unread:
    try:
        return Decimal(text)
    except ArithmeticError:
        return _Unread("a number out of range")


def _int_or_unread(text: str) -> int | _Unread:
    try:
        return int(text)
    except ValueError:
        return _Unread(f"a number of more than {sys.get_int_max_str_digits():,} digits")


def _first_twice(value: Any, path: str = "") -> str | None:
    """The path of the first key given twice in ``value`` (depth first, in document order), or None."""
    found = _first_problem(value, path)
    return None if found is None or found[1] is not None else found[0]


def _first_problem(value: Any, path: str = "") -> tuple[str, str | None] | None:
    """The first problem in ``value`` (depth first, in document order): its path, and None for a key given twice or
    the ``_Unread`` number's reason; None if there is none."""
    stack = [(value, path)]
    while stack:
        v, at = stack.pop()
        if isinstance(v, _Unread):
            return at, v.why
        if isinstance(v, _Twice):
            key = v.keys_twice[0]
            return (f"{at}.{key}" if at else key), None
        if isinstance(v, dict):
            stack.extend((x, f"{at}.{k}" if at else k) for k, x in reversed(v.items()))
        elif isinstance(v, list):
            stack.extend((x, f"{at}[{i}]") for i, x in reversed(list(enumerate(v))))
    return None


def item_errors(data: Any) -> list[Any]:
    """The items of a JSON array read by ``loads(…, items=True)`` (or the one object), each as it is or, where it
    holds a key given twice or a number that cannot be held, an ``InputError`` naming that field within its index
    (``[1].lines[0].value``): one bad item is its own error, the others are computed (``--keep-going``)."""
    from xlduty.core.errors import InputError

    out: list[Any] = []
    for i, item in enumerate(data if isinstance(data, list) else [data]):
        found = _first_problem(item)
        if found is None:
            out.append(item)
            continue
        where, why = found
        out.append(InputError(where, why or _TWICE).within(f"[{i}]"))
    return out


_TWICE = "given twice: give each field once (JSON keeps only one of the two)"


def _given_twice(data: Any) -> InputError:
    """The error for a value read with a key given twice (``_Twice``): the first such key, named with its path."""
    from xlduty.core.errors import InputError

    return InputError(_first_twice(data) or "", _TWICE)


_SCAN = json.JSONDecoder(parse_float=Decimal).scan_once
_JSON_SPACE = " \t\n\r"   # JSON's whitespace (str.strip alone would strip more)


def _pairs(value: Any) -> int:
    """How many key-value pairs the objects of a parsed JSON value hold in all."""
    n = 0
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        v = pop()
        if type(v) is dict:
            n += len(v)
            for x in v.values():
                if type(x) is dict or type(x) is list:
                    push(x)
        else:
            for x in v:
                if type(x) is dict or type(x) is list:
                    push(x)
    return n


def loads(raw: bytes | str, source: str, *, items: bool = False) -> Any:
    """JSON text as xlduty reads every input: numbers as exact Decimals, a key given twice refused (never the last one
    silently kept: ``"value": 300000, "value": 1``), any other problem one ``InputError`` naming ``source``.

    Read first without a hook (the C parser builds the objects: a Python call per object costs as much as parsing
    them): a text holding as many colons as the objects hold pairs has no key given twice (each pair has its colon;
    a colon in a string, or a key given twice, makes them differ), and is read so. Any other text, or one the parser
    refuses, is read again by the exact route below, which finds the key given twice or words the error.

    ``items``: the document is read whole even where a key is given twice or a number cannot be held; those stay
    marked in place for ``item_errors``, which makes each bad item of a batch its own error (``--keep-going``). A
    document that is not JSON is still one error: no item of it can be told apart."""
    data = _fast(raw)
    return _loads_exactly(raw, source, items) if data is _MISS else data


_MISS = object()


def _fast(raw: bytes | str) -> Any:
    """``loads``' first route (no hook): the value, or ``_MISS`` where the exact route must read it."""
    try:
        if type(raw) is bytes:
            text = raw.decode(json.detect_encoding(raw), "surrogatepass").strip(_JSON_SPACE)
            colons = raw.count(b":")
        elif type(raw) is str:
            text = raw.strip(_JSON_SPACE)
            colons = raw.count(":")
        else:
            return _MISS
        data, end = _SCAN(text, 0)   # one value from the first character (as JSONDecoder.decode, without its regexes)
        if end == len(text) and colons == (_pairs(data) if type(data) is dict or type(data) is list else 0):
            return data
    except (ValueError, RecursionError, ArithmeticError, StopIteration):   # StopIteration: no value at all
        pass
    return _MISS


def _parsed(raw: bytes, source: str) -> tuple[Any, bool]:
    """``raw`` read as ``loads`` reads it, and whether a key is given twice in it: that value is given, marked
    (``_Twice``), not refused, so that a caller telling JSONL from a document need not read it again."""
    data = _fast(raw)
    return (data, False) if data is not _MISS else _read_exactly(raw, source)


def _loads_exactly(raw: bytes | str, source: str, items: bool = False) -> Any:
    """``loads`` by its exact route alone."""
    data, twice = _read_exactly(raw, source, items)
    if twice and not items:
        raise _given_twice(data)
    return data


def _read_exactly(raw: bytes | str, source: str, items: bool = False) -> tuple[Any, bool]:
    """``raw`` read with every object built by a hook that finds a key given twice, and every error worded: the
    value, and whether a key was given twice in it (``_Twice`` marks where: the caller refuses it)."""
    from xlduty.core.errors import InputError

    twice = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal twice
        d = _object(pairs)
        twice = twice or type(d) is _Twice
        return d

    try:
        if items:
            data = json.loads(raw, parse_float=_decimal_or_unread, parse_int=_int_or_unread, object_pairs_hook=hook)
        else:
            data = json.loads(raw, parse_float=Decimal, object_pairs_hook=hook)
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
    return data, twice


def read_json(source: str, *, items: bool = False) -> Any:
    """A JSON file (or ``-``: standard input) of at most ``files.MAX_JSON_BYTES``, read by ``loads``."""
    from xlduty.files import input_name, read_input

    return loads(read_input(source), input_name(source), items=items)


# --- the command line ---------------------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (``xlduty quote: --target-cost: …``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        """argparse's, without swallowing a failed write: ``--help`` or ``--version`` onto a full disk or a closed
        descriptor says so (exit 2) instead of exiting 0 with nothing written."""
        if not message:
            return
        out = file or sys.stderr
        if out is not sys.stdout:
            out.write(message)
            return
        with naming_stdout():
            out.write(message)


def number_arg(text: str) -> Decimal:
    """A number argument (``--target-cost 1500``) by the one grammar of every input (``xlduty.core.numbers``):
    ``nan`` and ``inf`` are refused here, as every other text that is not a finite number."""
    from xlduty.core.numbers import parse_number

    try:
        return parse_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def word_arg(text: str) -> str:
    """A word of a closed set on the command line (``--simplified NEVER``), read as every closed-set word is
    (``xlduty.core.typed.closed``); argparse then checks it against the command's choices."""
    from xlduty.core.typed import closed

    return str(closed(text))


COUNT_MAX = 1_000_000


def count_arg(text: str) -> int:
    """A whole number argument from 0 to ``COUNT_MAX`` (``--line 0``, ``--attempts 4``)."""
    value = number_arg(text)
    if value != value.to_integral_value() or not 0 <= value <= COUNT_MAX:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number from 0 to {COUNT_MAX:,} is required")
    return int(value)


def seconds_arg(text: str) -> float:
    """A duration in seconds (``--pace 0.5``): a finite number of 0 or more."""
    value = number_arg(text)
    if value < 0 or value > 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds from 0 to 86400")
    return float(value)


def new_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The ``xlduty`` parser, and the sub-parsers its commands mount themselves on (``add_parser(sub)``)."""
    from xlduty.version import __version__

    p = Parser(prog="xlduty", description="Japanese import duty and consumption tax, to the yen.")
    p.add_argument("--version", action="version", version=f"xlduty {__version__}")
    return p, p.add_subparsers(dest="command", required=True)


@contextmanager
def naming_stdout() -> Iterator[None]:
    """An OS error raised within (writing or flushing standard output) names it, so that ``run`` says it in one line
    (``standard output: No space left on device``) and quiets standard output before the exit's own flush."""
    try:
        yield
    except OSError as exc:
        if not exc.filename:
            exc.filename = STDOUT
        raise


def write(text: str) -> None:
    """Write ``text`` to standard output; a failure names it (``standard output: No space left on device``)."""
    with naming_stdout():
        sys.stdout.write(text)
        sys.stdout.flush()


def indented_json() -> Callable[[Any], bytes] | None:
    """JSON indented by 2 as bytes through orjson, where installed (the ``batch`` extra): the bytes
    ``json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")`` gives for what the commands write (objects of
    text keys, text, ints, booleans, null: the same separators, escapes and empty ``[]`` and ``{}``; no float, which
    the two would print differently, as a result holds none and the input's numbers are read as Decimals;
    tests/test_cli.py compares them), ×10 faster than the standard library, which indents in Python. It raises
    ``TypeError`` (orjson.JSONEncodeError) for what it does not write as the standard library does (an int beyond 64
    bits, a lone surrogate): the caller then uses the standard library. None without orjson."""
    try:
        import orjson
    except ImportError:
        return None
    return partial(orjson.dumps, option=orjson.OPT_INDENT_2)


class StandardOutput:
    """Standard output as bytes, for results written as they are computed; a failure names it, as ``write`` does."""

    @staticmethod
    def plain_utf8() -> bool:
        """Whether text written to standard output reaches it as its UTF-8 bytes, newlines untranslated (so that
        bytes written to its buffer are what writing the text would give)."""
        encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        return encoding == "utf8" and os.linesep == "\n" and hasattr(sys.stdout, "buffer")

    def write(self, data: bytes) -> None:
        with naming_stdout():
            sys.stdout.buffer.write(data)

    def flush(self) -> None:
        with naming_stdout():
            sys.stdout.buffer.flush()


def _oneline(text: object) -> str:
    return " ".join(str(text).split())


@contextmanager
def _warnings_in_one_line() -> Iterator[list[str]]:
    """Warnings collected as one line each (``xlduty: warning: …``), each once, never Python's two lines with a source
    line; ``run`` prints them when the command succeeds or ends with some items failed (exit 4: the others' figures
    were computed under them); a failure as a whole is its one line, which says what stopped it."""
    said: list[str] = []

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        text = f"xlduty: warning: {_oneline(message).removeprefix('xlduty: ')}"
        if text not in said:
            said.append(text)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield said


def _show(said: list[str]) -> None:
    with suppress(OSError):
        for text in said:
            sys.stderr.write(text + "\n")


class _Closed(io.RawIOBase):
    """Standard output (or input) when the process was started without one: writing to (reading from) it is the OS
    error a closed descriptor gives, naming it (exit 2, one line); a command that does not use it runs as usual."""

    def __init__(self, name: str = STDOUT) -> None:
        super().__init__()
        self.name_ = name

    def writable(self) -> bool:
        return self.name_ == STDOUT

    def readable(self) -> bool:
        return self.name_ != STDOUT

    def _closed(self) -> OSError:
        import errno

        return OSError(errno.EBADF, f"closed (the command was started with its {self.name_} closed)", self.name_)

    def write(self, _data: object) -> int:
        raise self._closed()

    def read(self, _size: int | None = -1) -> bytes:
        raise self._closed()

    def readinto(self, _buffer: object) -> int:
        raise self._closed()

    def readline(self, _size: int | None = -1) -> bytes:
        raise self._closed()

    @property
    def buffer(self) -> _Closed:
        return self


def _flush_stdout() -> None:
    """Flush standard output, a failure named as standard output's (a full disk, a closed pipe)."""
    with naming_stdout():
        sys.stdout.flush()


def _quiet_stdout() -> None:
    """After standard output failed (a closed pipe, a full disk), point it at the null device, so that Python's own
    flush at exit does not print a second error."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):   # no real file descriptor (a test's captured stdout)
        pass


def note(text: str) -> None:
    """A line for the user on stderr (``xlduty: wrote out.csv: …``). A standard error that is closed or full loses
    it, but never turns a command that has done its work (written its file) into a failure."""
    with suppress(OSError):
        sys.stderr.write(f"xlduty: {text}\n")
        sys.stderr.flush()


def _say(line: str) -> None:
    note(_oneline(line))


def os_error_text(exc: OSError) -> str:
    """An OS error as one line naming its file: ``/data/rates: Not a directory``."""
    import errno

    why = exc.strerror or errno.errorcode.get(exc.errno or 0) or type(exc).__name__
    if exc.filename is None:
        return why
    return f"{exc.filename}: {why}" + (f" → {exc.filename2}" if exc.filename2 else "")


def run(build: Callable[[], argparse.ArgumentParser], argv: list[str] | None) -> int:
    """Parse ``argv`` with the parser ``build`` makes, run the command it names, and turn whatever stops it into its
    exit code and ONE line on stderr: an input or data error, an OS error (naming the file: a missing or unreadable
    file, a folder given as a file, a read-only or misplaced data folder, a full disk, a closed pipe), an interrupt,
    and — as a last resort — an error nobody foresaw. Standard output is flushed here, so that its failure is
    caught too."""
    # xlduty uses no pydantic plugins: skip their discovery through importlib.metadata (start-up time).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from xlduty.core.errors import DataError, InputError

    if sys.stdout is None:   # started with its standard output closed (``>&-``): said when something is written
        sys.stdout = _Closed()
    if sys.stdin is None:    # and with standard input closed (``<&-``): said when it is read (``compute -``)
        from xlduty.files import STDIN_NAME

        sys.stdin = _Closed(STDIN_NAME)
    if sys.stderr is None:   # and with standard error closed (``2>&-``): its lines are lost, the command runs
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the life of the process)
    with _warnings_in_one_line() as said:
        try:
            try:
                args = build().parse_args(argv)
            except SystemExit as exc:   # --help and --version (argparse ignores a failed write): said if lost
                if not exc.code:
                    _flush_stdout()
                raise
            code = args.func(args)
            _flush_stdout()
            if code in (EXIT_OK, EXIT_SOME_FAILED):   # the figures written were computed under them; a command
                _show(said)                             # that failed as a whole has said why in its one line
            return code
        except InputError as exc:
            _say(str(exc))
            return EXIT_INPUT
        except DataError as exc:
            _say(f"data error: {exc}")
            return EXIT_DATA
        except ModuleNotFoundError as exc:   # before OSError's siblings: an extra not installed is not a bug
            from xlduty.extras import missing_extra

            if (message := missing_extra(exc)) is None:
                _say(f"internal error ({type(exc).__name__}: {exc}); please report it (XLDUTY_DEBUG=1 shows the "
                     "traceback)")
                return EXIT_BUG
            _say(message)
            return EXIT_MISSING
        except OSError as exc:
            if exc.filename is None and isinstance(exc, BrokenPipeError | ConnectionResetError):
                exc.filename = STDOUT
            if exc.filename == STDOUT:
                _quiet_stdout()
            _say(os_error_text(exc))
            return EXIT_INPUT
        except KeyboardInterrupt:
            _say("interrupted")
            return EXIT_INTERRUPTED
        except MemoryError:
            _say("out of memory: for a large batch, split it into several files (see README, Limits)")
            return EXIT_INPUT
        except RecursionError:
            _say("the input is nested too deeply to read")
            return EXIT_INPUT
        except Exception as exc:   # a bug: still one line, and the traceback on request
            if os.environ.get("XLDUTY_DEBUG", "") not in ("", "0"):
                raise
            _say(f"internal error ({type(exc).__name__}: {exc}); please report it with the input that caused "
                 "it (XLDUTY_DEBUG=1 shows the traceback)")
            return EXIT_BUG


def run_alone(add_parser: Callable[[Any], Any], argv: list[str]) -> int:
    """One command run on its own (``python -m xlduty.quote.cli``): the ``xlduty`` parser with that command alone
    mounted, and the same error handling."""
    def build() -> argparse.ArgumentParser:
        p, sub = new_parser()
        add_parser(sub)
        return p

    return run(build, argv)


def read_declarations(source: str, *, keep_going: bool = False) -> Any:
    """The items of a batch for ``compute --format jsonl``, read as they come: JSONL (one JSON object per line) is
    read one line at a time, each line of at most ``files.MAX_JSON_BYTES``, so a batch of any length streams; a JSON
    document (an array, or one object over several lines) is read whole, within the same limit as ``read_json``.
    Every item is read by ``loads`` (a key given twice is refused). Yields each item, or an ``InputError`` in its
    place for a line that cannot be read (its index counts the items, blank lines left out), so a caller that keeps
    going can report it and go on; with ``keep_going`` an item of a JSON document that holds a key given twice or a
    number that cannot be held is such an error too (without it, the document is refused whole, as before).

    JSONL whose first line is not JSON is still JSONL: an input is taken for one object over several lines only when
    the whole of it reads as JSON."""
    from xlduty.core.errors import InputError
    from xlduty.files import MAX_JSON_BYTES, STDIN, FileError, cannot_read, input_name, open_input

    name = input_name(source)
    fh = open_input(source)
    try:
        first = _line(fh, name, 1, MAX_JSON_BYTES)
        number = 1
        while first and not first.strip():
            number += 1
            first = _line(fh, name, number, MAX_JSON_BYTES)
        start = first.lstrip().removeprefix(b"\xef\xbb\xbf")
        if not start:
            raise InputError("", "the batch is empty")
        whole = start[:1] == b"["
        lines: Any = fh
        head: Any = _MISS   # the first line's item (or its error), where telling JSONL from a document read it
        if not whole and start[:1] == b"{":
            try:
                head, twice = _parsed(first.removeprefix(b"\xef\xbb\xbf"), f"line {number}")
                if twice:   # JSON, so JSONL: this item's error
                    head = _given_twice(head).within("[0]")
            except InputError:
                # one object over several lines, or JSONL whose first line is broken: the whole input decides
                rest = fh.read(MAX_JSON_BYTES + 1 - len(first))
                if len(first) + len(rest) <= MAX_JSON_BYTES:
                    items = _object_document(first + rest, name, keep_going)
                    if items is not None:
                        yield from items
                        return
                lines = _Rest(rest, fh)   # JSONL: the lines read ahead, then the rest of the file
        if whole:
            rest = fh.read(MAX_JSON_BYTES + 1 - len(first))
            if len(first) + len(rest) > MAX_JSON_BYTES:
                raise FileError(f"{name} is larger than {MAX_JSON_BYTES // (1 << 20)} MiB: give a larger batch as "
                                "JSONL, one declaration per line (it is read a line at a time)")
            yield from _document(first + rest, name, keep_going)
            return
        index = 0
        raw = first
        while raw:
            if raw.strip():
                if index == 0 and head is not _MISS:
                    yield head
                else:
                    try:
                        yield loads(raw.removeprefix(b"\xef\xbb\xbf") if index == 0 else raw, f"line {number}")
                    except InputError as exc:
                        yield exc.within(f"[{index}]")
                index += 1
            number += 1
            raw = _line(lines, name, number, MAX_JSON_BYTES)
    except OSError as exc:
        raise cannot_read(name, exc) from None
    finally:
        if source != STDIN:
            fh.close()


def _object_document(raw: bytes, name: str, keep_going: bool) -> list[Any] | None:
    """The items of ``raw`` (which starts with ``{``) where it reads as one JSON document: the object, or with
    ``keep_going`` its error where a key is given twice in it; None where it is not JSON (it is JSONL). Read once: a
    key given twice is found by the same reading (it was read three times more: to tell, to read, to word it)."""
    from xlduty.core.errors import InputError

    try:
        data, twice = _parsed(raw, name)
    except InputError:   # not JSON, or a number that cannot be held (rare: read again to tell which, as before)
        return list(_document(raw, name, keep_going)) if _is_json(raw) else None
    if not twice:
        return [data]
    if keep_going:
        return item_errors(data)
    raise _given_twice(data)


def _is_json(raw: bytes) -> bool:
    """Whether ``raw`` reads as one JSON document (keys given twice and numbers aside: ``loads`` says those)."""
    try:
        json.loads(raw, parse_float=_decimal_or_unread, parse_int=_int_or_unread)
    except (ValueError, RecursionError):
        return False
    return True


def _document(raw: bytes, name: str, keep_going: bool) -> Iterator[Any]:
    """The items of a JSON document (an array, or one object): with ``keep_going`` each bad item is its own error."""
    if keep_going:
        yield from item_errors(loads(raw, name, items=True))
        return
    data = loads(raw, name)
    yield from (data if isinstance(data, list) else [data])


class _Rest:
    """Lines read ahead (``rest``), then those of ``fh``: ``readline(limit)`` as a file gives it."""

    __slots__ = ("fh", "head")

    def __init__(self, rest: bytes, fh: Any) -> None:
        self.head, self.fh = io.BytesIO(rest), fh

    def readline(self, limit: int = -1) -> bytes:
        line = self.head.readline(limit)
        if line.endswith(b"\n") or (limit >= 0 and len(line) >= limit):
            return line
        more = self.fh.readline(-1 if limit < 0 else limit - len(line))   # a line cut where reading ahead stopped
        return line + more


def _line(fh: Any, name: str, number: int, limit: int) -> bytes:
    """Line ``number`` of ``fh`` (b"" at the end), refused past ``limit`` bytes: an endless line (``/dev/zero``) is
    one error within a second, never held in memory."""
    from xlduty.files import FileError

    raw: bytes = fh.readline(limit + 1)
    if len(raw) > limit:
        raise FileError(f"{name}: line {number} is longer than {limit // (1 << 20)} MiB")
    return raw
