{# Shared building blocks for feature files; every macro here is available in every file. #}
{% macro count_action(action) -%}
COUNT(*) FILTER (WHERE action = '{{ action }}')
{%- endmacro %}
