"""The `parquet_table` materialization (macros/cross_db/parquet_table.sql) on a tiny dbt project.

The project's SQL tables built from the invoice lines with a row per customer or more (the line
table, rfm_monthly, the orders, the customer-months, the customer marts) are Parquet files
beside the database, read through a view. A public mart among them must keep its contract: the
build fails when the query's columns, or the view's once written, do not match the YAML; the
file holds the columns in the YAML's order; and a declared constraint, which Parquet cannot
enforce, is refused rather than ignored.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import DBT, PROJECT_DIR

pytestmark = pytest.mark.dbt

PROJECT_YML = """
name: parquet_table_check
version: "1.0"
profile: parquet_table_check
macro-paths: ["macros"]
model-paths: ["models"]
"""

PROFILES_YML = """
parquet_table_check:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{database}"
      threads: 1
"""

# the query lists `label` before `amount`; the contract lists them the other way round
MODEL_SQL = "select 'a' as label, cast(amount as bigint) as amount from range(3) as t(amount)\n"

MODEL_YML = """
models:
  - name: contracted
    config:
      materialized: parquet_table
      contract: {{enforced: true}}
    columns:
      - name: amount
        data_type: {amount_type}
{amount_constraints}
      - name: label
        data_type: varchar
"""


def make_project(
    folder: Path, amount_type: str = "bigint", constraints: str = "", model_sql: str = MODEL_SQL
) -> Path:
    """A dbt project with the real project's macros and one contracted parquet_table model."""
    project = folder / "project"
    (project / "models").mkdir(parents=True)
    shutil.copytree(PROJECT_DIR / "macros", project / "macros")
    (project / "dbt_project.yml").write_text(PROJECT_YML, encoding="utf-8")
    (project / "profiles.yml").write_text(
        PROFILES_YML.format(database=folder / "check.duckdb"), encoding="utf-8"
    )
    (project / "models" / "contracted.sql").write_text(model_sql, encoding="utf-8")
    (project / "models" / "_models.yml").write_text(
        MODEL_YML.format(amount_type=amount_type, amount_constraints=constraints), encoding="utf-8"
    )
    return project


def run(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DBT, "run", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_contracted_parquet_table_is_written_in_the_contract_order(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    completed = run(project)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    parquet = tmp_path / "check.duckdb.contracted.parquet"
    assert parquet.is_file()
    with duckdb.connect(str(tmp_path / "check.duckdb"), read_only=True) as connection:
        kind = connection.execute(
            "select table_type from information_schema.tables where table_name = 'contracted'"
        ).fetchall()
        assert kind == [("VIEW",)]
        described = connection.execute("describe contracted").fetchall()
        assert [(row[0], row[1]) for row in described] == [
            ("amount", "BIGINT"),
            ("label", "VARCHAR"),
        ]
        assert connection.execute("select * from contracted order by amount").fetchall() == [
            (0, "a"),
            (1, "a"),
            (2, "a"),
        ]
    with duckdb.connect() as memory:
        columns = memory.execute(
            "describe select * from read_parquet(?)", [str(parquet)]
        ).fetchall()
    assert [row[0] for row in columns] == ["amount", "label"]


def test_a_parquet_table_whose_query_breaks_the_contract_fails(tmp_path: Path) -> None:
    completed = run(make_project(tmp_path, amount_type="varchar"))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "This model has an enforced contract that failed" in output
    assert "data type mismatch" in output
    assert not (tmp_path / "check.duckdb.contracted.parquet").exists()


def test_a_parquet_table_refuses_a_constraint_it_cannot_enforce(tmp_path: Path) -> None:
    constraints = "        constraints:\n          - type: not_null"
    completed = run(make_project(tmp_path, constraints=constraints))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "declares constraints not_null: a Parquet file cannot enforce them" in output
    assert not (tmp_path / "check.duckdb.contracted.parquet").exists()


def test_a_type_that_parquet_does_not_keep_fails_the_contract_on_the_view(tmp_path: Path) -> None:
    # the query's HUGEINT matches the contract, but DuckDB writes it to Parquet as a double
    model_sql = "select 'a' as label, cast(amount as hugeint) as amount from range(3) t(amount)\n"
    completed = run(make_project(tmp_path, amount_type="hugeint", model_sql=model_sql))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "This model has an enforced contract that failed" in output
    assert "data type mismatch" in output
