"""Publishing the public marts for BI tools (crm_analytics.publish).

Unit tests run on a small DuckDB file and a hand-written dbt manifest. The concurrency tests run
reader processes that query the published outputs in a loop while new publications replace
them: a fast one publishes a small database thirty times, the `dbt` one builds the project's
sample three times (the build database stays writable while the readers hold the published
file open) and publishes after each build. Every answer a reader gets must come from one
complete publication.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import DBT, PROJECT_DIR, dbt_build

from crm_analytics import publish as pub

# A reader process, written to a file and run with this interpreter. Modes:
#   loop: every iteration opens published/crm.duckdb read-only, reads `publication` and counts
#         every mart in ONE connection, closes it; then resolves published/parquet once and
#         counts every Parquet file listed in that folder's manifest.json.
#   hold: one connection opened at the start and never closed (a dashboard that never
#         reconnects); every iteration must see the same publication.
# One JSON line per iteration; it stops on the stop file, the deadline or max iterations.
READER = r"""
import argparse, json, os, sys, time, traceback
import duckdb

parser = argparse.ArgumentParser()
parser.add_argument("--published", required=True)
parser.add_argument("--results", required=True)
parser.add_argument("--stop", required=True)
parser.add_argument("--mode", choices=["loop", "hold"], required=True)
parser.add_argument("--deadline", type=float, required=True)
parser.add_argument("--max-iterations", type=int, required=True)
parser.add_argument("--pause", type=float, default=0.02)
args = parser.parse_args()
database = os.path.join(args.published, "crm.duckdb")
link = os.path.join(args.published, "parquet")


def read_database(connection):
    publication = connection.execute(
        "select build_id, mart, row_count from publication"
    ).fetchall()
    build_ids = sorted({row[0] for row in publication})
    expected = {mart: rows for _, mart, rows in publication}
    counts = {
        mart: connection.execute(f'select count(*) from "{mart}"').fetchone()[0]
        for mart in expected
    }
    problems = []
    if len(build_ids) != 1:
        problems.append(f"publication holds {len(build_ids)} build ids: {build_ids}")
    if counts != expected:
        problems.append(f"counts {counts} != publication {expected}")
    return (build_ids[0] if build_ids else None), counts, problems


def read_parquet(memory):
    folder = os.path.realpath(link)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    counts = {}
    for mart in manifest["row_counts"]:
        path = os.path.join(folder, f"{mart}.parquet").replace("'", "''")
        counts[mart] = memory.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    problems = []
    if counts != manifest["row_counts"]:
        problems.append(f"parquet counts {counts} != manifest {manifest['row_counts']}")
    return manifest["build_id"], counts, problems


memory = duckdb.connect()
held = duckdb.connect(database, read_only=True) if args.mode == "hold" else None
deadline = time.monotonic() + args.deadline
with open(args.results, "a", encoding="utf-8") as results:
    for iteration in range(args.max_iterations):
        if os.path.exists(args.stop) or time.monotonic() > deadline:
            break
        record = {"mode": args.mode, "iteration": iteration, "time": time.time(), "error": None}
        try:
            if held is not None:
                record["build_id"], record["counts"], problems = read_database(held)
            else:
                connection = duckdb.connect(database, read_only=True)
                try:
                    record["build_id"], record["counts"], problems = read_database(connection)
                finally:
                    connection.close()
                parquet = read_parquet(memory)
                record["parquet_build_id"], record["parquet_counts"], more = parquet
                problems += more
            if problems:
                record["error"] = "inconsistent: " + "; ".join(problems)
        except Exception as error:
            record["error"] = f"{type(error).__name__}: {error}"
            record["traceback"] = traceback.format_exc()
        results.write(json.dumps(record) + "\n")
        results.flush()
        time.sleep(args.pause)
