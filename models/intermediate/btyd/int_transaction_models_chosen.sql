{#-
    The one place where the transaction model behind the predictions is chosen: one row per
    dataset. A model name in the transaction_model var applies to every dataset. `auto` takes,
    per dataset, the model the backtest selected (int_validation_models_compared: the highest
    holdout log-likelihood, or the lowest BIC where there is no holdout), and BG/NBD where the backtest
    fitted none. Only `auto` makes the predictions depend on the backtest: with a model name,
    this model does not reference the validation models at all, so `dbt build -s
    +cltv_predictions` runs no backtest and a failing backtest fit cannot block production CLV.
-#}
{%- set transaction_model = var('transaction_model') | string | trim | lower -%}
{%- set default_model = 'bgnbd' -%}
{%- set allowed = ['bgnbd', 'pareto_nbd', 'mbgnbd', 'auto'] -%}
{%- if transaction_model not in allowed -%}
    {{ exceptions.raise_compiler_error(
        "var transaction_model='" ~ var('transaction_model') ~ "' is not one of "
        ~ allowed | join(', ') ~ "."
    ) }}
{%- endif -%}
with

datasets as (
    select * from {{ ref('int_datasets_dated') }}
),

{% if transaction_model == 'auto' %}
    compared_models as (
        select * from {{ ref('int_validation_models_compared') }}
    ),

    selected_models as (
        select
            dataset,
            model as transaction_model,
            selection_rule
        from compared_models
        where is_selected
    ),

    chosen as (
        select
            datasets.dataset,
            coalesce(selected_models.transaction_model, {{ crm_sql_string(default_model) }})
                as transaction_model,
            case
                when selected_models.transaction_model is not null
                    then {{ dbt.concat([crm_sql_string('auto: '), 'selected_models.selection_rule']) }}
                else {{ crm_sql_string('auto: the backtest fitted no model; the default') }}
            end as choice_rule
        from datasets
        left join selected_models
            on datasets.dataset = selected_models.dataset
    ),
{% else %}
    chosen as (
        select
            dataset,
            {{ crm_sql_string(transaction_model) }} as transaction_model,
            {{ crm_sql_string('the transaction_model var') }} as choice_rule
        from datasets
    ),
{% endif %}

final as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        cast(transaction_model as {{ dbt.type_string() }}) as transaction_model,
        cast(choice_rule as {{ dbt.type_string() }}) as choice_rule
    from chosen
)

select * from final
