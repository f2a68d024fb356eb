"""Publish the public marts of a finished build for BI tools, without DuckDB's file lock.

DuckDB lets one process write a database file or many processes read it. A dashboard that
keeps the build database open therefore makes the next ``dbt build`` fail, and a dashboard that
reads the build database while dbt writes it could see half a build. So BI tools never read the
build database: after a successful build, this module copies the public marts (the dbt models
with ``access: public``, i.e. every model under ``models/marts/``, found in dbt's
``target/manifest.json``) to two read-only outputs:

``<out>/crm.duckdb``
    A relative symlink to ``<out>/crm-<build_id>.duckdb``, a separate DuckDB file holding
    every mart plus a ``publication`` table (``build_id, published_at, mart, row_count,
    dbt_invocation_id``). The file is written under a temporary name in the same folder,
    checkpointed, closed and renamed to its versioned name; then the symlink is switched to it
    atomically (a new symlink under a temporary name, renamed over the old one with
    ``os.replace``). A connection opened before the switch keeps reading the file it opened;
    a connection opened after it reads the new file - also inside a process that still holds
    a connection to the old one: DuckDB shares an open database between the connections of a
    process by its resolved path, and the versioned names keep two publications apart, where
    one name replaced in place would hand the new connection the old, still open, database.
    Nobody ever sees a half-written file, and a reader holding the published file open never
    blocks the build (dbt writes the build database, not this one). The current file and the
    two previous ones are kept; older ones are deleted.

``<out>/parquet/<mart>.parquet``
    One Parquet file per mart plus ``manifest.json`` (``build_id, published_at, row_counts``)
    in a fresh folder ``<out>/parquet-<build_id>/``; ``<out>/parquet`` is a relative symlink
    switched to the new folder atomically (a new symlink under a temporary name, renamed over
    the old one). The current folder and the two previous ones are kept (a reader may still be
    reading them); older ones are deleted.

Publishers take an exclusive lock on ``<out>/.publish.lock``, so two publications never
interleave. ``python -m crm_analytics.publish --help`` for the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

try:  # POSIX only; without it concurrent publishers are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

PUBLISHED_DATABASE = "crm.duckdb"  # the symlink readers open
DATABASE_PREFIX = "crm-"  # crm-<build_id>.duckdb, the versioned files behind it
DATABASE_SUFFIX = ".duckdb"
PARQUET_LINK = "parquet"
PARQUET_PREFIX = "parquet-"
PUBLICATION_TABLE = "publication"
# dbt's `access` config is the project's one definition of a public model (dbt_project.yml
# gives it to every model under models/marts/).
PUBLIC_ACCESS = "public"
BUILD_LOG_TABLE = "crm_build_log"  # written by the on-run-start / on-run-end hooks
LOCK_FILE = ".publish.lock"
DEFAULT_KEEP_PREVIOUS = 2
# dbt statuses that mean the last invocation did not complete cleanly
FAILED_STATUSES = frozenset({"error", "fail", "runtime error", "skipped"})
_TARGET_ALIAS = "crm_publish_target"

Log = Callable[[str], None]


class PublishError(Exception):
    """A publication cannot be made; the message says why and names the file."""


@dataclasses.dataclass(frozen=True)
class Mart:
    """A public mart: its dbt model name and where dbt built it in the build database."""

    name: str
    schema: str
    identifier: str


@dataclasses.dataclass(frozen=True)
class Publication:
    """What one call of `publish` wrote."""

    build_id: str
    published_at: dt.datetime
    database: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    skipped: tuple[str, ...]
    pruned: tuple[Path, ...]
    dbt_invocation_id: str | None = None  # the build published (None: not checked)


def _stderr(message: str) -> None:
    print(f"publish: {message}", file=sys.stderr, flush=True)


def new_build_id(now: dt.datetime | None = None) -> str:
    """A UTC timestamp to the millisecond plus a random suffix: ``20240131T120000.123Z-1a2b3c``.

    Build ids of successive publications sort in time order (to the millisecond), which the
    pruning of old Parquet folders relies on; the suffix keeps two publishers apart.
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{secrets.token_hex(3)}"


