{#-
    Target lists for marketing campaigns, configured as data in the seed rfm_campaigns: a
    customer joins a campaign when their RFM segment and one of their interest categories
    match a row of the seed. Categories match as whole words of interested_in_categories_12
    ('COCUK' does not match 'AKTIFCOCUK'; the course's str.contains would). Only datasets with
    interest categories (FLO) produce rows.
-#}
with

rfm as (
    select * from {{ ref('rfm') }}
),

customers as (
    select * from {{ ref('customers') }}
),

campaigns as (
    select * from {{ ref('rfm_campaigns') }}
),

customer_interests as (
    select
        dataset,
        customer_id,
        interested_in_categories,
        {{ crm_category_tokens('interested_in_categories') }} as category_tokens
    from customers
    where interested_in_categories is not null
),

matches as (
    select
        rfm.dataset,
        campaigns.campaign,
        rfm.customer_id,
        rfm.segment,
        customer_interests.interested_in_categories,
        campaigns.interest_category
    from rfm
    inner join customer_interests
        on rfm.dataset = customer_interests.dataset
        and rfm.customer_id = customer_interests.customer_id
    inner join campaigns
        on rfm.segment = campaigns.segment
        and customer_interests.category_tokens
        like {{ dbt.concat(["'%,'", 'campaigns.interest_category', "',%'"]) }}
),

final as (
    select
        dataset,
        campaign,
        customer_id,
        segment,
        interested_in_categories,
        {{ dbt.listagg('interest_category', "','", "order by interest_category") }} as matched_categories
    from matches
    group by dataset, campaign, customer_id, segment, interested_in_categories
)

select * from final
