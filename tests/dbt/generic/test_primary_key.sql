{#-
    A primary key: the combination of `column_names` is never null and never repeats.
    Returns the offending key values with how often each occurs.
-#}
{% test primary_key(model, column_names) %}

with

keys as (
    select
        {{ column_names | join(',\n        ') }}
    from {{ model }}
),

repeated_keys as (
    select
        {{ column_names | join(',\n        ') }},
        count(*) as rows_with_key
    from keys
    group by {{ column_names | join(', ') }}
    having count(*) > 1
),

null_keys as (
    select
        {{ column_names | join(',\n        ') }},
        count(*) as rows_with_key
    from keys
    where {% for column in column_names %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
    group by {{ column_names | join(', ') }}
),

final as (
    select * from repeated_keys
    union all
    select * from null_keys
)

select * from final

{% endtest %}
