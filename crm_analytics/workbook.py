"""Read the Online Retail II ``.xlsx`` workbook into text columns.

DuckDB cannot download its excel extension in this project's environments, so the workbook is
read here (python-calamine) and handed to dbt as a table. Every sheet is read; the rows keep
their sheet name and 1-based row number so that the SQL layer can set aside the lines that the
two yearly sheets share (2010-12-01..2010-12-09) instead of counting them twice.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa

from crm_analytics.schemas import ONLINE_RETAIL_II_COLUMNS

META_COLUMNS: tuple[str, ...] = ("source_file", "source_sheet", "source_row_number")


class WorkbookError(ValueError):
    """A workbook that cannot be read as invoice lines; the message names file and sheet."""


def cell_to_text(value: object) -> str | None:
    """Render one cell as the text a CSV export of the sheet would hold.

    Empty cells become ``None``; whole floats lose their ``.0`` (Excel stores every number as
    a float, so customer 12346 arrives as 12346.0); timestamps use ISO ``YYYY-MM-DD HH:MM:SS``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def sheet_to_table(rows: Sequence[Sequence[object]], source_file: str, sheet_name: str) -> pa.Table:
    """Turn one sheet (header row first) into a table of text columns plus source columns.

    Raises ``WorkbookError`` when the sheet has no header or two columns share a name.
    """
    if not rows or all(cell_to_text(cell) is None for cell in rows[0]):
        raise WorkbookError(f"{source_file}, sheet '{sheet_name}': the sheet has no header row.")
    header = [cell_to_text(cell) or f"column_{i + 1}" for i, cell in enumerate(rows[0])]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise WorkbookError(
            f"{source_file}, sheet '{sheet_name}': column(s) {', '.join(duplicates)} "
            "appear more than once in the header."
        )
    width = len(header)
    data = [row for row in rows[1:] if any(cell_to_text(cell) is not None for cell in row)]
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    for row in data:
        padded = list(row[:width]) + [None] * (width - len(row))
        for name, cell in zip(header, padded, strict=True):
            columns[name].append(cell_to_text(cell))
    arrays = {name: pa.array(values, type=pa.string()) for name, values in columns.items()}
    arrays["source_file"] = pa.array([source_file] * len(data), type=pa.string())
    arrays["source_sheet"] = pa.array([sheet_name] * len(data), type=pa.string())
    arrays["source_row_number"] = pa.array(range(1, len(data) + 1), type=pa.int64())
    return pa.table(arrays)


def concat_sheets(tables: Iterable[pa.Table]) -> pa.Table:
    """Stack sheet tables; columns missing from a sheet are filled with nulls."""
    return pa.concat_tables(list(tables), promote_options="default")


def empty_workbook_lines() -> pa.Table:
    """The workbook table's schema with no rows (used when the input is not a workbook)."""
    names = [*ONLINE_RETAIL_II_COLUMNS, *META_COLUMNS]
    types = [pa.string()] * (len(names) - 1) + [pa.int64()]
    return pa.table({n: pa.array([], type=t) for n, t in zip(names, types, strict=True)})


def read_workbook_lines(path: str | Path) -> pa.Table:
    """Read every sheet of an ``.xlsx`` workbook as text columns.

    Returns one row per non-empty data row of every sheet, in sheet order, with
    ``source_file``, ``source_sheet`` and ``source_row_number`` (1-based, data rows only).
    Raises ``WorkbookError`` naming the file when it is missing, unreadable or has no rows.
    """
    from python_calamine import CalamineWorkbook

    source_file = str(path)
    if not Path(path).is_file():
        raise WorkbookError(f"{source_file}: no such workbook file.")
    try:
        workbook = CalamineWorkbook.from_path(source_file)
    except Exception as error:  # calamine raises several error types for broken files
        raise WorkbookError(
            f"{source_file}: cannot be read as an .xlsx workbook ({error})."
        ) from error
    tables = []
    for sheet_name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        if not rows:
            continue
        tables.append(sheet_to_table(rows, source_file, sheet_name))
    if not tables or sum(table.num_rows for table in tables) == 0:
        raise WorkbookError(f"{source_file}: the workbook has no data rows.")
    return concat_sheets(tables)
