"""Reads the transactions input when it is an .xlsx workbook (every sheet, as text).

DuckDB cannot read .xlsx here without downloading an extension, so this model does it with the
project's package. For any other input it returns an empty table with the same columns.
"""

from crm_analytics.workbook import empty_workbook_lines, read_workbook_lines


def model(dbt, session):
    dbt.config(materialized="table")
    # a plain statement: dbt only registers config.get calls it can see when parsing the model
    path = dbt.config.get("transactions_path")
    path = (path or "").strip()
    if not path.lower().endswith(".xlsx"):
        return empty_workbook_lines()
    return read_workbook_lines(path)
