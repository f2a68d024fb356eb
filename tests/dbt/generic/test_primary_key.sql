{#-
    A primary key: the combination of `column_names` is never null and never repeats.
    Returns the offending key values with how often each occurs: every key that occurs more
    than once, and every key with a null part. One grouped pass over the model: the key tests
    of the largest tables (78 M rows of rfm_monthly at 100 M invoice lines) are among the
    build's costliest nodes, and a second pass for the nulls made DuckDB keep the keys whole.
-#}
{% test primary_key(model, column_names) %}

with

keys as (
    select
        {{ column_names | join(',\n        ') }}
    from {{ model }}
),

final as (
    select
        {{ column_names | join(',\n        ') }},
        count(*) as rows_with_key
    from keys
    group by {{ column_names | join(', ') }}
    having
        count(*) > 1
        {%- for column in column_names %}
        or {{ column }} is null
        {%- endfor %}
)

select * from final

{% endtest %}
