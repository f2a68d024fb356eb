"""Section "Model checks": the backtest of the transaction models, from the validation marts
cltv_validation_summary (the comparison on the holdout log-likelihood, with MAE and the
baselines), cltv_validation_by_frequency (actual vs predicted holdout purchases per calibration
frequency) and cltv_validation_tracking (cumulative repeat purchases by week), and the
production fits' parameters with their log-scale intervals and weak-identification flag
(cltv_model_parameters). Models are shown by their
display names (`crm_analytics.btyd.MODEL_LABELS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crm_analytics.report.data import VALIDATION_BY_FREQUENCY, VALIDATION_TRACKING
from crm_analytics.report.formatting import dataset_block_id, fmt_num, is_finite, model_label
from crm_analytics.report.page import SECTION_TITLES, Block, Section, html_table
from crm_analytics.report.theme import COLOURS, style_figure


def validation_frequency_figure(validation: pd.DataFrame, dataset: str) -> go.Figure:
    """Actual (bars) and predicted (one bar per model) mean holdout purchases per bucket of
    calibration-period repeat purchases."""
    buckets = list(dict.fromkeys(validation["calibration_frequency_bucket"]))
    models = list(dict.fromkeys(validation["model"]))
    actual = (
        validation.drop_duplicates("calibration_frequency_bucket")
        .set_index("calibration_frequency_bucket")
        .reindex(buckets)
    )
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=buckets,
            y=actual["mean_actual_holdout_purchases"].to_numpy(),
            name="Actual",
            marker_color=COLOURS["actual"],
            customdata=actual["customers"].to_numpy(),
            hovertemplate="%{x}: %{y:.2f} actual (%{customdata:,} customers)<extra></extra>",
        )
    )
    for position, model in enumerate(models):
        rows = validation[validation["model"] == model].set_index("calibration_frequency_bucket")
        rows = rows.reindex(buckets)
        fig.add_trace(
            go.Bar(
                x=buckets,
                y=rows["mean_predicted_holdout_purchases"].to_numpy(),
                name=f"Predicted, {model_label(model)}",
                marker_color=COLOURS["expected"][position % len(COLOURS["expected"])],
                hovertemplate="%{x}: %{y:.2f} predicted<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(
        title_text="Repeat purchases in the calibration period (count)", type="category"
    )
    fig.update_yaxes(title_text="Mean holdout purchases per customer (count)")
    return style_figure(
        fig, f"{dataset}: actual vs predicted holdout purchases by calibration frequency", 440
    )


def read_validation_frequency(validation: pd.DataFrame) -> str:
    """Per model, the predicted vs actual holdout purchases per customer over all buckets."""
    parts = []
    for model, rows in validation.groupby("model", sort=False):
        customers = rows["customers"].sum()
        if not customers:
            continue
        actual = (rows["mean_actual_holdout_purchases"] * rows["customers"]).sum() / customers
        predicted = (rows["mean_predicted_holdout_purchases"] * rows["customers"]).sum() / customers
        gap = (predicted - actual) / actual if actual else np.nan
        gap_text = f", {gap:+.0%}" if is_finite(gap) else ""
        parts.append(
            f"{model_label(model)} predicts {predicted:.2f} holdout purchases per customer vs "
            f"{actual:.2f} actual{gap_text}"
        )
    if not parts:
        return "No customers in the validation table."
    customers = int(validation.drop_duplicates("calibration_frequency_bucket")["customers"].sum())
    return f"Over {customers:,} customers, " + "; ".join(parts) + "."


def calibration_end_week(tracking: pd.DataFrame) -> float | None:
    """The boundary between the last calibration week and the first holdout week, if known."""
    if "is_holdout" not in tracking or tracking["is_holdout"].isna().all():
        return None
    holdout = tracking["is_holdout"].fillna(False).astype(bool)
    calibration_weeks = tracking.loc[~holdout, "week"]
    holdout_weeks = tracking.loc[holdout, "week"]
    if calibration_weeks.empty or holdout_weeks.empty:
        return None
    return (float(calibration_weeks.max()) + float(holdout_weeks.min())) / 2


def validation_tracking_figure(tracking: pd.DataFrame, dataset: str) -> go.Figure:
    """Cumulative (top) and weekly (bottom) repeat purchases, actual vs expected per model, with
    the calibration end marked when the table says which weeks are holdout."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.6, 0.4],
        subplot_titles=("Cumulative repeat purchases", "Repeat purchases per week"),
    )
    models = list(dict.fromkeys(tracking["model"]))
    actual = tracking[tracking["model"] == models[0]]
    for row, column in ((1, "actual_cumulative_repeat_purchases"), (2, "actual_repeat_purchases")):
        fig.add_trace(
            go.Scatter(
                x=actual["week"].to_numpy(),
                y=actual[column].to_numpy(),
                name="Actual",
                legendgroup="actual",
                showlegend=row == 1,
                mode="lines",
                line={"color": COLOURS["actual"], "width": 2.5},
            ),
            row=row,
            col=1,
        )
    for position, model in enumerate(models):
        rows = tracking[tracking["model"] == model]
        colour = COLOURS["expected"][position % len(COLOURS["expected"])]
        for row, column in (
            (1, "expected_cumulative_repeat_purchases"),
            (2, "expected_repeat_purchases"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=rows["week"].to_numpy(),
                    y=rows[column].to_numpy(),
                    name=f"Expected, {model_label(model)}",
                    legendgroup=str(model),
                    showlegend=row == 1,
                    mode="lines",
                    line={"color": colour, "dash": "dash", "width": 2},
                ),
                row=row,
                col=1,
            )
    boundary = calibration_end_week(tracking)
    if boundary is not None:
        for row in (1, 2):
            fig.add_vline(
                x=boundary, line={"color": "#555", "dash": "dot", "width": 1.5}, row=row, col=1
            )
        fig.add_annotation(
            x=boundary,
            y=1,
            yref="y domain",
            text="calibration end",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            xshift=-4,
            font={"size": 11, "color": "#555"},
        )
    fig.update_yaxes(title_text="Repeat purchases (count)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="Per week (count)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="Week since the first purchase in the data (weeks)", row=2, col=1)
    return style_figure(fig, f"{dataset}: tracking repeat purchases, actual vs expected", 620)


