"""Test isolation: every test sees the bundled tables, never a developer's refreshed ones."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``XLDUTY_DATA_DIR`` at an empty folder for the session (subprocesses inherit it)."""
    folder = tmp_path_factory.mktemp("xlduty-data")
    old = os.environ.get("XLDUTY_DATA_DIR")
    os.environ["XLDUTY_DATA_DIR"] = str(folder)
    os.environ.setdefault("XLDUTY_CACHE_DIR", str(tmp_path_factory.mktemp("xlduty-cache")))
    from xlduty.core import tables

    tables.clear_cache()
    yield folder
    if old is None:
        os.environ.pop("XLDUTY_DATA_DIR", None)
    else:
        os.environ["XLDUTY_DATA_DIR"] = old


FAIL_ON_SKIP = "XLDUTY_FAIL_ON_SKIP"
"""Set (to anything but "" or "0") by ``.ci/run``: a skipped test fails. On a developer's machine a test that
needs ``../shared/data/raw`` or LibreOffice skips without them; in CI both exist, so a skip means a test
did not run."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get(FAIL_ON_SKIP, "0") not in ("", "0"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped ({reason}), and {FAIL_ON_SKIP} is set (CI): a test that does not run fails"


def script_module(path: Path, name: str) -> ModuleType:
    """A script of the repository that is not a package module (bench/, hatch_build.py, the acceptance kit),
    loaded as a module for its functions."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def throughput_bench() -> ModuleType:
    """bench/throughput.py as a module: its ``batch`` builds the declarations the benchmark times."""
    return script_module(Path(__file__).parent.parent / "bench" / "throughput.py", "throughput")


@pytest.fixture(scope="session")
def xlduty_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout as ``pip wheel`` builds it (with hatch_build.py's step), built once per session
    without network: hatchling and PyYAML come from the test environment."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("wheel")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(out), str(root)], check=True, capture_output=True, timeout=600)
    wheel, = out.glob("xlduty-*.whl")
    return wheel
