"""Every subcommand against a matrix of faults: one line on stderr, no traceback, nothing on stdout.

Faults: the input missing, a folder, or unreadable (an I/O error on read: ``/proc/self/mem``, which no user, not even
root, can read from its start); the data folder (``XLDUTY_DATA_DIR``) a file, or a store that cannot be written; the
home folder a file (``addin config``); standard output a full disk (``/dev/full``) or a closed pipe; numbers that are
no numbers. Before, ``compute > /dev/full``, ``rates use``/``rollback`` on such a store, ``--target-cost nan`` and
``quote --save`` into a missing folder ended in a traceback, and a data folder that is a file printed a Python
``RuntimeWarning`` with a source line. xlduty/command.py's ``run`` is the one handler; exit codes in the README.

Where a fault does not stop the command (a data folder that is a file: the bundled tables are read), it is one
warning line on stderr, and the command's own output is unharmed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DECL = {"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}]}


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws["A1"] = '=DUTY("6109.10-020",300000,"CN",,"2026-11-01")'
    wb.save(path)
    return path


def _store(root: Path) -> None:
    """A rates store holding the bundled tariff as a stored version, used once (so rollback has a step back)."""
    from xlduty.core.tables import rules_dir
    from xlduty.rates.store import Store

    store = Store(root / "rates")
    files = {f"tariff/{p.name}": p.read_bytes() for p in (rules_dir() / "tariff").iterdir()
             if p.name == "editions.json" or (p.name.endswith(".json.gz") and p.name[0].isdigit())}
    store.write_version("tariff", "2026_07_09", files, source="test", summary="the bundled edition, stored")
    run = subprocess.run([sys.executable, "-m", "xlduty", "rates", "use", "2026_07_09"], cwd=ROOT, text=True,
                         capture_output=True, timeout=60, env={**os.environ, "XLDUTY_DATA_DIR": str(root)}, check=False)
    assert run.returncode == 0, run.stderr


# Where neither a mode nor the immutable attribute stops the writer (root without CAP_LINUX_IMMUTABLE, a file system
# without attributes), the command runs with the OS refusing, as it would, every write under the folder: os.open and
# os.mkdir (what mkstemp, filelock and Path.mkdir call) raise EACCES there.
_DENIED = """import errno, os, runpy, sys
root = os.environ.pop("XLDUTY_TEST_DENY")
real_open, real_mkdir = os.open, os.mkdir
def _deny(path):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
def _open(path, flags, *args, **kw):
    if os.fsdecode(path).startswith(root) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
        _deny(path)
    return real_open(path, flags, *args, **kw)
def _mkdir(path, *args, **kw):
    if os.fsdecode(path).startswith(root) and not os.path.isdir(path):
        _deny(path)
    return real_mkdir(path, *args, **kw)
os.open, os.mkdir = _open, _mkdir
sys.argv[0] = "xlduty"
runpy.run_module("xlduty", run_name="__main__", alter_sys=True)
"""


@contextmanager
def _read_only(folder: Path) -> Iterator[dict[str, str]]:
    """``folder`` made unwritable: its mode, and for root (whom modes do not stop) the immutable attribute; else (see
    ``_DENIED``) the environment that makes ``_run`` refuse writes there. Yields what to add to the environment."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(folder)], capture_output=True,
                                                     check=False).returncode == 0
    try:
        try:
            (folder / "probe").write_bytes(b"")
        except OSError:
            yield {}   # the fault is real
        else:
            (folder / "probe").unlink()
            yield {"XLDUTY_TEST_DENY": str(folder)}
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def place() -> Iterator[dict[str, Path]]:
    base = Path(tempfile.mkdtemp(prefix="xlduty-faults-"))
    (base / "in.json").write_text(json.dumps(DECL), encoding="utf-8")
    shutil.copy(ROOT / "examples" / "quote.json", base / "quote.json")
    _workbook(base / "book.xlsx")
    (base / "folder.json").mkdir()
    (base / "folder.xlsx").mkdir()
    (base / "mem.json").symlink_to("/proc/self/mem")
    (base / "mem.xlsx").symlink_to("/proc/self/mem")
    (base / "a-file").write_text("not a folder", encoding="utf-8")
    (base / "data").mkdir()
    (base / "home").mkdir()
    store = base / "store"
    _store(store)
    yield {"base": base, "store": store}
    subprocess.run(["chattr", "-R", "-i", str(base)], capture_output=True, check=False)
    shutil.rmtree(base, ignore_errors=True)


