{#-
    The Gamma-Gamma estimates of each dataset in one row (p, q, v), from the long parameter
    table the Python fit writes.
-#}
with

model_fits as (
    select * from {{ ref('int_btyd_models_fitted') }}
),

gamma_gamma_rows as (
    select
        dataset,
        parameter,
        estimate
    from model_fits
    where model = 'gamma_gamma'
),

final as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        max(case when parameter = 'p' then estimate end) as gamma_gamma_p,
        max(case when parameter = 'q' then estimate end) as gamma_gamma_q,
        max(case when parameter = 'v' then estimate end) as gamma_gamma_v
    from gamma_gamma_rows
    group by dataset
)

select * from final
