{#-
    The BTYD fits' customer sample (var fit_max_customers). A maximum-likelihood fit costs time in
    proportion to its distinct input rows, which grow with the customers (at 100 M invoice lines:
    6.4 M customers, millions of distinct rows, minutes per fit). A dataset with more customers
    than the var is fitted on a fixed pseudo-random sample of about that many: a customer is in
    it when the hash of (dataset, customer_id), read as a fraction of [0, 1), is below
    fit_max_customers / customers. The same customers on every build and engine run; the
    estimates are those of a random sample (their standard errors are the sample's, so they are
    honest about it); every customer is still scored with them. null fits every customer.
-#}
{% macro crm_fit_sample_share(customers) -%}
    {%- set max_customers = var('fit_max_customers', none) -%}
    {%- if max_customers is none -%}
        1.0
    {%- else -%}
        least(1.0, {{ max_customers }} / cast({{ customers }} as {{ dbt.type_float() }}))
    {%- endif -%}
{%- endmacro %}

{% macro crm_customer_hash_fraction(dataset, customer_id) -%}
    {{ return(adapter.dispatch('crm_customer_hash_fraction', 'crm_analytics')(dataset, customer_id)) }}
{%- endmacro %}

{#-
    The first 13 hex digits (52 bits) of the MD5 of dataset || '|' || customer_id, over 2^52 (a
    double holds it exactly, so the fraction is always below 1; 60 bits could round up to 1.0):
    the same number on every engine that has md5 (Spark: spark__crm_customer_hash_fraction), so
    DuckDB and Spark fit the same sample. (DuckDB's own hash() has no Spark equivalent.)
-#}
{% macro default__crm_customer_hash_fraction(dataset, customer_id) -%}
    (cast(cast('0x' || substr(md5({{ dataset }} || '|' || {{ customer_id }}), 1, 13) as {{ dbt.type_bigint() }}) as {{ dbt.type_float() }}) / 4503599627370496.0)
{%- endmacro %}
