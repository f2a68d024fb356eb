{#-
    The Gamma-Gamma fit's input: distinct (frequency, monetary value) rows of the repeat buyers
    (frequency > 0; the model is undefined for one-time buyers) with their customer counts.
-#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetimes_summarized') }}
),

final as (
    select
        dataset,
        frequency,
        monetary_value,
        count(*) as customers
    from customer_lifetime
    where frequency > 0
    group by dataset, frequency, monetary_value
)

select * from final
