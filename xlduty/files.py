"""Writing a file so that it is never half-written: a temporary file beside the target, flushed to disk,
then renamed over it. Every file xlduty writes for a user (workbooks, PDFs, settings, caches) goes here.

The rates store keeps its own variant (``xlduty.rates.store.replace_file``): it adds fault-injection
checkpoints and retries the rename on Windows, which only the switch of the tables in use needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


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
    path = Path(target)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_mode(path) if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(target: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Replace ``target`` with ``data`` atomically (see ``atomic_file``)."""
    with atomic_file(target, mode=mode) as fh:
        fh.write(data)
