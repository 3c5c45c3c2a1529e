"""Files xlduty reads and writes for a user: never half-written, never written onto what was not meant,
and never read beyond what a workbook can hold.

Writing. ``atomic_file``/``write_atomic`` write a temporary file beside the target, flushed to disk, then
renamed over it: the target is the old file or the new one, never a mix. Every file xlduty writes goes
there (workbooks, PDFs, records, settings, caches). A file the *user names* (``recalc -o``, ``quote --save``,
``export-pdf -o``) goes through ``output_file``/``write_output``, which first refuse, in one line:
the input itself (by path, symbolic link or hard link), a folder, a symbolic link, anything else that is
not a regular file (a FIFO, a device, a socket: a rename would replace it), a folder that does not exist,
and a name whose extension does not match what is written. The check runs again just before the rename.

Reading. ``read_input`` reads a JSON input (a file, standard input, a pipe or a device) of at most
``MAX_JSON_BYTES``: a regular file's size is checked before reading, anything else is counted while it is read,
so ``xlduty compute /dev/zero`` is refused in one line at once, without holding more than the limit.
``Package`` opens a workbook package (a zip) for reading within ``MAX_PARTS``,
``MAX_PART_BYTES`` and ``MAX_PACKAGE_BYTES``: the sizes declared in the zip's directory are checked before
anything is inflated, and the bytes actually inflated are counted while reading (a header may lie), so a
"zip bomb" is refused in one line within a second, without holding its data. Only the compression methods
Office writes (stored, deflated) are read: bzip2 and LZMA inflate far more per byte read.

The rates store writes through the same writer (``write_atomic(..., shared=True)``): its pointer is read by other
processes while it is replaced, so the rename is retried on Windows and made durable at once.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from xlduty.core.errors import InputError

MiB = 1 << 20
MAX_PARTS = 10_000
"""Parts (zip entries) in one workbook package: a workbook has a few per sheet."""
MAX_PART_BYTES = 256 * MiB
"""One part, inflated: a worksheet of about 4 million cells as Excel writes them."""
MAX_PACKAGE_BYTES = 1024 * MiB
"""All parts, inflated; also what one reader may inflate in one pass over them (a part read twice in a pass counts
twice). ``recalc`` makes two passes over one opened package, reading its sheets to evaluate, then again to patch
them while the rest is copied: at most twice this in all."""
MAX_OBJECT_MODEL_BYTES = 16 * MiB
"""All parts, inflated, of a workbook loaded whole into memory (openpyxl: ``xlduty quote book.xlsm``),
which costs about 35 bytes of memory per byte of XML: a quote of a few hundred thousand cells."""
MAX_JSON_BYTES = 16 * MiB
"""A JSON input (``compute``, ``quote``, ``--permit``, a saved quote): file, standard input, pipe or device. Its
objects cost about 130 bytes of memory per byte read (a 10 MB batch of 100,000 lines peaked at 1.3 GB in 7 s), so
16 MiB is about 150,000 declaration lines and 2 GB. Larger batches are split into several files."""
_MAX_DIRECTORY_BYTES = 8 * MiB
"""The zip's central directory, checked before ``zipfile`` reads it: ``MAX_PARTS`` entries fit many times."""

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # a compound file: a password-protected workbook, or a legacy .xls
_READ_AS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}

# The content type of the workbook part → the extension Excel requires for it (it will not open an .xlsx
# holding a macro-enabled workbook, nor the reverse).
WORKBOOK_SUFFIXES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": ".xlam",
}
_KINDS = {".xlsx": "a workbook", ".xltx": "a template", ".xlsm": "a macro-enabled workbook",
          ".xltm": "a macro-enabled template", ".xlam": "an add-in"}


class FileError(InputError):
    """A file that cannot be read or written as asked; the message names it."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


def _mib(n: int) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n:,} bytes"


# --- writing ------------------------------------------------------------------------------------------------


class WriteError(OSError):
    """Writing the temporary file or renaming it failed (disk full, no permission): an ``OSError`` like any
    other for callers that catch those, and told apart by ``output_file`` from errors of the block's own."""


