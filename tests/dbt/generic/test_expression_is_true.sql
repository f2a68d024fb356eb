{#- Every row satisfies the SQL boolean `expression`; returns the rows that do not. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
