"""The test suite's own machinery: every test runs in CI (a skip fails there), and the loopback server of the
refresh tests leaves no thread behind (one left running made the parallel-helper test skip in every full run)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from rates_fixtures import LoopbackServer

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def test_a_skip_fails_only_where_ci_asks(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\ndef test_runs():\n    pass\n\n"
        "def test_needs_office():\n    pytest.skip('LibreOffice (soffice) is not installed')\n\n"
        "@pytest.mark.skipif(True, reason='shared/data/raw is not beside the repo')\n"
        "def test_needs_data():\n    pass\n",
        encoding="utf-8")

    def run(value: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "XLDUTY_FAIL_ON_SKIP": value, "PYTHONPATH": str(TESTS)}
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rA",
                               str(tmp_path / "test_probe.py")], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    here = run("")
    assert here.returncode == 0 and "1 passed, 2 skipped" in here.stdout, here.stdout
    ci = run("1")
    assert ci.returncode == 1, ci.stdout
    assert "1 failed, 1 passed, 1 error" in ci.stdout, ci.stdout
    assert "skipped (Skipped: LibreOffice (soffice) is not installed), and XLDUTY_FAIL_ON_SKIP is set" in ci.stdout
    assert "shared/data/raw is not beside the repo" in ci.stdout
    assert "XLDUTY_FAIL_ON_SKIP=1 python -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_loopback_server_ends_every_thread_it_started() -> None:
    """A client that keeps its connection alive (a requests Session) and one that gave up on a delayed page
    leave two handler threads waiting; close() ends and joins them at once, not after the 30 s delay."""
    before = set(threading.enumerate())
    srv = LoopbackServer()
    srv.pages["/page"] = (b"ok", "text/plain")
    srv.delay["/slow"] = 30
    with requests.Session() as session:
        assert session.get(f"{srv.base}/page", timeout=5).content == b"ok"
        with contextlib.suppress(requests.Timeout):
            requests.get(f"{srv.base}/slow", timeout=0.3)
        assert len(set(threading.enumerate()) - before) >= 3   # the listener and two handlers
        started = time.monotonic()
        srv.close()
        assert time.monotonic() - started < 5
        assert set(threading.enumerate()) - before == set()
