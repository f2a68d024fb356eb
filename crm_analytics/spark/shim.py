"""The ``dbt`` object a dbt Python model receives, for models this package runs itself.

dbt generates this object around each Python model it runs (``ref``, ``source``, ``config``,
``this``, ``is_incremental``). The runner builds it from the manifest node instead, reading
tables through ``Tables`` so that the same model code runs on DuckDB and on Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from crm_analytics.spark.tables import Tables


@dataclass(frozen=True)
class TableReference:
    """What ``dbt.ref`` and ``dbt.source`` return: a relation that reads as pandas.

    ``.df()`` is dbt-duckdb's way and ``.toPandas()`` Databricks' (a Spark DataFrame's); both
    give the same frame, so model code written for either engine runs here.
    """

    tables: Tables
    relation: str

    def df(self) -> pd.DataFrame:
        """The relation's rows as a pandas frame."""
        return self.tables.read(self.relation)

    def toPandas(self) -> pd.DataFrame:  # noqa: N802 - the Spark DataFrame method's name
        """The relation's rows as a pandas frame (the Spark DataFrame spelling)."""
        return self.df()

    def __str__(self) -> str:
        return self.relation


class ModelConfig:
    """``dbt.config``: a no-op when called (the manifest holds the config), ``.get`` reads it."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """``dbt.config(materialized=...)`` in the model body: already applied when parsing."""

    def get(self, key: str, default: Any = None) -> Any:
        """The model's configured value of ``key`` (vars rendered), or ``default``."""
        return self.values.get(key, default)


class DbtShim:
    """The ``dbt`` argument of ``model(dbt, session)`` for one manifest node."""

    def __init__(self, node: Mapping[str, Any], manifest: Mapping[str, Any], tables: Tables):
        self.node = node
        self.manifest = manifest
        self.tables = tables
        self.config = ModelConfig(node.get("config", {}))
        self.this = node["relation_name"]
        self.is_incremental = False

    def ref(self, *names: str, version: str | int | None = None, **_: Any) -> TableReference:
        """The model or seed ``ref(name)`` or ``ref(package, name)`` among the node's parents."""
        name = names[-1]
        package = names[0] if len(names) == 2 else None
        for uid in self.node["depends_on"]["nodes"]:
            parent = self.manifest["nodes"].get(uid)
            if (
                parent is not None
                and parent["name"] == name
                and package in (None, parent["package_name"])
                and version in (None, parent.get("version"))
            ):
                return TableReference(self.tables, parent["relation_name"])
        raise KeyError(f"{self.node['name']}: ref('{name}') is not among the model's parents")

    def source(self, source_name: str, table_name: str) -> TableReference:
        """The source table ``source(source_name, table_name)`` among the node's parents."""
        for uid in self.node["depends_on"]["nodes"]:
            source = self.manifest.get("sources", {}).get(uid)
            if source and (source["source_name"], source["name"]) == (source_name, table_name):
                return TableReference(self.tables, source["relation_name"])
        raise KeyError(
            f"{self.node['name']}: source('{source_name}', '{table_name}') is not among the "
            "model's parents"
        )
