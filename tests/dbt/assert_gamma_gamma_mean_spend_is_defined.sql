{#-
    The Gamma-Gamma population mean spend p x v / (q - 1) exists only for q > 1; below that
    the expected average profit of one-time buyers and every CLV built on it are meaningless
    (negative). A penalizer pulls q down: the course's 0.01 gives q = 0.97 on CDNOW and 0.34 on
    Online Retail II. Returns the datasets whose fit has q <= 1.
-#}
with

parameters as (
    select * from {{ ref('cltv_model_parameters') }}
),

final as (
    select
        dataset,
        estimate as q,
        penalizer,
        fit_message
    from parameters
    where model = 'gamma_gamma'
        and parameter = 'q'
        and estimate <= 1
)

select * from final
