"""Running the project on Apache Spark: the model fits between dbt's SQL steps, and the
comparison of Spark's public marts with DuckDB's (README, "Spark")."""
