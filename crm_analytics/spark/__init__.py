"""Running the project on Apache Spark (dbt-spark, `method: session`): README, "Spark"."""