class _TempFile(io.FileIO):
    """The temporary file: its write errors are ``WriteError``s."""

    def write(self, b: Any) -> int:
        try:
            return super().write(b)
        except OSError as exc:
            raise WriteError(exc.errno, exc.strerror) from exc


def _default_mode(target: Path) -> int:
    """The target's own mode when it exists, else what a plain ``open`` would give (0666 less the umask):
    ``mkstemp``'s 0600 would make a shared quote or workbook unreadable to others."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_file(target: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file to write; on leaving the block it replaces ``target`` whole, or, on an error, vanishes."""
    with _atomic(Path(target), mode, None) as fh:
        yield fh


def fsync_dir(path: Path) -> None:
    """Make a rename in folder ``path`` durable (a crash right after cannot undo it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; NTFS journals the rename itself
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_shared(src: str, dst: Path) -> None:
    """os.replace, retried for half a second: on Windows it fails while another process (Excel) is reading ``dst``."""
    import time

    for _ in range(9):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            time.sleep(0.05)
    os.replace(src, dst)


@contextmanager
def _atomic(path: Path, mode: int | None, before_rename: Any, *, shared: bool = False) -> Iterator[BinaryIO]:
    """The one atomic writer. ``shared``: a file other processes read while it is replaced (the rates store's
    pointer): the rename is retried while a reader holds it on Windows, and made durable at once."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror, str(path.parent)) from exc
    try:
        with io.BufferedWriter(_TempFile(fd, "wb")) as fh:
            yield fh  # type: ignore[misc]
            try:
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                raise WriteError(exc.errno, exc.strerror) from exc
        if before_rename is not None:
            before_rename()
        try:
            os.chmod(tmp, _default_mode(path) if mode is None else mode)
            (_replace_shared if shared else os.replace)(tmp, path)
        except OSError as exc:
            raise WriteError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if shared:
        fsync_dir(path.parent)


def write_atomic(target: str | os.PathLike[str], data: bytes, *, mode: int | None = None,
                 before_rename: Callable[[], None] | None = None, shared: bool = False) -> None:
    """Replace ``target`` with ``data`` atomically (see ``atomic_file``); ``before_rename`` runs once the data is
    on disk, and may still stop the replacement by raising; ``shared``: see ``_atomic``."""
    with _atomic(Path(target), mode, before_rename, shared=shared) as fh:
        fh.write(data)


