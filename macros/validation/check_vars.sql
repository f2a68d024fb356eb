{#-
    Every var of dbt_project.yml checked for type, range and format when dbt parses the project,
    so a bad value stops the build before anything runs, with a message that names the var, the
    value given and what is allowed. Called at the top of int_datasets_dated, which dbt renders
    (and so checks) on every parse, whatever is selected. The analysis date against the data
    (before all of it, or too far after it) needs the data and is checked at run time:
    crm_check_analysis_dates.
-#}
{% macro crm_check_vars() %}
    {%- set problems = [] -%}

    {%- for name in ['transactions_path', 'customer_summaries_path'] -%}
        {%- set value = var(name) -%}
        {%- if value is not none and value is not string -%}
            {%- do problems.append(crm_var_problem(name, value, "a file path or glob as text, or '' to disable the input")) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['transactions_dataset', 'customer_summaries_dataset'] -%}
        {%- set value = var(name) -%}
        {%- if value is not string or not modules.re.match('^[A-Za-z][A-Za-z0-9_]{0,62}$', value | trim) -%}
            {%- do problems.append(crm_var_problem(name, value, "a name of letters, digits and underscores, starting with a letter (at most 63 characters)")) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- for name in ['analysis_date', 'calibration_end_date'] -%}
        {%- set value = var(name) -%}
        {%- if value is not none and (value | string | trim) not in ('', 'None', 'null') -%}
            {%- if not crm_is_calendar_date(value | string | trim) -%}
                {%- do problems.append(crm_var_problem(name, value, "a calendar date 'YYYY-MM-DD', or null")) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}

    {#- name, lowest, highest, lowest allowed itself, whole number only, what it means -#}
    {%- set numbers = [
        ['analysis_date_offset_days', 0, 3660, true, true],
        ['max_days_after_last_order', 0, 36600, true, true],
        ['second_purchase_window_days', 1, 3660, true, true],
        ['cltv_profit_margin', 0, 1, false, false],
        ['time_unit_days', 0, 366, false, false],
        ['outlier_lower_quantile', 0, 1, true, false],
        ['outlier_upper_quantile', 0, 1, true, false],
        ['outlier_range_multiplier', 0, 1000, true, false],
        ['transaction_model_penalizer', 0, 1000, true, false],
        ['gamma_gamma_penalizer', 0, 1000, true, false],
        ['week_horizon_weeks', 0, 5218, false, false],
        ['month_horizon_weeks', 0, 5218, false, false],
        ['quarter_horizon_weeks', 0, 5218, false, false],
        ['cltv_horizon_months', 1, 1200, true, true],
        ['monthly_discount_rate', 0, 1, true, false],
        ['weeks_per_month', 0, 5, false, false],
        ['holdout_days', 1, 3660, true, true],
        ['max_holdout_forecast_error_pct', 0, 1000000, false, false],
        ['weak_identification_relative_se', 0, 1000, false, false],
        ['prediction_interval_level', 0, 0.999, false, false],
        ['max_unparseable_share', 0, 1, true, false],
        ['report_clv_histogram_bins', 1, 1000, true, true],
        ['sheet_overlap_block_rows', 1, 1000000000, true, true],
    ] -%}
    {%- for name, lowest, highest, inclusive, whole in numbers -%}
        {%- set value = var(name) -%}
        {%- set allowed = ('a whole number' if whole else 'a number')
            ~ (' from ' ~ lowest if inclusive else ' greater than ' ~ lowest) ~ ' and at most ' ~ highest -%}
        {%- if not crm_is_number(value) or (whole and value is not integer) -%}
            {%- do problems.append(crm_var_problem(name, value, allowed)) -%}
        {%- elif value < lowest or value > highest or (value == lowest and not inclusive) -%}
            {%- do problems.append(crm_var_problem(name, value, allowed)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set history_months = var('rfm_history_months', none) -%}
    {%- if history_months is not none and (not crm_is_number(history_months) or history_months is not integer
        or history_months < 1 or history_months > 1200) -%}
        {%- do problems.append(crm_var_problem('rfm_history_months', history_months, 'a whole number from 1 and at most 1200, or null for every month')) -%}
    {%- endif -%}
    {%- set lower, upper = var('outlier_lower_quantile'), var('outlier_upper_quantile') -%}
    {%- if crm_is_number(lower) and crm_is_number(upper) and lower >= upper -%}
        {%- do problems.append(
            "vars outlier_lower_quantile=" ~ lower ~ " and outlier_upper_quantile=" ~ upper
            ~ ": the lower quantile must be below the upper one."
        ) -%}
    {%- endif -%}

    {%- if var('cap_outliers') is not sameas true and var('cap_outliers') is not sameas false -%}
        {%- do problems.append(crm_var_problem('cap_outliers', var('cap_outliers'), 'true or false')) -%}
    {%- endif -%}

    {%- set models = ['bgnbd', 'pareto_nbd', 'mbgnbd'] -%}
    {%- set transaction_model = var('transaction_model') -%}
    {%- if transaction_model is not string or (transaction_model | trim | lower) not in models + ['auto'] -%}
        {%- do problems.append(crm_var_problem('transaction_model', transaction_model, 'one of ' ~ (models + ['auto']) | join(', '))) -%}
    {%- endif -%}
    {%- set validation_models = var('validation_models') -%}
    {%- if validation_models is string or validation_models is not iterable or validation_models | length == 0 -%}
        {%- do problems.append(crm_var_problem('validation_models', validation_models, 'a non-empty list of ' ~ models | join(', '))) -%}
    {%- else -%}
        {%- for model in validation_models -%}
            {%- if model not in models -%}
                {%- do problems.append(crm_var_problem('validation_models', validation_models, 'a non-empty list of ' ~ models | join(', ') ~ " ('" ~ model ~ "' is not one)")) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if validation_models | unique | list | length != validation_models | length -%}
            {%- do problems.append(crm_var_problem('validation_models', validation_models, 'a list without repeats')) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if var('validation_gate_severity') not in ['warn', 'error'] -%}
        {%- do problems.append(crm_var_problem('validation_gate_severity', var('validation_gate_severity'), 'warn or error')) -%}
    {%- endif -%}

    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Invalid var" ~ ("s" if problems | length > 1 else "") ~ " (set in dbt_project.yml or --vars):\n  - "
            ~ problems | join("\n  - ")
        ) }}
    {%- endif -%}
    {{ crm_check_dataset_names() }}
{% endmacro %}


