{#- Every value of the column is a finite number: not null, not NaN, not +/-infinity. -#}
{% test finite(model, column_name) %}

select {{ column_name }} as non_finite_value
from {{ model }}
where {{ column_name }} is null
    or not {{ crm_is_finite(column_name) }}

{% endtest %}
