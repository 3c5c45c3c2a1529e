"""The official pages a version was built from, kept with it, so the next refresh can ask "changed since?".

Inside a version folder: ``http/pages.json`` ({url: etag, last_modified, content_type, sha256}) and one
``http/<sha256>.gz`` per page. The next refresh sends If-None-Match / If-Modified-Since for each page it
has here; a 304 reuses the kept page, which is parsed again like a fresh one (so a newer parser still sees
every check). They are not in the manifest: they never decide a tax amount, so a damaged or missing one
costs a full download (the digest is checked before a page is reused), never a refused ``use``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

from xlduty.rates.sources import Cached, Fetched
from xlduty.rates.store import sha256

PAGES_INDEX = "http/pages.json"


class PageCache:
    """The pages kept with one version (``folder``; None: the bundled tables, which keep none), and those
    this refresh will keep with the new version."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.stored: dict[str, dict] = self._load()
        self.kept: dict[str, tuple[dict, bytes]] = {}
        self.damaged = False    # a kept page failed its digest: rewrite the pages even if the validators agree

    def _load(self) -> dict[str, dict]:
        if self.folder is None:
            return {}
        try:
            data = json.loads((self.folder / PAGES_INDEX).read_text(encoding="utf-8"))
            pages = data["pages"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}   # none kept, or unreadable: every page is downloaded in full
        return {url: e for url, e in pages.items() if isinstance(e, dict) and isinstance(e.get("sha256"), str)}

    def cached(self, url: str) -> Cached | None:
        """The kept page at ``url`` with its validators, if it is there intact."""
        entry = self.stored.get(url)
        if entry is None or self.folder is None or not (entry.get("etag") or entry.get("last_modified")):
            return None
        try:
            body = gzip.decompress((self.folder / "http" / f"{entry['sha256']}.gz").read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error):
            body = None
        if body is None or sha256(body) != entry["sha256"]:
            self.damaged = True
            return None
        return Cached(body, entry.get("content_type") or "", entry.get("etag"), entry.get("last_modified"))

    def keep(self, page: Fetched) -> None:
        """Keep ``page`` with the new version, if the server gave it a validator (else it is no use)."""
        if not (page.etag or page.last_modified):
            return
        entry = {"etag": page.etag, "last_modified": page.last_modified, "content_type": page.content_type,
                 "sha256": sha256(page.content)}
        self.kept[page.requested or page.url] = (entry, page.content)

    def carry(self, url: str) -> None:
        """Keep a page of the version in use that this refresh did not ask for (a chapter not refreshed)."""
        page = self.cached(url)
        if page is not None and url not in self.kept:
            self.keep(Fetched(url, page.content, page.content_type, page.etag, page.last_modified, requested=url))

    def changed(self) -> bool:
        """Whether the pages to keep differ from the ones kept now (new validators or contents)."""
        return self.damaged or {u: e for u, (e, _) in self.kept.items()} != self.stored

    def files(self) -> dict[str, bytes]:
        """``http/pages.json`` and the page bodies, gzipped reproducibly, for the new version's folder."""
        out = {f"http/{e['sha256']}.gz": gzip.compress(body, compresslevel=6, mtime=0)
               for e, body in self.kept.values()}
        index = {"format": 1, "pages": {u: e for u, (e, _) in sorted(self.kept.items())}}
        out[PAGES_INDEX] = (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode()
        return out
