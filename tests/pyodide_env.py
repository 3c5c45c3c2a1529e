"""Pyodide in Node, offline: what the xlwings Lite test (tests/test_lite.py) and bench/lite.py run in.

``prepare()`` needs the network once and is idempotent: the npm ``pyodide`` package pinned by
``tests/pyodide/package-lock.json`` (``npm ci``), and from PyPI the wheels xlwings Lite installs beside xlduty, at
the versions of ``WHEELS``, for Pyodide's platform (``pyemscripten_2026_0_wasm32``: pydantic-core and xlwings are
WebAssembly builds; the rest pure Python). PyYAML publishes no such build, so its manylinux wheel is repacked as
pure Python (PyYAML runs without its C parser; xlduty's wheel reads its rules prebuilt and never parses YAML in a
calculation). ``run()`` then starts Node on ``tests/pyodide/run.mjs``, which refuses any network access.

Where: ``$XLDUTY_PYODIDE_DIR``, else ``.pyodide/`` in the checkout (ignored by git). ``.ci/run`` calls
``python tests/pyodide_env.py prepare``; a test that finds no Node skips, naming what is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "tests" / "pyodide"
PLATFORM = "pyemscripten_2026_0_wasm32"   # Pyodide 314 (Python 3.14, ABI 2026_0)
PYTHON = "3.14"
WHEELS = (   # what xlwings Lite installs for workbook/lite/requirements.txt, plus micropip; pinned
    "annotated-types==0.8.0", "micropip==0.11.1", "platformdirs==4.14.9", "pydantic==2.14.4",
    "pydantic-core==2.50.5", "typing-extensions==4.16.0", "typing-inspection==0.4.5", "xlwings==0.37.8",
)
PYYAML = "PyYAML==6.0.4"
NODE_MAJOR = 18   # pyodide's package.json: engines node >= 18


class Unavailable(Exception):
    """Why the Pyodide environment cannot be used here (no Node, no network for the first set-up)."""


@dataclass(frozen=True)
class Env:
    node: str
    modules: Path   # node_modules with pyodide
    wheels: Path    # the wheels installed beside xlduty's

    def run(self, script: Path, *args: str, xlduty_wheel: Path, mounts: dict[Path, str] | None = None,
            prefix: tuple[str, ...] = (), timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run ``script`` under Pyodide with these wheels and ``xlduty_wheel`` installed, ``mounts`` visible (host
        folder → path in Pyodide); ``prefix``: a command Node runs under (``taskset -c 0``)."""
        command = [*prefix, self.node, str(HERE / "run.mjs"), "--modules", str(self.modules), "--wheels",
                   str(self.wheels), "--wheels", str(xlduty_wheel.parent)]
        for host, guest in (mounts or {}).items():
            command += ["--mount", f"{host}={guest}"]
        return subprocess.run([*command, str(script), *args], capture_output=True, text=True, encoding="utf-8",
                              timeout=timeout)


def home() -> Path:
    return Path(os.environ.get("XLDUTY_PYODIDE_DIR") or ROOT / ".pyodide")


def node() -> str:
    """The Node executable, at least ``NODE_MAJOR``; Unavailable otherwise."""
    found = shutil.which("node")
    if found is None:
        raise Unavailable(f"Node.js is not installed (Node >= {NODE_MAJOR} runs Pyodide; .ci/run installs it)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        raise Unavailable(f"Node {version} is too old for Pyodide (>= {NODE_MAJOR})")
    return found


def _stamp() -> str:
    """What the prepared folder must match: the npm lock and the wheel pins."""
    text = (HERE / "package-lock.json").read_text(encoding="utf-8") + "\n".join([*WHEELS, PYYAML])
    return hashlib.sha256(text.encode()).hexdigest()


def prepare(quiet: bool = True) -> Env:
    """The environment, set up first if it is missing or out of date (network: the npm registry and PyPI)."""
    exe = node()
    base = home()
    env = Env(exe, base / "node" / "node_modules", base / "wheels")
    stamp = base / "prepared.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("stamp") == _stamp():
        return env
    shutil.rmtree(base, ignore_errors=True)
    (base / "node").mkdir(parents=True)
    out = None if not quiet else subprocess.DEVNULL
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, base / "node" / name)
        npm = shutil.which("npm") or str(Path(exe).with_name("npm"))
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=base / "node", check=True,
                       stdout=out, stderr=out, timeout=600)
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
               "--python-version", PYTHON, "--implementation", "cp"]
        subprocess.run([*pip, "--platform", PLATFORM, "--platform", "any", "--dest", str(env.wheels), *WHEELS],
                       check=True, stdout=out, stderr=out, timeout=600)
        linux = base / "manylinux"
        subprocess.run([*pip, "--platform", "manylinux_2_17_x86_64", "--dest", str(linux), PYYAML], check=True,
                       stdout=out, stderr=out, timeout=600)
        pure_wheel(next(linux.glob("*.whl")), env.wheels)
        shutil.rmtree(linux)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"cannot set up Pyodide in {base} (the first time needs the npm registry and PyPI): "
                          f"{exc}") from None
    stamp.write_text(json.dumps({"stamp": _stamp()}))
    return env


def pure_wheel(source: Path, folder: Path) -> Path:
    """A platform wheel of a package that also runs as pure Python (PyYAML) rewritten as ``py3-none-any``: its
    compiled modules left out, WHEEL and RECORD written for what is left."""
    name, version = source.name.split("-")[:2]
    info = f"{name}-{version}.dist-info"
    target = folder / f"{name}-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename.endswith(".so") or item.filename == f"{info}/RECORD":
                continue
            data = zin.read(item.filename)
            if item.filename == f"{info}/WHEEL":
                data = b"Wheel-Version: 1.0\nGenerator: xlduty tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            zout.writestr(item.filename, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{item.filename},sha256={digest},{len(data)}")
        zout.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")
    return target


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python tests/pyodide_env.py prepare")
    prepared = prepare(quiet=False)
    print(f"Pyodide ready: {prepared.modules.parent}, wheels {sorted(p.name for p in prepared.wheels.glob('*.whl'))}")