def _same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name one file: the same path, a link to it, a hard link, or, on a file system that does not
    tell upper from lower case (Windows, macOS, a FAT stick), the same name in another case (``out.csv`` and
    ``OUT.csv``), even before either exists."""
    try:
        if a.resolve() == b.resolve():
            return True
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        ra, rb = a.resolve(), b.resolve()
        return (str(ra).casefold() == str(rb).casefold() and ra.parent.exists()
                and _case_blind(ra.parent))
    except OSError:
        return False


def _case_blind(folder: Path) -> bool:
    """Whether names in ``folder`` are matched without regard to case: always on Windows and macOS (their usual file
    systems), elsewhere where the folder itself is found under its name in another case."""
    if sys.platform in ("win32", "darwin"):
        return True
    name = folder.name
    other = name.swapcase()
    if not name or other == name:
        return False
    try:
        return os.path.samefile(folder, folder.with_name(other))
    except OSError:
        return False


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _is_stdin(path: Path) -> bool:
    """Whether standard input is ``path`` itself (``xlduty quote - --save q.json < q.json``): the same file by
    device and inode, which a redirection, a symbolic or a hard link all keep."""
    try:
        fd = sys.stdin.fileno()
        here, there = os.fstat(fd), os.stat(path)
    except (AttributeError, ValueError, OSError):   # no standard input, or no such file yet
        return False
    return stat.S_ISREG(here.st_mode) and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def check_output(target: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str] | None] = (),
                 suffixes: Iterable[str] = (), why: str = "",
                 outputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``target`` as a path xlduty may replace with a new file, or a ``FileError`` saying why not.

    Refused: one of ``inputs``, or one of the run's other ``outputs`` (the same file by path, symbolic link, hard
    link, or a name in another case where the file system ignores case); an existing folder, symbolic link, FIFO,
    device or socket (a rename would replace it with a regular file; a link is not written through, so what it
    points to is never changed unseen); a folder that does not exist; an extension other than ``suffixes`` (lower
    case, with the dot), ``why`` saying why.
    """
    path = Path(target)
    for source in inputs:
        if source is None:
            continue
        if str(source) == "-":
            if _is_stdin(path):
                raise FileError(f"{path} is the input file (given on standard input): write the result to another "
                                "file")
        elif _same_file(Path(source), path):
            raise FileError(f"{path} is the input file: write the result to another file")
    for other in outputs:
        if _same_file(Path(other), path):
            raise FileError(f"{path} is also the file {other} is written to: name two different files")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:   # a path through a file (ENOTDIR), a folder it may not see (EACCES)
        raise FileError(f"cannot write {path}: {exc.strerror}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise FileError(f"{path} is a symbolic link (to {os.readlink(path)}): name the file itself; "
                            "xlduty does not write through links")
        if stat.S_ISDIR(st.st_mode):
            raise FileError(f"{path} is a folder: name the file to write")
        if not stat.S_ISREG(st.st_mode):
            raise FileError(f"{path} is {_kind(st.st_mode)}: xlduty writes only regular files")
    parent = path.parent
    if not parent.is_dir():
        raise FileError(f"cannot write {path}: no such folder {parent}")
    allowed = tuple(suffixes)
    if allowed and path.suffix.lower() not in allowed:
        raise FileError(f"{path}: {why or 'the file to write must end in ' + ' or '.join(allowed)}")
    return path


@contextmanager
def output_file(target: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str] | None] = (),
                suffixes: Iterable[str] = (), why: str = "", mode: int | None = None,
                outputs: Iterable[str | os.PathLike[str]] = ()) -> Iterator[BinaryIO]:
    """A file the user named, written atomically after ``check_output`` (run again just before the rename,
    in case the path changed meanwhile). A failure to write it (disk full, no permission) is a ``FileError``
    naming it; errors raised by the block itself pass unchanged."""
    inputs, suffixes, outputs = tuple(inputs), tuple(suffixes), tuple(outputs)
    path = check_output(target, inputs=inputs, suffixes=suffixes, why=why, outputs=outputs)
    try:
        with _atomic(path, mode, lambda: check_output(path, inputs=inputs, suffixes=suffixes, why=why,
                                                      outputs=outputs)) as fh:
            yield fh
    except WriteError as exc:
        raise FileError(f"cannot write {path}: {exc.strerror}") from None


def write_output(target: str | os.PathLike[str], data: bytes, *,
                 inputs: Iterable[str | os.PathLike[str] | None] = (), suffixes: Iterable[str] = (),
                 why: str = "", mode: int | None = None) -> Path:
    """Write ``data`` to a file the user named (see ``output_file``); returns its path."""
    with output_file(target, inputs=inputs, suffixes=suffixes, why=why, mode=mode) as fh:
        fh.write(data)
    return Path(target)


# --- reading a JSON input ---------------------------------------------------------------------------------------

STDIN = "-"
STDIN_NAME = "standard input"


def input_name(source: str) -> str:
    """How messages name ``source``: the path, or ``standard input`` for ``-``."""
    return STDIN_NAME if source == STDIN else source


def cannot_read(name: str, exc: OSError) -> FileError:
    """The one message for an input that cannot be read (``cannot read X: no such file``), for every command."""
    why = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or exc
    return FileError(f"cannot read {name}: {why}")