def read_validation_tracking(tracking: pd.DataFrame) -> str:
    """Per model, expected vs actual cumulative repeat purchases by the last week, and over the
    holdout weeks when they are known."""
    parts = []
    boundary = calibration_end_week(tracking)
    for model, rows in tracking.groupby("model", sort=False):
        last = rows.sort_values("week").iloc[-1]
        actual = float(last["actual_cumulative_repeat_purchases"])
        expected = float(last["expected_cumulative_repeat_purchases"])
        gap = f" ({(expected - actual) / actual:+.1%})" if actual else ""
        part = (
            f"by week {int(last['week'])} {model_label(model)} expects {expected:,.0f} cumulative "
            f"repeat purchases vs {actual:,.0f} actual{gap}"
        )
        if boundary is not None:
            holdout = rows[rows["week"] > boundary]
            holdout_actual = float(holdout["actual_repeat_purchases"].sum())
            holdout_expected = float(holdout["expected_repeat_purchases"].sum())
            part += (
                f"; in the {len(holdout)} holdout weeks {holdout_expected:,.0f} expected vs "
                f"{holdout_actual:,.0f} actual"
            )
        parts.append(part)
    if not parts:
        return "No weeks in the tracking table."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def comparison_table(summary: pd.DataFrame) -> str:
    """One dataset's model comparison: holdout log-likelihood per customer (the selection
    rule), MAE, total forecast error, BIC, and the baselines."""
    rows = [
        [
            model_label(row.model) + (" (selected)" if row.is_selected else ""),
            fmt_num(row.holdout_log_likelihood_per_customer, 4),
            fmt_num(row.log_likelihood_lift_vs_poisson_baseline, 4),
            fmt_num(row.holdout_mae, 3),
            fmt_num(row.zero_baseline_mae, 3),
            fmt_num(row.holdout_error_pct, 1),
            fmt_num(row.bic, 1),
        ]
        for row in summary.itertuples(index=False)
    ]
    columns = (
        "model",
        "holdout log-lik. / customer",
        "lift vs Poisson",
        "holdout MAE",
        "MAE of 'no purchases'",
        "total error %",
        "BIC",
    )
    return html_table(columns, rows, numeric=(False, *[True] * 6))


