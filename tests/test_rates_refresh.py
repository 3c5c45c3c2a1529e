"""Refreshing the tariff and FX tables from a real HTTP server on loopback serving pages in the official format.

The pages are rendered (``rates_fixtures``) from the upstream rows of edition 2026_07_09, i.e. what the
official chapter pages held, so a refresh of unchanged pages must reproduce the bundled edition exactly.
Every fault must leave the tables in use, byte for byte, and a clear message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from rates_fixtures import (
    CHAPTERS,
    PDF_WEEKS,
    TARBALL,
    LoopbackServer,
    fx_csv_name,
    fx_rows,
    pdf_name,
    pdf_path,
    recorded_pdf,
    render_chapter,
    render_fx_list,
    render_tariff_index,
    serve_site,
)

from xlduty.core.errors import InputError
from xlduty.core.tables import ENV_DATA_DIR as ENV
from xlduty.rates import (
    FetchSettings,
    active_fx_path,
    active_tariff_dir,
    invalidate_caches,
    pipeline,
    refresh,
    report_text,
    sources,
)
from xlduty.rates import store as store_mod
from xlduty.rates.cli import main as rates_main
from xlduty.rates.errors import PageError, SourceError
from xlduty.rates.fx_csv import week_figures
from xlduty.rates.fx_pdf import parse_fx_pdf
from xlduty.rates.models import TariffBook
from xlduty.rates.pipeline import book_lines, build_book, gz_json
from xlduty.rates.report import ManualText
from xlduty.rates.sources import DEFAULT_SOURCE, check_source, retry_after
from xlduty.rates.tariff_page import parse_chapter

pytestmark = pytest.mark.skipif(not TARBALL.exists(), reason="shared/data/raw is not beside the repo")

ROOT = Path(__file__).resolve().parent.parent
CH = ("04", "09", "61", "84")
J61 = "/tariff/2026_07_09/data/j_61.htm"
FAST = FetchSettings(connect_timeout=1, read_timeout=2, deadline=10, attempts=2, backoff=0.01, max_backoff=0.02, pace=0)
WTO_84 = {("610910020", "rate_wto"): "8.4%"}      # the change the "previous" refresh brought
WTO_94 = {("610910020", "rate_wto"): "9.4%"}      # the change a faulty refresh tries to bring
DECL = {"date": "2026-11-01", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 300000}]}
# Hand-worked (CA 1111): duty 300,000 × rate, to the 100 yen; CT base = 300,000 + duty to 1,000 yen;
# national 7.8 % to the 100 yen; local = national × 22/78, to the 100 yen.
#   bundled 7.4 %: duty 22,200; base 322,000; national 25,116 → 25,100; local 7,079 → 7,000; total 54,300
#   refreshed 8.4 %: duty 25,200; base 325,000; national 25,350 → 25,300; local 7,135 → 7,100; total 57,600
BUNDLED = {"duty": 22200, "national_ct": 25100, "local_ct": 7000, "total": 54300}
REFRESHED = {"duty": 25200, "national_ct": 25300, "local_ct": 7100, "total": 57600}


# --- helpers and fixtures ----------------------------------------------------------------------------

_SITES: dict[str, dict] = {}


def site(key: str = "wto84", **kw: object) -> dict[str, tuple[bytes, str]]:
    """Pages of an official-format site, rendered once per key."""
    if key not in _SITES:
        holder = SimpleNamespace(pages={})
        serve_site(holder, chapters=kw.pop("chapters", CH), **kw)  # type: ignore[arg-type]
        _SITES[key] = holder.pages
    return dict(_SITES[key])


@pytest.fixture(autouse=True)
def _no_thread_left() -> Iterator[None]:
    """Every thread a test starts ends with it: ``LoopbackServer.close`` joins its own, and the monitor thread
    tqdm starts with the first progress bar (``rates refresh``) and keeps for the process is stopped here.
    A thread left running would make tests/test_recalc.py's parallel-helper test skip (it forks only from
    a process with no other thread), so a leak fails here, in the test that caused it."""
    before = set(threading.enumerate())
    yield
    from tqdm import tqdm

    monitor = tqdm.monitor
    if monitor is not None:
        monitor.exit()
        tqdm.monitor = None
    started = [t for t in threading.enumerate() if t not in before]
    for thread in started:
        thread.join(10)
    assert not [t.name for t in started if t.is_alive()], "threads left running"


@pytest.fixture
def server():
    srv = LoopbackServer()
    yield srv
    srv.close()


def _refresh(srv: LoopbackServer, **kw: object):
    kw.setdefault("chapters", CH)
    kw.setdefault("settings", FAST)
    return refresh(srv.base, insecure_host=True, **kw)  # type: ignore[arg-type]


def totals() -> dict[str, int]:
    from xlduty import compute

    t = compute(DECL).totals
    return {"duty": t.duty, "national_ct": t.national_ct, "local_ct": t.local_ct, "total": t.total}


def snapshot(data: Path) -> dict[str, bytes]:
    """Every file of the store that matters (the lock and crashed staging leftovers aside)."""
    root = data / "rates"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "refresh.lock" and ".staging" not in p.parts}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv(ENV, str(d))
    invalidate_caches()
    yield d
    invalidate_caches()


@pytest.fixture(scope="module")
def refreshed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory where a refresh is in use: 6109.10-020 WTO 8.4 %, FX week 2026-09-27."""
    d = tmp_path_factory.mktemp("refreshed")
    srv = LoopbackServer()
    srv.pages.update(site("wto84", changes=WTO_84))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, str(d))
        invalidate_caches()
        report = _refresh(srv)
        assert report.ok, report.error
    srv.close()
    invalidate_caches()
    return d


@pytest.fixture
def previous(refreshed_store: Path, data_dir: Path) -> dict[str, bytes]:
    """The refreshed store copied into this test's data dir; returns its snapshot."""
    shutil.copytree(refreshed_store, data_dir)
    invalidate_caches()
    assert totals() == REFRESHED
    return snapshot(data_dir)


