{#-
    The public face of the lifetime table: the BTYD inputs per customer, computed in
    int_customer_lifetimes_summarized (where the definitions live) and read by the model fits.
-#}
with

customer_lifetimes as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

final as (
    select * from customer_lifetimes
)

select * from final
