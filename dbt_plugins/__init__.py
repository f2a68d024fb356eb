"""dbt-duckdb plugins of the project (named in profiles.yml). Kept apart from `crm_analytics`,
which is plain Python with no dbt imports."""