def assert_unchanged(data: Path, before: dict[str, bytes], report: object, reason: str) -> None:
    """The refresh failed with ``reason``, and the previous tables are in use, intact, and used."""
    assert not report.ok  # type: ignore[attr-defined]
    assert reason in report.error, report.error  # type: ignore[attr-defined]
    assert "FAILED, nothing changed" in str(report)
    assert snapshot(data) == before
    invalidate_caches()
    assert totals() == REFRESHED


# --- a full refresh ----------------------------------------------------------------------------------

def test_refresh_equals_the_offline_build_and_compute_uses_it(server: LoopbackServer, data_dir: Path) -> None:
    from xlduty.excel import functions as f

    assert totals() == BUNDLED
    assert f.DUTY("6109.10-020", 300000, "CN", None, "2026-11-01") == 22200   # cached in this process
    assert active_tariff_dir() == ROOT / "rules" / "tariff"
    assert active_fx_path() == ROOT / "rules" / "fx" / "customs_weekly.json.gz"
    server.pages.update(site("wto84", changes=WTO_84))
    calls: list[tuple[int, int, str]] = []
    report = _refresh(server, progress=lambda done, total, what: calls.append((done, total, what)))
    assert report.ok, report.error
    assert report.in_use == {"tariff": "2026_07_09", "fx": "2026-09-27"}
    assert report.previous == {"tariff": "bundled", "fx": "bundled"}
    # tariff index + chapters, FX index + CSV + the archive index (list.htm), the switch
    assert calls[-1][0] == calls[-1][1] == 1 + len(CH) + 3 + 1 and "j_84.htm" in [c[2] for c in calls]
    versions = data_dir / "rates" / "versions"
    assert active_tariff_dir() == versions / "tariff" / "2026_07_09" / "tariff"
    assert active_fx_path() == versions / "fx" / "2026-09-27" / "fx" / "customs_weekly.json.gz"

    # the stored edition is what the same pages give offline (no HTTP), merged with the chapters not fetched
    stored_dir = data_dir / "rates" / "versions" / "tariff" / "2026_07_09" / "tariff"
    import gzip

    stored = json.loads(gzip.decompress((stored_dir / "2026_07_09.json.gz").read_bytes()))
    bundled = json.loads(gzip.decompress((ROOT / "rules" / "tariff" / "2026_07_09.json.gz").read_bytes()))
    offline = {ch: parse_chapter(server.pages[f"/tariff/2026_07_09/data/j_{ch}.htm"][0]).lines() for ch in CH}
    merged = [ln for ln in book_lines(bundled) if ln.code[:2] not in CH]
    merged = sorted([*merged, *(ln for ch in CH for ln in offline[ch])], key=lambda ln: ln.code[:2])
    offline_book, unknown = build_book(merged, "2026_07_09", server.base)
    assert not unknown
    assert gz_json(offline_book) == (stored_dir / "2026_07_09.json.gz").read_bytes()
    TariffBook.model_validate(stored)

    # ... and equals the bundled edition (built by update/tariff.py from the CSV) but for the one changed cell
    expected = book_lines(bundled)
    got = book_lines(stored)
    diff = [(a.code, [(x, y) for x, y in zip(a.cells, b.cells, strict=True) if x != y])
            for a, b in zip(expected, got, strict=True) if a != b]
    assert diff == [("610910020", [("7.4%", "8.4%")])]
    assert len(got) == 9654
    # the other editions were carried over byte for byte
    for e in ("2025_04_01", "2026_04_01"):
        assert (stored_dir / f"{e}.json.gz").read_bytes() == (ROOT / "rules" / "tariff" / f"{e}.json.gz").read_bytes()

    # compute (in-process) uses the refreshed tariff and FX; cached Excel results were invalidated
    assert totals() == REFRESHED
    assert f.DUTY("6109.10-020", 300000, "CN", None, "2026-11-01") == 25200
    from xlduty import compute

    usd = compute({"date": "2026-09-30", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 1000,
                                                   "currency": "USD"}]})
    assert usd.lines[0].taxable_value == 155000   # 1,000 × 155.39 = 155,390 → to the 1,000 yen

    # the CLI, in its own process, reads the same data directory
    decl = json.dumps(DECL)
    run = subprocess.run([sys.executable, "-m", "xlduty.cli", "compute", "-", "--compact"], input=decl,
                         capture_output=True, text=True, cwd=ROOT, timeout=60, env={**os.environ, ENV: str(data_dir)})
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert {k: out["totals"][k] for k in REFRESHED} == REFRESHED
    assert out["lines"][0]["rate"] == "8.4%"


def test_all_96_chapters_reproduce_the_bundled_edition(server: LoopbackServer, data_dir: Path) -> None:
    """Every chapter page, unchanged: the parsed edition is the bundled one, so there is nothing to switch."""
    server.pages.update(site("all", chapters=CHAPTERS, fx_week=None))
    report = _refresh(server, chapters=None, what=("tariff",))
    assert report.ok, report.error
    assert report.up_to_date == ["tariff"]
    assert report.tariff is not None and report.tariff.unchanged and report.tariff.lines_after == 9654
    assert report.in_use == {"tariff": "bundled", "fx": "bundled"}
    assert not (data_dir / "rates" / "versions" / "tariff").exists()
    assert "already up to date" in str(report)
    # the site's newest edition is held as of today: recorded, so the tables vouch for dates through today at least
    # (core/vouch.py); the versions in use are untouched
    state = json.loads((data_dir / "rates" / "active.json").read_text(encoding="utf-8"))
    assert (state["tariff_checked"], state["tariff"], state["history"]) == (date.today().isoformat(), None, [])


# --- faults ------------------------------------------------------------------------------------------

def _utf8(srv: LoopbackServer) -> None:
    body, ctype = srv.pages[J61]
    srv.pages[J61] = (body.decode("shift_jisx0213").encode("utf-8"), ctype)