def read_comparison(summary: pd.DataFrame) -> str:
    """The comparison in words: what was selected, by which rule, against the baseline."""
    selected = summary[summary["is_selected"].fillna(False).astype(bool)]
    if selected.empty:
        return "No model could be fitted on the calibration period."
    best = selected.iloc[0]
    if not is_finite(best["holdout_log_likelihood_per_customer"]):
        return f"{model_label(best['model'])} is selected by {best['selection_rule']}."
    text = (
        f"{model_label(best['model'])} is selected by the {best['selection_rule']} "
        f"({fmt_num(best['holdout_log_likelihood_per_customer'], 4)} per customer, against "
        f"{fmt_num(best['poisson_baseline_log_likelihood_per_customer'], 4)} for a Poisson at "
        "the calibration rate): the log-probability of what each customer actually bought in "
        "the holdout, a proper scoring rule"
    )
    if is_finite(best["zero_baseline_mae"]) and best["zero_baseline_mae"] < best["holdout_mae"]:
        text += (
            f"; on MAE, forecasting no purchases at all would win "
            f"({fmt_num(best['zero_baseline_mae'], 3)} against {fmt_num(best['holdout_mae'], 3)}),"
            " which is why MAE does not choose"
        )
    return text + "."


def parameters_table(parameters: pd.DataFrame) -> str:
    """One dataset's production parameters with standard errors and log-scale intervals."""
    rows = [
        [
            model_label(row.model),
            row.parameter,
            fmt_num(row.estimate, 4),
            fmt_num(row.standard_error, 4),
            f"{fmt_num(row.ci_lower, 4)} .. {fmt_num(row.ci_upper, 4)}",
            fmt_num(row.relative_standard_error, 2),
            "weak" if row.weakly_identified else "",
        ]
        for row in parameters.itertuples(index=False)
    ]
    columns = ("model", "parameter", "estimate", "SE", "95% interval", "SE / estimate", "")
    return html_table(columns, rows, numeric=(False, False, True, True, True, True, False))


def read_parameters(parameters: pd.DataFrame) -> str:
    """Which fits are weakly identified, and why."""
    weak = parameters[parameters["weakly_identified"].fillna(False).astype(bool)]
    if weak.empty:
        return (
            "Every parameter is well identified (standard error below its threshold of the "
            "estimate, no fit at a limit of its model). Intervals are on the log scale, so they "
            "stay positive."
        )
    notes = weak.drop_duplicates("model")
    parts = [f"{model_label(row.model)}: {row.identification_note}" for row in notes.itertuples()]
    return (
        "Weakly identified - read the predictions, not these parameters one by one: "
        + "; ".join(parts)
        + "."
    )


def model_checks_section(
    by_frequency: pd.DataFrame | None,
    tracking: pd.DataFrame | None,
    datasets: pd.DataFrame,
    comparison: pd.DataFrame | None = None,
    parameters: pd.DataFrame | None = None,
) -> Section:
    """Per dataset, the model comparison and the parameters (when given), then the
    actual-vs-predicted and tracking figures of whichever validation table the database has
    (`None` = not there, said in a note)."""
    section = Section(
        "model-checks",
        SECTION_TITLES["model-checks"],
        "The predictive models refitted on a calibration period and compared with what the "
        "customers then did in the holdout period.",
    )
    tables = ((VALIDATION_BY_FREQUENCY, by_frequency), (VALIDATION_TRACKING, tracking))
    missing = [name for name, table in tables if table is None]
    if missing:
        section.blocks.append(
            Block("model-checks-missing", "", note=f"Not in this database: {', '.join(missing)}.")
        )
    for dataset in datasets["dataset"]:
        if comparison is not None:
            rows = comparison[comparison["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        dataset_block_id("model-checks-comparison", dataset),
                        f"{dataset}: model comparison on the holdout",
                        reading=read_comparison(rows),
                        table_html=comparison_table(rows),
                    )
                )
        if parameters is not None:
            rows = parameters[parameters["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        dataset_block_id("model-checks-parameters", dataset),
                        f"{dataset}: fitted parameters and their uncertainty",
                        reading=read_parameters(rows),
                        table_html=parameters_table(rows),
                    )
                )
        if by_frequency is not None:
            rows = by_frequency[by_frequency["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        dataset_block_id("model-checks-frequency", dataset),
                        f"{dataset}: actual vs predicted by calibration frequency",
                        reading=read_validation_frequency(rows),
                        figure=validation_frequency_figure(rows, dataset),
                    )
                )
        if tracking is not None:
            rows = tracking[tracking["dataset"] == dataset]
            if not rows.empty:
                section.blocks.append(
                    Block(
                        dataset_block_id("model-checks-tracking", dataset),
                        f"{dataset}: tracking cumulative repeat purchases",
                        reading=read_validation_tracking(rows),
                        figure=validation_tracking_figure(rows, dataset),
                    )
                )
    return section
