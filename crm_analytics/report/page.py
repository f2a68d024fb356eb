"""The page: sections of titled blocks rendered as one self-contained HTML document.

plotly.js is inlined once in the head and every figure is a div that calls it, so the file
opens from disk with no server and no network (a Content-Security-Policy forbids any request).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

# (id, title) of every section, in page order
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("kpi-trends", "KPI trends"),
    ("cohort-retention", "Cohort retention"),
    ("rfm-segment-map", "RFM segment map"),
    ("segment-summary", "Segment summary"),
    ("rfm-history", "RFM over time"),
    ("clv", "Customer lifetime value"),
    ("model-checks", "Model checks"),
)
SECTION_TITLES = dict(SECTIONS)
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass
class Block:
    """One titled element of a section: a figure, an HTML table or a note, with its reading."""

    id: str
    heading: str
    reading: str = ""
    figure: go.Figure | None = None
    table_html: str = ""
    note: str = ""


@dataclass
class Section:
    """One numbered section of the page: a title, an introduction and its blocks."""

    id: str
    title: str
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_attributes: Iterable[Mapping[str, str]] | None = None,
    numeric: Sequence[bool] | None = None,
) -> str:
    """A plain HTML table; every value is escaped."""
    numeric = list(numeric or [False] * len(columns))
    head = "".join(
        f'<th class="{"num" if numeric[i] else ""}">{html.escape(name)}</th>'
        for i, name in enumerate(columns)
    )
    attributes = iter(row_attributes) if row_attributes is not None else None
    body = []
    for row in rows:
        extra = ""
        if attributes is not None:
            extra = "".join(
                f' data-{html.escape(key)}="{html.escape(value)}"'
                for key, value in next(attributes).items()
            )
        cells = "".join(
            f'<td class="{"num" if numeric[i] else ""}">{html.escape(str(value))}</td>'
            for i, value in enumerate(row)
        )
        body.append(f"<tr{extra}>{cells}</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #2f6690; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 Helvetica, Arial, sans-serif; color: var(--ink);
       background: #f5f7fa; }
header { background: #243b53; color: #fff; padding: 24px 40px 16px; }
header h1 { margin: 0 0 6px; font-size: 26px; }
header p { margin: 2px 0; color: #d9e2ec; font-size: 13px; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 40px; }
nav a { margin-right: 18px; color: var(--accent); text-decoration: none; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
          margin: 24px 0; padding: 8px 24px 16px; }
section h2 { border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
.intro { color: var(--muted); }
.block { margin: 18px 0 26px; }
.block h3 { margin: 12px 0 4px; font-size: 17px; }
.reading { margin: 4px 0 8px; padding: 6px 10px; background: #eef4f8;
           border-left: 4px solid var(--accent); }
.note { margin: 8px 0; padding: 6px 10px; background: #fff8e1; border-left: 4px solid #f0b429; }
.figure { width: 100%; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 8px;
                               text-align: left; }
table.data th { background: #f0f4f8; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 16px; }
"""

# No network at all: the page may run only its own inline scripts and styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def render_html(
    title: str,
    subtitle_lines: Sequence[str],
    sections: Sequence[Section],
    notes: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole document: plotly.js inlined once in the head, one div per figure.

    `notes` are (id, text) pairs shown under the navigation (e.g. why a section is missing).
    """
    nav = "".join(
        f'<a href="#{html.escape(section.id)}">{html.escape(section.title)}</a>'
        for section in sections
    )
    note_html = "".join(
        f'<p class="note" id="{html.escape(note_id)}">{html.escape(text)}</p>'
        for note_id, text in notes
    )
    parts = []
    for number, section in enumerate(sections, start=1):
        blocks = []
        for block in section.blocks:
            content = ""
            if block.reading:
                content += f'<p class="reading">{html.escape(block.reading)}</p>'
            if block.note:
                content += f'<p class="note">{html.escape(block.note)}</p>'
            if block.figure is not None:
                figure_html = block.figure.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    config=PLOT_CONFIG,
                    div_id=f"fig-{block.id}",
                    default_height=f"{block.figure.layout.height or 450}px",
                )
                content += f'<div class="figure">{figure_html}</div>'
            content += block.table_html
            heading = f"<h3>{html.escape(block.heading)}</h3>" if block.heading else ""
            block_id = html.escape(block.id)
            blocks.append(f'<div class="block" id="{block_id}">{heading}{content}</div>')
        intro = f'<p class="intro">{html.escape(section.intro)}</p>' if section.intro else ""
        parts.append(
            f'<section id="{html.escape(section.id)}"><h2>{number}. {html.escape(section.title)}'
            f"</h2>{intro}{''.join(blocks)}</section>"
        )
    subtitle = "".join(f"<p>{html.escape(line)}</p>" for line in subtitle_lines)
    # A "</script" inside the library would end the script element early.
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
<script type="text/javascript">window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script type="text/javascript">/* plotly.js, inlined by plotly {plotly.__version__} */
{plotly_js}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1>{subtitle}</header>
<nav>{nav}</nav>
<main>
{note_html}
{"".join(parts)}
</main>
<footer>Made by crm_analytics.report with plotly {plotly.__version__}.</footer>
</body>
</html>
"""


def figure_count(document: str) -> int:
    """How many plotly figures a report holds (each one is a plotly-graph-div)."""
    return document.count('class="plotly-graph-div"')