{#- One line of crm_check_vars' message: the var, the value given (with its type) and what is allowed. -#}
{% macro crm_var_problem(name, value, allowed) %}
    {%- if value is string -%}
        {%- set shown = "'" ~ value ~ "' (text)" -%}
    {%- elif value is none -%}
        {%- set shown = 'null' -%}
    {%- else -%}
        {%- set shown = value | string -%}
    {%- endif -%}
    {{ return('var ' ~ name ~ '=' ~ shown ~ ' is not allowed: expected ' ~ allowed ~ '.') }}
{% endmacro %}


{#- True for an int or float var value; false for text, booleans, null and NaN. -#}
{% macro crm_is_number(value) %}
    {#- value == value is false for NaN; the ranges of crm_check_vars keep out infinities -#}
    {{ return(value is number and value is not sameas true and value is not sameas false
        and value == value) }}
{% endmacro %}


{#- True when text is a real calendar date written YYYY-MM-DD. -#}
{% macro crm_is_calendar_date(text) %}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set parts = text.split('-') -%}
    {%- set year, month, day = parts[0] | int, parts[1] | int, parts[2] | int -%}
    {%- set leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) -%}
    {%- set days_in_month = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {{ return(1 <= month <= 12 and 1 <= day <= days_in_month[month - 1]) }}
{% endmacro %}


{#-
    Run-time checks of the analysis date against each dataset's data, run as a post-hook of
    int_datasets_dated (the table that holds both): the build stops, naming the var, the dataset
    and the dates, when the analysis date is on or before the dataset's first order (every
    analysis would be empty), more than max_days_after_last_order days after its last order (the
    backtest's cost grows with the gap, and predictions that far out are about customers long
    gone), or when the calibration end of the backtest is not before the analysis date.
-#}
{% macro crm_check_analysis_dates(relation) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set limit = var('max_days_after_last_order') -%}
    {%- set query -%}
        select
            dataset,
            cast(first_order_date as {{ dbt.type_string() }}),
            cast(last_order_date as {{ dbt.type_string() }}),
            cast(analysis_date as {{ dbt.type_string() }}),
            analysis_date_source,
            cast(calibration_end_date as {{ dbt.type_string() }}),
            {{ dbt.datediff('last_order_date', 'analysis_date', 'day') }} as days_after_last_order
        from {{ relation }}
        order by dataset
    {%- endset -%}
    {%- set problems = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- set dataset, first_day, last_day, analysis_day, source, calibration_end, gap = row -%}
        {%- set given = "var analysis_date='" ~ analysis_day ~ "'" if source == 'var'
            else "the default analysis date " ~ analysis_day ~ " (last order + analysis_date_offset_days)" -%}
        {%- if analysis_day <= first_day -%}
            {%- do problems.append(
                given ~ " is on or before the first order of dataset '" ~ dataset ~ "' ("
                ~ first_day ~ "; its orders span " ~ first_day ~ " .. " ~ last_day
                ~ "): every analysis would be empty. Use a date after " ~ first_day ~ "."
            ) -%}
        {%- elif gap > limit -%}
            {%- do problems.append(
                given ~ " is " ~ gap ~ " days after the last order of dataset '" ~ dataset ~ "' ("
                ~ last_day ~ "); at most max_days_after_last_order=" ~ limit ~ " days are allowed."
            ) -%}
        {%- endif -%}
        {%- if calibration_end >= analysis_day -%}
            {%- do problems.append(
                "the backtest's calibration end " ~ calibration_end ~ " (var calibration_end_date or"
                ~ " analysis date - holdout_days) is not before the analysis date " ~ analysis_day
                ~ " of dataset '" ~ dataset ~ "'."
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("Analysis date check failed:\n  - " ~ problems | join("\n  - ")) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
