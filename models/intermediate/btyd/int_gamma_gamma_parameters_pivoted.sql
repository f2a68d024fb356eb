{#-
    The Gamma-Gamma estimates of each dataset in one row (p, q, v), from the long parameter
    table the Python fit writes, with the covariance of their logs (for the delta-method
    spread of each customer's expected spend in cltv_predictions).
-#}
with

model_fits as (
    select * from {{ ref('int_btyd_models_fitted') }}
),

gamma_gamma_rows as (
    select
        dataset,
        parameter,
        estimate,
        log_covariance_1,
        log_covariance_2,
        log_covariance_3
    from model_fits
    where model = 'gamma_gamma'
),

final as (
    select
        cast(dataset as {{ dbt.type_string() }}) as dataset,
        max(case when parameter = 'p' then estimate end) as gamma_gamma_p,
        max(case when parameter = 'q' then estimate end) as gamma_gamma_q,
        max(case when parameter = 'v' then estimate end) as gamma_gamma_v,
        max(case when parameter = 'p' then log_covariance_1 end) as log_covariance_pp,
        max(case when parameter = 'p' then log_covariance_2 end) as log_covariance_pq,
        max(case when parameter = 'p' then log_covariance_3 end) as log_covariance_pv,
        max(case when parameter = 'q' then log_covariance_2 end) as log_covariance_qq,
        max(case when parameter = 'q' then log_covariance_3 end) as log_covariance_qv,
        max(case when parameter = 'v' then log_covariance_3 end) as log_covariance_vv
    from gamma_gamma_rows
    group by dataset
)

select * from final
