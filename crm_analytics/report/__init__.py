"""One self-contained HTML report from the marts: `make report`.

    python -m crm_analytics.report [--source published/crm.duckdb] [--out reports/crm_report.html]

The report reads a DuckDB file with the project's marts (the published copy by default, the
build database when there is none) read-only, and writes one HTML file with plotly.js inlined
once: it opens from disk with no server and no network.

It computes nothing in SQL: every figure comes from a finished table, a mart or one of the
``rpt_`` marts that dbt builds for it (``models/marts/reporting``), read with a plain
``select * ... where dataset = ...``. The package, by layer, each of plain functions:

* ``data``: the reads, one table each, returning a DataFrame;
* one module per section (``overview``, ``kpi``, ``cohorts``, ``rfm``, ``rfm_history``,
  ``clv``, ``model_checks``): figures (``*_figure``), one-line readings (``read_*``) and
  the section;
* ``formatting`` (numbers, money, model labels) and ``theme`` (colours, the shared layout);
* ``page``: sections of titled blocks into the HTML document;
* ``build``: the whole report from a database file; ``__main__``: the command line.
"""

from crm_analytics.report.build import DEFAULT_OUT, PUBLISHED_DATABASE, build_report, resolve_source
from crm_analytics.report.formatting import DEFAULT_CURRENCIES, FALLBACK_CURRENCY, currency_for
from crm_analytics.report.page import SECTION_TITLES, SECTIONS, figure_count

__all__ = [
    "DEFAULT_CURRENCIES",
    "DEFAULT_OUT",
    "FALLBACK_CURRENCY",
    "PUBLISHED_DATABASE",
    "SECTIONS",
    "SECTION_TITLES",
    "build_report",
    "currency_for",
    "figure_count",
    "resolve_source",
]
