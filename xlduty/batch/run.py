"""A whole batch: read in chunks of whole declarations, compute each chunk (here, or on a Dask cluster), write the
results a chunk at a time. Memory holds a few chunks, whatever the input's size.
"""

from __future__ import annotations

import gc
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from xlduty.batch.chunk import Outcome, compute_chunk
from xlduty.batch.columns import RESULT_COLUMNS, TOTAL_COLUMNS, TOTALS_FILE_COLUMNS, Layout, layout
from xlduty.batch.read import declarations, open_source
from xlduty.batch.write import SUFFIXES, WHY, Writer, kind_of
from xlduty.core.engine import CollectionPaused
from xlduty.core.errors import InputError

CHUNK = 20_000
"""Rows per chunk (a declaration is never cut, so a chunk may hold a few more)."""
COLLECT = 100_000
"""Rows between two collections of the young generations (collection is otherwise paused during a batch)."""


@dataclass
class Summary:
    rows: int = 0
    failed_rows: int = 0
    declarations: int = 0
    failed_declarations: int = 0
    unread: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        out = (f"{self.rows:,} rows in {self.declarations:,} declarations; "
               f"{self.failed_rows:,} rows in error" + (f" ({self.failed_declarations:,} declarations)"
                                                        if self.failed_declarations else ""))
        return out


def run_batch(source_path: str, output: str, *, totals: str | None = None, defaults: dict[str, Any] | None = None,
              encoding: str | None = None, delimiter: str | None = None, chunk: int = CHUNK, engine: str = "local",
              scheduler: str | None = None, workers: int | None = None, progress: bool | None = None) -> Summary:
    """Compute the batch at ``source_path`` into ``output`` (and the declarations' totals into ``totals``); a file
    error or a problem with the input as a whole raises ``InputError`` and leaves no output; a bad row or
    declaration is written with its error and counted."""
    from xlduty.files import check_output, output_file

    kind = kind_of(output)
    totals_kind = kind_of(totals) if totals else None
    suffixes = tuple(SUFFIXES)
    check_output(output, inputs=[source_path], suffixes=suffixes, why=WHY)
    if totals:
        check_output(totals, inputs=[source_path], suffixes=suffixes, why=WHY, outputs=[output])
    source = open_source(source_path, encoding=encoding, delimiter=delimiter)
    lay = layout(source.columns, defaults)
    kept = lay.kept
    columns = [lay.columns[i] for i in kept] + list(RESULT_COLUMNS) + ([] if totals else list(TOTAL_COLUMNS))
    types = None
    if source.types is not None:
        types = {source.columns[i]: source.types.field(i).type for i in kept}
    summary = Summary(unread=lay.unread, replaced=lay.replaced)
    bar = _progress(source.total, progress)
    # Collection paused for the whole run, not only while a chunk computes: the rows read, their results and the
    # output form no cycles, and each collection triggered while reading or writing rescanned every object the
    # chunk before had left young (0.5 s of 4 for 100,000 lines). What is young is collected every COLLECT rows,
    # between chunks, so memory stays bounded even if something made cycles; what is left alive then (the tables
    # and caches the first chunk loaded, a chunk in flight) is frozen, so no pass rescans it (0.12 s a pass), and
    # thawed when the batch is done (unless something else had frozen objects before: the Excel functions freeze
    # the tables for the life of their process).
    with ExitStack() as stack, CollectionPaused():
        if not gc.get_freeze_count():
            stack.callback(gc.unfreeze)
        out = stack.enter_context(output_file(output, inputs=[source_path], suffixes=suffixes, why=WHY))
        writer = Writer(out, columns, kind, types)
        tw = None
        if totals:
            tfh = stack.enter_context(output_file(totals, inputs=[source_path], suffixes=suffixes, why=WHY,
                                                  outputs=[output]))
            tw = Writer(tfh, TOTALS_FILE_COLUMNS, totals_kind)  # type: ignore[arg-type]
        pieces = declarations(source, lay, chunk)
        wanted = tw is not None   # the totals records are written only to a totals file
        outcomes = (_dask(lay, pieces, scheduler, workers, wanted) if engine == "dask" else
                    ((rows, compute_chunk(lay, rows, first, refused, records=wanted))
                     for first, rows, refused in pieces))
        whole = len(kept) == len(lay.columns)
        native = source.kind == "csv"   # a CSV's cells are text, the results' text, ints and None
        young, frozen = 0, False
        for rows, outcome in outcomes:
            if whole and totals is None:   # each row's results appended to it (the rows are read afresh each chunk)
                for r, o in zip(rows, outcome.rows, strict=True):
                    r += o
                merged = rows
            elif whole:
                merged = [[*r, *o[:11]] for r, o in zip(rows, outcome.rows, strict=True)]
            else:
                merged = [[r[i] for i in kept] + list(o if totals is None else o[:11])
                          for r, o in zip(rows, outcome.rows, strict=True)]
            writer.write(merged, native)
            if tw is not None:
                tw.write(outcome.totals)
            _count(summary, outcome)
            if bar is not None:
                bar.update(len(rows))
            young += len(rows)
            del rows, outcome, merged
            if young >= COLLECT or not frozen:
                if frozen:
                    gc.collect(1)
                gc.freeze()
                young, frozen = 0, True
        writer.close()
        if tw is not None:
            tw.close()
    if bar is not None:
        bar.close()
    return summary


def _count(summary: Summary, outcome: Outcome) -> None:
    summary.rows += len(outcome.rows)
    summary.failed_rows += outcome.failed_rows
    summary.declarations += outcome.declarations
    summary.failed_declarations += outcome.failed_declarations


def _progress(total: int | None, show: bool | None) -> Any:
    """A progress bar on stderr when it is a terminal (or when asked); None otherwise. By default the bar is a
    comfort: without tqdm (a slim install) the batch runs without it; asked for (``--progress``), tqdm is needed,
    and its absence is the missing-extra line naming ``xlduty[batch]``."""
    asked = show
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ModuleNotFoundError as exc:
        if not asked:
            return None
        from xlduty.extras import needed_by

        raise needed_by("batch", exc) from None

    return tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, desc="xlduty batch", leave=False)


def _dask(lay: Layout, pieces: Iterator[tuple[int, list, dict]], scheduler: str | None,
          workers: int | None, records: bool = True) -> Iterator[tuple[list, Outcome]]:
    """The chunks computed by ``compute_chunk`` on a Dask cluster (at ``scheduler``, else a LocalCluster of worker
    processes), a few in flight per worker, yielded in input order."""
    from distributed import Client, LocalCluster  # not installed: the missing-extra line naming xlduty[dask]
    with ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout="30s"))
            except OSError as exc:
                raise InputError("scheduler", f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=workers or None, threads_per_worker=1,
                                                       processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        width = max(2, 2 * len(client.scheduler_info().get("workers", {})))
        remote = client.scatter(lay, broadcast=True)
        flight: deque = deque()
        for first, rows, refused in pieces:
            flight.append((rows, client.submit(compute_chunk, remote, rows, first, refused, pure=False,
                                                   records=records)))
            if len(flight) >= width:
                rows0, fut = flight.popleft()
                yield rows0, fut.result()
                fut.release()
        while flight:
            rows0, fut = flight.popleft()
            yield rows0, fut.result()
            fut.release()