def _run(args: list[str], env: dict[str, str], stdout: str = "pipe") -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``xlduty ARGS``; ``stdout``: ``pipe`` (captured), ``full`` (/dev/full) or
    ``closed`` (a pipe whose reading end is closed before anything is written)."""
    full_env = {**os.environ, **env}
    cmd = [sys.executable, *(["-c", _DENIED] if "XLDUTY_TEST_DENY" in env else ["-m", "xlduty"]), *args]
    if stdout == "full":
        with open("/dev/full", "w") as out:
            p = subprocess.run(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.PIPE, text=True, timeout=120,
                               check=False)
        return p.returncode, "", p.stderr
    if stdout == "closed":
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
        return proc.wait(timeout=120), "", err
    p = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120, check=False)
    return p.returncode, p.stdout, p.stderr


def _one_line(code: int, out: str, err: str, names: str = "") -> None:
    assert "Traceback" not in err and "Warning:" not in err, err
    assert code == 2, (code, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xlduty"), err
    assert names in lines[0], (names, err)


SAFE = ["--source", "http://127.0.0.1:9", "--insecure-host", "--no-progress", "--attempts", "1"]
INPUT_FAULTS = {"missing": ("no such file", "No such file"),
                "folder": ("a folder", "Is a directory", "not a regular file"),
                "mem": ("Input/output error", "is not a workbook")}


@pytest.mark.parametrize("fault", list(INPUT_FAULTS))
@pytest.mark.parametrize("command", ["compute", "quote", "quote-permit", "recalc", "export-pdf", "quote-workbook"])
def test_an_input_that_cannot_be_read(place: dict[str, Path], command: str, fault: str) -> None:
    b = place["base"]
    name = {"missing": "nothing-here", "folder": "folder", "mem": "mem"}[fault]
    json_in, book_in = str(b / f"{name}.json"), str(b / f"{name}.xlsx")
    args = {"compute": ["compute", json_in], "quote": ["quote", json_in],
            "quote-permit": ["quote", str(b / "quote.json"), "--permit", json_in],
            "recalc": ["recalc", book_in, "-o", str(b / "out.xlsx")],
            "export-pdf": ["export-pdf", book_in, "-o", str(b / "out.pdf")],
            "quote-workbook": ["quote", book_in]}[command]
    code, out, err = _run(args, {"XLDUTY_DATA_DIR": str(b / "data")})
    _one_line(code, out, err, name)
    assert any(w in err for w in INPUT_FAULTS[fault]), err


@pytest.mark.parametrize("command", [["rates", "use", "bundled"], ["rates", "use", "2026_07_09"], ["rates", "rollback"],
                                     ["rates", "refresh", *SAFE]])
@pytest.mark.parametrize("fault", ["data-is-a-file", "read-only-store"])
def test_a_store_that_cannot_be_written(place: dict[str, Path], command: list[str], fault: str) -> None:
    b = place["base"]
    if fault == "data-is-a-file":
        code, out, err = _run(command, {"XLDUTY_DATA_DIR": str(b / "a-file")})
        _one_line(code, out, err, "a-file")
        return
    with _read_only(place["store"] / "rates") as deny:
        code, out, err = _run(command, {"XLDUTY_DATA_DIR": str(place["store"]), **deny})
    _one_line(code, out, err, "rates")


def test_the_read_only_fallback_refuses_as_the_os_would(place: dict[str, Path]) -> None:
    """The fallback of ``_read_only`` gives the same one line as a folder the OS itself will not write."""
    code, out, err = _run(["rates", "use", "bundled"], {"XLDUTY_DATA_DIR": str(place["store"]),
                                                        "XLDUTY_TEST_DENY": str(place["store"] / "rates")})
    _one_line(code, out, err, "rates")
    assert "Permission denied" in err


@pytest.mark.parametrize("command", [["compute", "{in}"], ["rates", "list"], ["rates", "report"],
                                     ["quote", "{quote}"], ["recalc", "{book}", "-o", "{out}"]])
def test_a_data_folder_that_is_a_file_is_one_warning_line(place: dict[str, Path], command: list[str]) -> None:
    """The bundled tables are read, with one line saying why; no Python warning with its source line."""
    b = place["base"]
    args = [a.format(**{"in": b / "in.json", "quote": b / "quote.json", "book": b / "book.xlsx",
                        "out": b / "warned.xlsx"}) for a in command]
    code, out, err = _run(args, {"XLDUTY_DATA_DIR": str(b / "a-file")})
    assert code == 0, err
    assert "Traceback" not in err and "RuntimeWarning" not in err and "warnings.warn" not in err
    warned = [ln for ln in err.splitlines() if ln.startswith("xlduty: warning:")]
    assert len(warned) == 1 and "a-file" in warned[0], err
    assert all(ln.startswith("xlduty: ") for ln in err.splitlines()), err
    if command[0] == "compute":
        assert json.loads(out)["totals"]["duty"] == 22200


STDOUT_COMMANDS = [["compute", "{in}"], ["compute", "{in}", "--compact"], ["quote", "{quote}"],
                   ["quote", "{quote}", "--reverse", "--target-cost", "1500"], ["rates", "list"], ["rates", "report"],
                   ["rates", "use", "bundled"], ["rates", "rollback"], ["addin", "path"], ["addin", "config"],
                   ["--version"]]


@pytest.mark.parametrize("stdout", ["full", "closed"])
@pytest.mark.parametrize("command", STDOUT_COMMANDS, ids=lambda c: "-".join(c).replace("{", "").replace("}", ""))
def test_standard_output_that_cannot_be_written(place: dict[str, Path], command: list[str], stdout: str,
                                                tmp_path: Path) -> None:
    b = place["base"]
    args = [a.format(**{"in": b / "in.json", "quote": b / "quote.json"}) for a in command]
    data = tmp_path / "data"
    if command[:2] == ["rates", "rollback"]:
        shutil.copytree(place["store"], data)
    code, out, err = _run(args, {"XLDUTY_DATA_DIR": str(data), "HOME": str(b / "home"),
                                 "USERPROFILE": str(b / "home")}, stdout)
    if command == ["--version"]:   # argparse prints the version itself and exits 0 (a closed pipe: silence)
        assert "Traceback" not in err
        return
    _one_line(code, out, err, "standard output")
    assert ("No space left" if stdout == "full" else "Broken pipe") in err


BAD_NUMBERS = [("--target-cost", ["quote", "{quote}", "--reverse", "--target-cost", "nan"]),
               ("--target-cost", ["quote", "{quote}", "--reverse", "--target-cost", "inf"]),
               ("--target-cost", ["quote", "{quote}", "--reverse", "--target-cost", "1,500"]),
               ("--line", ["quote", "{quote}", "--reverse", "--target-cost", "1500", "--line", "-1"]),
               ("--line", ["quote", "{quote}", "--reverse", "--target-cost", "1500", "--line", "x"]),
               ("--step", ["quote", "{quote}", "--reverse", "--target-cost", "1500", "--step", "0_01"]),
               ("--sell-price", ["quote", "{quote}", "--reverse", "--sell-price=-Infinity", "--target-margin", "30"]),
               ("--pace", ["rates", "refresh", *SAFE, "--pace", "nan"]),
               ("--timeout", ["rates", "refresh", *SAFE, "--timeout", "inf"]),
               ("--attempts", ["rates", "refresh", *SAFE[:-2], "--attempts", "1.5"]),
               ("--gap-editions", ["rates", "refresh", *SAFE, "--gap-editions", "-1"]),
               ("--fx-archive-weeks", ["rates", "refresh", *SAFE, "--fx-archive-weeks", "1e999999"])]


@pytest.mark.parametrize(("flag", "command"), BAD_NUMBERS, ids=[f"{f}-{c[-1]}" for f, c in BAD_NUMBERS])
def test_numbers_that_are_no_numbers(place: dict[str, Path], flag: str, command: list[str]) -> None:
    b = place["base"]
    args = [a.format(quote=b / "quote.json") for a in command]
    code, out, err = _run(args, {"XLDUTY_DATA_DIR": str(b / "data")})
    _one_line(code, out, err, flag)


def test_a_home_that_is_a_file(place: dict[str, Path]) -> None:
    """``addin config`` writes ~/.xlduty/xlduty.conf: with the home folder a file, one line naming it."""
    b = place["base"]
    code, out, err = _run(["addin", "config"], {"HOME": str(b / "a-file"), "USERPROFILE": str(b / "a-file")})
    _one_line(code, out, err, "a-file")


@pytest.mark.parametrize("target", ["missing-folder/saved.json", "folder.json"])
def test_quote_save_into_a_missing_folder_or_onto_a_folder(place: dict[str, Path], target: str) -> None:
    b = place["base"]
    code, out, err = _run(["quote", str(b / "quote.json"), "--save", str(b / target)], {})
    _one_line(code, out, err, target.split("/")[0])


def test_an_unforeseen_error_is_one_line_and_its_traceback_on_request(tmp_path: Path) -> None:
    """A bug still gives one line (exit 1), naming it; XLDUTY_DEBUG=1 shows the traceback."""
    code = ("import sys; from xlduty import cli\n"
            "def boom(args): raise ZeroDivisionError('a bug')\n"
            "build = cli.build_parser\n"
            "def parser():\n p = build(); p._subparsers._group_actions[0].choices['compute'].set_defaults(func=boom)"
            "; return p\n"
            "cli.build_parser = parser\nsys.exit(cli.main(['compute', '-']))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr.splitlines() == ["xlduty: internal error (ZeroDivisionError: a bug); please report it with the "
                                     "input that caused it (XLDUTY_DEBUG=1 shows the traceback)"]
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                       env={**os.environ, "XLDUTY_DEBUG": "1"})
    assert p.returncode == 1 and "Traceback" in p.stderr and "ZeroDivisionError" in p.stderr


@pytest.mark.parametrize("source", ["/dev/zero", "sparse", "stdin"])
def test_an_input_beyond_the_limit_is_refused_at_once(place: dict[str, Path], source: str, tmp_path: Path) -> None:
    """``xlduty compute /dev/zero`` grew until the machine ran out of memory. A JSON input is read within
    files.MAX_JSON_BYTES (16 MiB): a larger regular file is refused by its size before reading, a device or a pipe
    while reading, in one line that points to splitting the batch; here under a 1 GiB address-space limit."""
    import resource
    import time

    from xlduty.files import MAX_JSON_BYTES

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    path = "-" if source == "stdin" else source
    if source == "sparse":
        sparse = tmp_path / "big.json"
        with open(sparse, "wb") as fh:
            fh.truncate(4 << 30)   # 4 GiB that take no room
        path = str(sparse)
    started = time.monotonic()
    with open("/dev/zero", "rb") as zero:
        p = subprocess.run([sys.executable, "-m", "xlduty", "compute", path], cwd=ROOT, stdin=zero,
                           capture_output=True, text=True, timeout=60, check=False, preexec_fn=limit)
    assert time.monotonic() - started < 20
    assert MAX_JSON_BYTES == 16 << 20
    _one_line(p.returncode, p.stdout, p.stderr, "16 MiB")
    assert "split it into several files" in p.stderr
    assert ("is 4,096 MiB" if source == "sparse" else "holds more than 16 MiB") in p.stderr


def test_standard_output_closed_or_full_for_every_kind_of_output(tmp_path: Path) -> None:
    """Started with standard output closed (``>&-``), ``compute`` said "internal error (AttributeError…)", exit 1;
    ``--version`` and ``--help`` onto /dev/full exited 0 with nothing written (argparse ignores a failed write).
    Each is now one line naming standard output, exit 2; a command that writes only files still runs without one."""
    env = {**os.environ, "XLDUTY_DATA_DIR": str(tmp_path / "data")}
    example = str(ROOT / "examples" / "declaration.json")

    def closed(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xlduty", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False,
                              preexec_fn=lambda: os.close(1))

    p = closed("compute", example)
    assert p.returncode == 2 and p.stderr.splitlines() == [
        "xlduty: standard output: closed (the command was started with its standard output closed)"], p.stderr
    rows = tmp_path / "rows.csv"
    rows.write_text("hs_code,origin,value\n6109.10-020,US,300000\n", encoding="utf-8")
    p = closed("batch", str(rows), "-o", str(tmp_path / "out.csv"), "--date", "2026-11-20")
    assert p.returncode == 0 and (tmp_path / "out.csv").exists(), p.stderr
    for args in (["--version"], ["compute", "--help"], ["batch", "--help"]):
        code, _out, err = _run(args, {"XLDUTY_DATA_DIR": str(tmp_path / "data")}, stdout="full")
        assert (code, err.splitlines()) == (2, ["xlduty: standard output: No space left on device"]), (args, err)


def test_the_input_given_on_standard_input_is_never_the_file_saved(tmp_path: Path) -> None:
    """``xlduty quote - --save q.json < q.json`` replaced the quote's input with the saved record, exit 0: standard
    input is now compared with the file to write by device and inode (a hard link is the same file too)."""
    src = tmp_path / "q.json"
    text = (ROOT / "examples" / "quote.json").read_text(encoding="utf-8")
    src.write_text(text, encoding="utf-8")
    os.link(src, tmp_path / "linked.json")
    env = {**os.environ, "XLDUTY_DATA_DIR": str(tmp_path / "data")}
    for target in (src, tmp_path / "linked.json"):
        with src.open("rb") as stdin:
            p = subprocess.run([sys.executable, "-m", "xlduty", "quote", "-", "--save", str(target)], cwd=ROOT,
                               env=env, stdin=stdin, capture_output=True, text=True, timeout=120, check=False)
        assert p.returncode == 2 and "is the input file (given on standard input)" in p.stderr, p.stderr
        assert src.read_text(encoding="utf-8") == text
    with src.open("rb") as stdin:
        p = subprocess.run([sys.executable, "-m", "xlduty", "quote", "-", "--save", str(tmp_path / "saved.json")],
                           cwd=ROOT, env=env, stdin=stdin, capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0 and (tmp_path / "saved.json").exists(), p.stderr


@pytest.mark.parametrize("args", [["compute", "-"], ["compute", "--format", "jsonl", "-"], ["quote", "-"]])
def test_standard_input_closed(tmp_path: Path, args: list[str]) -> None:
    """``xlduty compute - <&-`` said "internal error (AttributeError … 'buffer')", exit 1: started without standard
    input, a command that reads it says so in one line, exit 2."""
    p = subprocess.run([sys.executable, "-m", "xlduty", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "XLDUTY_DATA_DIR": str(tmp_path / "data")}, check=False,
                       stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.splitlines() == [
        "xlduty: cannot read standard input: closed (the command was started with its standard input closed)"]
