"""Evaluation order: groups of copies first (one box per reference covers every copy), cells only where
groups depend on each other in a loop, and then a loop between cells is a circular reference.

Both levels use Tarjan's strongly connected components (iteratively: sheets have 10,000s of cells). With
edges from each node to what it reads, the components come out in an order where everything a component
reads is already done.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence


class CycleError(ValueError):
    """A circular reference; ``cells`` names the cells in the loop."""

    def __init__(self, cells: list[str]) -> None:
        shown = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
        super().__init__(f"circular reference between {shown}")
        self.cells = cells


class Index:
    """Where formula-owned cells are: per sheet and column, the sorted rows and the owning cell's id."""

    def __init__(self, owned: Iterable[tuple[int, int, int, int]]) -> None:
        by: dict[int, dict[int, list[tuple[int, int]]]] = {}
        for sheet, row, col, owner in owned:
            by.setdefault(sheet, {}).setdefault(col, []).append((row, owner))
        self._cols: dict[int, tuple[list[int], dict[int, tuple[list[int], list[int]]]]] = {}
        for sheet, cols in by.items():
            table = {}
            for col, items in cols.items():
                items.sort()
                table[col] = ([r for r, _ in items], [o for _, o in items])
            self._cols[sheet] = (sorted(table), table)

    def hits(self, sheet: int, r1: int, c1: int, r2: int, c2: int) -> Iterator[int]:
        """Owners of the cells in the box (an owner may come more than once)."""
        found = self._cols.get(sheet)
        if found is None:
            return
        cols, table = found
        for i in range(bisect_left(cols, c1), bisect_right(cols, c2)):
            rows, owners = table[cols[i]]
            yield from owners[bisect_left(rows, r1): bisect_right(rows, r2)]


def components(nodes: int, deps: Callable[[int], Iterable[int]]) -> list[list[int]]:
    """Strongly connected components of nodes 0..nodes-1, each after every component it depends on."""
    index = [-1] * nodes
    low = [0] * nodes
    on_stack = [False] * nodes
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(nodes):
        if index[root] != -1:
            continue
        work: list[tuple[int, Iterator[int]]] = [(root, iter(deps(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, iter(deps(w))))
                    pushed = True
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            if pushed:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def order(groups: int, group_deps: Sequence[set[int]], cells_of: Callable[[int], list[int]],
          cell_deps: Callable[[int, set[int]], set[int]], label: Callable[[int], str]) -> list[tuple[str, list[int]]]:
    """Steps to evaluate: ("group", [g]) runs a whole group; ("cells", [c, …]) runs cells one by one.

    ``cell_deps(cell, among)`` gives the cells among ``among`` (ids) that ``cell`` reads.
    """
    steps: list[tuple[str, list[int]]] = []
    for comp in components(groups, lambda g: group_deps[g]):
        if len(comp) == 1 and comp[0] not in group_deps[comp[0]]:
            steps.append(("group", comp))
            continue
        cells = [c for g in comp for c in cells_of(g)]
        among = set(cells)
        local = {c: i for i, c in enumerate(cells)}
        edges = [[local[d] for d in cell_deps(c, among)] for c in cells]
        run: list[int] = []
        for sub in components(len(cells), edges.__getitem__):
            if len(sub) > 1 or sub[0] in edges[sub[0]]:
                raise CycleError(sorted(label(cells[i]) for i in sub))
            run.append(cells[sub[0]])
        steps.append(("cells", run))
    return steps
