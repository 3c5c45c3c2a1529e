"""Batches at a broker's scale: one row per declaration line, from CSV or Parquet, computed a chunk at a time, each
bad row or declaration reported in its own ``error`` cell while the rest compute.

An adapter above the core: it turns rows into declarations of the ``xlduty compute`` contract and calls the core's
public API (``xlduty.core.engine``). ``xlduty batch`` (``cli.py``) runs it on files, here or on a Dask cluster
(``run.py``); ``compute_frame`` runs the same chunk function (``chunk.py``) on a pandas or Arrow frame, from Spark or
Dask.
"""

from __future__ import annotations

from typing import Any

from xlduty.batch.columns import JAPANESE, RESULT_COLUMNS, TOTAL_COLUMNS

RESULT_DDL = ("duty long, national_ct long, local_ct long, consumption_tax long, excise long, total long, "
              "rate string, rate_column string, treatment string, warnings string, error string")
"""The result columns as a Spark DDL schema (append it to the input's for ``applyInPandas``)."""
TOTALS_DDL = ", ".join(f"{c} long" for c in TOTAL_COLUMNS)


def compute_frame(frame: Any, *, date: Any = None, simplified: str | None = None,
                  personal_use: bool | None = None, fx_rates: str | dict | None = None,
                  tariff_edition: str | None = None, pork_emergency: bool | None = None,
                  totals: bool = True) -> Any:
    """``frame`` (a pandas DataFrame or a pyarrow Table, one row per declaration line, the columns of ``xlduty
    batch``) with the result columns appended: ``duty … error`` and, with ``totals``, the declaration totals on each
    declaration's first row. Rows sharing a ``declaration`` form one declaration, in frame order (they need not be
    together); the keyword arguments give the declaration fields the frame has no column for (``pork_emergency``:
    whether 暫定法7条の6 is in force on the date). Never raises for a bad row: its ``error`` says why; a bad keyword
    argument raises ``InputError`` naming it, before any row is read."""
    from xlduty.batch.chunk import compute_chunk
    from xlduty.batch.columns import declared, layout

    defaults = declared(date=date, simplified=simplified, personal_use=personal_use, fx_rates=fx_rates,
                        tariff_edition=tariff_edition, pork_emergency=pork_emergency)
    arrow = type(frame).__module__.startswith("pyarrow")
    if arrow:
        columns = [str(c) for c in frame.column_names]
        data = [c.to_pylist() for c in frame.columns]
        rows = [list(r) for r in zip(*data, strict=True)] if data else []
    else:
        columns = [str(c) for c in frame.columns]
        rows = list(frame.itertuples(index=False, name=None))
    lay = layout(columns, defaults)
    outcome = compute_chunk(lay, rows, records=False)   # the totals it appends are on each declaration's first row
    names = list(RESULT_COLUMNS) + (list(TOTAL_COLUMNS) if totals else [])
    results = list(zip(*outcome.rows, strict=True)) if rows else [() for _ in range(17)]
    if arrow:
        import pyarrow as pa

        out = frame.select(lay.kept) if lay.dropped else frame
        for j, name in enumerate(names):
            typ = pa.string() if name in ("rate", "rate_column", "treatment", "warnings", "error") else pa.int64()
            out = out.append_column(name, pa.array(list(results[j]), type=typ))
        return out
    import pandas as pd

    out = frame.iloc[:, lay.kept].copy() if lay.dropped else frame.copy()
    for j, name in enumerate(names):
        text = name in ("rate", "rate_column", "treatment", "warnings", "error")
        out[name] = pd.Series(list(results[j]), index=frame.index, dtype=object if text else "Int64")
    return out


__all__ = ["JAPANESE", "RESULT_COLUMNS", "RESULT_DDL", "TOTALS_DDL", "TOTAL_COLUMNS", "compute_frame"]
