"""A dbt-duckdb plugin that turns "another process holds the database" into one sentence.

DuckDB lets one process write a database file. A second `dbt build` on the same file, or a
`dbt build` while a tool holds the file open, used to end in a Python traceback from deep inside
the adapter. dbt-duckdb calls `update_connection_config` of every plugin in the profile just
before it opens the database; this plugin tries the lock there, and when another process holds
it raises a RuntimeError, which dbt-duckdb reports as a clean connection failure:

    Another process holds the build database crm.duckdb: (DuckDB: Conflicting lock is held in
    .../python3.11 (PID 1234)). Another dbt build is running on it, or a tool has it open ...

Why this lives outside `crm_analytics`: the package is plain Python with no dbt imports (the dbt
Python models call it), while a dbt-duckdb plugin must subclass the adapter's BasePlugin.
profiles.yml names the module (`plugins`); `make setup` installs it with the package.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

LOCK_MESSAGE = re.compile(r"Conflicting lock is held in (?P<holder>.+)", re.IGNORECASE)


def lock_holder(path: str) -> str | None:
    """Who holds the write lock of the DuckDB file `path` ("<program> (PID n)"), or None.

    Opens the file for writing and closes it at once. A file that does not exist yet is free
    (DuckDB creates it, as dbt would); ':memory:' is always free.
    """
    if not path or path == ":memory:":
        return None
    try:
        duckdb.connect(path, read_only=False).close()
    except duckdb.IOException as error:
        match = LOCK_MESSAGE.search(str(error))
        if match is None:
            raise
        return match.group("holder").split(". See also")[0].strip()
    return None


class Plugin(BasePlugin):
    """Fails fast, in one sentence, when the profile's database is locked by another process."""

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        holder = lock_holder(str(creds.path))
        if holder is not None:
            raise RuntimeError(
                f"Another process holds the build database {creds.path} (DuckDB: conflicting "
                f"lock held in {holder}). Another dbt build is running on it, or a tool has it "
                "open: wait for it to finish or close it, or build into another file with "
                "CRM_DUCKDB_PATH."
            )
