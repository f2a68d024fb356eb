"""`make bench`: the full dbt build against the pandas course pipeline and a one-pass floor.

For every size (invoice lines; ``1e6 1e7 1e8``) this generates, once, a synthetic Online Retail
II-shaped Parquet file with the project's generator (``crm_analytics.synth``; seed 42, about
15.8 lines per customer) in a cache folder, then measures, interleaved:

* **a** ``dbt build`` of the whole project on that file (a fresh database file each run);
* **b** the baseline a user would otherwise run, the course pipeline in pandas + lifetimes
  (``scripts/course_pipeline_pandas.py``), in its fast version: pandas' built-in aggregations;
* **b'** ("course") the same pipeline as the course writes it, with a Python lambda per column
  and customer (``--as-written``): the same values but for the order of floating-point sums,
  several times slower;
* **c** the floor: one DuckDB pass that reads the file and aggregates per customer.

Each measurement is a separate process tree. Reported per run: wall seconds, CPU seconds
(user + system of every process in the tree, from ``getrusage(RUSAGE_CHILDREN)``) and the peak
RSS of the whole tree: the larger of the sum over all its processes, sampled from /proc every
0.1 s, and the kernel's high-water mark ``ru_maxrss`` of the largest single process (which
catches a peak shorter than a sample; dbt runs its Python models in its own process). A size
whose first run takes under ``--repeat-below`` seconds (120) is run ``--repeats`` times (3)
and the median is reported.

Output: a table on the console, and ``bench.csv`` (one row per size) plus ``bench.md`` (the
same table and the ten slowest dbt nodes per size) under ``--out`` (``target/bench``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
LINES_PER_CUSTOMER = 15.8  # the generator's mean invoice lines per customer (default dirt)
SEED = 42
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.1
MEASURES = ("dbt", "pandas", "course", "floor")  # "dbt" first: the others are its baselines
# the measures that run the pandas pipeline, which holds the whole file in memory
PANDAS_MEASURES = ("pandas", "course")


# --------------------------------------------------------------------------------------------
# Measuring a process tree
# --------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One run of one command: seconds, CPU seconds, peak RSS of the tree in bytes."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str = ""


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # the command name (field 2) is in parentheses and may hold spaces
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and all its descendants, summed, in bytes (0 once gone)."""
    children = _children_map()
    total = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(children.get(pid, []))
    return total


