"""Runs dbt on the local Spark session: `python -m crm_analytics.spark.build -- <dbt args>`.

dbt-spark's `method: session` builds into the SparkSession of its own process, so the session is
created here first (crm_analytics.spark.session) and dbt is invoked in-process. The Spark target
is added unless the arguments name one. Python models are not run here (dbt-spark runs them only
on Databricks): exclude them with `--exclude path:python_models` (dbt 1.11 does not select on
`config.language`), or use `python -m crm_analytics.spark build`, which runs them between the
SQL steps.
"""

from __future__ import annotations

import sys

from crm_analytics.spark.session import spark_session


def with_spark_target(args: list[str]) -> list[str]:
    """The dbt arguments with `--target spark` added unless they name a target."""
    if "--target" in args or "-t" in args:
        return list(args)
    return [*args, "--target", "spark"]


def run_dbt(args: list[str]) -> bool:
    """Invokes dbt with `args` on the Spark target; True when every node succeeded."""
    from dbt.cli.main import dbtRunner

    spark_session()
    result = dbtRunner().invoke(with_spark_target(args))
    return bool(result.success)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":
        args = args[1:]
    return 0 if run_dbt(args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