"""


@dataclass
class Reader:
    process: subprocess.Popen
    results: Path

    def records(self) -> list[dict]:
        if not self.results.exists():
            return []
        lines = self.results.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def start_reader(
    tmp_path: Path, published: Path, mode: str, deadline: float = 120, max_iterations: int = 20_000
) -> Reader:
    script = tmp_path / "reader.py"
    if not script.exists():
        script.write_text(READER, encoding="utf-8")
    results = tmp_path / f"reader-{mode}.jsonl"
    args = [sys.executable, str(script), "--published", str(published)]
    args += ["--results", str(results), "--stop", str(tmp_path / "stop"), "--mode", mode]
    args += ["--deadline", str(deadline), "--max-iterations", str(max_iterations)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return Reader(process, results)


def wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def stop_readers(tmp_path: Path, readers: list[Reader]) -> None:
    (tmp_path / "stop").touch()
    for reader in readers:
        try:
            output, _ = reader.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            reader.process.kill()
            output, _ = reader.process.communicate()
        assert reader.process.returncode == 0, f"reader failed:\n{output}"


def assert_consistent(
    loop: list[dict], hold: list[dict], expected: dict[str, dict[str, int]], minimum: int
) -> None:
    """Every reader answer is one complete publication: the one its build id names."""
    failures = [record for record in loop + hold if record["error"]]
    assert not failures, f"{len(failures)} failed reads, first: {failures[0]}"
    assert len(loop) >= minimum, f"only {len(loop)} reader iterations"
    assert len(hold) >= minimum, f"only {len(hold)} held-connection iterations"
    for record in loop:
        assert record["counts"] == expected[record["build_id"]], record
        assert record["parquet_counts"] == expected[record["parquet_build_id"]], record
    seen = {record["build_id"] for record in loop}
    assert len(seen) >= 2, f"the reader saw only {seen}"
    assert len({record["parquet_build_id"] for record in loop}) >= 2
    # a connection held open keeps its snapshot, whatever is published meanwhile
    assert len({record["build_id"] for record in hold}) == 1
    for record in hold:
        assert record["counts"] == expected[record["build_id"]], record


# --- a small build database and manifest -----------------------------------------------------


def model_node(name: str, path: str, resource_type: str = "model") -> tuple[str, dict]:
    unique_id = f"{resource_type}.crm_analytics.{name}"
    node = {
        "name": name,
        "resource_type": resource_type,
        "original_file_path": path,
        "schema": "main",
        "alias": name,
        "config": {"materialized": "table"},
    }
    if resource_type == "model":
        # as dbt_project.yml configures it: models under models/marts/ are public
        node["access"] = "public" if path.startswith("models/marts/") else "protected"
    return unique_id, node


def write_manifest(folder: Path) -> Path:
    nodes = dict(
        [
            model_node("orders", "models/marts/crm/orders.sql"),
            model_node("customers", "models/marts/crm/customers.sql"),
            model_node("datasets", "models/marts/core/datasets.sql"),
            model_node("cltv_validation_holdout", "models/marts/cltv/cltv_validation_holdout.sql"),
            model_node(
                "int_orders_aggregated", "models/intermediate/crm/int_orders_aggregated.sql"
            ),
            model_node("not_null_orders_id", "models/marts/crm/_crm__models.yml", "test"),
        ]
    )
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({"metadata": {}, "nodes": nodes}), encoding="utf-8")
    return manifest


def fill_database(database: Path, orders: int) -> None:
    """(Re)write the small build database: `orders` rows in orders, orders // 2 customers."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "create or replace table orders as select range as order_id, "
            "'online_retail' as dataset, range * 1.5 as revenue from range(?)",
            [orders],
        )
        connection.execute(
            "create or replace table customers as select range as customer_id from range(?)",
            [orders // 2],
        )
        connection.execute("create or replace table datasets as select 'online_retail' as dataset")
        connection.execute("create or replace table int_orders_aggregated as select 1 as x")
        log_build(connection, "build-1", "started", "success")


def log_build(connection: duckdb.DuckDBPyConnection, invocation_id: str, *events: str) -> None:
    """Rows of the build log the on-run-start / on-run-end hooks write (macros/build_log.sql)."""
    connection.execute(
        "create table if not exists crm_build_log "
        "(invocation_id varchar, command varchar, event varchar, logged_at timestamp)"
    )
    for event in events:
        connection.execute(
            "insert into crm_build_log values (?, 'build', ?, now()::timestamp)",
            [invocation_id, event],
        )


@pytest.fixture
def small_build(tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "build" / "crm.duckdb"
    fill_database(database, 10)
    return database, write_manifest(tmp_path / "build" / "target")


def quiet(message: str) -> None:
    """A `log` that drops progress messages."""


# --- unit tests ------------------------------------------------------------------------------


def test_public_marts_come_from_the_marts_folder_of_the_manifest(small_build):
    _, manifest = small_build
    names = [mart.name for mart in pub.public_marts(manifest)]
    assert names == ["cltv_validation_holdout", "customers", "datasets", "orders"]


def test_a_missing_manifest_is_a_clear_error(tmp_path, small_build):
    database, _ = small_build
    missing = tmp_path / "nowhere" / "manifest.json"
    with pytest.raises(pub.PublishError, match=r"manifest .*nowhere.*dbt build"):
        pub.publish(database, tmp_path / "published", missing, log=quiet)


def test_publish_writes_one_database_and_one_parquet_version(tmp_path, small_build, capsys):
    database, manifest = small_build
    out = tmp_path / "published"
    publication = pub.publish(database, out, manifest)

    assert publication.row_counts == {"customers": 5, "datasets": 1, "orders": 10}
    assert publication.skipped == ("cltv_validation_holdout",)
    progress = capsys.readouterr().err
    assert "skip cltv_validation_holdout" in progress
    assert "orders: 10 rows" in progress
    # exactly one database file, no temporary file or WAL left behind
    assert sorted(path.name for path in out.iterdir()) == [
        ".publish.lock",
        f"crm-{publication.build_id}.duckdb",
        "crm.duckdb",
        "parquet",
        f"parquet-{publication.build_id}",
    ]
    assert os.readlink(out / "crm.duckdb") == f"crm-{publication.build_id}.duckdb"
    assert (out / "parquet").is_symlink()
    assert os.readlink(out / "parquet") == f"parquet-{publication.build_id}"
    assert stat.S_IMODE((out / "crm.duckdb").stat().st_mode) == 0o444

    with duckdb.connect(str(out / "crm.duckdb"), read_only=True) as connection:
        tables = {row[0] for row in connection.execute("show tables").fetchall()}
        assert tables == {"customers", "datasets", "orders", "publication"}
        rows = connection.execute(
            "select build_id, mart, row_count from publication order by mart"
        ).fetchall()
        assert rows == [
            (publication.build_id, "customers", 5),
            (publication.build_id, "datasets", 1),
            (publication.build_id, "orders", 10),
        ]
        for _, mart, row_count in rows:
            (count,) = connection.execute(f"select count(*) from {mart}").fetchone()
            assert count == row_count
        assert connection.execute("select sum(revenue) from orders").fetchone() == (67.5,)

    current = out / "parquet"
    parquet_manifest = json.loads((current / "manifest.json").read_text())
    assert parquet_manifest["build_id"] == publication.build_id
    assert parquet_manifest["row_counts"] == publication.row_counts
    assert sorted(path.name for path in current.glob("*.parquet")) == [
        "customers.parquet",
        "datasets.parquet",
        "orders.parquet",
    ]
    with duckdb.connect() as memory:
        for mart, row_count in publication.row_counts.items():
            path = str(current / f"{mart}.parquet")
            assert memory.execute("select count(*) from read_parquet(?)", [path]).fetchone() == (
                row_count,
            )


def test_a_new_publication_replaces_the_old_one_atomically(tmp_path, small_build):
    database, manifest = small_build
    out = tmp_path / "published"
    first = pub.publish(database, out, manifest, log=quiet)
    old_reader = duckdb.connect(str(out / "crm.duckdb"), read_only=True)
    try:
        fill_database(database, 20)  # the build database stays writable while a reader reads
        second = pub.publish(database, out, manifest, log=quiet)
        assert second.build_id != first.build_id
        # the open connection keeps the snapshot it opened
        assert old_reader.execute("select count(*) from orders").fetchone() == (10,)
        assert old_reader.execute("select distinct build_id from publication").fetchall() == [
            (first.build_id,)
        ]
    finally:
        old_reader.close()
    with duckdb.connect(str(out / "crm.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from orders").fetchone() == (20,)
        assert connection.execute("select distinct build_id from publication").fetchall() == [
            (second.build_id,)
        ]
    assert sorted(path.name for path in out.glob("*crm*.duckdb*")) == [
        f"crm-{first.build_id}.duckdb",
        f"crm-{second.build_id}.duckdb",
        "crm.duckdb",
    ]
    assert os.readlink(out / "crm.duckdb") == f"crm-{second.build_id}.duckdb"
    assert os.readlink(out / "parquet") == f"parquet-{second.build_id}"
    assert json.loads((out / "parquet" / "manifest.json").read_text())["row_counts"] == {
        "customers": 10,
        "datasets": 1,
        "orders": 20,
    }


def test_a_process_that_holds_the_old_publication_open_sees_the_new_one(tmp_path, small_build):
    """DuckDB shares an open database between the connections of a process by its path: a
    publication replaced in place under one name would hand a new connection the old one."""
    database, manifest = small_build
    out = tmp_path / "published"
    first = pub.publish(database, out, manifest, log=quiet)
    held = duckdb.connect(str(out / "crm.duckdb"), read_only=True)
    try:
        fill_database(database, 20)
        second = pub.publish(database, out, manifest, log=quiet)
        with duckdb.connect(str(out / "crm.duckdb"), read_only=True) as fresh:
            assert fresh.execute("select distinct build_id from publication").fetchall() == [
                (second.build_id,)
            ]
            assert fresh.execute("select count(*) from orders").fetchone() == (20,)
        assert held.execute("select distinct build_id from publication").fetchall() == [
            (first.build_id,)
        ]
    finally:
        held.close()


def test_old_database_versions_are_pruned(tmp_path, small_build):
    database, manifest = small_build
    out = tmp_path / "published"
    build_ids = [pub.publish(database, out, manifest, log=quiet).build_id for _ in range(4)]
    files = sorted(path.name for path in out.glob("crm-*.duckdb"))
    assert files == [f"crm-{build_id}.duckdb" for build_id in build_ids[-3:]]
    assert os.readlink(out / "crm.duckdb") == f"crm-{build_ids[-1]}.duckdb"


def test_old_parquet_versions_are_pruned(tmp_path, small_build):
    database, manifest = small_build
    out = tmp_path / "published"
    build_ids = [pub.publish(database, out, manifest, log=quiet).build_id for _ in range(5)]
    assert build_ids == sorted(build_ids)
    versions = sorted(path.name for path in out.glob("parquet-*"))
    # the current version and the two before it
    assert versions == [f"parquet-{build_id}" for build_id in build_ids[-3:]]
    assert os.readlink(out / "parquet") == f"parquet-{build_ids[-1]}"

    # keep_previous=0 still keeps the previous version: a reader may be reading it
    last = pub.publish(database, out, manifest, keep_previous=0, log=quiet)
    versions = sorted(path.name for path in out.glob("parquet-*"))
    assert versions == [f"parquet-{build_ids[-1]}", f"parquet-{last.build_id}"]


def test_a_missing_build_database_is_a_clear_error(tmp_path, small_build, capsys):
    _, manifest = small_build
    missing = tmp_path / "no-such.duckdb"
    with pytest.raises(pub.PublishError, match=r"no-such\.duckdb"):
        pub.publish(missing, tmp_path / "published", manifest, log=quiet)
    code = pub.main(
        ["--database", str(missing), "--out", str(tmp_path / "p"), "--manifest", str(manifest)]
    )
    assert code == 1
    assert f"build database {missing} not found" in capsys.readouterr().err
    assert not (tmp_path / "p" / "crm.duckdb").exists()


def test_a_locked_build_database_is_a_clear_error(tmp_path, small_build):
    database, manifest = small_build
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; connection = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(pub.PublishError, match=r"crm\.duckdb is locked"):
            pub.publish(database, tmp_path / "published", manifest, log=quiet)
    finally:
        holder.communicate(input="", timeout=30)
    assert not (tmp_path / "published" / "crm.duckdb").exists()


def test_a_parquet_folder_that_is_not_a_symlink_is_left_alone(tmp_path, small_build):
    database, manifest = small_build
    out = tmp_path / "published"
    (out / "parquet").mkdir(parents=True)
    with pytest.raises(pub.PublishError, match="not a symlink"):
        pub.publish(database, out, manifest, log=quiet)
    assert sorted(path.name for path in out.iterdir()) == [".publish.lock", "parquet"]


def test_a_failed_dbt_invocation_is_not_published(tmp_path, small_build):
    database, manifest = small_build
    run_results = {
        "results": [
            {"unique_id": "model.crm_analytics.orders", "status": "success"},
            {"unique_id": "model.crm_analytics.customers", "status": "error"},
        ]
    }
    manifest.with_name("run_results.json").write_text(json.dumps(run_results))
    with pytest.raises(pub.PublishError, match=r"customers \(error\).*--allow-failed-build"):
        pub.publish(database, tmp_path / "published", manifest, log=quiet)
    publication = pub.publish(database, tmp_path / "published", manifest, check_build=False)
    assert publication.row_counts["orders"] == 10


def test_a_build_that_did_not_finish_is_not_published(tmp_path, small_build):
    """A killed build leaves a start row and no end row: its database may mix two builds."""
    database, manifest = small_build
    out = tmp_path / "published"
    first = pub.publish(database, out, manifest, log=quiet)
    assert first.dbt_invocation_id == "build-1"
    with duckdb.connect(str(database)) as connection:
        connection.execute("update orders set revenue = 0")  # half of a new build
        log_build(connection, "build-2", "started")
    with pytest.raises(pub.PublishError, match=r"invocation build-2, started .* did not finish"):
        pub.publish(database, out, manifest, log=quiet)
    # the publication is still the first build's, whole
    with duckdb.connect(str(out / "crm.duckdb"), read_only=True) as connection:
        assert connection.execute("select sum(revenue) from orders").fetchone() == (67.5,)
        invocations = connection.execute("select distinct dbt_invocation_id from publication")
        assert invocations.fetchall() == [("build-1",)]


def test_a_failed_build_in_the_log_is_not_published(tmp_path, small_build):
    database, manifest = small_build
    with duckdb.connect(str(database)) as connection:
        log_build(connection, "build-2", "started", "failed")
    with pytest.raises(pub.PublishError, match=r"invocation build-2.* failed; .*allow-failed"):
        pub.publish(database, tmp_path / "published", manifest, log=quiet)
    publication = pub.publish(database, tmp_path / "out2", manifest, check_build=False, log=quiet)
    assert publication.dbt_invocation_id is None


def test_a_database_without_a_build_log_is_not_published(tmp_path, small_build):
    database, manifest = small_build
    with duckdb.connect(str(database)) as connection:
        connection.execute("drop table crm_build_log")
    with pytest.raises(pub.PublishError, match="has no crm_build_log"):
        pub.publish(database, tmp_path / "published", manifest, log=quiet)


def test_the_command_line_publishes(tmp_path, small_build):
    database, manifest = small_build
    out = tmp_path / "published"
    args = [sys.executable, "-m", "crm_analytics.publish", "--database", str(database)]
    args += ["--out", str(out), "--manifest", str(manifest)]
    completed = subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "orders: 10 rows" in completed.stderr
    assert (out / "crm.duckdb").is_file()
    assert (out / "parquet" / "orders.parquet").is_file()


def test_build_ids_sort_in_time_order():
    import datetime as dt

    earlier = pub.new_build_id(dt.datetime(2024, 1, 31, 12, 0, 0, 5000, tzinfo=dt.UTC))
    later = pub.new_build_id(dt.datetime(2024, 1, 31, 12, 0, 0, 6000, tzinfo=dt.UTC))
    assert earlier.startswith("20240131T120000.005Z-")
    assert earlier < later


# --- concurrency -----------------------------------------------------------------------------


def test_readers_see_whole_publications_while_many_are_made(tmp_path, small_build):
    """Thirty publications of changing content under a looping reader and a held connection."""
    database, manifest = small_build
    out = tmp_path / "published"
    expected = {}
    publication = pub.publish(database, out, manifest, log=quiet)
    expected[publication.build_id] = publication.row_counts
    readers = [start_reader(tmp_path, out, "loop"), start_reader(tmp_path, out, "hold")]
    try:
        wait_for(lambda: all(reader.records() for reader in readers), 60, "the readers to start")
        for orders in range(11, 41):
            fill_database(database, orders)
            publication = pub.publish(database, out, manifest, log=quiet)
            expected[publication.build_id] = publication.row_counts
            time.sleep(0.05)
        last = publication.build_id
        wait_for(
            lambda: any(record.get("build_id") == last for record in readers[0].records()),
            30,
            "the reader to see the last publication",
        )
    finally:
        stop_readers(tmp_path, readers)
    loop, hold = readers[0].records(), readers[1].records()
    assert_consistent(loop, hold, expected, minimum=20)
    assert len({record["build_id"] for record in loop}) >= 5
    print(f"{len(expected)} publications; iterations: {len(loop)} reconnecting, {len(hold)} held")


@pytest.mark.dbt
def test_readers_never_fail_while_dbt_builds_and_publishes_twice(tmp_path):
    """The issue's proof: readers query the published marts while `dbt build` runs twice.

    Build 1 (defaults) is published before the readers start. Build 2 disables the customer
    summaries input, so most marts change; build 3 is the defaults again. Both later builds
    write the same build database while the readers hold the published file open, and each
    successful build is published.
    """
    work = tmp_path / "build"
    out = tmp_path / "published"
    manifest = work / "target" / "manifest.json"
    expected: dict[str, dict[str, int]] = {}
    timings = {}

    def build_and_publish(project_vars: dict[str, object] | None) -> str:
        started = time.monotonic()
        result = dbt_build(work, project_vars, extra=["--exclude-resource-type", "unit_test"])
        assert result.returncode == 0, f"dbt build {project_vars} failed:\n{result.output}"
        publication = pub.publish(result.database, out, manifest, log=quiet)
        expected[publication.build_id] = publication.row_counts
        timings[publication.build_id] = time.monotonic() - started
        return publication.build_id

    first = build_and_publish(None)
    assert len(expected[first]) >= 15  # every public mart of the project
    readers = [
        start_reader(tmp_path, out, "loop", deadline=240),
        start_reader(tmp_path, out, "hold", deadline=240),
    ]
    try:
        wait_for(lambda: all(reader.records() for reader in readers), 60, "the readers to start")
        second = build_and_publish({"customer_summaries_path": ""})
        assert all(reader.process.poll() is None for reader in readers)  # still reading
        third = build_and_publish(None)
        wait_for(
            lambda: any(record.get("build_id") == third for record in readers[0].records()),
            30,
            "the reader to see the last publication",
        )
    finally:
        stop_readers(tmp_path, readers)

    assert expected[second] != expected[first], "build 2 should change the marts"
    assert expected[third] == expected[first]
    loop, hold = readers[0].records(), readers[1].records()
    assert_consistent(loop, hold, expected, minimum=20)
    assert {record["build_id"] for record in hold} == {first}
    assert {second, third} <= {record["build_id"] for record in loop}
    print(
        f"reader iterations: {len(loop)} reconnecting, {len(hold)} held; "
        f"build+publish seconds: {[round(seconds, 1) for seconds in timings.values()]}"
    )


@pytest.mark.dbt
def test_a_killed_dbt_build_is_never_published(tmp_path):
    """kill -9 in the middle of `dbt build`: the database may hold tables of two builds, and the
    build log has the killed invocation's start and no end, so publishing refuses it."""
    work = tmp_path / "build"
    out = tmp_path / "published"
    manifest = work / "target" / "manifest.json"
    first = dbt_build(work, extra=["--exclude-resource-type", "unit_test"])
    assert first.returncode == 0, first.output
    published = pub.publish(first.database, out, manifest, log=quiet)

    args = [DBT, "build", "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)]
    args += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    env = {**os.environ, "CRM_DUCKDB_PATH": str(first.database)}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    build = subprocess.Popen(
        args, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    created = 0
    assert build.stdout is not None
    for line in build.stdout:
        created += " OK created " in line
        if created == 5:  # some tables rebuilt, most not
            build.kill()
            break
    build.wait(timeout=60)
    assert created == 5, "the build finished before it could be killed"

    with pytest.raises(pub.PublishError, match=r"did not finish: it was stopped, or is still"):
        pub.publish(first.database, out, manifest, log=quiet)
    with duckdb.connect(str(out / "crm.duckdb"), read_only=True) as connection:
        builds = connection.execute("select distinct build_id from publication").fetchall()
    assert builds == [(published.build_id,)]
