"""Shared fixtures: the project's paths and a runner that builds the dbt project in isolation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"
SHARED_DATA_DIR = PROJECT_DIR.parent / "shared" / "data"
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass(frozen=True)
class DbtResult:
    """Outcome of one dbt invocation: exit code, console output and the database it wrote."""

    returncode: int
    output: str
    database: Path

    def query(self, sql: str) -> list[tuple]:
        """Run a read-only query against the database the build wrote."""
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.sql(sql).fetchall()


DbtRunner = Callable[..., DbtResult]


@pytest.fixture
def run_dbt(tmp_path: Path) -> DbtRunner:
    """Run `dbt <command>` on the project with the given vars, into a database under tmp_path.

    Each call uses its own target and log folders, so tests never share dbt state or a
    database file with each other or with `make run`.
    """

    def run(
        vars: dict[str, object] | None = None,
        select: str | None = None,
        command: str = "build",
        extra: list[str] | None = None,
    ) -> DbtResult:
        database = tmp_path / "crm.duckdb"
        args = [
            DBT,
            command,
            "--profiles-dir",
            str(PROJECT_DIR),
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ]
        if vars:
            args += ["--vars", json.dumps(vars)]
        if select:
            args += ["--select", select]
        args += extra or []
        env = {
            **os.environ,
            "CRM_DUCKDB_PATH": str(database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        completed = subprocess.run(
            args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
        )
        return DbtResult(completed.returncode, completed.stdout + completed.stderr, database)

    return run


@pytest.fixture
def shared_data() -> Path:
    """The real data sets beside the project (../shared/data); fails loudly when absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.fail(f"real data not found at {SHARED_DATA_DIR}: clone the project beside shared/")
    return SHARED_DATA_DIR
