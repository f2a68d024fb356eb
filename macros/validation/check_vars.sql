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
    {%- set fit_customers = var('fit_max_customers', none) -%}
    {%- if fit_customers is not none and (not crm_is_number(fit_customers) or fit_customers is not integer
        or fit_customers < 1000) -%}
        {%- do problems.append(crm_var_problem('fit_max_customers', fit_customers, 'a whole number from 1000, or null to fit on every customer')) -%}
    {%- endif -%}
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

    {%- set zone = var('input_time_zone') -%}
    {%- if zone is not string or zone not in modules.pytz.all_timezones -%}
        {%- do problems.append(crm_var_problem('input_time_zone', zone, "an IANA time-zone name such as 'UTC' or 'Europe/Istanbul'")) -%}
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
    gone), or when the calibration end of the backtest is not before the analysis date. The
    same message lists the inputs that give no usable row (crm_unusable_input_problems).
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
    {%- set problems = crm_unusable_input_problems(relation) -%}
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
        {{ exceptions.raise_compiler_error("Input and analysis date check failed:\n  - " ~ problems | join("\n  - ")) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{#-
    The configured inputs as [dataset, var name, path, classified model]: what the input checks
    below look at. A disabled input ('' path) is left out.
-#}
{% macro crm_configured_inputs() %}
    {%- set inputs = [] -%}
    {%- if (var('transactions_path') or '') | trim != '' -%}
        {%- do inputs.append([var('transactions_dataset'), 'transactions_path', var('transactions_path'), ref('int_invoice_lines_classified')]) -%}
    {%- endif -%}
    {%- if (var('customer_summaries_path') or '') | trim != '' -%}
        {%- do inputs.append([var('customer_summaries_dataset'), 'customer_summaries_path', var('customer_summaries_path'), ref('int_customer_summaries_classified')]) -%}
    {%- endif -%}
    {{ return(inputs) }}
{% endmacro %}


{#-
    One sentence about an input whose rows are (mostly) unreadable: the var, the file, how many
    rows have each reason, and the first row with an unreadable value - its file, row number,
    column and value. Queries the classified rows of that one dataset; called only when a check
    below has already found the input at fault, so a good build never pays for it.
-#}
{% macro crm_describe_unreadable_input(dataset, var_name, path, classified, headline) %}
    {%- set counts_query -%}
        select quarantine_reason, count(*) as row_count
        from {{ classified }}
        where dataset = {{ crm_sql_string(dataset) }} and quarantine_reason is not null
        group by quarantine_reason
        order by row_count desc, quarantine_reason
    {%- endset -%}
    {%- set counts = [] -%}
    {%- for reason, row_count in run_query(counts_query).rows -%}
        {%- do counts.append(row_count ~ ' ' ~ reason) -%}
    {%- endfor -%}
    {%- set example_query -%}
        select source_file, source_row_number, quarantine_reason, quarantine_detail
        from {{ classified }}
        where dataset = {{ crm_sql_string(dataset) }}
            and quarantine_reason in ('unparseable_value', 'non_finite_value', 'value_out_of_range', 'missing_value')
        order by
            case quarantine_reason when 'unparseable_value' then 0 when 'non_finite_value' then 1 else 2 end,
            source_file, source_sheet, source_row_number
        limit 1
    {%- endset -%}
    {%- set examples = run_query(example_query).rows -%}
    {%- set message = "Input " ~ var_name ~ "='" ~ path ~ "' (dataset '" ~ dataset ~ "') " ~ headline
        ~ " Quarantined: " ~ (counts | join(', ') if counts else 'none') ~ "." -%}
    {%- if examples | length > 0 -%}
        {%- set source_file, row_number, reason, detail = examples[0] -%}
        {%- set column = (detail or '').split('=')[0].split(' is empty')[0] -%}
        {%- set value = (detail or '')[column | length + 1:] if '=' in (detail or '') else '(empty)' -%}
        {%- set message = message ~ " First unreadable value: file " ~ source_file ~ ", row " ~ row_number
            ~ ", column " ~ column ~ ", value " ~ value ~ " (" ~ reason ~ ")."
            ~ " Check the delimiter, the decimal separator and the date format"
            ~ " (README, Bad input: ISO or M/D/YYYY dates, '.' decimals)." -%}
    {%- endif -%}
    {{ return(message) }}
{% endmacro %}


{#-
    The inputs that give no clean row at all, one sentence each: crm_check_analysis_dates (the
    post-hook of int_datasets_dated) puts them in its message, so the build stops before any
    test. A customer-summaries input whose rows are mostly dated after the analysis_date var
    gets the analysis-date sentence with the input's date span; any other input
    crm_describe_unreadable_input's sentence (a semicolon CSV with decimal commas, dates as
    epoch milliseconds). Cheap on a good build: one look at the few rows of int_datasets_dated.
-#}
{% macro crm_unusable_input_problems(relation) %}
    {%- set problems = [] -%}
    {%- if not execute -%}
        {{ return(problems) }}
    {%- endif -%}
    {%- set present = run_query('select dataset from ' ~ relation).columns[0].values() -%}
    {%- for dataset, var_name, path, classified in crm_configured_inputs() if dataset not in present -%}
        {%- set late = none -%}
        {%- if var_name == 'customer_summaries_path' -%}
            {%- set late_query -%}
                select
                    sum(case when quarantine_reason = 'order_after_analysis_date' then 1 else 0 end),
                    count(*),
                    cast(min(first_order_date) as {{ dbt.type_string() }}),
                    cast(max(last_order_date) as {{ dbt.type_string() }})
                from {{ classified }}
                where dataset = {{ crm_sql_string(dataset) }}
            {%- endset -%}
            {%- set late = run_query(late_query).rows[0] -%}
        {%- endif -%}
        {%- if late is not none and late[0] and late[0] * 2 > late[1] -%}
            {%- set analysis_day = var('analysis_date') | string | trim -%}
            {%- set placement = "is on or before the first order of dataset '" ~ dataset ~ "' (" ~ late[2] ~ "; "
                if analysis_day <= late[2] else "leaves no row of dataset '" ~ dataset ~ "' usable (" -%}
            {%- do problems.append(
                "var analysis_date='" ~ analysis_day ~ "' " ~ placement ~ "its orders span "
                ~ late[2] ~ " .. " ~ late[3] ~ "): " ~ late[0] ~ " of its " ~ late[1]
                ~ " rows have an order date after it (quarantined as order_after_analysis_date)."
            ) -%}
        {%- else -%}
            {%- do problems.append(crm_describe_unreadable_input(
                dataset, var_name, path, classified, 'has no usable row: every row is quarantined.'
            )) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(problems) }}
{% endmacro %}


{#-
    Post-hook of the datasets mart: more than max_unparseable_share of a dataset's rows with an
    unparseable value means the input itself is wrong (a shifted column, a date format nobody
    expected); the build stops with crm_describe_unreadable_input's sentence. The test
    assert_unparseable_share_below_threshold states the same rule as data.
-#}
{% macro crm_check_unparseable_share(relation) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set limit = var('max_unparseable_share') -%}
    {%- set query -%}
        select dataset, unparseable_rows, raw_rows
        from {{ relation }}
        where unparseable_rows > {{ limit }} * raw_rows
        order by dataset
    {%- endset -%}
    {%- set over = {} -%}
    {%- for dataset, unparseable_rows, raw_rows in run_query(query).rows -%}
        {%- do over.update({dataset: [unparseable_rows, raw_rows]}) -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- for dataset, var_name, path, classified in crm_configured_inputs() if dataset in over -%}
        {%- set unparseable_rows, raw_rows = over[dataset] -%}
        {%- do problems.append(crm_describe_unreadable_input(
            dataset, var_name, path, classified,
            'has ' ~ unparseable_rows ~ ' of ' ~ raw_rows ~ ' rows with an unparseable value, more than'
            ~ ' max_unparseable_share=' ~ limit ~ ' of them.'
        )) -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("Input check failed:\n  - " ~ problems | join("\n  - ")) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
