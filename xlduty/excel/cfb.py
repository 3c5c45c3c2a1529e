"""A minimal, deterministic writer of MS-CFB (Compound File Binary) version 3 files.

Only what a ``vbaProject.bin`` needs: storages and streams given as paths, 512-byte sectors, a FAT
whose sector list fits in the header DIFAT (109 FAT sectors, about 7 MB), and a mini stream for
streams under the 4,096-byte cutoff. Every byte is a function of the input: timestamps, CLSIDs and
state bits are zero and the directory is laid out in MS-CFB name order, so the same entries always
give the same file.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR_SIZE = 512  # version 3: sector shift 9 (MS-CFB 2.2)
MINI_SECTOR_SIZE = 64  # mini sector shift 6 (MS-CFB 2.2)
MINI_STREAM_CUTOFF = 4096  # streams strictly smaller than this live in the mini stream (MS-CFB 2.2)
DIR_ENTRY_SIZE = 128  # MS-CFB 2.6.1
HEADER_DIFAT_ENTRIES = 109  # MS-CFB 2.2: DIFAT array in the header

# Special sector numbers (MS-CFB 2.1).
FATSECT = 0xFFFFFFFD
ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF  # MS-CFB 2.6.1: no sibling / child

# Object types and colours of directory entries (MS-CFB 2.6.1).
_UNALLOCATED, _STORAGE, _STREAM, _ROOT = 0x00, 0x01, 0x02, 0x05
_RED, _BLACK = 0x00, 0x01

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_ILLEGAL_NAME_CHARS = frozenset("/\\:!")  # MS-CFB 2.6.1: not allowed in a directory entry name


@dataclass
class _Node:
    """One directory entry while the tree is being laid out."""

    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Node] = field(default_factory=dict)  # keyed by the upper-cased name
    index: int = -1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def name_key(name: str) -> tuple[int, tuple[int, ...]]:
    """Sort key of a directory entry name (MS-CFB 2.6.4): shorter names first, then code unit by code unit
    after upper-casing. Upper-casing is per character so that it never changes the length."""
    units = name.encode("utf-16-le")
    folded = "".join(c.upper() if len(c.upper()) == 1 else c for c in name).encode("utf-16-le")
    return len(units) // 2, struct.unpack(f"<{len(folded) // 2}H", folded)


def _check_name(name: str, path: str) -> None:
    """Entry names are at most 31 UTF-16 code units and avoid / \\ : ! (MS-CFB 2.6.1)."""
    if not name:
        raise ValueError(f"empty name in compound file path {path!r}")
    if len(name.encode("utf-16-le")) // 2 > 31:
        raise ValueError(f"compound file entry name {name!r} is longer than 31 UTF-16 code units")
    if _ILLEGAL_NAME_CHARS & set(name) or any(ord(c) < 0x20 for c in name):
        raise ValueError(f"compound file entry name {name!r} has a character MS-CFB forbids (/ \\ : ! or control)")


def _build_tree(entries: Mapping[str, bytes]) -> _Node:
    """Storages are implied by the paths; names are unique per storage, case-insensitively (MS-CFB 2.6.4)."""
    root = _Node("Root Entry", _ROOT)
    for path, data in entries.items():
        parts = path.split("/")
        for part in parts:
            _check_name(part, path)
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            key = part.upper()
            existing = node.children.get(key)
            if existing is None:
                # A storage's start sector and size stay zero (MS-CFB 2.6.1).
                existing = _Node(part, _STREAM, bytes(data)) if last else _Node(part, _STORAGE, start=0)
                node.children[key] = existing
            elif last or existing.kind != _STORAGE:
                raise ValueError(f"compound file path {path!r} clashes with another entry")
            node = existing
    return root


def _colour_subtree(nodes: list[_Node], depth: int, out: list[tuple[_Node, int]]) -> _Node | None:
    """Balanced binary search tree over ``nodes`` (already in name order), recording each node's depth."""
    if not nodes:
        return None
    mid = len(nodes) // 2
    node = nodes[mid]
    out.append((node, depth))
    left = _colour_subtree(nodes[:mid], depth + 1, out)
    right = _colour_subtree(nodes[mid + 1:], depth + 1, out)
    node.left = left.index if left else NOSTREAM
    node.right = right.index if right else NOSTREAM
    return node


def _link_children(storage: _Node) -> None:
    """Make the storage's children a red-black tree (MS-CFB 2.6.4).

    Splitting at the middle gives a tree whose levels are all full except perhaps the deepest, so
    every path from the root to a leaf has the same number of black nodes when all nodes are black
    except those on an incomplete deepest level, which are red (their parents are black).
    """
    ordered = sorted(storage.children.values(), key=lambda n: name_key(n.name))
    depths: list[tuple[_Node, int]] = []
    top = _colour_subtree(ordered, 0, depths)
    storage.child = top.index if top else NOSTREAM
    if not depths:
        return
    deepest = max(d for _, d in depths)
    full = len(ordered) == 2 ** (deepest + 1) - 1
    for node, depth in depths:
        node.color = _RED if depth == deepest and not full else _BLACK


def _number(root: _Node) -> list[_Node]:
    """Directory order: the root, then breadth-first, each storage's children in name order."""
    root.index = 0
    order = [root]
    queue = [root]
    while queue:
        storage = queue.pop(0)
        for child in sorted(storage.children.values(), key=lambda n: name_key(n.name)):
            child.index = len(order)
            order.append(child)
            if child.kind == _STORAGE:
                queue.append(child)
    return order