def _cut(srv: LoopbackServer) -> None:  # a page cut short by a proxy, with no Content-Length to tell
    body, ctype = srv.pages[J61]
    srv.pages[J61] = (body[: len(body) // 2], ctype)


FAULTS = {
    "timeout": (lambda srv: srv.delay.__setitem__(J61, 1.5), "no answer within 0.3 s (gave up after 2 attempts)"),
    "truncated": (lambda srv: srv.truncate.add(J61), "the page arrived truncated"),
    "truncated-page": (_cut, "j_61.htm: truncated: the data table is not closed"),
    "wrong-encoding": (_utf8, "j_61.htm: wrong encoding: the bytes are UTF-8 but the page declares Shift_JIS"),
    "404": (lambda srv: srv.pages.pop(J61), "j_61.htm: HTTP 404"),
    "server-dies": (lambda srv: setattr(srv, "die_after", 3), "cannot connect"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_leaves_the_previous_tables(fault: str, server: LoopbackServer, data_dir: Path,
                                            previous: dict[str, bytes]) -> None:
    server.pages.update(site("wto94", changes=WTO_94))
    inject, reason = FAULTS[fault]
    inject(server)
    settings = FetchSettings(connect_timeout=0.5, read_timeout=0.3, deadline=5, attempts=2, backoff=0.01, pace=0)
    report = _refresh(server, settings=settings)
    assert_unchanged(data_dir, previous, report, reason)
    assert report.in_use == {"tariff": "2026_07_09", "fx": "2026-09-27"}


@pytest.mark.parametrize("step", ["staged", "committed", "pointer-written"])
def test_a_failure_at_each_commit_step_leaves_the_previous_tables(step: str, server: LoopbackServer, data_dir: Path,
                                                                 previous: dict[str, bytes],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(at: str) -> None:
        if at == step:
            raise OSError(28, f"No space left on device (injected at {step})")

    server.pages.update(site("wto94", changes=WTO_94))
    monkeypatch.setattr(store_mod, "checkpoint", fail)
    report = _refresh(server)
    assert_unchanged(data_dir, previous, report, f"injected at {step}")
    assert report.error.startswith("cannot write the new tables")


KILL = textwrap.dedent("""
    import os, signal, sys
    from xlduty.rates import FetchSettings, refresh, store

    def kill(step):
        if step == sys.argv[1]:
            os.kill(os.getpid(), signal.SIGKILL)

    store.checkpoint = kill
    refresh(sys.argv[2], insecure_host=True, what=("fx",), settings=FetchSettings(pace=0))
    sys.exit("not killed")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize("step", ["staged", "committed", "pointer-written"])
def test_a_process_killed_during_the_switch_leaves_the_previous_tables(step: str, server: LoopbackServer,
                                                                       data_dir: Path,
                                                                       previous: dict[str, bytes]) -> None:
    """A refresh process killed outright (SIGKILL: no cleanup runs) at each step of writing and switching."""
    from xlduty import compute

    server.pages.update(site("fx1004", fx_week="2026-10-04"))
    run = subprocess.run([sys.executable, "-c", KILL, step, server.base], capture_output=True,
                         text=True, cwd=ROOT, timeout=60, env={**os.environ, ENV: str(data_dir)})
    assert run.returncode == -signal.SIGKILL, run.stderr
    after = snapshot(data_dir)
    assert {k: after[k] for k in previous} == previous      # the pointer and the versions in use: untouched
    store = store_mod.Store(data_dir / "rates")
    assert store.versions("fx") == (["2026-09-27"] if step == "staged" else ["2026-09-27", "2026-10-04"])
    for version in store.versions("fx"):                    # a version renamed into place before the kill is whole
        store.verify("fx", version)
    invalidate_caches()
    assert totals() == REFRESHED
    october = {"date": "2026-10-05", "lines": [{"hs_code": "6109.10-020", "origin": "CN", "value": 1000,
                                               "currency": "USD"}]}
    with pytest.raises(InputError, match="no customs exchange rate for USD in the week 2026-10-04"):
        compute(october)
    # the next refresh clears the leftovers and goes through
    report = _refresh(server, what=("fx",))
    assert report.ok, report.error
    assert report.in_use["fx"] == ("2026-10-04" if step == "staged" else "2026-10-04.2")
    assert not list((data_dir / "rates" / ".staging").iterdir())
    assert not list((data_dir / "rates").glob(".active.json.*"))
    assert compute(october).lines[0].taxable_value == 155000


def test_two_refreshes_never_interleave(server: LoopbackServer, data_dir: Path, previous: dict[str, bytes]) -> None:
    server.pages.update(site("wto94", changes=WTO_94))
    with store_mod.Store().lock():
        report = _refresh(server)
    assert_unchanged(data_dir, previous, report, "another refresh")
    assert server.log == []     # refused before any request


# --- source policy and limits ------------------------------------------------------------------------

def test_only_https_to_customs_unless_told(server: LoopbackServer, data_dir: Path) -> None:
    assert check_source(None) == DEFAULT_SOURCE == "https://www.customs.go.jp"
    assert check_source("https://www.customs.go.jp/") == DEFAULT_SOURCE
    for url in ("http://www.customs.go.jp", "https://customs.example.com", server.base):
        with pytest.raises(SourceError, match=r"only HTTPS to www\.customs\.go\.jp"):
            check_source(url)
    report = refresh(server.base, settings=FAST)
    assert not report.ok and "--insecure-host" in report.error and server.log == []
    server.pages.update(site("wto84", changes=WTO_84))
    server.redirect["/tariff/index.htm"] = "http://elsewhere.invalid/tariff/index.htm"
    report = _refresh(server)
    assert not report.ok and "redirect away" in report.error
    del server.redirect["/tariff/index.htm"]
    report = _refresh(server, settings=FetchSettings(pace=0, attempts=1, max_bytes=100_000))
    assert not report.ok and "over the 100,000-byte limit" in report.error and "j_04.htm" in report.error
    assert not (data_dir / "rates" / "versions").exists()


# --- bad content -------------------------------------------------------------------------------------

def test_a_table_that_lost_columns_is_refused(server: LoopbackServer, data_dir: Path,
                                              previous: dict[str, bytes]) -> None:
    server.pages.update(site("wto94", changes=WTO_94))
    server.pages[J61] = (render_chapter("61", changes=WTO_94, drop_columns=("epa_eu", "epa_uk")), "text/html")
    report = _refresh(server)
    assert_unchanged(data_dir, previous, report, "j_61.htm: the table lost columns 欧州連合 (epa_eu), 英国 (epa_uk)")


def _renumbered(n: int) -> dict[str, str]:
    """n lines of chapter 84 printed with another statistical suffix (9xx): n codes vanish, n appear."""
    codes = [c.code for c in book_lines(_bundled()) if c.code.startswith("84") and c.code.endswith("000")][:n]
    return {code: f"9{i:02d}" for i, code in enumerate(codes)}


def _bundled() -> dict:
    import gzip

    return json.loads(gzip.decompress((ROOT / "rules" / "tariff" / "2026_07_09.json.gz").read_bytes()))


IMPLAUSIBLE = {   # case: (pages to serve, reason)
    "rows-missing": (lambda: dict(chapters=("84",), drop_lines=tuple(c.code for c in book_lines(_bundled())
                                                                     if "8401" <= c.code[:4] < "8430")),
                     "edition 2026_07_09: 382 lines against 612 in use (62%): refused as implausible"),
    "codes-vanished": (lambda: dict(chapters=("84",), renumber=_renumbered(40)),
                       "40 codes vanished (6.5% of those in use"),
    "rates-shifted": (lambda: dict(chapters=("61",), swap_heads=("rate_general", "rate_wto")),
                      "rates changed on 100% of the lines (limit 60%)"),
}


@pytest.mark.parametrize("case", list(IMPLAUSIBLE))
def test_implausible_tables_are_refused(case: str, server: LoopbackServer, data_dir: Path,
                                        previous: dict[str, bytes]) -> None:
    """Sanity checks against the tables in use: row counts, codes vanished, share of rates changed."""
    make, reason = IMPLAUSIBLE[case]
    kw = make()
    chapters = kw["chapters"]
    server.pages.update(site(case, **kw))
    report = _refresh(server, chapters=chapters)
    assert_unchanged(data_dir, previous, report, reason)


def test_a_rate_text_never_seen_is_stored_as_manual_and_reported(server: LoopbackServer, data_dir: Path) -> None:
    from xlduty import compute

    server.pages.update(site("unknown", changes={("610910020", "rate_general"): "税率未定"}))
    report = _refresh(server)
    assert report.ok, report.error
    assert report.tariff is not None
    assert report.tariff.manual == [ManualText(text="税率未定", column="rate_general", codes=["610910020"])]
    assert "「税率未定」 in 基本 of 6109.10-020" in str(report)
    assert "never seen before" in report_text()
    with pytest.raises(InputError, match=r"税率未定.*give the applicable rate in `rate`"):
        compute(DECL)
    given = {**DECL, "lines": [{**DECL["lines"][0], "rate": "11.2%"}]}
    assert compute(given).totals.duty == 33600    # 300,000 × 11.2 %


def test_a_malformed_number_in_a_refreshed_cell_is_named_and_refused(server: LoopbackServer, data_dir: Path) -> None:
    """``3,9%`` (a decimal comma) was read as 39 %: the WTO column then lost to the general rate, or a claim won with
    another column, silently. Now the parser refuses it; the refresh names every cell printing it, in its output and
    its stored report; compute refuses the lines that need it, quoting the cell, and never applies another column."""
    from xlduty import compute

    changes = {("610910020", "rate_wto"): "3,9%", ("610910010", "rate_wto"): "3,9%",
               ("610910020", "epa_rcep_china"): "4,6%"}
    server.pages.update(site("decimal-comma", changes=changes))
    report = _refresh(server)
    assert report.ok, report.error
    assert report.tariff is not None
    assert report.tariff.manual == [ManualText(text="3,9%", column="rate_wto", codes=["610910010", "610910020"]),
                                    ManualText(text="4,6%", column="epa_rcep_china", codes=["610910020"])]
    out = str(report)
    for text in (out, report_text()):
        assert "「3,9%」 in WTO協定 of 6109.10-010, 6109.10-020" in text
        assert "「4,6%」 in RCEP（中国） of 6109.10-020" in text
    for claim in (False, True):
        with pytest.raises(InputError, match=r"「3,9%」.*give the applicable rate in `rate`"):
            compute({**DECL, "lines": [{**DECL["lines"][0], "claim_preference": claim}]})
    given = {**DECL, "lines": [{**DECL["lines"][0], "rate": "3.9%"}]}
    assert compute(given).totals.duty == 11700    # 300,000 × 3.9 %


def test_a_rate_text_never_seen_in_an_unused_column_does_not_break_the_line(server: LoopbackServer,
                                                                            data_dir: Path) -> None:
    from xlduty import compute

    server.pages.update(site("unknown-mn", chapters=("61",), fx_week=None,
                             changes={("610910010", "epa_mongolia"): "税率未定"}))
    assert _refresh(server, chapters=("61",), what=("tariff",)).ok
    line = {"hs_code": "6109.10-010", "origin": "CN", "value": 300000}
    assert compute({"date": "2026-11-01", "lines": [line]}).totals.duty == 32700   # 300,000 × 10.9 %


def test_an_older_edition_is_refused_unless_asked(server: LoopbackServer, data_dir: Path,
                                                  previous: dict[str, bytes]) -> None:
    from xlduty import compute

    server.pages.update(site("older", edition="2026_04_01", changes=WTO_94, fx_week="2026-09-20"))
    report = _refresh(server)
    assert_unchanged(data_dir, previous, report, "the site's newest edition 2026_04_01 is older than the newest in "
                                                 "use (2026_07_09, version 2026_07_09): refused; pass --allow-older")
    report = _refresh(server, what=("fx",))
    assert_unchanged(data_dir, previous, report, "week of 2026-09-20, older than the newest week in use (2026-09-27")

    report = _refresh(server, allow_older=True)
    assert report.ok, report.error
    assert report.in_use == {"tariff": "2026_04_01", "fx": "2026-09-20"}
    index = json.loads(version_file(data_dir, "tariff", "2026_04_01", "tariff/editions.json"))["editions"]
    assert [e["edition"] for e in index] == ["2025_04_01", "2026_04_01", "2026_07_09"]
    spring = {**DECL, "date": "2026-05-01"}
    assert compute(spring).tariff_edition == "2026_04_01" and compute(spring).totals.duty == 28200
    assert totals() == REFRESHED     # 2026_07_09 is carried over from the version that was in use
    # the week of 2026-09-27 keeps its figures; 2026-09-20 is filled in
    from xlduty.core.fx import customs_rates

    rates = customs_rates()
    assert rates.lookup("USD", date(2026, 9, 22)).published == "155.39"
    assert rates.lookup("KRW", date(2026, 9, 29)).yen_per_unit == Decimal("0.1141")


def version_file(data: Path, kind: str, version: str, rel: str) -> str:
    return (data / "rates" / "versions" / kind / version / rel).read_text(encoding="utf-8")


# --- the change report -------------------------------------------------------------------------------

def test_the_change_report_counts_a_hand_made_change(server: LoopbackServer, data_dir: Path,
                                                     previous: dict[str, bytes]) -> None:
    changes = {("610910020", "rate_wto"): "8.4%",             # unchanged against the version in use
               ("610910010", "epa_eu"): "1.0%", ("610910020", "epa_eu"): "1.0%",
               ("610910020", "epa_rcep_china"): "3.1%", ("610910010", "rate_general"): "9.9%"}
    rows = tuple((*r[:4], "156.00", "") if r[3] == "USD" else (*r[:4], "", "11.50") if r[3] == "KRW" else r
                 for r in fx_rows())
    server.pages.update(site("handmade", changes=changes, drop_lines=("090520000",),
                             renumber={"090230090": "080"}, fx_week="2026-10-04", fx_rows=rows))
    report = _refresh(server)
    assert report.ok, report.error
    t = report.tariff
    assert t is not None and t.version == "2026_07_09.2" and t.baseline == "2026_07_09 (version 2026_07_09)"
    assert (t.lines_before, t.lines_after) == (9654, 9653)
    assert t.added == ["090230080"] and t.removed == ["090230090", "090520000"]
    assert t.lines_rate_changed == 2
    assert [(c.column, c.lines) for c in t.columns] == [("rate_general", 1), ("epa_eu", 2), ("epa_rcep_china", 1)]
    assert [(e.code, e.old, e.new) for e in t.columns[1].examples] == [("610910010", "無税", "1.0%"),
                                                                      ("610910020", "無税", "1.0%")]
    fx = report.fx
    assert fx is not None and fx.version == "2026-10-04" and fx.compared_with.isoformat() == "2026-09-27"
    assert fx.changed == 2 and fx.added == [] and fx.dropped == []
    assert [(m.currency, m.old, m.new, m.percent) for m in fx.moves] == [
        ("KRW", "11.41/100", "11.50/100", 0.79),    # (11.50 − 11.41) / 11.41 = +0.789 %
        ("USD", "155.39", "156.00", 0.39)]          # (156.00 − 155.39) / 155.39 = +0.393 %
    text = str(report)
    for line in ("lines 9,654 → 9,653; codes added 1, removed 2; lines with a changed rate 2",
                 "欧州連合 (epa_eu): 2 lines, e.g. 6109.10-010 無税 → 1.0%; 6109.10-020 無税 → 1.0%",
                 "RCEP（中国） (epa_rcep_china): 1 line, e.g. 6109.10-020 4.6% → 3.1%",
                 "added: 0902.30-080", "removed: 0902.30-090, 0905.20-000",
                 "KRW 11.41/100 → 11.50/100 (+0.79%)"):
        assert line in text, text
    # stored beside each version, and rendered again from there
    assert json.loads(version_file(data_dir, "tariff", "2026_07_09.2", "report.json")) == t.model_dump(mode="json")
    stored = report_text()
    assert "欧州連合 (epa_eu): 2 lines" in stored and "KRW 11.41/100 → 11.50/100 (+0.79%)" in stored


# --- list, use, rollback (CLI) -----------------------------------------------------------------------

def test_rates_list_use_rollback_report(data_dir: Path, previous: dict[str, bytes],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert rates_main(["rates", "list"]) == 0
    out = capsys.readouterr().out
    assert "* 2026_07_09 " in out and "* 2026-09-27 " in out and "  bundled        editions 2025_04_01" in out
    assert "rollback would restore: tariff bundled, fx bundled" in out

    assert rates_main(["rates", "use", "bundled"]) == 0
    assert capsys.readouterr().out == "in use: tariff bundled, fx bundled\n"
    assert totals() == BUNDLED
    assert rates_main(["rates", "use", "2026_07_09"]) == 0
    assert totals() == REFRESHED
    assert rates_main(["rates", "rollback"]) == 0                 # back to bundled (before the `use`)
    assert totals() == BUNDLED
    assert rates_main(["rates", "rollback"]) == 0                 # and back to the refresh (before `use bundled`)
    assert totals() == REFRESHED
    capsys.readouterr()

    assert rates_main(["rates", "report"]) == 0
    out = capsys.readouterr().out
    assert "WTO協定 (rate_wto): 1 line, e.g. 6109.10-020 7.4% → 8.4%" in out and "week 2026-09-27–2026-10-03" in out

    # `bundled`, the name `rates use` takes (and the refusal below suggests), has no report and says so
    assert rates_main(["rates", "report", "bundled"]) == 0
    assert capsys.readouterr().out.startswith("bundled: the tables shipped with xlduty have no refresh report")

    assert rates_main(["rates", "use", "2099_01_01"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("xlduty: no stored version '2099_01_01'")
    # a damaged version is refused before anything switches
    gz = data_dir / "rates" / "versions" / "tariff" / "2026_07_09" / "tariff" / "2026_07_09.json.gz"
    gz.write_bytes(gz.read_bytes()[:100])
    assert rates_main(["rates", "use", "2026_07_09"]) == 2
    assert "2026_07_09.json.gz is damaged" in capsys.readouterr().err


def test_rates_refresh_cli(server: LoopbackServer, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server.pages.update(site("wto84", changes=WTO_84))
    cmd = [sys.executable, "-c", "import sys; from xlduty.rates.cli import main; sys.exit(main(sys.argv[1:]))",
           "rates", "refresh", "--source", server.base, "--chapters", ",".join(CH), "--pace", "0"]
    assert rates_main(cmd[3:]) == 2                     # in-process: the same code without the extra start-up
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "refused: only HTTPS to www.customs.go.jp" in err
    assert server.log == []
    env = {**os.environ, ENV: str(data_dir)}
    run = subprocess.run([*cmd, "--insecure-host"], capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert "WTO協定 (rate_wto): 1 line, e.g. 6109.10-020 7.4% → 8.4%" in run.stdout
    assert "in use: tariff 2026_07_09, fx 2026-09-27" in run.stdout
    invalidate_caches()
    assert totals() == REFRESHED


# --- the reading side --------------------------------------------------------------------------------

def test_a_pointer_to_a_missing_version_falls_back_to_the_bundled_tables(data_dir: Path) -> None:
    (data_dir / "rates").mkdir(parents=True)
    (data_dir / "rates" / "active.json").write_text('{"format": 1, "tariff": "2026_07_09", "fx": null}')
    with pytest.warns(RuntimeWarning, match="tariff version 2026_07_09 .* is missing: the bundled table is used"):
        assert totals() == BUNDLED
    invalidate_caches()
    (data_dir / "rates" / "active.json").write_text("{not json")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert totals() == BUNDLED


# --- FX: the weekly PDFs (archive) -------------------------------------------------------------------

def _bundled_fx() -> dict:
    import gzip

    return json.loads(gzip.decompress((ROOT / "rules" / "fx" / "customs_weekly.json.gz").read_bytes()))


def test_a_recorded_weekly_pdf_gives_the_bundled_figures() -> None:
    """The real official PDF of the last bundled week: every currency equals the bundled table (built from the
    same PDFs by another extraction), the 1-unit and 100-unit columns told apart by position. (The weeks of
    2004 and 2013 are checked the same way through a refresh, in the next test.)"""
    parsed = parse_fx_pdf(recorded_pdf("2020-09-20"), pdf_name("2020-09-20"))
    assert (parsed.start, parsed.end) == (date(2020, 9, 20), date(2020, 9, 26))
    assert parsed.rates == week_figures(_bundled_fx(), date(2020, 9, 20))
    assert parsed.aliases == {"BND": "SGD"} and parsed.notes == {}
    last = parsed.rates
    assert (len(last), last["USD"], last["KRW"], last["IDR"], last["XPF"]) == (91, "106.17", "8.94/100", "0.72/100",
                                                                                "105.42/100")
    raw = recorded_pdf("2020-09-20")
    bad = {"kouji-rate20200913-20200919.pdf": (raw, "is for 2020-09-20–2020-09-26, not the week its name says"),
           pdf_name("2020-09-20"): (raw[: len(raw) // 2], "the PDF cannot be read (PdfminerException"),
           "kouji-rate20200906-20200912.pdf": (b"<html>404</html>", "not a PDF"),
           "kouji-rate20200907-20200913.pdf": (raw, "is not a Sunday–Saturday week")}
    for name, (data, reason) in bad.items():
        with pytest.raises(PageError, match=re.escape(reason)):
            parse_fx_pdf(data, name)


ARCHIVE_GAPS = ("2004-01-04", "2013-01-06", "2020-08-30", "2020-09-06", "2020-09-13", "2020-09-20")


def _seed_fx(blank: tuple[str, ...]) -> None:
    """An FX version in use: the bundled table with the weeks ``blank`` emptied (the site still has their PDFs)."""
    book = _bundled_fx()
    first = date.fromisoformat(book["first_week"])
    for week in blank:
        i = (date.fromisoformat(week) - first).days // 7
        for series in book["rates"].values():
            series[i] = None
    store = store_mod.Store()
    store.write_version("fx", "seed", {"fx/customs_weekly.json.gz": gz_json(book)}, source="test", summary="seed")
    store.switch({"fx": "seed"}, "test")
    invalidate_caches()


def _archive_site(srv: LoopbackServer) -> None:
    """The FX pages of the week 2020-09-27, and an archive: list.htm links three 2020 weeks and the year pages;
    2020-09-13 is the PDF of 2020-09-20 under the wrong name, 2020-08-30 a broken PDF, 2020-09-06 is not listed."""
    srv.pages.update(site("fx200927", chapters=(), fx_week="2020-09-27", fx_rows=fx_rows(())))
    years = {2004: "list2004.htm", 2010: "/tetsuzuki/kawase/list2010.htm", 2013: "list2013.htm"}
    srv.pages["/tetsuzuki/kawase/list.htm"] = (render_fx_list(["2020-09-20", "2020-09-13", "2020-08-30"], years),
                                               "text/html")
    for year in (2004, 2010, 2013):
        linked = [w for w in PDF_WEEKS if w.startswith(str(year))]
        srv.pages[f"/tetsuzuki/kawase/list{year}.htm"] = (render_fx_list(linked), "text/html")
    pdf = recorded_pdf("2020-09-20")
    for week in PDF_WEEKS:
        srv.pages[pdf_path(week)] = (recorded_pdf(week), "application/pdf")
    srv.pages[pdf_path("2020-09-13")] = (pdf, "application/pdf")
    srv.pages[pdf_path("2020-08-30")] = (pdf[: len(pdf) // 2], "application/pdf")


def test_a_refresh_fills_missing_weeks_from_the_weekly_pdfs(server: LoopbackServer, data_dir: Path) -> None:
    from xlduty.core.fx import customs_rates

    _seed_fx(ARCHIVE_GAPS)
    _archive_site(server)
    bundled = _bundled_fx()
    paced = FetchSettings(connect_timeout=1, read_timeout=2, deadline=10, attempts=1, pace=0.02)
    report = refresh(server.base, insecure_host=True, what=("fx",), settings=paced, fx_archive_weeks=3)
    assert report.ok, report.error
    fx = report.fx
    assert fx is not None and fx.archive_added == [date(2020, 9, 20)]
    reasons = {s.week.isoformat(): s.reason for s in fx.archive_skipped}
    assert "the PDF is for 2020-09-20–2020-09-26, not the week its name says" in reasons.pop("2020-09-13")
    assert "the PDF cannot be read (PdfminerException: Unexpected EOF)" in reasons.pop("2020-08-30")
    assert reasons == {}
    assert (fx.archive_missing, fx.archive_unlisted) == (5, 1)      # 2004, 2013, 08-30, 09-06 (not listed), 09-13
    text = str(report)
    for line in ("archive (weekly PDFs): 1 week added, 2020-09-20",
                 "archive: week 2020-09-13 skipped: kouji-rate20200913-20200919.pdf: the PDF is for 2020-09-20",
                 "archive: 5 earlier weeks still without rates (1 not listed on the site)"):
        assert line in text, text
    # the year pages were read for the years still needed (2004, 2013), not for 2010; requests were paced
    assert "/tetsuzuki/kawase/list2004.htm" in server.log and "/tetsuzuki/kawase/list2010.htm" not in server.log
    times = server.arrivals       # each request starts 0.02 s after the one before, at least (scheduling aside)
    assert len(times) == 8 and times[-1] - times[0] >= 0.02 * (len(times) - 1) - 0.005
    rates = customs_rates()
    assert rates.lookup("USD", date(2020, 9, 22)).published == "106.17"
    assert rates.lookup("USD", date(2013, 1, 8)) is None

    report = _refresh(server, what=("fx",))     # the default bound: the rest of what is listed
    assert report.ok, report.error
    fx = report.fx
    assert fx is not None and fx.archive_added == [date(2004, 1, 4), date(2013, 1, 6)]
    assert sorted(s.week.isoformat() for s in fx.archive_skipped) == ["2020-08-30", "2020-09-13"]
    assert (fx.archive_missing, fx.archive_unlisted) == (3, 1)
    import gzip

    book = json.loads(gzip.decompress(active_fx_path().read_bytes()))
    for week in PDF_WEEKS:       # each week merged whole: every currency equal to the bundled figures
        assert week_figures(book, date.fromisoformat(week)) == week_figures(bundled, date.fromisoformat(week))
    assert len(week_figures(book, date(2004, 1, 4))) == 98 and book["aliases"] == bundled["aliases"]
    for week in ("2020-08-30", "2020-09-06", "2020-09-13"):      # never half-merged
        assert week_figures(book, date.fromisoformat(week)) == {}
    assert week_figures(book, date(2020, 9, 27))["USD"] == "106.17"
    krw = customs_rates().lookup("KRW", date(2004, 1, 7))        # read by compute: per 100 won, as published
    assert f"{krw.published}/{krw.per_units}" == week_figures(bundled, date(2004, 1, 4))["KRW"]


# --- HTTP: Retry-After and conditional GET -----------------------------------------------------------

def test_retry_after_is_honoured_within_a_bound(server: LoopbackServer, data_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert retry_after("7") == 7 and retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after("soon") is None and retry_after(None) is None
    waits: list[float] = []
    monkeypatch.setattr(sources, "_sleep", waits.append)     # the waits between tries, recorded, not slept
    server.pages.update(site("fx0927", chapters=()))
    index, csv_path = "/tetsuzuki/kawase/index.htm", f"/tetsuzuki/kawase/csv/{fx_csv_name('2026-09-27')}"
    server.queued[index] = [(503, {"Retry-After": "30"})]
    server.queued[csv_path] = [(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), (503, {})]
    report = _refresh(server, what=("fx",), settings=FetchSettings(attempts=3, backoff=0.01, max_backoff=0.02, pace=0))
    assert report.ok, report.error
    assert [(p, s) for p, s, _, _ in server.answers if p in (index, csv_path)] == [
        (index, 503), (index, 200), (csv_path, 429), (csv_path, 503), (csv_path, 200)]
    assert waits == [30, 0.01, 0.02]     # as asked (within the 60 s bound); a past date or none: the backoff

    server.queued[index] = [(503, {"Retry-After": "120"})]
    before = len(server.log)
    report = _refresh(server, what=("fx",))
    assert not report.ok
    assert "HTTP 503 Service Unavailable: the site asks to wait 120 s (Retry-After), more than the 60 s limit" \
        in report.error
    assert len(server.log) == before + 1 and waits == [30, 0.01, 0.02]     # no retry against the site's wish


def _answers(srv: LoopbackServer, since: int, part: str) -> list[tuple[int, dict[str, str]]]:
    return [(status, headers) for path, status, _, headers in srv.answers[since:] if part in path]


def test_an_unchanged_site_is_not_downloaded_again(server: LoopbackServer, data_dir: Path) -> None:
    """ETag/Last-Modified kept with the version; the next refresh asks conditionally and reuses the kept pages."""
    server.pages.update(site("wto84", changes=WTO_84))
    assert _refresh(server).ok
    kept = json.loads(version_file(data_dir, "tariff", "2026_07_09", "http/pages.json"))["pages"]
    j61 = kept[server.base + J61]
    assert j61["etag"] and j61["last_modified"] and len(kept) == 1 + len(CH)
    blob = data_dir / "rates" / "versions" / "tariff" / "2026_07_09" / "http" / f"{j61['sha256']}.gz"
    j04 = data_dir / "rates" / "versions" / "tariff" / "2026_07_09" / "http" / \
        f"{kept[server.base + '/tariff/2026_07_09/data/j_04.htm']['sha256']}.gz"
    j04.write_bytes(b"damaged")                        # a damaged kept page is simply downloaded again

    since = len(server.answers)
    report = _refresh(server)
    assert report.ok, report.error
    assert report.up_to_date == ["tariff", "fx"] and report.tariff is not None and report.tariff.unchanged
    chapters = _answers(server, since, "/data/j_")
    assert sorted(s for s, _ in chapters) == [200] + [304] * (len(CH) - 1)
    assert all(h.get("If-None-Match") and h.get("If-Modified-Since") for s, h in chapters if s == 304)
    assert _answers(server, since, "/csv/")[0][0] == 304 and _answers(server, since, "list.htm")[0][0] == 304
    assert gzip_ok(j04)                                # and kept again, intact

    # a site that sends Last-Modified only (as the official Apache does for static pages); chapter 61 changed
    server.validators = {"last-modified"}
    server.pages[J61] = (render_chapter("61", changes=WTO_94), "text/html")
    since = len(server.answers)
    report = _refresh(server, chapters=("61",), what=("tariff",))
    assert report.ok, report.error
    answers = [(p.rsplit("/", 1)[-1], s, h) for p, s, _, h in server.answers[since:] if "/data/j_" in p]
    assert [(n, s) for n, s, _ in answers] == [("j_61.htm", 200)] and "If-Modified-Since" in answers[0][2]
    assert report.tariff is not None and report.tariff.lines_rate_changed == 1
    assert report.in_use["tariff"] == "2026_07_09.2" and blob.exists()
    kept = json.loads(version_file(data_dir, "tariff", "2026_07_09.2", "http/pages.json"))["pages"]
    assert len(kept) == 1 + len(CH) and kept[server.base + J61]["etag"] is None   # the others carried over
    assert compute_duty() == 28200                     # 300,000 × 9.4 %


def gzip_ok(path: Path) -> bool:
    import gzip

    try:
        gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return False
    return True


def compute_duty() -> int:
    from xlduty import compute

    return compute(DECL).totals.duty


# --- FX sanity per currency --------------------------------------------------------------------------

def test_a_currency_that_jumps_or_changes_its_unit_is_refused_unless_let_through(
        server: LoopbackServer, data_dir: Path, previous: dict[str, bytes],
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = tuple((*r[:4], "233.00", "") if r[3] == "USD" else (*r[:4], "0.1150", "") if r[3] == "KRW" else r
                 for r in fx_rows())
    server.pages.update(site("jumps", chapters=(), fx_week="2026-10-04", fx_rows=rows))
    report = _refresh(server, what=("fx",))
    assert_unchanged(data_dir, previous, report, "KRW changed its quotation unit, 11.41/100 → 0.1150 (week of "
                                                 "2026-10-04 against 2026-09-27); USD 155.39 → 233.00 (+49.9%")
    assert "refused as implausible; pass --allow-fx-jump KRW,USD" in report.error
    report = _refresh(server, what=("fx",), allow_fx_jumps=("usd",))
    assert_unchanged(data_dir, previous, report, "KRW changed its quotation unit")
    assert "USD" not in report.error
    args = ["rates", "refresh", "--source", server.base, "--insecure-host", "--only", "fx", "--pace", "0",
            "--no-progress", "--allow-fx-jump", "usd,krw"]
    assert rates_main(args) == 0
    out = capsys.readouterr().out
    assert "jump let through as asked: KRW changed its quotation unit, 11.41/100 → 0.1150" in out
    assert "jump let through as asked: USD 155.39 → 233.00 (+49.9%, week of 2026-10-04 against 2026-09-27)" in out
    stored = json.loads(version_file(data_dir, "fx", "2026-10-04", "report.json"))
    assert [j["currency"] for j in stored["jumps_allowed"]] == ["KRW", "USD"]


# --- tariff: editions between --------------------------------------------------------------------------

def test_an_edition_between_is_fetched_or_reported(server: LoopbackServer, data_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The site lists 2026_08_01 between the newest held (2026_07_09) and its newest (2026_10_01): without it,
    declarations of August and September would be computed on 2026_07_09 without a word."""
    from xlduty import compute

    monkeypatch.setattr(pipeline, "CHAPTERS", ("61",))     # a one-chapter schedule keeps whole editions quick
    server.pages.update(site("aug", edition="2026_08_01", changes=WTO_84, fx_week=None, chapters=("61",)))
    server.pages.update(site("oct", edition="2026_10_01", changes=WTO_94, fx_week=None, chapters=("61",)))
    server.pages["/tariff/index.htm"] = (render_tariff_index(["2026_10_01", "2026_08_01", "2026_07_09"]), "text/html")
    september = {**DECL, "date": "2026-09-01"}

    args = ["rates", "refresh", "--source", server.base, "--insecure-host", "--only", "tariff", "--pace", "0",
            "--no-progress", "--gap-editions", "0"]
    assert rates_main(args) == 0
    out, err = capsys.readouterr()
    assert ("EDITION GAP: the site lists edition 2026_08_01, which is not stored: dates from 2026-08-01 to "
            "2026-09-30 are computed on edition 2026_07_09") in out
    assert "warning: edition 2026_08_01 is listed on the site but not stored" in err
    assert compute(september).tariff_edition == "2026_07_09" and compute(september).totals.duty == 22200
    assert "/tariff/2026_08_01/data/j_61.htm" not in server.log

    report = _refresh(server, chapters=None, what=("tariff",))
    assert report.ok, report.error
    t = report.tariff
    assert t is not None and t.gaps == [] and [e.edition for e in t.also_fetched] == ["2026_08_01"]
    assert (t.also_fetched[0].baseline, t.also_fetched[0].lines_rate_changed) == ("2026_07_09", 1)
    assert "also fetched edition 2026_08_01 (listed on the site, not held)" in str(report)
    index = json.loads(version_file(data_dir, "tariff", "2026_10_01.2", "tariff/editions.json"))["editions"]
    assert [e["edition"] for e in index] == ["2025_04_01", "2026_04_01", "2026_07_09", "2026_08_01", "2026_10_01"]
    assert compute(september).tariff_edition == "2026_08_01" and compute(september).totals.duty == 25200
    assert compute_duty() == 28200                     # November: 2026_10_01, 9.4 %
