"""The command line: ``python -m crm_analytics.report [--source FILE] [--out FILE]
[--dataset NAME] [--currency DATASET=CODE ...]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from crm_analytics.report.build import DEFAULT_OUT, PUBLISHED_DATABASE, build_report, resolve_source
from crm_analytics.report.formatting import DEFAULT_CURRENCIES
from crm_analytics.report.page import figure_count


def parse_currency(text: str) -> tuple[str, str]:
    """'flo=TRY' -> ('flo', 'TRY'); anything else is a usage error."""
    name, separator, code = text.partition("=")
    if not separator or not name or not code:
        raise argparse.ArgumentTypeError(f"expected DATASET=CURRENCY, got {text!r}")
    return name, code


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; 0 on success, 1 (with a message on stderr) when it cannot."""
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.report",
        description="Write one self-contained HTML report from the project's marts.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help=f"DuckDB file with the marts (default {PUBLISHED_DATABASE}; when absent, the build "
        "database CRM_DUCKDB_PATH or crm.duckdb)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--dataset", default=None, help="only this dataset (default: all)")
    parser.add_argument(
        "--currency",
        action="append",
        type=parse_currency,
        default=[],
        metavar="DATASET=CODE",
        help="currency label of a dataset, e.g. online_retail=GBP (repeatable; defaults "
        + json.dumps(DEFAULT_CURRENCIES)
        + ")",
    )
    args = parser.parse_args(argv)
    source, note = resolve_source(args.source)
    if note:
        print(note, file=sys.stderr)
    currencies = {**DEFAULT_CURRENCIES, **dict(args.currency)}
    try:
        out = build_report(source, args.out, args.dataset, currencies=currencies, source_note=note)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    document = out.read_text(encoding="utf-8")
    print(
        f"wrote {out} ({figure_count(document)} figures, {len(document.encode()) / 1e6:.1f} MB) "
        f"from {source}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
