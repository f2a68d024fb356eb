"""Every var is checked when dbt parses the project, and the analysis date against the data when
it runs: a bad value stops the build with a message that names the var, the value given and
what is allowed (issue: bad input, round two)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DbtRunner, dbt_build

pytestmark = pytest.mark.dbt


def parse_error_lines(run_dbt: DbtRunner, **vars: object) -> list[str]:
    """The `- ...` problem lines of a `dbt parse` that must fail."""
    result = run_dbt(vars=vars, command="parse")
    assert result.returncode != 0, result.output
    assert "Invalid var" in result.output, result.output
    return [
        line.strip()[2:] for line in result.output.splitlines() if line.strip().startswith("- ")
    ]


def test_the_default_vars_pass(tmp_path: Path) -> None:
    result = dbt_build(tmp_path, command="parse")
    assert result.returncode == 0, result.output


def test_every_bad_var_is_named_at_once(run_dbt: DbtRunner) -> None:
    lines = parse_error_lines(
        run_dbt,
        cltv_profit_margin="10%",
        time_unit_days=0,
        holdout_days=-3,
        transaction_model_penalizer=-0.1,
        gamma_gamma_penalizer="none",
        cltv_horizon_months=2.5,
        week_horizon_weeks=-1,
        max_unparseable_share=1.5,
        second_purchase_window_days=0,
        cap_outliers="yes",
        validation_gate_severity="fatal",
        analysis_date_offset_days=True,
    )
    assert lines == [
        "var analysis_date_offset_days=True is not allowed: expected a whole number from 0 and "
        "at most 3660.",
        "var second_purchase_window_days=0 is not allowed: expected a whole number from 1 and at "
        "most 3660.",
        "var cltv_profit_margin='10%' (text) is not allowed: expected a number greater than 0 and "
        "at most 1.",
        "var time_unit_days=0 is not allowed: expected a number greater than 0 and at most 366.",
        "var transaction_model_penalizer=-0.1 is not allowed: expected a number from 0 and at "
        "most 1000.",
        "var gamma_gamma_penalizer='none' (text) is not allowed: expected a number from 0 and at "
        "most 1000.",
        "var week_horizon_weeks=-1 is not allowed: expected a number greater than 0 and at most "
        "5218.",
        "var cltv_horizon_months=2.5 is not allowed: expected a whole number from 1 and at most "
        "1200.",
        "var holdout_days=-3 is not allowed: expected a whole number from 1 and at most 3660.",
        "var max_unparseable_share=1.5 is not allowed: expected a number from 0 and at most 1.",
        "var cap_outliers='yes' (text) is not allowed: expected true or false.",
        "var validation_gate_severity='fatal' (text) is not allowed: expected warn or error.",
    ]


def test_a_yaml_nan_is_not_a_number(run_dbt: DbtRunner) -> None:
    """`.nan` is a float to YAML, and compares false with everything: it must not pass a range."""
    result = run_dbt(command="parse", extra=["--vars", "{monthly_discount_rate: .nan}"])
    assert result.returncode != 0
    assert (
        "var monthly_discount_rate=nan is not allowed: expected a number from 0 and at most 1."
        in result.output
    ), result.output


def test_profit_margin_above_one_is_refused(run_dbt: DbtRunner) -> None:
    assert parse_error_lines(run_dbt, cltv_profit_margin=1.5) == [
        "var cltv_profit_margin=1.5 is not allowed: expected a number greater than 0 and at most 1."
    ]


def test_swapped_outlier_quantiles_are_refused(run_dbt: DbtRunner) -> None:
    assert parse_error_lines(run_dbt, outlier_lower_quantile=0.99, outlier_upper_quantile=0.01) == [
        "vars outlier_lower_quantile=0.99 and outlier_upper_quantile=0.01: the lower quantile "
        "must be below the upper one."
    ]


def test_model_lists_and_names_are_checked(run_dbt: DbtRunner) -> None:
    lines = parse_error_lines(
        run_dbt,
        validation_models=["bgnbd", "bgnbd", "pareto"],
        transaction_model="best",
        transactions_dataset="my shop",
        calibration_end_date="1997-09-31",
    )
    assert lines == [
        "var transactions_dataset='my shop' (text) is not allowed: expected a name of letters, "
        "digits and underscores, starting with a letter (at most 63 characters).",
        "var calibration_end_date='1997-09-31' (text) is not allowed: expected a calendar date "
        "'YYYY-MM-DD', or null.",
        "var transaction_model='best' (text) is not allowed: expected one of bgnbd, pareto_nbd, "
        "mbgnbd, auto.",
        "var validation_models=['bgnbd', 'bgnbd', 'pareto'] is not allowed: expected a non-empty "
        "list of bgnbd, pareto_nbd, mbgnbd ('pareto' is not one).",
        "var validation_models=['bgnbd', 'bgnbd', 'pareto'] is not allowed: expected a list "
        "without repeats.",
    ]


def test_an_empty_model_list_is_refused(run_dbt: DbtRunner) -> None:
    assert parse_error_lines(run_dbt, validation_models=[]) == [
        "var validation_models=[] is not allowed: expected a non-empty list of bgnbd, "
        "pareto_nbd, mbgnbd."
    ]


# --- the analysis date against the data (run time) ------------------------------------------


def dated_build(run_dbt: DbtRunner, **vars: object):
    return run_dbt(
        vars=vars, select="+int_datasets_dated", extra=["--exclude-resource-type", "unit_test"]
    )


def test_an_analysis_date_before_all_data_fails_naming_both(run_dbt: DbtRunner) -> None:
    result = dated_build(run_dbt, analysis_date="2001-01-01")
    assert result.returncode != 0
    # the embedded sample: FLO orders from 2017-01-01, invoice lines from 2009-12-01
    assert (
        "var analysis_date='2001-01-01' is on or before the first order of dataset "
        "'online_retail' (2009-12-01; its orders span 2009-12-01 .. 2011-12-09)" in result.output
    ), result.output
    assert "the first order of dataset 'flo' (2017-01-01" in result.output


def test_a_far_future_analysis_date_is_refused_before_the_backtest(run_dbt: DbtRunner) -> None:
    result = dated_build(run_dbt, analysis_date="2040-01-01")
    assert result.returncode != 0
    assert (
        "var analysis_date='2040-01-01' is 10250 days after the last order of dataset "
        "'online_retail' (2011-12-09); at most max_days_after_last_order=366 days are allowed."
        in result.output
    ), result.output


def test_the_limit_is_a_var(run_dbt: DbtRunner) -> None:
    # 389 days after the sample's last invoice line (2011-12-09); without the FLO sample, whose
    # first order (2017) would come after it
    vars = {"analysis_date": "2013-01-01", "customer_summaries_path": ""}
    refused = dated_build(run_dbt, **vars)
    assert "is 389 days after the last order of dataset 'online_retail'" in refused.output
    allowed = dated_build(run_dbt, **vars, max_days_after_last_order=400)
    assert allowed.returncode == 0, allowed.output
    rows = allowed.query("select dataset, cast(analysis_date as varchar) from int_datasets_dated")
    assert rows == [("online_retail", "2013-01-01")]


def test_a_calibration_end_after_the_analysis_date_is_refused(run_dbt: DbtRunner) -> None:
    result = dated_build(run_dbt, calibration_end_date="2030-01-01")
    assert result.returncode != 0
    assert (
        "the backtest's calibration end 2030-01-01 (var calibration_end_date or analysis date - "
        "holdout_days) is not before the analysis date 2011-12-11 of dataset 'online_retail'."
        in result.output
    ), result.output


def test_report_histogram_bins_are_a_whole_number(run_dbt: DbtRunner) -> None:
    assert parse_error_lines(run_dbt, report_clv_histogram_bins=2.5) == [
        "var report_clv_histogram_bins=2.5 is not allowed: expected a whole number from 1 and at "
        "most 1000."
    ]
