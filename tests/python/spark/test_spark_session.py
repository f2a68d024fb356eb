"""The Spark session's settings (crm_analytics.spark.session): no Spark is started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_analytics.spark.build import main
from crm_analytics.spark.session import default_driver_memory, spark_settings


def test_defaults_are_local_utc_and_ansi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CRM_SPARK_ANSI", "CRM_SPARK_MASTER", "CRM_SPARK_SHUFFLE_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)
    settings = spark_settings(tmp_path)
    assert settings["spark.master"] == "local[2]"
    assert settings["spark.sql.ansi.enabled"] == "true"
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert settings["spark.sql.warehouse.dir"] == str(tmp_path.resolve() / "warehouse")
    assert str(tmp_path.resolve() / "metastore_db") in settings["javax.jdo.option.ConnectionURL"]


GIB = 2**30
MEMORY_RULE = [(24 * GIB, "8g"), (8 * GIB, "4g"), (5 * GIB + 1, "2g"), (1 * GIB, "1g"), (0, "1g")]


@pytest.mark.parametrize(("physical", "expected"), MEMORY_RULE)
def test_the_driver_gets_half_the_machine_between_1_and_8_gib(physical: int, expected: str) -> None:
    assert default_driver_memory(physical) == expected


def test_the_driver_memory_follows_the_environment_or_the_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CRM_SPARK_DRIVER_MEMORY", raising=False)
    assert spark_settings(tmp_path)["spark.driver.memory"] == default_driver_memory()
    monkeypatch.setenv("CRM_SPARK_DRIVER_MEMORY", "3g")
    assert spark_settings(tmp_path)["spark.driver.memory"] == "3g"


ANSI_VALUES = [("false", "false"), ("0", "false"), ("TRUE", "true")]


@pytest.mark.parametrize(("value", "expected"), ANSI_VALUES)
def test_ansi_mode_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, expected: str
) -> None:
    monkeypatch.setenv("CRM_SPARK_ANSI", value)
    assert spark_settings(tmp_path)["spark.sql.ansi.enabled"] == expected
    # an argument wins over the environment
    assert spark_settings(tmp_path, ansi=True)["spark.sql.ansi.enabled"] == "true"


def test_a_bad_ansi_value_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_SPARK_ANSI", "maybe")
    with pytest.raises(ValueError, match="CRM_SPARK_ANSI"):
        spark_settings(tmp_path)


def test_the_runner_passes_the_dbt_arguments_with_the_spark_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("crm_analytics.spark.build.run_dbt", lambda args: seen.append(args) or True)
    assert main(["--", "build", "--select", "rfm"]) == 0
    assert seen == [["build", "--select", "rfm"]]


def test_the_spark_target_is_added_unless_one_is_named() -> None:
    from crm_analytics.spark.build import with_spark_target

    assert with_spark_target(["build"]) == ["build", "--target", "spark"]
    assert with_spark_target(["build", "--target", "dev"]) == ["build", "--target", "dev"]
