"""HTTP for the refresh: one polite, bounded client for the official site (税関ホームページ).

Why each guard exists:
- allow-list: the tables decide tax amounts, so by default only HTTPS to www.customs.go.jp is read;
  another host (a mirror, a test server) must be named explicitly with ``insecure_host``;
- timeouts, a per-page deadline and a size limit: a stalled or runaway server must not hang Excel;
- retries with exponential backoff (tenacity) on timeouts, dropped connections, truncated bodies and
  5xx/429: the site is occasionally slow, and one hiccup should not fail a 97-page refresh;
- Retry-After on 429/503 is honoured (waited at least, up to ``max_retry_after``; a longer one ends the
  refresh at once): a site that says "later" is not hammered with retries;
- conditional GET: given the validators (ETag, Last-Modified) of a page stored with the version in use,
  a 304 answer reuses the stored page, so an unchanged site costs headers, not 97 page bodies;
- pacing: at least ``pace`` seconds between requests, so a refresh never hammers the site;
- redirects are followed by hand, each hop checked against the same host policy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
from urllib3.exceptions import InvalidHeader
from urllib3.util import Retry

from xlduty import __version__
from xlduty.rates.errors import SourceError

DEFAULT_SOURCE = "https://www.customs.go.jp"
ALLOWED_HOSTS = frozenset({"www.customs.go.jp"})
USER_AGENT = f"xlduty/{__version__} (tariff and exchange-rate refresh; +https://www.customs.go.jp/tariff/)"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_RETRY_AFTER_STATUS = frozenset({429, 503})   # where RFC 9110 gives Retry-After a meaning for us
_MAX_REDIRECTS = 3


@dataclass(frozen=True)
class FetchSettings:
    """Network limits. Defaults suit the official site; tests shrink the times."""

    connect_timeout: float = 10.0   # seconds to connect
    read_timeout: float = 30.0      # seconds of silence while reading
    deadline: float = 120.0         # seconds for one whole page, however it trickles
    attempts: int = 4               # tries per page (1 = no retry)
    backoff: float = 1.0            # first wait between tries; doubles each time
    max_backoff: float = 30.0
    pace: float = 0.5               # minimum seconds between two requests
    max_bytes: int = 5 * 1024 * 1024
    max_retry_after: float = 60.0   # longest Retry-After waited for; a longer one gives up at once


@dataclass(frozen=True)
class Cached:
    """A page stored with the version in use, and the validators it came with."""

    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str                         # after redirects
    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False       # the server answered 304: ``content`` is the stored page
    requested: str = ""              # the URL asked for (the key validators are stored under)


class _Transient(Exception):
    """A failure worth another try (timeout, dropped connection, truncated body, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _WaitRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff, but never shorter than the Retry-After the server gave."""

    def __init__(self, backoff: tenacity.wait.wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = self.backoff(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        after = getattr(exc, "retry_after", None)
        return max(delay, after) if after is not None else delay


def _sleep(seconds: float) -> None:
    """The wait between two tries (looked up at each refresh: tests record the waits instead of sleeping)."""
    time.sleep(seconds)


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date, via urllib3), None if absent or bad."""
    if not value:
        return None
    try:
        return Retry(0).parse_retry_after(value)
    except (InvalidHeader, ValueError, OverflowError):
        return None


def check_source(base: str | None, insecure_host: bool = False) -> str:
    """The base URL to use, refused unless HTTPS to an allow-listed host (or ``insecure_host`` was given)."""
    url = (base or DEFAULT_SOURCE).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SourceError(f"source {url!r} is not an http(s) URL")
    if not insecure_host and (parts.scheme != "https" or parts.hostname not in ALLOWED_HOSTS):
        raise SourceError(f"source {url} refused: only HTTPS to {', '.join(sorted(ALLOWED_HOSTS))} is read unless "
                          "you pass --insecure-host (insecure_host=True) to use another host")
    return url


class Source:
    """Reads pages below one base URL, within ``FetchSettings``."""

    def __init__(self, base: str | None = None, *, insecure_host: bool = False,
                 settings: FetchSettings | None = None, session: requests.Session | None = None) -> None:
        self.base = check_source(base, insecure_host)
        self.insecure_host = insecure_host
        self.settings = settings or FetchSettings()
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._last = 0.0
        self.requests = 0

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/"))

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, cached: Cached | None = None) -> Fetched:
        """The page at ``path`` (relative to the base), retried on transient failures; ``SourceError`` if not.

        With ``cached``, the request is conditional (If-None-Match / If-Modified-Since) and a 304 returns
        the cached page, marked ``not_modified``.
        """
        url = self.url(path)
        s = self.settings
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, s.attempts)),
            wait=_WaitRetryAfter(tenacity.wait_exponential(multiplier=s.backoff, max=s.max_backoff)),
            retry=tenacity.retry_if_exception_type(_Transient),
            reraise=True,
            sleep=_sleep,
        )
        try:
            return retrying(self._get_once, url, cached)
        except _Transient as exc:
            raise SourceError(f"{url}: {exc} (gave up after {max(1, s.attempts)} attempts)") from None

    def _pace(self) -> None:
        wait = self._last + self.settings.pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    def _check_hop(self, url: str) -> None:
        parts = urlsplit(url)
        base = urlsplit(self.base)
        same = (parts.scheme, parts.hostname, parts.port) == (base.scheme, base.hostname, base.port)
        allowed = parts.scheme == "https" and parts.hostname in ALLOWED_HOSTS
        if not (same or allowed):
            raise SourceError(f"{url}: redirect away from {self.base} refused")

    def _get_once(self, url: str, cached: Cached | None = None) -> Fetched:
        s = self.settings
        requested = url
        headers = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        for _hop in range(_MAX_REDIRECTS + 1):
            self._check_hop(url)
            self._pace()
            self.requests += 1
            started = time.monotonic()
            try:
                r = self._session.get(url, timeout=(s.connect_timeout, s.read_timeout), stream=True,
                                      allow_redirects=False, headers=headers)
            except requests.ConnectTimeout:
                raise _Transient(f"cannot connect within {s.connect_timeout:g} s") from None
            except requests.Timeout:
                raise _Transient(f"no answer within {s.read_timeout:g} s") from None
            except requests.ConnectionError as exc:
                raise _Transient(f"cannot connect ({_reason(exc)})") from None
            with r:
                if r.is_redirect and r.headers.get("Location"):
                    url = urljoin(url, r.headers["Location"])
                    continue
                if r.status_code in _RETRY_STATUS:
                    after = retry_after(r.headers.get("Retry-After")) if r.status_code in _RETRY_AFTER_STATUS else None
                    if after is not None and after > s.max_retry_after:
                        raise SourceError(f"{url}: HTTP {r.status_code} {r.reason}: the site asks to wait {after:g} s "
                                          f"(Retry-After), more than the {s.max_retry_after:g} s limit: try later")
                    wait = f"; waiting {after:g} s as Retry-After asks" if after else ""
                    raise _Transient(f"HTTP {r.status_code} {r.reason}{wait}", after)
                etag, modified = r.headers.get("ETag"), r.headers.get("Last-Modified")
                if r.status_code == 304 and cached is not None:
                    return Fetched(url, cached.content, cached.content_type, etag or cached.etag,
                                   modified or cached.last_modified, not_modified=True, requested=requested)
                if r.status_code != 200:
                    raise SourceError(f"{url}: HTTP {r.status_code} {r.reason}")
                declared = r.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > s.max_bytes:
                    raise SourceError(f"{url}: {int(declared):,} bytes is over the {s.max_bytes:,}-byte limit")
                return Fetched(url, self._body(r, url, started), r.headers.get("Content-Type", ""), etag, modified,
                               requested=requested)
        raise SourceError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def _body(self, r: requests.Response, url: str, started: float) -> bytes:
        s = self.settings
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in r.iter_content(64 * 1024):
                size += len(chunk)
                if size > s.max_bytes:
                    raise SourceError(f"{url}: more than the {s.max_bytes:,}-byte limit")
                if time.monotonic() - started > s.deadline:
                    raise _Transient(f"the page took longer than {s.deadline:g} s")
                chunks.append(chunk)
        except requests.Timeout:
            raise _Transient(f"the server stopped sending for {s.read_timeout:g} s") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            reason = _reason(exc)
            if "timed out" in reason:  # requests reports a read timeout inside the body as a ConnectionError
                raise _Transient(f"the server stopped sending for {s.read_timeout:g} s") from None
            raise _Transient(f"the page arrived truncated ({reason})") from None
        return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    """The innermost cause, in one short phrase (urllib3 nests them deeply)."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Connection aborted", "IncompleteRead",
                   "Remote end closed", "Read timed out", "Name or service not known", "timed out"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.split(":")[-1].strip(" ')\"")[:120] or type(exc).__name__