def open_input(source: str) -> IO[bytes]:
    """``source`` opened for reading as bytes (``-``: standard input's buffer, which the caller leaves open), or a
    ``FileError`` naming it (missing, a folder, no permission)."""
    if source == STDIN:
        return sys.stdin.buffer
    try:
        return open(source, "rb")   # the caller closes it
    except OSError as exc:
        raise cannot_read(source, exc) from None


def read_input(source: str, *, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of ``source`` (a path, or ``-``: standard input) if there are at most ``limit`` of them; a
    ``FileError`` naming it otherwise, or when it cannot be read (missing, a folder, no permission, an I/O error)."""
    name = input_name(source)
    try:
        if source == STDIN:
            return _bounded(sys.stdin.buffer, name, limit)
        with open(source, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise FileError(_too_big(name, st.st_size, limit))
            return _bounded(fh, name, limit)
    except OSError as exc:
        raise cannot_read(name, exc) from None


def _bounded(fh: IO[bytes], name: str, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := fh.read(min(MiB, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise FileError(_too_big(name, None, limit))
    return b"".join(chunks)


def _too_big(name: str, size: int | None, limit: int) -> str:
    what = f"is {_mib(size)}" if size is not None else f"holds more than {_mib(limit)}"
    return (f"{name} {what}: xlduty reads JSON inputs of at most {_mib(limit)} (see README, Limits); "
            "for a larger batch, split it into several files")


# --- reading workbook packages ----------------------------------------------------------------------------------


def _directory(fp: IO[bytes], size: int) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the zip's end records, or None when there are none (then
    ``zipfile`` says what is wrong). Read here, before ``zipfile`` reads and parses the whole directory."""
    tail = min(size, 22 + 0xFFFF)
    fp.seek(size - tail)
    data = fp.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(data):
        return None
    entries, cd_size = struct.unpack_from("<HL", data, at + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:   # ZIP64: the record just before the locator holds them
        start = size - tail + at - 20 - 56
        if start < 0:
            return None
        fp.seek(start)
        record = fp.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        entries, cd_size = struct.unpack_from("<QQ", record, 32)
    return entries, cd_size


class Package(zipfile.ZipFile):
    """A workbook package (.xlsx/.xlsm/…) opened for reading within the limits above.

    ``max_bytes``: what all parts may inflate to, and what this object may inflate in all. Raises
    ``FileError`` (one line naming the file) for a file that is not a readable package or exceeds a limit,
    when opened or while a part is read.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = MAX_PACKAGE_BYTES) -> None:
        self.source = str(path)
        self.max_bytes = max_bytes
        self.max_part = min(MAX_PART_BYTES, max_bytes)
        self.inflated = 0
        name = self.source
        try:
            st = os.stat(name)
            if not stat.S_ISREG(st.st_mode):
                raise FileError(f"{name} is {_kind(st.st_mode)}, not a workbook file")
            with open(name, "rb") as fp:
                head = fp.read(8)
                if head == _OLE:
                    raise FileError(f"{name} is not a workbook package (.xlsx/.xlsm) but an OLE compound file: "
                                    "a password-protected workbook or a legacy .xls; save it without a password "
                                    "as .xlsx/.xlsm")
                if st.st_size > max_bytes + _MAX_DIRECTORY_BYTES:
                    raise FileError(f"{name} is {_mib(st.st_size)}: xlduty reads workbooks of at most "
                                    f"{_mib(max_bytes)} (see README, Limits)")
                found = _directory(fp, st.st_size)
            if found is not None and (found[0] > MAX_PARTS or found[1] > _MAX_DIRECTORY_BYTES):
                raise FileError(f"{name} lists {found[0]:,} parts in {_mib(found[1])}: xlduty reads packages of "
                                f"at most {MAX_PARTS:,} parts (see README, Limits)")
            super().__init__(name)
        except FileNotFoundError:
            raise FileError(f"{name}: no such file") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise FileError(f"{name} is not a workbook (.xlsx/.xlsm): {detail}") from None
        try:
            self._check_directory()
        except BaseException:
            self.close()
            raise

    def _check_directory(self) -> None:
        infos = self.infolist()
        if len(infos) > MAX_PARTS:
            raise FileError(f"{self.source} has {len(infos):,} parts: xlduty reads packages of at most "
                            f"{MAX_PARTS:,} parts (see README, Limits)")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise FileError(f"{self.source}: part {info.filename} is encrypted: not a workbook Excel writes")
            if info.compress_type not in _READ_AS:
                raise FileError(f"{self.source}: part {info.filename} uses zip compression method "
                                f"{info.compress_type}: Office writes only stored and deflated parts")
            if info.file_size > self.max_part:
                raise FileError(self._too_large(info.filename, info.file_size))
            total += info.file_size
        if total > self.max_bytes:
            raise FileError(f"{self.source} inflates to {_mib(total)}: xlduty reads workbooks of at most "
                            f"{_mib(self.max_bytes)} inflated (see README, Limits)")

    def _too_large(self, part: str, size: int, more: str = "") -> str:
        limits = (f"parts of at most {_mib(self.max_part)} and workbooks of at most {_mib(self.max_bytes)}"
                  if self.max_part < self.max_bytes else f"workbooks of at most {_mib(self.max_bytes)}")
        return f"{self.source}: part {part} inflates to {_mib(size)}{more}: xlduty reads {limits} (see README, Limits)"

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> Any:
        if mode != "r":
            raise ValueError("a Package is read only")
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        try:
            inner = super().open(info, "r", pwd)
        except NotImplementedError as exc:
            raise FileError(f"{self.source}: {exc}") from None
        except zipfile.BadZipFile as exc:
            raise FileError(f"{self.source}: part {info.filename} is damaged ({exc})") from None
        return _Member(inner, self, info)


class _Member(io.RawIOBase):
    """One part being read: counts what it inflates against the part's declared size and the limits."""

    def __init__(self, inner: Any, package: Package, info: zipfile.ZipInfo) -> None:
        super().__init__()
        self._inner = inner
        self._package = package
        self._read = 0
        self._declared = info.file_size
        self.name = info.filename

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(MiB):
                chunks.append(chunk)
            return b"".join(chunks)
        package = self._package
        try:
            data = self._inner.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise FileError(f"{package.source}: part {self.name} is damaged ({exc})") from None
        self._read += len(data)
        package.inflated += len(data)
        if self._read > self._declared:
            raise FileError(f"{package.source}: part {self.name} inflates to more than its declared "
                            f"{_mib(self._declared)}: a damaged or hostile package")
        if self._read > package.max_part:
            raise FileError(package._too_large(self.name, self._read, " or more"))
        if package.inflated > package.max_bytes:
            raise FileError(f"{package.source}: reading it inflated more than {_mib(package.max_bytes)}: "
                            "xlduty reads workbooks of at most that (see README, Limits)")
        return data

    def close(self) -> None:
        self._inner.close()
        super().close()


def workbook_suffix(package: zipfile.ZipFile) -> str | None:
    """The extension Excel requires for this package (``WORKBOOK_SUFFIXES``), from ``[Content_Types].xml``;
    None when its workbook part's type is none of those."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(package.read("[Content_Types].xml"))
    except (KeyError, ET.ParseError):
        return None
    for el in root:
        found = WORKBOOK_SUFFIXES.get((el.get("ContentType") or "").strip())
        if found and el.tag.endswith("Override"):
            return found
    return None


def workbook_kind(suffix: str) -> str:
    """``.xlsm`` → "a macro-enabled workbook"."""
    return _KINDS.get(suffix, "a workbook")


def check_package(path: str | os.PathLike[str], *, max_bytes: int = MAX_PACKAGE_BYTES) -> None:
    """Refuse (``FileError``) a workbook beyond the limits before another library loads it whole: the sizes it
    declares (``zipfile`` never inflates a part beyond its declared size, so they bound what that library
    reads)."""
    with Package(path, max_bytes=max_bytes):
        pass