def _dir_entry(node: _Node | None) -> bytes:
    """A 128-byte directory entry (MS-CFB 2.6.1); ``None`` gives an unallocated (free) entry."""
    if node is None:
        return b"\x00" * 64 + struct.pack("<HBBIII", 0, _UNALLOCATED, _RED, NOSTREAM, NOSTREAM, NOSTREAM) + b"\x00" * 48
    name = node.name.encode("utf-16-le") + b"\x00\x00"
    return (
        name.ljust(64, b"\x00")
        + struct.pack("<HBBIII", len(name), node.kind, node.color, node.left, node.right, node.child)
        + b"\x00" * 16  # CLSID
        + struct.pack("<I", 0)  # state bits
        + struct.pack("<QQ", 0, 0)  # creation and modified time: zero for reproducible output
        + struct.pack("<IQ", node.start, node.size)
    )


def _pad(data: bytes, unit: int) -> bytes:
    return data + b"\x00" * (-len(data) % unit)


def build_compound_file(entries: Mapping[str, bytes]) -> bytes:
    """A version 3 compound file holding ``entries`` (``"PROJECT"``, ``"VBA/dir"`` …: ``/`` separates storages).

    Layout, in sector order: FAT sectors, mini FAT, directory, mini stream, then each large stream.
    """
    root = _build_tree(entries)
    order = _number(root)
    for node in order:
        if node.kind in (_ROOT, _STORAGE):
            _link_children(node)

    streams = [n for n in order if n.kind == _STREAM]
    small = [n for n in streams if len(n.data) < MINI_STREAM_CUTOFF]
    large = [n for n in streams if len(n.data) >= MINI_STREAM_CUTOFF]

    # Mini stream and mini FAT (MS-CFB 2.4): each small stream is a chain of 64-byte mini sectors.
    mini_stream = bytearray()
    mini_fat: list[int] = []
    for node in small:
        node.size = len(node.data)
        if not node.data:
            node.start = ENDOFCHAIN
            continue
        first = len(mini_stream) // MINI_SECTOR_SIZE
        count = -(-len(node.data) // MINI_SECTOR_SIZE)
        mini_fat.extend(range(first + 1, first + count))
        mini_fat.append(ENDOFCHAIN)
        mini_stream += _pad(node.data, MINI_SECTOR_SIZE)
        node.start = first

    per_sector = SECTOR_SIZE // 4
    mini_fat += [FREESECT] * (-len(mini_fat) % per_sector)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    dir_slots = len(order) + -len(order) % (SECTOR_SIZE // DIR_ENTRY_SIZE)

    # Regions after the FAT, in order; each is a contiguous chain of sectors.
    sizes = [len(mini_fat_bytes), dir_slots * DIR_ENTRY_SIZE, len(_pad(bytes(mini_stream), SECTOR_SIZE))]
    sizes += [len(_pad(n.data, SECTOR_SIZE)) for n in large]
    body_sectors = sum(size // SECTOR_SIZE for size in sizes)

    fat_sectors = 1
    while fat_sectors * per_sector < fat_sectors + body_sectors:
        fat_sectors += 1
    if fat_sectors > HEADER_DIFAT_ENTRIES:
        raise ValueError("compound file too large for a header-only DIFAT (109 FAT sectors)")

    fat: list[int] = [FATSECT] * fat_sectors
    starts: list[int] = []
    for size in sizes:
        count = size // SECTOR_SIZE
        first = len(fat)
        starts.append(first if count else ENDOFCHAIN)
        fat.extend(range(first + 1, first + count))
        if count:
            fat.append(ENDOFCHAIN)
    fat += [FREESECT] * (fat_sectors * per_sector - len(fat))

    mini_fat_start, dir_start, mini_stream_start = starts[0], starts[1], starts[2]
    for node, start in zip(large, starts[3:], strict=True):
        node.start, node.size = start, len(node.data)
    root.start = mini_stream_start if mini_stream else ENDOFCHAIN
    root.size = len(mini_stream)
    directory = b"".join(_dir_entry(n) for n in order) + _dir_entry(None) * (dir_slots - len(order))
    regions = [mini_fat_bytes, directory, _pad(bytes(mini_stream), SECTOR_SIZE)]
    regions += [_pad(n.data, SECTOR_SIZE) for n in large]

    difat = list(range(fat_sectors)) + [FREESECT] * (HEADER_DIFAT_ENTRIES - fat_sectors)
    header = (
        _SIGNATURE
        + b"\x00" * 16  # header CLSID
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)  # minor, major 3, byte order, sector shifts
        + b"\x00" * 6
        + struct.pack("<II", 0, fat_sectors)  # directory sectors (0 in version 3), FAT sectors
        + struct.pack("<II", dir_start, 0)  # first directory sector, transaction signature
        + struct.pack("<I", MINI_STREAM_CUTOFF)
        + struct.pack("<II", mini_fat_start, len(mini_fat_bytes) // SECTOR_SIZE)
        + struct.pack("<II", ENDOFCHAIN, 0)  # no DIFAT sectors
        + struct.pack(f"<{HEADER_DIFAT_ENTRIES}I", *difat)
    )
    return header + struct.pack(f"<{len(fat)}I", *fat) + b"".join(regions)
