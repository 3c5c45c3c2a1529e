"""Refreshed tables, versioned in the user data directory, and the pointer that says which are in use.

Layout (root: ``$XLDUTY_DATA_DIR``, else platformdirs' user data directory for xlduty)::

    rates/active.json                      versions in use + history (for rollback); switched by os.replace
    rates/versions/tariff/<edition>[.n]/   tariff/editions.json, tariff/<edition>.json.gz, manifest.json, report.json
    rates/versions/fx/<week>[.n]/          fx/customs_weekly.json.gz, manifest.json, report.json
    rates/versions/<kind>/<version>/http/  the pages it was built from, with their ETag/Last-Modified
                                           (``pagecache``: for conditional GET; outside the manifest)
    rates/.staging/                        versions being written (never read; cleared by the next refresh)
    rates/refresh.lock                     held by refresh, use and rollback

A version is written whole into ``.staging``, fsynced, renamed into ``versions/`` and only then named
in ``active.json``; a crash at any point leaves the previous pointer, and what it names, intact.
This is the writing side: the core reads the tables in use through ``xlduty.core.tables`` (a JSON read and a stat),
which never imports this package.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from xlduty.core.tables import KINDS, clear_cache, rates_root
from xlduty.files import fsync_dir, write_atomic

if TYPE_CHECKING:
    from xlduty.rates.models import ActiveState, Manifest

HISTORY = 10          # pointers kept for rollback
KEEP_UNUSED = 2       # newest versions per kind kept even when no pointer names them

def _no_fault(step: str) -> None:
    pass


checkpoint: Callable[[str], None] = _no_fault
"""Called at each step of a commit ("staged", "committed", "pointer-written", "switched"): tests inject faults."""


def now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def write_file(path: Path, data: bytes) -> None:
    """Write and fsync one file (inside a staging folder nobody reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def replace_file(path: Path, data: bytes, step: str | None = "pointer-written") -> None:
    """Atomically replace ``path``, a file other processes read (``files.write_atomic``, shared); the fault
    checkpoint ``step`` runs with the data on disk, before the rename."""
    write_atomic(path, data, before_rename=(lambda: checkpoint(step)) if step else None, shared=True)


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


class Store:
    """The version store under ``root`` (default: ``rates_root()``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or rates_root()

    # paths
    @property
    def pointer_path(self) -> Path:
        return self.root / "active.json"

    def version_dir(self, kind: str, version: str) -> Path:
        return self.root / "versions" / kind / version

    # lock
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive for refresh/use/rollback, so two of them never interleave (not taken by readers)."""
        import filelock

        from xlduty.rates.errors import BusyError

        self.root.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.root / "refresh.lock"), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise BusyError("another refresh (or rates use/rollback) is running: try again when it ends") from None
        try:
            yield
        finally:
            lock.release()

    # state
    def state(self) -> ActiveState:
        """``active.json``; a damaged one counts as "bundled in use", as the reading side treats it."""
        from pydantic import ValidationError

        from xlduty.rates.models import ActiveState

        try:
            return ActiveState.model_validate_json(self.pointer_path.read_bytes())
        except FileNotFoundError:
            return ActiveState()
        except (OSError, ValidationError) as exc:
            what = (f"is unreadable ({exc.strerror or exc})" if isinstance(exc, OSError)
                    else f"is damaged ({str(exc).splitlines()[0]})")
            warnings.warn(f"xlduty: {self.pointer_path} {what}: the bundled tables are in use until the next refresh "
                          "or `xlduty rates use`", RuntimeWarning, stacklevel=2)
            return ActiveState()

    def versions(self, kind: str) -> list[str]:
        """Complete versions of ``kind``, oldest first."""
        d = self.root / "versions" / kind
        if not d.is_dir():
            return []
        found = [p for p in d.iterdir() if p.is_dir() and (p / "manifest.json").is_file()]
        return [p.name for p in sorted(found, key=lambda p: ((p / "manifest.json").stat().st_mtime, p.name))]

    def kind_of(self, version: str) -> str:
        """The kind of a stored version, found by its name among those ``versions`` lists (what ``rates list``
        shows): a path (``../../elsewhere``, ``../fx/2026-09-27``) is never a version, whatever it points to."""
        from xlduty.rates.errors import StoreError

        kinds = [k for k in KINDS if version in self.versions(k)]
        if not kinds:
            known = ", ".join(v for k in KINDS for v in self.versions(k)) or "none"
            raise StoreError(f"no stored version {version!r} (stored: {known}; or `bundled`)")
        return kinds[0]

    def check_name(self, kind: str, version: str) -> None:
        """``StoreError`` unless ``version`` is a stored version of ``kind`` (a pointer read from ``active.json``
        is checked so before anything is read or switched through it)."""
        from xlduty.rates.errors import StoreError

        if version not in self.versions(kind):
            raise StoreError(f"{self.pointer_path} names {kind} version {version!r}, which is not stored")

    def manifest(self, kind: str, version: str) -> Manifest:
        from xlduty.rates.models import Manifest

        return Manifest.model_validate_json((self.version_dir(kind, version) / "manifest.json").read_bytes())

    def new_version_id(self, kind: str, base: str) -> str:
        d = self.root / "versions" / kind
        vid, n = base, 1
        while (d / vid).exists():
            n += 1
            vid = f"{base}.{n}"
        return vid

    # commit
    def clean_staging(self) -> None:
        """Remove what a crashed refresh left: ``.staging`` and temp pointers (call with the lock held)."""
        import shutil

        shutil.rmtree(self.root / ".staging", ignore_errors=True)
        for tmp in self.root.glob(".active.json.*"):
            tmp.unlink(missing_ok=True)

    def write_version(self, kind: str, vid: str, files: dict[str, bytes], *, source: str, summary: str,
                      report: bytes | None = None, extras: dict[str, bytes] | None = None) -> str:
        """Write version ``vid`` complete (files, extras, report, manifest last), then rename it into place.

        ``extras`` (the kept pages) are written beside the files but not listed in the manifest: ``use``
        does not depend on them. Nothing is in use until ``switch``: a crash here leaves at most an
        unnamed folder in ``.staging``.
        """
        import tempfile

        from xlduty.rates.errors import StoreError
        from xlduty.rates.models import FileEntry, Manifest

        if self.version_dir(kind, vid).exists():
            raise StoreError(f"version {vid} exists already")
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=staging, prefix=f"{kind}-"))
        entries = {}
        for rel, data in files.items():
            write_file(tmp / rel, data)
            entries[rel] = FileEntry(sha256=sha256(data), bytes=len(data))
        for rel, data in (extras or {}).items():
            write_file(tmp / rel, data)
        if report is not None:
            write_file(tmp / "report.json", report)
        manifest = Manifest(kind=kind, version=vid, created_at=now(), source=source, summary=summary, files=entries)
        write_file(tmp / "manifest.json", manifest.model_dump_json(indent=1).encode())
        for d in {(tmp / rel).parent for rel in [*files, *(extras or {})]} | {tmp}:
            fsync_dir(d)
        checkpoint("staged")
        target = self.version_dir(kind, vid)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, target)
        fsync_dir(target.parent)
        checkpoint("committed")
        return vid

    def replace_pages(self, kind: str, version: str, files: dict[str, bytes], index: str) -> None:
        """Replace the kept pages (``http/``) of a stored version: new bodies first, then the index (atomically),
        then the bodies no longer named. The tables are untouched; a crash leaves old or new pages, both valid."""
        d = self.version_dir(kind, version)
        if not (d / "manifest.json").is_file():
            return
        for rel, data in files.items():
            if rel != index:
                write_file(d / rel, data)
        (d / index).parent.mkdir(parents=True, exist_ok=True)
        replace_file(d / index, files[index], step=None)
        for old in (d / index).parent.iterdir():
            if old.name != Path(index).name and f"{Path(index).parent.as_posix()}/{old.name}" not in files:
                old.unlink(missing_ok=True)

    def verify(self, kind: str, version: str) -> None:
        """Every file the manifest lists is there with its digest; ``StoreError`` if not."""
        from xlduty.rates.errors import StoreError

        d = self.version_dir(kind, version)
        try:
            manifest = self.manifest(kind, version)
        except (OSError, ValueError) as exc:
            raise StoreError(f"version {version}: manifest unreadable ({str(exc).splitlines()[0]})") from None
        for rel, entry in manifest.files.items():
            try:
                data = (d / rel).read_bytes()
            except OSError:
                raise StoreError(f"version {version}: {rel} is missing") from None
            if sha256(data) != entry.sha256:
                raise StoreError(f"version {version}: {rel} is damaged (digest differs)")

    def switch(self, changes: dict[str, str | None], reason: str) -> ActiveState:
        """Point ``active.json`` at new versions (None: bundled), pushing the current pointer onto the history."""
        state = self.state()
        new = state.model_copy(deep=True)
        new.history = [*state.history, state.pointer()][-HISTORY:]
        for kind, version in changes.items():
            setattr(new, kind, version)
        new.at, new.reason = now(), reason
        self._write_state(new)
        return new

    def _write_state(self, state: ActiveState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        replace_file(self.pointer_path, (state.model_dump_json(indent=1) + "\n").encode())
        checkpoint("switched")
        clear_cache()

    def record_check(self, day: date) -> None:
        """Record that a refresh checked the site's tariff editions on ``day`` and holds its newest: the tables then
        vouch for dates up to that day at least (``xlduty.core.vouch``). The versions in use are not changed."""
        state = self.state()
        if state.tariff_checked is not None and state.tariff_checked >= day:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        new = state.model_copy(update={"tariff_checked": day})
        replace_file(self.pointer_path, (new.model_dump_json(indent=1) + "\n").encode(), step=None)
        clear_cache()

    def use(self, version: str) -> ActiveState:
        """Put a stored version (or ``bundled``: both bundled tables) into use, after verifying its files."""
        if version == "bundled":
            return self.switch({k: None for k in KINDS}, "use bundled")
        kind = self.kind_of(version)
        self.verify(kind, version)
        return self.switch({kind: version}, f"use {version}")

    def rollback(self) -> ActiveState:
        """Back to the pointer before the last switch (each rollback steps one further back)."""
        from xlduty.rates.errors import StoreError

        state = self.state()
        if not state.history:
            raise StoreError("nothing to roll back to: no earlier refresh or `use` is recorded")
        prev = state.history[-1]
        for kind in KINDS:
            version = getattr(prev, kind)
            if version is not None:
                self.check_name(kind, version)
                self.verify(kind, version)
        new = state.model_copy(deep=True)
        new.tariff, new.fx = prev.tariff, prev.fx
        new.history = state.history[:-1]
        new.at, new.reason = now(), "rollback"
        self._write_state(new)
        return new

    def prune(self) -> list[str]:
        """Delete versions no pointer (current or history) names, keeping the newest few of each kind."""
        import shutil

        state = self.state()
        named = {(k, getattr(p, k)) for p in [state.pointer(), *state.history] for k in KINDS}
        removed = []
        for kind in KINDS:
            versions = self.versions(kind)
            for version in versions[:-KEEP_UNUSED] if KEEP_UNUSED else versions:
                if (kind, version) not in named:
                    shutil.rmtree(self.version_dir(kind, version), ignore_errors=True)
                    removed.append(version)
        return removed

    def remove_unused(self, kind: str, version: str) -> None:
        """Drop a version this run wrote but did not switch to (the switch failed)."""
        import shutil

        state = self.state()
        named = {getattr(p, kind) for p in [state.pointer(), *state.history]}
        if version not in named:
            shutil.rmtree(self.version_dir(kind, version), ignore_errors=True)
