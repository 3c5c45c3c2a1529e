"""Files xlduty writes and reads for a user (``xlduty/files.py``): atomic writes; the checks on a file the user
names, which every command writing one shares (recalc -o, quote --save, export-pdf -o); and the limits on
reading a workbook package, with zip bombs built here as an adversary would."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hostile import SHEET, bomb, declare

from xlduty.files import (
    MAX_PACKAGE_BYTES,
    MAX_PART_BYTES,
    MAX_PARTS,
    FileError,
    Package,
    atomic_file,
    check_output,
    output_file,
    write_atomic,
    write_output,
)


def test_new_file_gets_the_usual_mode_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "quote.pdf"
        write_atomic(target, b"one")
        assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"one", 0o644)
        target.chmod(0o640)
        write_atomic(target, b"two")
        assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"two", 0o640)
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


# --- a file the user names ----------------------------------------------------------------------------------


def _state(path: Path) -> tuple[object, ...]:
    """What must not change: the kind of file, where a link points, a regular file's bytes."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        return ("file", path.read_bytes(), st.st_ino)
    return ("other", stat.S_IFMT(st.st_mode), st.st_ino)


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """The input, and each kind of path a rename would destroy or that is not a place to write."""
    src = tmp_path / "quote.xlsm"
    src.write_bytes(b"PK the input")
    other = tmp_path / "other.json"
    other.write_bytes(b"someone else's file")
    (tmp_path / "folder").mkdir()
    os.symlink(other, tmp_path / "link.json")
    os.symlink(tmp_path / "gone.json", tmp_path / "dangling.json")
    os.symlink(src, tmp_path / "link-to-input.xlsm")
    os.link(src, tmp_path / "hard-link.xlsm")
    os.mkfifo(tmp_path / "fifo.json")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket.json"))
    sock.close()
    return {"src": src, "dir": tmp_path}


REFUSED = [
    ("quote.xlsm", "is the input file"),
    ("folder/../quote.xlsm", "is the input file"),
    ("hard-link.xlsm", "is the input file"),
    ("link-to-input.xlsm", "is the input file"),
    ("folder", "is a folder"),
    ("link.json", r"is a symbolic link \(to .*other\.json\)"),
    ("dangling.json", "is a symbolic link"),
    ("fifo.json", r"is a FIFO \(named pipe\): xlduty writes only regular files"),
    ("socket.json", "is a socket"),
    ("nowhere/saved.json", "no such folder"),
    ("other.json/saved.json", "Not a directory"),
]


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_a_named_output_that_is_not_a_new_or_regular_file_is_refused_and_left_as_it_was(
        places: dict[str, Path], name: str, message: str) -> None:
    """On a254b06 each of these was replaced by a regular file (or, for ``quote --save``, ended in a traceback):
    a rename replaces a FIFO, a device, a socket or a symbolic link itself, and the input by any other name."""
    folder = places["dir"]
    before = {p.name: _state(p) for p in folder.iterdir()}
    target = folder / name
    with pytest.raises(FileError, match=message):
        write_output(target, b"new", inputs=[places["src"]])
    assert {p.name: _state(p) for p in folder.iterdir()} == before   # nothing changed, no temporary left


def test_a_device_is_refused(tmp_path: Path) -> None:
    """Only checked, never written: a rename over /dev/null by a broken check would replace it."""
    with pytest.raises(FileError, match="/dev/null is a character device"):
        check_output("/dev/null")


def test_the_extension_must_match_what_is_written(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="the record is JSON"):
        write_output(tmp_path / "quote.xlsm", b"{}", suffixes=(".json",), why="the record is JSON")
    assert write_output(tmp_path / "SAVED.JSON", b"{}", suffixes=(".json",)).read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SAVED.JSON"]


def test_the_checks_run_again_before_the_rename(tmp_path: Path) -> None:
    """A path that became a symbolic link while the file was being written is not replaced."""
    target, elsewhere = tmp_path / "out.xlsx", tmp_path / "elsewhere.xlsx"
    elsewhere.write_bytes(b"keep")
    with pytest.raises(FileError, match="is a symbolic link"), output_file(target) as fh:
        fh.write(b"new")
        os.symlink(elsewhere, target)
    assert (os.readlink(target), elsewhere.read_bytes()) == (str(elsewhere), b"keep")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.xlsx", "out.xlsx"]


def test_a_full_disk_is_one_line_and_the_old_file_stays(tmp_path: Path) -> None:
    """The file-size limit (RLIMIT_FSIZE, 4 KiB) stands in for a full disk: the write fails with EFBIG. The
    error names the file; the previous content is intact and no temporary file is left."""
    target = tmp_path / "saved.json"
    target.write_bytes(b"previous")
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from xlduty.files import FileError, write_output\n"
            "try:\n    write_output(sys.argv[1], b'x' * 100_000)\n"
            "except FileError as exc:\n    print(exc)\n")
    p = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=60)
    assert p.stdout == f"cannot write {target}: File too large\n", p.stderr
    assert target.read_bytes() == b"previous"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["saved.json"]


# --- reading a workbook package -----------------------------------------------------------------------------


