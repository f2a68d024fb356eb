{#-
    A primary key: the combination of `column_names` is never null and never repeats.
    Returns the offending key values with how often each occurs: every key that occurs more
    than once, and every key with a null part (crm_primary_key_failures: the keys grouped once;
    on DuckDB a hash of the key, then the suspect rows on the key itself).
-#}
{% test primary_key(model, column_names) %}

{{ crm_primary_key_failures(model, column_names) }}

{% endtest %}