def default_manifest_path() -> Path:
    """``$DBT_TARGET_PATH/manifest.json``, or ``target/manifest.json``."""
    return Path(os.environ.get("DBT_TARGET_PATH", "target")) / "manifest.json"


def public_marts(manifest_path: Path | str) -> list[Mart]:
    """The public models of a dbt manifest (dbt ``access: public``: the marts), sorted by name."""
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise PublishError(
            f"dbt manifest {manifest_path} not found: run `dbt build` first "
            "(or pass --manifest with the manifest.json of the build to publish)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PublishError(f"dbt manifest {manifest_path} cannot be read: {error}") from error
    marts = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("access") != PUBLIC_ACCESS:
            continue
        if node.get("config", {}).get("materialized") == "ephemeral":
            continue  # no relation in the database
        marts.append(
            Mart(
                name=node["name"],
                schema=node.get("schema") or "main",
                identifier=node.get("alias") or node["name"],
            )
        )
    names = [mart.name for mart in marts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PublishError(f"dbt manifest {manifest_path}: marts share a name: {duplicates}")
    if PUBLICATION_TABLE in names:
        raise PublishError(f"a mart may not be called {PUBLICATION_TABLE!r} (reserved)")
    if not marts:
        raise PublishError(f"dbt manifest {manifest_path} has no public model (access: public)")
    return sorted(marts, key=lambda mart: mart.name)


def check_run_results(run_results_path: Path | str) -> None:
    """Refuse to publish when dbt's last invocation (``run_results.json``) did not succeed.

    A failed ``dbt build`` leaves the build database half updated: publishing it is exactly
    what this module exists to prevent. A missing file is not an error (nothing to check).
    """
    run_results_path = Path(run_results_path)
    if not run_results_path.is_file():
        return
    try:
        run_results = json.loads(run_results_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PublishError(f"dbt run results {run_results_path} cannot be read: {error}") from error
    failed = [
        f"{result.get('unique_id')} ({result.get('status')})"
        for result in run_results.get("results", [])
        if str(result.get("status")).lower() in FAILED_STATUSES
    ]
    if failed:
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        raise PublishError(
            f"the last dbt invocation did not succeed ({run_results_path}: {shown}); "
            "fix it and build again, or pass --allow-failed-build to publish anyway"
        )


def check_build_log(connection: duckdb.DuckDBPyConnection, database: Path | str) -> str:
    """The dbt invocation id of the build in `database`, when its last build finished well.

    Every dbt invocation that writes tables appends a ``started`` row to the database's
    ``crm_build_log`` and, when it ends, a ``success`` or ``failed`` row (macros/build_log.sql).
    A build that was killed has no end row: its database may hold some marts from it and
    others from the build before, and must not be published as one build. Raises
    `PublishError`, naming the invocation and its start time, unless the newest started
    invocation ended with ``success``.
    """
    try:
        last = connection.execute(
            f"select invocation_id, command, logged_at from {BUILD_LOG_TABLE} "
            "where event = 'started' order by logged_at desc limit 1"
        ).fetchone()
    except duckdb.CatalogException as error:
        raise PublishError(
            f"build database {database} has no {BUILD_LOG_TABLE}: it was not written by a "
            "`dbt build` of this project; build it, then publish"
        ) from error
    if last is None:
        raise PublishError(f"build database {database}: {BUILD_LOG_TABLE} records no build")
    invocation_id, command, started_at = last
    ended = connection.execute(
        f"select event from {BUILD_LOG_TABLE} where invocation_id = ? and event <> 'started'",
        [invocation_id],
    ).fetchall()
    what = (
        f"the last `dbt {command}` of {database} (invocation {invocation_id}, "
        f"started {started_at:%Y-%m-%d %H:%M:%S} UTC)"
    )
    if not ended:
        raise PublishError(
            f"{what} did not finish: it was stopped, or is still running. Its database may mix "
            "tables of two builds; build again, then publish"
        )
    if ended[0][0] != "success":
        raise PublishError(
            f"{what} {ended[0][0]}; fix it and build again, or pass --allow-failed-build to "
            "publish anyway"
        )
    return str(invocation_id)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _open_build_database(database: Path) -> duckdb.DuckDBPyConnection:
    if not database.is_file():
        raise PublishError(
            f"build database {database} not found: run `dbt build` first "
            "(or pass --database / set CRM_DUCKDB_PATH)"
        )
    try:
        return duckdb.connect(str(database), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as error:
        text = str(error)
        if "lock" in text.lower() or "different configuration" in text:
            raise PublishError(
                f"build database {database} is locked by another process "
                f"(is dbt still building, or a tool holding it open for writing?): {text}"
            ) from error
        raise PublishError(f"build database {database} cannot be opened: {text}") from error


@contextlib.contextmanager
def _publisher_lock(out_dir: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(out_dir / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_path(path: Path) -> None:
    """Flush a file's or folder's metadata to disk (best effort: not every OS allows folders)."""
    flags = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove_database_file(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Remove what a crashed publisher left (called under the publisher lock)."""
    for leftover in out_dir.glob(f".{PUBLISHED_DATABASE}.*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    for leftover in (
        *out_dir.glob(f".{PARQUET_LINK}.*.tmp"),
        *out_dir.glob(f".{PUBLISHED_DATABASE}.*.tmp"),
    ):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def current_parquet_version(out_dir: Path | str) -> Path | None:
    """The folder ``<out>/parquet`` points to, or None."""
    link = Path(out_dir) / PARQUET_LINK
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()


def current_database_version(out_dir: Path | str) -> Path | None:
    """The versioned database file ``<out>/crm.duckdb`` points to, or None."""
    link = Path(out_dir) / PUBLISHED_DATABASE
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()


def prune_parquet_versions(
    out_dir: Path | str,
    current: Path,
    previous: Path | None,
    keep_previous: int = DEFAULT_KEEP_PREVIOUS,
) -> list[Path]:
    """Delete ``parquet-*`` folders except the current one and the newest `keep_previous` others.

    The folder the link pointed to just before the switch (`previous`) is never deleted, even
    with ``keep_previous=0``: a reader that resolved the link a moment ago may be reading it.
    Returns the deleted folders.
    """
    candidates = [
        path
        for path in Path(out_dir).glob(f"{PARQUET_PREFIX}*")
        if path.is_dir() and not path.is_symlink()
    ]
    return _prune_versions(candidates, current, previous, keep_previous)


def prune_database_versions(
    out_dir: Path | str,
    current: Path,
    previous: Path | None,
    keep_previous: int = DEFAULT_KEEP_PREVIOUS,
) -> list[Path]:
    """Delete ``crm-*.duckdb`` files as `prune_parquet_versions` deletes Parquet folders."""
    candidates = [
        path
        for path in Path(out_dir).glob(f"{DATABASE_PREFIX}*{DATABASE_SUFFIX}")
        if path.is_file() and not path.is_symlink()
    ]
    return _prune_versions(candidates, current, previous, keep_previous)


def _prune_versions(
    candidates: list[Path], current: Path, previous: Path | None, keep_previous: int
) -> list[Path]:
    protected = {current.resolve()} | ({previous.resolve()} if previous else set())
    versions = sorted(
        (path for path in candidates if path.resolve() not in protected),
        key=lambda path: path.name,
        reverse=True,
    )
    keep_others = max(keep_previous - (1 if previous else 0), 0)
    deleted = []
    for path in versions[keep_others:]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            _remove_database_file(path)
        deleted.append(path)
    return deleted


def _switch_symlink(out_dir: Path, link_name: str, target_name: str, build_id: str) -> None:
    link = out_dir / link_name
    temporary = out_dir / f".{link_name}.{build_id}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(target_name, temporary)
    os.replace(temporary, link)


def publish(
    database: Path | str,
    out_dir: Path | str,
    manifest: Path | str | None = None,
    *,
    build_id: str | None = None,
    keep_previous: int = DEFAULT_KEEP_PREVIOUS,
    check_build: bool = True,
    log: Log = _stderr,
) -> Publication:
    """Publish the public marts of `database` to ``<out_dir>/crm.duckdb`` and ``<out_dir>/parquet``.

    `manifest` is dbt's ``manifest.json`` (default: `default_manifest_path`); unless
    `check_build` is false, a ``run_results.json`` beside it that reports a failure stops the
    publication. Marts in the manifest but not in the database are skipped with a note.
    Raises `PublishError` with a message naming the file when something is missing or locked.
    """
    database = Path(database)
    out_dir = Path(out_dir)
    manifest_path = Path(manifest) if manifest is not None else default_manifest_path()
    marts = public_marts(manifest_path)
    if check_build:
        check_run_results(manifest_path.with_name("run_results.json"))

    connection = _open_build_database(database)
    try:
        invocation_id = check_build_log(connection, database) if check_build else None
        out_dir.mkdir(parents=True, exist_ok=True)
        with _publisher_lock(out_dir):
            _remove_stale_temporaries(out_dir)
            # stamped under the lock, so build ids sort in publication order
            published_at = dt.datetime.now(dt.UTC)
            build_id = build_id or new_build_id(published_at)
            publication = _publish_locked(
                connection,
                database,
                out_dir,
                marts,
                build_id,
                published_at,
                keep_previous,
                log,
                invocation_id,
            )
            return publication
    finally:
        connection.close()


def _existing_marts(
    connection: duckdb.DuckDBPyConnection, marts: list[Mart], log: Log
) -> tuple[list[Mart], list[str]]:
    relations = {
        (schema, name)
        for schema, name in connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    }
    present, skipped = [], []
    for mart in marts:
        if (mart.schema, mart.identifier) in relations:
            present.append(mart)
        else:
            skipped.append(mart.name)
            log(f"skip {mart.name}: no table {mart.schema}.{mart.identifier} in the build database")
    return present, skipped


def _publish_locked(
    connection: duckdb.DuckDBPyConnection,
    database: Path,
    out_dir: Path,
    marts: list[Mart],
    build_id: str,
    published_at: dt.datetime,
    keep_previous: int,
    log: Log,
    invocation_id: str | None,
) -> Publication:
    link = out_dir / PARQUET_LINK
    if link.exists() and not link.is_symlink():
        raise PublishError(
            f"{link} exists and is not a symlink: move it away so it can point to the "
            "current Parquet version"
        )
    present, skipped = _existing_marts(connection, marts, log)
    if not present:
        raise PublishError(f"build database {database} holds none of the public marts")

    temporary_db = out_dir / f".{PUBLISHED_DATABASE}.{build_id}.tmp"
    version_dir = out_dir / f"{PARQUET_PREFIX}{build_id}"
    final_db = out_dir / f"{DATABASE_PREFIX}{build_id}{DATABASE_SUFFIX}"
    published_at_naive = published_at.astimezone(dt.UTC).replace(tzinfo=None)
    row_counts: dict[str, int] = {}
    log(f"build {build_id}: {database} -> {out_dir}")
    try:
        connection.execute(f"attach {_literal(str(temporary_db))} as {_TARGET_ALIAS} (read_write)")
        version_dir.mkdir()
        for mart in present:
            target = f"{_TARGET_ALIAS}.main.{_quote(mart.name)}"
            connection.execute(
                f"create table {target} as select * from "
                f"{_quote(mart.schema)}.{_quote(mart.identifier)}"
            )
            (rows,) = connection.execute(f"select count(*) from {target}").fetchone()
            row_counts[mart.name] = int(rows)
            parquet_file = version_dir / f"{mart.name}.parquet"
            connection.execute(
                f"copy (select * from {target}) to {_literal(str(parquet_file))} (format parquet)"
            )
            log(f"  {mart.name}: {rows} rows")
        connection.execute(
            f"create table {_TARGET_ALIAS}.main.{PUBLICATION_TABLE} "
            "(build_id varchar not null, published_at timestamp not null, "
            "mart varchar not null, row_count bigint not null, dbt_invocation_id varchar)"
        )
        connection.executemany(
            f"insert into {_TARGET_ALIAS}.main.{PUBLICATION_TABLE} values (?, ?, ?, ?, ?)",
            [
                (build_id, published_at_naive, name, rows, invocation_id)
                for name, rows in row_counts.items()
            ],
        )
        connection.execute(f"checkpoint {_TARGET_ALIAS}")
        connection.execute(f"detach {_TARGET_ALIAS}")
        leftover_wal = temporary_db.with_name(temporary_db.name + ".wal")
        if leftover_wal.exists():
            raise PublishError(f"{leftover_wal} is left after the checkpoint: not publishing")
        (version_dir / "manifest.json").write_text(
            json.dumps(
                {
                    "build_id": build_id,
                    "published_at": published_at.isoformat(timespec="seconds"),
                    "dbt_invocation_id": invocation_id,
                    "row_counts": row_counts,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        for path in (*version_dir.iterdir(), version_dir, temporary_db):
            _fsync_path(path)
        temporary_db.chmod(0o444)  # the published copy is for reading only
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            connection.execute(f"detach database if exists {_TARGET_ALIAS}")
        _remove_database_file(temporary_db)
        shutil.rmtree(version_dir, ignore_errors=True)
        raise

    # The two commits: each is one symlink renamed over the previous one.
    os.replace(temporary_db, final_db)
    _fsync_path(out_dir)
    previous_db = current_database_version(out_dir)
    _switch_symlink(out_dir, PUBLISHED_DATABASE, final_db.name, build_id)
    previous = current_parquet_version(out_dir)
    _switch_symlink(out_dir, PARQUET_LINK, version_dir.name, build_id)
    _fsync_path(out_dir)
    log(
        f"published {out_dir / PUBLISHED_DATABASE} -> {final_db.name} and "
        f"{out_dir / PARQUET_LINK} -> {version_dir.name}"
    )
    pruned = prune_database_versions(out_dir, final_db, previous_db, keep_previous)
    pruned += prune_parquet_versions(out_dir, version_dir, previous, keep_previous)
    for path in pruned:
        log(f"  removed old version {path.name}")
    return Publication(
        build_id=build_id,
        published_at=published_at,
        database=out_dir / PUBLISHED_DATABASE,
        parquet_dir=version_dir,
        row_counts=row_counts,
        skipped=tuple(skipped),
        pruned=tuple(pruned),
        dbt_invocation_id=invocation_id,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m crm_analytics.publish [--database crm.duckdb] [--out published]``."""
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.publish",
        description="Copy the public marts of a finished dbt build to a read-only DuckDB file "
        "(replaced atomically) and to Parquet files, for BI tools.",
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("CRM_DUCKDB_PATH", "crm.duckdb")),
        help="the build database (default: $CRM_DUCKDB_PATH or crm.duckdb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("published"),
        help="folder for crm.duckdb and parquet/ (default: published)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="dbt's manifest.json (default: $DBT_TARGET_PATH or target, /manifest.json)",
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_KEEP_PREVIOUS,
        help="previous Parquet versions to keep (default: 2; the previous one is always kept)",
    )
    parser.add_argument(
        "--allow-failed-build",
        action="store_true",
        help="publish even when run_results.json beside the manifest reports a failure",
    )
    args = parser.parse_args(argv)
    try:
        publication = publish(
            args.database,
            args.out,
            args.manifest,
            keep_previous=args.keep,
            check_build=not args.allow_failed_build,
        )
    except PublishError as error:
        print(f"publish: error: {error}", file=sys.stderr)
        return 1
    total = sum(publication.row_counts.values())
    _stderr(
        f"done: {len(publication.row_counts)} marts, {total} rows, build {publication.build_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