def _peak_while(action: object) -> tuple[BaseException | None, int]:
    """(the exception ``action()`` raised, the peak memory Python allocated meanwhile)."""
    tracemalloc.start()
    raised = None
    try:
        action()  # type: ignore[operator]
    except BaseException as exc:
        raised = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return raised, peak


def _read_all(path: Path, **kw: int) -> None:
    with Package(path, **kw) as z:
        for info in z.infolist():
            z.read(info)


def test_a_bomb_is_refused_from_its_directory_before_inflating(tmp_path: Path) -> None:
    """300 MiB of rows in a sheet part of a few hundred KB: its declared size is past MAX_PART_BYTES, so it is
    refused before one byte is inflated (a254b06 took about a minute and 3 GB for 256 MiB)."""
    path = bomb(tmp_path / "bomb.xlsx", 300)
    assert path.stat().st_size < 4 << 20 and MAX_PART_BYTES == 256 << 20
    raised, peak = _peak_while(lambda: _read_all(path))
    assert isinstance(raised, FileError)
    assert str(raised) == (f"{path}: part {SHEET} inflates to 300 MiB: xlduty reads parts of at most 256 MiB and "
                           "workbooks of at most 1,024 MiB (see README, Limits)")
    assert peak < 8 << 20


def test_a_bomb_with_a_lying_header_is_cut_at_its_declared_size(tmp_path: Path) -> None:
    """The headers say 4 KiB; the data inflates to 300 MiB. Reading stops at the declared size (the count
    is checked while inflating) and the part is refused as damaged, holding no more than a few MiB."""
    path = bomb(tmp_path / "lying.xlsx", 300, declared=4096)
    raised, peak = _peak_while(lambda: _read_all(path))
    assert isinstance(raised, FileError) and f"part {SHEET} is damaged" in str(raised), raised
    assert peak < 8 << 20


def test_parts_within_the_part_limit_but_past_the_package_limit(tmp_path: Path) -> None:
    """Five parts declaring 250 MiB each: 1,250 MiB in all, past MAX_PACKAGE_BYTES (headers alone)."""
    path = tmp_path / "five.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(5):
            z.writestr(f"xl/media/image{i}.png", b"x")
    for i in range(5):
        declare(path, f"xl/media/image{i}.png", 250 << 20)
    assert MAX_PACKAGE_BYTES == 1024 << 20
    with pytest.raises(FileError, match=r"five\.xlsx inflates to 1,250 MiB: xlduty reads workbooks of at most "
                                        r"1,024 MiB inflated"):
        Package(path)


def test_what_a_reader_inflates_counts_every_read(tmp_path: Path) -> None:
    """A part read over and over (a workbook listing one sheet part a thousand times) spends one budget."""
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(SHEET, b"<worksheet>" + b" " * 600_000 + b"</worksheet>")
    with Package(path, max_bytes=2 << 20) as z:
        z.read(SHEET)
        z.read(SHEET)
        z.read(SHEET)
        with pytest.raises(FileError, match="reading it inflated more than 2 MiB"):
            z.read(SHEET)


@pytest.mark.parametrize(("method", "number"), [(zipfile.ZIP_BZIP2, 12), (zipfile.ZIP_LZMA, 14)])
def test_compression_methods_office_never_writes_are_refused(tmp_path: Path, method: int, number: int) -> None:
    """bzip2 and LZMA inflate without a bound per read call in ``zipfile``; Office writes stored and deflated."""
    path = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr(SHEET, b"<worksheet/>", compress_type=method)
    with pytest.raises(FileError, match=f"part {SHEET} uses zip compression method {number}"):
        Package(path)


def test_an_encrypted_part_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(SHEET, b"<worksheet/>")
    declare(path, SHEET, len(b"<worksheet/>"), flags=0x1)
    with pytest.raises(FileError, match="is encrypted"):
        Package(path)


def test_too_many_parts_are_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(MAX_PARTS + 1):
            z.writestr(f"p{i}", b"")
    with pytest.raises(FileError, match=f"lists {MAX_PARTS + 1:,} parts"):
        Package(path)


def test_not_a_package(tmp_path: Path) -> None:
    """A password-protected workbook (an OLE compound file), plain text, a FIFO (never opened: it would block
    until a writer came), a folder."""
    ole = tmp_path / "locked.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(FileError, match=r"an OLE compound file: a password-protected workbook or a legacy \.xls"):
        Package(ole)
    (tmp_path / "text.xlsx").write_text("plain text")
    with pytest.raises(FileError, match=r"text\.xlsx is not a workbook \(\.xlsx/\.xlsm\): File is not a zip file"):
        Package(tmp_path / "text.xlsx")
    os.mkfifo(tmp_path / "fifo.xlsx")
    with pytest.raises(FileError, match=r"fifo\.xlsx is a FIFO \(named pipe\), not a workbook file"):
        Package(tmp_path / "fifo.xlsx")
    with pytest.raises(FileError, match="is not a regular file, not a workbook file"):
        Package(tmp_path)
    with pytest.raises(FileError, match="no such file"):
        Package(tmp_path / "missing.xlsx")
