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


class _Lane:
    """Whether the test being set up or run carries the ``dbt`` marker (set by the hook below).

    `make test-fast` runs ``pytest -m "not dbt"``: a test that starts dbt without the marker
    would slip into that lane, so `dbt_build` refuses to run for it.
    """

    dbt_marked = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _Lane.dbt_marked = item.get_closest_marker("dbt") is not None


def dbt_build(
    work_dir: Path,
    vars: dict[str, object] | None = None,
    select: str | None = None,
    command: str = "build",
    extra: list[str] | None = None,
) -> DbtResult:
    """Run `dbt <command>` on the project with `vars`, into a database under `work_dir`.

    Every call has its own target and log folders and database file, so builds never share
    dbt state or a database with each other or with `make run`. Module-scoped fixtures call
    this with a folder from tmp_path_factory to share one build between tests.
    """
    if not _Lane.dbt_marked:
        raise RuntimeError(
            "this test runs dbt but has no dbt marker: add `pytestmark = pytest.mark.dbt` to its "
            "module (or @pytest.mark.dbt to the test), so `make test-fast` leaves it out"
        )
    database = work_dir / "crm.duckdb"
    args = [
        DBT,
        command,
        "--profiles-dir",
        str(PROJECT_DIR),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
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
        # with --select, run a test only when every model it reads was selected: the
        # reconciliation test reads the quarantine marts, which a partial build may leave out
        "DBT_INDIRECT_SELECTION": "buildable",
    }
    # `make test` runs two test modules at once (pytest-xdist): two builds, each with the
    # profile's 3GB DuckDB limit unless the caller sets CRM_DUCKDB_MEMORY_LIMIT
    completed = subprocess.run(
        args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    return DbtResult(completed.returncode, completed.stdout + completed.stderr, database)


@pytest.fixture
def run_dbt(tmp_path: Path) -> DbtRunner:
    """`dbt_build` into this test's tmp_path."""

    def run(
        vars: dict[str, object] | None = None,
        select: str | None = None,
        command: str = "build",
        extra: list[str] | None = None,
    ) -> DbtResult:
        return dbt_build(tmp_path, vars, select, command, extra)

    return run


@pytest.fixture
def shared_data() -> Path:
    """The real data sets beside the project (../shared/data); fails loudly when absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.fail(f"real data not found at {SHARED_DATA_DIR}: clone the project beside shared/")
    return SHARED_DATA_DIR
