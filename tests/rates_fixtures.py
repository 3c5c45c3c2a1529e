"""Pages in the official formats, rendered from the project's own raw data, and a loopback server to serve them.

- Chapter pages (``/tariff/<edition>/data/j_NN.htm``): Shift_JIS HTML, ``table#datatable``, the two
  header rows of the official layout, 33 ``<td>`` per data row, each rate printed once on the highest
  row it applies to, depth as ``padding-left:Nem`` plus leading ``−``. The rows are the upstream JSON
  of edition 2026_07_09 (``../shared/data/raw/jp_tariff``), i.e. what the official pages held.
- The tariff index (``/tariff/index.htm``) listing editions, the FX index
  (``/tetsuzuki/kawase/index.htm``) linking the latest week's CSV, and that CSV (cp932, 6-line preamble);
  the FX archive index (``list.htm``) and per-year pages linking weekly PDFs.
- Weekly PDFs: real official ones, recorded (``fixtures/rates/``, see its README).
- ``LoopbackServer``: a real HTTP server on 127.0.0.1 in a thread, with faults to order: delay, truncate,
  re-encode as UTF-8, 404, dying after N requests, and queued answers (429/503 with Retry-After). Like
  the official site (Apache) it sends Last-Modified and an ETag, and answers a conditional GET with 304.
  ``close()`` ends every thread it started (the listener and each connection's handler, also one sleeping
  out a delay or waiting on a kept-alive connection) and joins them: a test leaves no thread behind.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import html
import json
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RAW = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "raw"
RECORDED = Path(__file__).resolve().parent / "fixtures" / "rates"
PDF_WEEKS = ("2004-01-04", "2013-01-06", "2020-09-20")
"""The weeks of the recorded official PDFs (``RECORDED / pdf_name(week)``)."""
TARBALL = RAW / "jp_tariff" / "qlitre_japan-tariff-mcp_src_tariffdata_2026_07_09.tar.gz"

# upstream JSON rate keys, in the page's column order (= xlduty.rates.tariff_page.RATE_COLUMNS)
JSON_KEYS = ("基本", "暫定", "WTO協定", "特恵", "特別特恵", "EPA_シンガポール", "EPA_メキシコ", "EPA_マレーシア",
             "EPA_チリ", "EPA_タイ", "EPA_インドネシア", "EPA_ブルネイ", "EPA_アセアン", "EPA_フィリピン", "EPA_スイス",
             "EPA_ベトナム", "EPA_インド", "EPA_ペルー", "EPA_豪州", "EPA_モンゴル", "EPA_CPTPP", "EPA_欧州連合",
             "EPA_英国", "EPA_RCEP_アセアン豪州NZ", "EPA_RCEP_中国", "EPA_RCEP_韓国", "EPA_日米貿易協定")
RATE_COLUMNS = ("rate_general", "rate_temporary", "rate_wto", "rate_gsp", "rate_ldc", "epa_singapore", "epa_mexico",
                "epa_malaysia", "epa_chile", "epa_thailand", "epa_indonesia", "epa_brunei", "epa_asean",
                "epa_philippines", "epa_switzerland", "epa_vietnam", "epa_india", "epa_peru", "epa_australia",
                "epa_mongolia", "epa_cptpp", "epa_eu", "epa_uk", "epa_rcep_asean_au_nz", "epa_rcep_china",
                "epa_rcep_korea", "epa_us")
HEADS = ("基本<br>General", "暫定<br>Temporary", "WTO協定<br>WTO", "特恵<br>GSP", "特別特恵<br>LDC",
         "シンガポール<br>Singapore", "メキシコ<br>Mexico", "マレーシア<br>Malaysia", "チリ<br>Chile",
         "タイ<br>Thailand", "インドネシア<br>Indonesia", "ブルネイ<br>Brunei", "アセアン<br>ASEAN",
         "フィリピン<br>Philippines", "スイス<br>Switzerland", "ベトナム<br>Viet Nam", "インド<br>India",
         "ペルー<br>Peru", "豪州<br>Australia", "モンゴル<br>Mongolia", "TPP11<br>CPTPP", "欧州連合<br>EU",
         "英国<br>UK", "RCEP<br>（アセアン・豪州・ニュージーランド）", "RCEP<br>（中国）", "RCEP<br>（韓国）",
         "日米<br>貿易協定<br>US◆1")
CHAPTERS = tuple(f"{n:02d}" for n in range(1, 98) if n != 77)


@lru_cache(maxsize=1)
def upstream_chapters() -> dict[str, list[dict]]:
    """Chapter → the upstream JSON tree (rows of the official page, as scraped)."""
    out: dict[str, list[dict]] = {}
    with tarfile.open(TARBALL) as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if name.startswith("j_") and name.endswith("_tariff_data.json"):
                f = tar.extractfile(member)
                assert f is not None
                out[name[2:4]] = json.load(f)
    return out


def _rows(nodes: list[dict], parent_code: str = "") -> list[tuple[dict, bool]]:
    """Page order (pre-order); True when the row prints its own 番号 (the page leaves it blank under a parent
    with the same number)."""
    out: list[tuple[dict, bool]] = []
    for node in nodes:
        out.append((node, node["stat_code"] != parent_code))
        out.extend(_rows(node["children"], node["stat_code"]))
    return out


def _td(text: str, style: str = "") -> str:
    attr = f' style="{style}"' if style else ""
    return f"<td{attr}>{html.escape(text, quote=False)}</td>"


def render_chapter(chapter: str, edition: str = "2026_07_09", *,
                   changes: dict[tuple[str, str], str] | None = None,
                   drop_columns: tuple[str, ...] = (), drop_lines: tuple[str, ...] = (),
                   renumber: dict[str, str] | None = None, swap_heads: tuple[str, str] | None = None) -> bytes:
    """The official chapter page j_NN.htm for ``chapter``, in Shift_JIS.

    ``changes`` {(code9, column): text} rewrites a cell on the 9-digit row itself; ``drop_columns`` leaves
    columns out, header and cells, as an older or broken page would; ``drop_lines`` leaves 9-digit rows
    out; ``renumber`` {code9: new 統計細分} prints another statistical suffix; ``swap_heads`` swaps the header
    labels of two rate columns (the cells stay): a page whose columns no longer line up with its header.
    """
    changes = changes or {}
    renumber = renumber or {}
    keep = [i for i, c in enumerate(RATE_COLUMNS) if c not in drop_columns]
    n_epa = sum(1 for i in keep if 5 <= i <= 25)
    head1 = ('<tr><th colspan="2">統計番号<br>Statistical code</th><th rowspan="2">品名<br>Description</th>'
             f'<th colspan="{sum(1 for i in keep if i < 5)}">関税率<br>Tariff rate</th>'
             f'<th colspan="{n_epa}">関税率（経済連携協定）<br>Tariff rate (EPA)</th>'
             f'<th colspan="{sum(1 for i in keep if i == 26)}">関税率<br>Tariff rate</th>'
             '<th colspan="2">単位<br>Unit</th><th rowspan="2">他法令<br>Law</th></tr>')
    heads = list(HEADS)
    if swap_heads:
        a, b = (RATE_COLUMNS.index(c) for c in swap_heads)
        heads[a], heads[b] = heads[b], heads[a]
    head2 = ("<tr><th>番号<br>H.S.code</th><th>統計細分<br>Stat. code</th>"
             + "".join(f"<th>{heads[i]}</th>" for i in keep) + "<th>I</th><th>II</th></tr>")
    body = []
    for node, prints_number in _rows(upstream_chapters()[chapter]):
        desc = node["desc"]
        dashes = len(desc.strip()) - len(desc.strip().lstrip("−"))
        rate = node["rate"]
        code9 = node["stat_code"].replace(".", "") + node["hs_code"] if node["hs_code"] else ""
        if code9 in drop_lines:
            continue
        cells = []
        for i in keep:
            text = rate.get(JSON_KEYS[i], "")
            cells.append(_td(changes.get((code9, RATE_COLUMNS[i]), text)))
        unit = node["unit"]
        suffix = renumber.get(code9, node["hs_code"])
        body.append("<tr>" + _td(node["stat_code"] if prints_number else "") + _td(suffix)
                    + _td(desc, f"padding-left:{node['level'] - dashes}em") + "".join(cells)
                    + _td(unit.get("I", "")) + _td(unit.get("II", "")) + _td("".join(node["law"])) + "</tr>")
    page = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html lang="ja"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            f"<title>実行関税率表 {edition} 第{int(chapter)}類</title></head>\n<body>\n"
            f"<h1>第{int(chapter)}類</h1>\n<table id=\"datatable\" border=\"1\">\n{head1}\n{head2}\n"
            + "\n".join(body) + "\n</table>\n<p>税関 Japan Customs</p>\n</body></html>\n")
    return page.encode("shift_jisx0213")


def render_tariff_index(editions: list[str]) -> bytes:
    """/tariff/index.htm: one link per edition directory, newest first, as the site lists them."""
    links = "".join(f'<li><a href="./{e}/index.htm">{e[:4]}年{int(e[5:7])}月{int(e[8:10])}日版</a></li>'
                    for e in editions)
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            f"<title>輸入統計品目表（実行関税率表）</title></head><body><ul>{links}</ul></body></html>"
            ).encode("shift_jisx0213")


def render_fx_index(csv_name: str) -> bytes:
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            "<title>外国為替相場（税関長公示レート）</title></head><body>"
            '<p><a href="kawase2026/kouji-rate20260927-20261003.pdf">PDF</a></p>'
            f'<p>最新の外国為替相場のCSVデータは、<a href="csv/{csv_name}">こちら</a></p></body></html>'
            ).encode("shift_jisx0213")


FX_SAMPLE = RAW / "jp_customs_fx" / "customs_fx_weekly_sample_2020-09-20.csv"
FX_OVERRIDES = {"USD": "155.39", "KRW": "11.41", "EUR": "162.10"}  # the week of 2026-09-27 (README example)


@lru_cache(maxsize=2)
def fx_rows(overrides: tuple[tuple[str, str], ...] = tuple(FX_OVERRIDES.items())) -> tuple[tuple[str, ...], ...]:
    """(国名符号, 国名, 通貨, ISO, per 1 unit, per 100 units) for each currency of the sample week (92 rows),
    with the 2026-09-27 figures of USD, KRW and EUR (``overrides=()``: the sample week as published); rows
    without a figure keep their printed note."""
    import csv

    rows = []
    seen = set()
    given = dict(overrides)
    with FX_SAMPLE.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["iso"] in seen:
                continue
            seen.add(r["iso"])
            figure = given.get(r["iso"], r["rate_published"])
            if not figure:
                rows.append((r["country_code"], r["country_ja"], r["currency_ja"], r["iso"], r["note"], ""))
            elif r["per_units"] == "100":
                rows.append((r["country_code"], r["country_ja"], r["currency_ja"], r["iso"], "", figure))
            else:
                rows.append((r["country_code"], r["country_ja"], r["currency_ja"], r["iso"], figure, ""))
    return tuple(rows)


def render_fx_csv(week: str, rows: tuple[tuple[str, ...], ...] | None = None) -> bytes:
    """The latest week's CSV: cp932, six preamble lines, then the header and one row per currency."""
    y, m, d = (int(x) for x in week.split("-"))
    pre = ["外国為替相場（税関長公示レート）", f"適用期間：{y}年{m}月{d}日～",
           "関税定率法第４条の７の規定による外国為替相場", "", "財務省関税局", ""]
    head = "国名符号,国名,通貨,ISO,当該通貨1単位につき(円),当該通貨100単位につき(円)"
    text = "\r\n".join([*pre, head, *(",".join(r) for r in (rows or fx_rows()))]) + "\r\n"
    return text.encode("cp932")


