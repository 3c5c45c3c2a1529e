"""A per-user cache of loaded data (validated rules, decoded tariff editions), like ``.pyc`` for data.

Why: ``xlduty compute`` must start in ≤ 0.3 s. Parsing the rule YAML, validating it with pydantic
and decoding a 9,654-line edition from JSON cost about 0.1 s on every start; reading the same objects
back from this cache costs about a fifth of that. An entry is keyed by the source files' paths, sizes
and modification times plus the xlduty and Python versions (the rules also by the installed pydantic that
validated them: ``rules.load_rules``), so a changed source or upgrade simply misses; so does an entry written
before a cached class moved (``LAYOUT``). A cache that cannot be read or written is ignored: the sources are
always the truth.

Location: ``$XLDUTY_CACHE_DIR``, else the platform's user cache directory. ``XLDUTY_CACHE_DIR=off``
disables it. Under Pyodide (xlwings Lite) it is off: there the installed files get a new modification time in
every session, so an entry would never be read again, and each session would write 3.8 MB to browser storage.

``remember`` is the other kind of cache: a bounded dictionary in memory, for what a process looks up again and
again (rule lookups per code, rate plans, line kinds).
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import pickle
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ENV = "XLDUTY_CACHE_DIR"
LAYOUT = 4
"""Part of every key: raised when a cached object's class moves or changes shape (2: the calculation modules moved
into ``xlduty.core``; 3: the rules became plain records, not pydantic models; 4: an entry starts with its CRC-32),
so an entry written by an earlier layout is never read, not even tried."""


def cache_dir() -> Path | None:
    if sys.platform == "emscripten":   # Pyodide: never a hit (see above)
        return None
    env = os.environ.get(ENV)
    if env:
        return None if env.lower() == "off" else Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("xlduty", appauthor=False))


def _key(name: str, sources: Sequence[Path]) -> str:
    from xlduty.version import __version__

    h = hashlib.sha256(f"{name}|{__version__}|{LAYOUT}|{sys.version}".encode())
    for p in sources:
        st = p.stat()
        h.update(f"|{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def cached(name: str, sources: Sequence[Path], build: Callable[[], T], *, codec: str = "pickle") -> T:
    """``build()``, or its result stored by an earlier call with the same sources.

    ``codec``: ``pickle`` for objects (the rules' records), ``marshal`` for plain dicts/lists/str (faster).
    """
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        where = hashlib.sha256("|".join(str(p.resolve()) for p in sources).encode()).hexdigest()[:8]
        stem = f"{name}-{where}"          # one entry per name and source location
        path = folder / f"{stem}-{_key(name, sources)}.{codec}"
    except OSError:
        return build()
    loads: Callable[[bytes], Any] = marshal.loads if codec == "marshal" else pickle.loads
    dumps: Callable[[Any], bytes] = marshal.dumps if codec == "marshal" else (lambda o: pickle.dumps(o, 5))
    try:
        return _decoded(loads, _checked(path.read_bytes()))
    except FileNotFoundError:
        pass
    except OSError:   # a folder that cannot be read (no permission; a file where the folder should be): unused
        return build()
    except Exception:  # a damaged entry: rebuild it below (and drop it, where that is possible)
        try:
            path.unlink(missing_ok=True)
        except OSError:
            return build()
    value = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{stem}-*.{codec}"):   # drop the stale entry of these sources
            old.unlink(missing_ok=True)
        from xlduty.files import write_atomic

        data = dumps(value)
        write_atomic(path, zlib.crc32(data).to_bytes(4, "big") + data)
    except (OSError, ValueError, pickle.PicklingError):
        pass
    return value


def _checked(entry: bytes) -> bytes:
    """An entry's data, once its CRC-32 matches: a damaged entry (a flipped bit, a block of a file lost to a crash)
    can unpickle to other figures without any error (a rate "7.4%" read back as "9.4%"), so it is rebuilt instead.
    Not a defence against someone who may write the cache folder: they could run code as the user anyway."""
    data = entry[4:]
    if len(entry) < 4 or zlib.crc32(data) != int.from_bytes(entry[:4], "big"):
        raise ValueError("a damaged cache entry")
    return data


def _decoded(loads: Callable[[bytes], Any], data: bytes) -> Any:
    """``loads(data)`` with cyclic garbage collection paused (then restored as it was): an edition decodes into some
    12,000 lists, all kept, and the collections their allocation triggers would only rescan them (a quarter of the
    decoding time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return loads(data)
    finally:
        if was_enabled:
            gc.enable()


MEMORY_LIMIT = 8192


def remember(memo: dict, key: object, value: T, limit: int = MEMORY_LIMIT) -> T:
    """Store ``value`` in a per-process ``memo`` that is emptied when it holds ``limit`` entries (Excel keeps one
    process for days)."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
