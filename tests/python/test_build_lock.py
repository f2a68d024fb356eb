"""A second build on a database another process holds stops at once with one sentence."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, dbt_build

PLUGIN_FILE = PROJECT_DIR / "dbt_plugins" / "crm_build_lock.py"


def load_plugin():
    spec = importlib.util.spec_from_file_location("crm_build_lock", PLUGIN_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_free_or_missing_database_has_no_holder(tmp_path: Path) -> None:
    plugin = load_plugin()
    assert plugin.lock_holder(str(tmp_path / "new.duckdb")) is None
    assert plugin.lock_holder(":memory:") is None
    existing = tmp_path / "old.duckdb"
    duckdb.connect(str(existing)).close()
    assert plugin.lock_holder(str(existing)) is None


@pytest.mark.dbt
def test_a_build_on_a_held_database_names_the_holder(tmp_path: Path) -> None:
    work = tmp_path / "build"
    work.mkdir()
    # this test process holds the database the build is pointed at, as a second build would
    held = duckdb.connect(str(work / "crm.duckdb"))
    try:
        started = time.monotonic()
        result = dbt_build(work, select="int_datasets_dated")
        elapsed = time.monotonic() - started
    finally:
        held.close()
    assert result.returncode != 0
    assert f"Another process holds the build database {work / 'crm.duckdb'}" in result.output
    assert "(PID " in result.output and "Another dbt build is running on it" in result.output
    assert "Traceback" not in result.output
    print(f"refused after {elapsed:.1f} s")
