"""Running the project on Apache Spark (dbt-spark, `method: session`): README, "Spark".

session: the local SparkSession; build: dbt alone on it; runner, plan, shim, tables: the build
with the Python models (the model fits) run between dbt's SQL steps; compare: the public marts
of a Spark build against a DuckDB build's.
"""