def pdf_name(week: str) -> str:
    """kouji-rateYYYYMMDD-YYYYMMDD.pdf for the Sunday ``week`` (YYYY-MM-DD), as the site names them."""
    from datetime import date, timedelta

    start = date.fromisoformat(week)
    return f"kouji-rate{start:%Y%m%d}-{start + timedelta(days=6):%Y%m%d}.pdf"


def pdf_path(week: str) -> str:
    """Where the site keeps the weekly PDF: /tetsuzuki/kawase/kawaseYYYY/kouji-rate….pdf (year of the Sunday)."""
    return f"/tetsuzuki/kawase/kawase{week[:4]}/{pdf_name(week)}"


@lru_cache(maxsize=len(PDF_WEEKS))
def recorded_pdf(week: str) -> bytes:
    """A recorded official weekly PDF (one of ``PDF_WEEKS``)."""
    return (RECORDED / pdf_name(week)).read_bytes()


def render_fx_list(weeks: list[str], year_pages: dict[int, str] | None = None) -> bytes:
    """/tetsuzuki/kawase/list.htm: the archive, one link per weekly PDF (absolute paths, as the site writes
    them) and, where the archive is split by year, one link per year page."""
    links = "".join(f'<td><a href="{pdf_path(w)}">{int(w[5:7])}月{int(w[8:10])}日〜</a></td>' for w in weeks)
    years = "".join(f'<li><a href="{href}">{y}年</a></li>' for y, href in sorted((year_pages or {}).items()))
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            "<title>外国為替相場（税関長公示レート）過去の公示レート</title></head><body>"
            f"<ul>{years}</ul><table><tr>{links}</tr></table>"
            '<p><a href="kouji-rate-english20200920-20200926.pdf">English</a></p></body></html>'
            ).encode("shift_jisx0213")