def _cpu_of_children() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def measure(
    command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measurement:
    """Runs `command` to completion and measures its whole process tree.

    CPU seconds come from the difference of this process's children's rusage before and after
    (it covers every descendant that its parent waited for, which dbt, Python and DuckDB do).
    The peak RSS is the larger of the largest sum of the tree's resident memory over samples
    every 0.1 s and the kernel's ``ru_maxrss`` of the command's process and its waited-for
    descendants (the largest single process, from ``wait4``): a sampled sum can miss a peak
    that lasts less than a sample (at 100 M lines: 7.2 GiB sampled, 8.1 GiB in ``ru_maxrss``).
    Linux starts a child's ``ru_maxrss`` from this process's resident memory at the fork, so a
    command that never grows beyond this script's own size (about 15 MiB) reads as that.
    """
    peak = 0
    done = threading.Event()
    cpu_before = _cpu_of_children()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(process.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        returncode = process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        # Linux reports ru_maxrss in KiB
        peak = max(peak, usage.ru_maxrss * 1024)
        sink.seek(0)
        output = sink.read().decode(errors="replace")
    return Measurement(wall, _cpu_of_children() - cpu_before, peak, returncode, output)


# --------------------------------------------------------------------------------------------
# The three measured commands
# --------------------------------------------------------------------------------------------


def customers_for(lines: float) -> int:
    """Generator customers that give about `lines` invoice lines."""
    return max(1, round(lines / LINES_PER_CUSTOMER))


def ensure_data(lines: float, cache_dir: Path, fmt: str) -> Path:
    """The cached generator file for `lines` (written on first use, atomically)."""
    customers = customers_for(lines)
    path = cache_dir / f"transactions_c{customers}_s{SEED}.{fmt}"
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.{fmt}")
    print(f"generating {customers:,} customers (~{lines:,.0f} lines) -> {path}", flush=True)
    subprocess.run(
        [sys.executable, "-m", "crm_analytics.synth", "transactions",
         "--customers", str(customers), "--seed", str(SEED), "--out", str(partial)],
        cwd=PROJECT_DIR, check=True,
    )  # fmt: skip
    partial.rename(path)
    return path


def dbt_command(data: Path, work: Path, project: Path) -> tuple[list[str], dict[str, str]]:
    """`dbt build` of the whole `project` on `data` alone, into a database under `work`."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    project_vars = {"transactions_path": str(data), "customer_summaries_path": ""}
    command = [
        dbt, "build",
        "--profiles-dir", str(project), "--project-dir", str(project),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        "--vars", json.dumps(project_vars),
    ]  # fmt: skip
    env = {
        **os.environ,
        # dbt's Python models import that checkout's crm_analytics package
        "PYTHONPATH": str(project),
        "CRM_DUCKDB_PATH": str(work / "bench.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    return command, env


def floor_pass(data: Path) -> dict[str, int]:
    """One DuckDB pass over `data`: lines, and per customer first/last date, orders, revenue.

    Runs with CRM_DUCKDB_THREADS (default: one per core) and, when set, CRM_DUCKDB_MEMORY_LIMIT
    (else DuckDB's own default, 80 % of RAM; the pass needs far less); returns the line and
    customer counts.
    """
    import duckdb

    reader = "read_csv" if data.suffix.lower() in (".csv", ".gz") else "read_parquet"
    config = {"threads": os.environ.get("CRM_DUCKDB_THREADS", str(os.cpu_count() or 1))}
    if os.environ.get("CRM_DUCKDB_MEMORY_LIMIT"):
        config["memory_limit"] = os.environ["CRM_DUCKDB_MEMORY_LIMIT"]
    with duckdb.connect(config=config) as connection:
        lines, customers = connection.execute(
            f"""
            with per_customer as (
                select
                    "Customer ID" as customer_id,
                    count(*) as lines,
                    min("InvoiceDate") as first_at,
                    max("InvoiceDate") as last_at,
                    count(distinct "Invoice") as orders,
                    sum("Quantity" * "Price") as revenue
                from {reader}(?)
                group by "Customer ID"
            )
            select sum(lines), count(customer_id) from per_customer
            """,
            [str(data)],
        ).fetchone()
    return {"lines": int(lines), "customers": int(customers)}


def command_for(
    measure_name: str, data: Path, work: Path, project: Path
) -> tuple[list[str], dict[str, str]]:
    if measure_name == "dbt":
        return dbt_command(data, work, project)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    script = PROJECT_DIR / "scripts" / "course_pipeline_pandas.py"
    if measure_name == "pandas":
        return [sys.executable, str(script), str(data)], env
    if measure_name == "course":
        return [sys.executable, str(script), str(data), "--as-written"], env
    return [sys.executable, str(Path(__file__).resolve()), "floor", str(data)], env


def slowest_nodes(run_results: Path, count: int = 10) -> list[tuple[str, float]]:
    """The `count` dbt nodes with the longest execution time in a run_results.json."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    timed = [(result["unique_id"], float(result["execution_time"])) for result in results]
    return sorted(timed, key=lambda item: item[1], reverse=True)[:count]


# --------------------------------------------------------------------------------------------
# One size
# --------------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    """Medians per measure for one size, and what they came from."""

    size: float
    data: str
    lines: int = 0
    customers: int = 0
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    slowest: list[tuple[str, float]] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def median(self, measure_name: str, attribute: str) -> float | None:
        runs = [run for run in self.runs.get(measure_name, []) if run.returncode == 0]
        if not runs:
            return None
        return statistics.median(getattr(run, attribute) for run in runs)


def bench_size(
    size: float,
    data: Path,
    work_root: Path,
    repeats: int,
    repeat_below: float,
    measures: Sequence[str],
    baseline_max_lines: float,
    project: Path,
) -> SizeResult:
    """Runs the measures on one data file, interleaved (a, b, b', c, a, b, b', c, ...)."""
    result = SizeResult(size=size, data=str(data), load_before=os.getloadavg())
    active = list(measures)
    for name in PANDAS_MEASURES:
        if name in active and size > baseline_max_lines:
            active.remove(name)
            result.skipped[name] = f"skipped above {baseline_max_lines:.0e} lines (memory)"
    round_number = 0
    while active and round_number < repeats:
        round_number += 1
        for measure_name in list(active):
            work = work_root / f"{measure_name}-{round_number}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            command, env = command_for(measure_name, data, work, project)
            print(f"  [{size:.0e}] {measure_name} run {round_number} ...", end=" ", flush=True)
            run = measure(command, env=env, cwd=project)
            result.runs.setdefault(measure_name, []).append(run)
            print(
                f"{run.wall_seconds:.1f} s wall, {run.cpu_seconds:.1f} s CPU, "
                f"{run.peak_rss_bytes / 2**30:.2f} GiB"
                + ("" if run.returncode == 0 else f", FAILED (exit {run.returncode})"),
                flush=True,
            )
            if run.returncode != 0:
                (work_root / f"{measure_name}-{round_number}.log").write_text(run.output)
                active.remove(measure_name)
                continue
            if measure_name == "floor":
                counts = json.loads(run.output.strip().splitlines()[-1])
                result.lines, result.customers = counts["lines"], counts["customers"]
            if measure_name == "dbt":
                run_results = work / "target" / "run_results.json"
                result.slowest = slowest_nodes(run_results)
                shutil.copy(run_results, work_root / f"run_results-{size:.0e}-{round_number}.json")
            if run.wall_seconds >= repeat_below:
                active.remove(measure_name)
            shutil.rmtree(work, ignore_errors=True)
    result.load_after = os.getloadavg()
    return result


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "size", "lines", "customers",
    *(f"{name}_{what}" for name in MEASURES
      for what in ("runs", "wall_s", "cpu_s", "peak_rss_gib")),
    "dbt_over_pandas_wall", "dbt_over_course_wall", "dbt_over_floor_wall",
    "load_before", "load_after", "data",
]  # fmt: skip


def _fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_row(result: SizeResult) -> dict[str, str]:
    row = {"size": f"{result.size:.0e}", "lines": str(result.lines),
           "customers": str(result.customers), "data": result.data}  # fmt: skip
    for name in MEASURES:
        runs = [run for run in result.runs.get(name, []) if run.returncode == 0]
        if runs:
            row[f"{name}_runs"] = str(len(runs))
        elif name in result.skipped:
            row[f"{name}_runs"] = result.skipped[name]
        else:
            row[f"{name}_runs"] = "failed" if name in result.runs else "not run"
        row[f"{name}_wall_s"] = _fmt(result.median(name, "wall_seconds"))
        row[f"{name}_cpu_s"] = _fmt(result.median(name, "cpu_seconds"))
        rss = result.median(name, "peak_rss_bytes")
        row[f"{name}_peak_rss_gib"] = _fmt(None if rss is None else rss / 2**30, 2)
    dbt_wall = result.median("dbt", "wall_seconds")
    for other in MEASURES[1:]:
        column = f"dbt_over_{other}_wall"
        other_wall = result.median(other, "wall_seconds")
        row[column] = _fmt(dbt_wall / other_wall if dbt_wall and other_wall else None, 2)
    row["load_before"] = " ".join(f"{load:.2f}" for load in result.load_before)
    row["load_after"] = " ".join(f"{load:.2f}" for load in result.load_after)
    return row


def markdown(results: list[SizeResult]) -> str:
    header = (
        "| size | lines | customers | a: dbt build wall / CPU s, peak GiB "
        "| b: pandas wall / CPU s, peak GiB | b': course as written wall / CPU s, peak GiB "
        "| c: floor wall / CPU s, peak GiB "
        "| a/b | a/b' | a/c | runs a/b/b'/c | load (1 min) before, after |"
    )
    out = [header, "|" + " --- |" * 12]
    for result in results:
        row = csv_row(result)
        cells = []
        for name in MEASURES:
            if row[f"{name}_wall_s"]:
                cells.append(
                    f"{row[f'{name}_wall_s']} / {row[f'{name}_cpu_s']}, "
                    f"{row[f'{name}_peak_rss_gib']}"
                )
            else:
                cells.append(row[f"{name}_runs"])
        out.append(
            f"| {row['size']} | {result.lines:,} | {result.customers:,} | "
            + " | ".join(cells)
            + f" | {row['dbt_over_pandas_wall']} | {row['dbt_over_course_wall']}"
            + f" | {row['dbt_over_floor_wall']} | "
            # runs per measure; 0 for one skipped or failed (its cell above says which)
            + "/".join(row[f"{name}_runs"] if row[f"{name}_wall_s"] else "0" for name in MEASURES)
            + f" | {result.load_before[0]:.2f}, {result.load_after[0]:.2f} |"
        )
    for result in results:
        if result.slowest:
            out += ["", f"Ten slowest dbt nodes at {result.size:.0e} (last run, seconds):", ""]
            out += [f"- {seconds:7.1f}  {node}" for node, seconds in result.slowest]
    return "\n".join(out) + "\n"


def write_reports(results: list[SizeResult], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "bench.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for result in results:
            writer.writerow(csv_row(result))
    (out / "bench.md").write_text(markdown(results), encoding="utf-8")
    runs = {
        f"{result.size:.0e}": {
            name: [asdict(run) | {"output": run.output[-2000:]} for run in runs]
            for name, runs in result.runs.items()
        }
        for result in results
    }
    (out / "bench_runs.json").write_text(json.dumps(runs, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["floor"]:
        print(json.dumps(floor_pass(Path(argv[1]))))
        return 0
    parser = argparse.ArgumentParser(description="dbt build vs pandas vs one DuckDB pass")
    parser.add_argument("sizes", nargs="+", type=float, help="invoice lines, e.g. 1e6 1e7")
    parser.add_argument("--cache-dir", type=Path, default=PROJECT_DIR / "target" / "bench-data")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "target" / "bench")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="the dbt project to build (e.g. an export of an older commit, for before/after)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat-below", type=float, default=120.0, help="seconds")
    parser.add_argument("--measures", nargs="+", choices=MEASURES, default=list(MEASURES))
    parser.add_argument(
        "--baseline-max-lines",
        type=float,
        default=3e7,
        help="skip the pandas baselines above this size (they need ~0.5 GB per million lines)",
    )
    args = parser.parse_args(argv)
    results: list[SizeResult] = []
    for size in args.sizes:
        data = ensure_data(size, args.cache_dir, args.format)
        print(f"size {size:.0e}: {data}", flush=True)
        result = bench_size(
            size,
            data,
            args.out / "work",
            args.repeats,
            args.repeat_below,
            args.measures,
            args.baseline_max_lines,
            args.project_dir.resolve(),
        )
        results.append(result)
        write_reports(results, args.out)
    print()
    print(markdown(results))
    print(f"written: {args.out / 'bench.csv'}, {args.out / 'bench.md'}")
    failed = [
        (result.size, name)
        for result in results
        for name, runs in result.runs.items()
        if any(run.returncode != 0 for run in runs)
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