Handler = Callable[[BaseHTTPRequestHandler], None]
LAST_MODIFIED_BASE = 1_700_000_000   # Last-Modified is derived from the body, so it changes when the page does


class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1 serving ``pages`` {path: (bytes, content type)}.

    Faults, set per path before or during a run: ``delay`` seconds before answering, ``truncate`` (send
    half the body with the full Content-Length, then close), ``status`` (e.g. 404), ``die_after`` n
    requests (the listening socket closes: later connections are refused), ``queued`` answers
    (status, headers) given, one per request, before the page is served again.
    ``validators``: which of "etag" and "last-modified" it sends and honours (a matching If-None-Match or
    If-Modified-Since gets 304 with no body). ``answers`` records (path, status, time, request headers).
    """

    def __init__(self) -> None:
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.delay: dict[str, float] = {}
        self.truncate: set[str] = set()
        self.status: dict[str, int] = {}
        self.redirect: dict[str, str] = {}
        self.queued: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.validators: set[str] = {"etag", "last-modified"}
        self.die_after: int | None = None
        self.log: list[str] = []
        self.answers: list[tuple[str, int, float, dict[str, str]]] = []
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self._dead = False
        self._closing = threading.Event()
        self._handlers: dict[threading.Thread, socket.socket] = {}
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls
                with server._lock:
                    server._handlers[threading.current_thread()] = self.connection

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._serve(self)

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up (timeout tests) leaves a broken pipe: expected, not news

        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True   # never joined by the server itself: close() joins them
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _answer(self, path: str, status: int, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.answers.append((path, status, time.monotonic(), dict(h.headers.items())))

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        with self._lock:
            self.log.append(path)
            self.arrivals.append(time.monotonic())
            n = len(self.log)
            queued = self.queued.get(path)
            script = queued.pop(0) if queued else None
        if self.die_after is not None and n > self.die_after:
            self.kill()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if path in self.delay:
            self._closing.wait(self.delay[path])   # a sleep that close() cuts short
        if path in self.redirect:
            h.send_response(302)
            h.send_header("Location", self.redirect[path])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if script is not None or path in self.status or path not in self.pages:
            code, headers = script if script is not None else (self.status.get(path, 404), {})
            self._answer(path, code, h)
            body = f"<html><body>{code}</body></html>".encode()
            h.send_response(code)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
            return
        body, ctype = self.pages[path]
        digest = hashlib.sha256(body).hexdigest()
        etag = f'"{digest[:16]}"' if "etag" in self.validators else None
        modified = (email.utils.formatdate(LAST_MODIFIED_BASE + int(digest[:6], 16), usegmt=True)
                    if "last-modified" in self.validators else None)
        none_match, since = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        if none_match is not None and etag:      # RFC 9110 13.2.2: If-None-Match first, else If-Modified-Since
            fresh = none_match == etag
        else:
            fresh = since is not None and modified is not None and since == modified
        if fresh:
            self._answer(path, 304, h)
            h.send_response(304)
            for k, v in (("ETag", etag), ("Last-Modified", modified)):
                if v:
                    h.send_header(k, v)
            h.end_headers()
            return
        self._answer(path, 200, h)
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (("ETag", etag), ("Last-Modified", modified)):
            if v:
                h.send_header(k, v)
        h.end_headers()
        if path in self.truncate:
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(body)

    def kill(self) -> None:
        """Stop listening (a server that dies mid-run): later connections are refused."""
        if not self._dead:
            self._dead = True
            self.httpd.shutdown()
            self.httpd.server_close()

    def close(self) -> None:
        """Stop, then end and join every thread: the listener, and each handler (a delay is cut short, and a
        connection the client keeps alive is shut, so its handler's wait for the next request ends)."""
        self._closing.set()
        self.kill()
        self._thread.join(10)
        with self._lock:
            handlers = dict(self._handlers)
        for connection in handlers.values():
            with contextlib.suppress(OSError):   # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        for thread in handlers:
            thread.join(10)
        alive = [t.name for t in handlers if t.is_alive()]
        if self._thread.is_alive() or alive:
            raise RuntimeError(f"LoopbackServer threads did not end: {alive or [self._thread.name]}")


def serve_site(server: LoopbackServer, *, edition: str = "2026_07_09", chapters: tuple[str, ...] = CHAPTERS,
               fx_week: str | None = "2026-09-27", fx_rows: tuple[tuple[str, ...], ...] | None = None,
               **render: object) -> None:
    """Put an official-format site on ``server``: tariff index, chapter pages (``render`` options go to
    ``render_chapter``), FX index and the week's CSV."""
    server.pages["/tariff/index.htm"] = (render_tariff_index([edition]), "text/html")
    for ch in chapters:
        server.pages[f"/tariff/{edition}/data/j_{ch}.htm"] = (render_chapter(ch, edition, **render),  # type: ignore[arg-type]
                                                             "text/html")
    if fx_week:
        name = fx_csv_name(fx_week)
        server.pages["/tetsuzuki/kawase/index.htm"] = (render_fx_index(name), "text/html")
        server.pages[f"/tetsuzuki/kawase/csv/{name}"] = (render_fx_csv(fx_week, fx_rows), "text/csv")
        server.pages["/tetsuzuki/kawase/list.htm"] = (render_fx_list([]), "text/html")


def fx_csv_name(week: str) -> str:
    """csv/YYMMDD-YYMMDD.csv for the Sunday ``week`` (YYYY-MM-DD)."""
    from datetime import date, timedelta

    start = date.fromisoformat(week)
    end = start + timedelta(days=6)
    return f"{start:%y%m%d}-{end:%y%m%d}.csv"
