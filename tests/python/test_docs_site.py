"""The generated dbt docs site, opened in a real browser (Debian's chromium, headless).

`dbt docs generate` writes the site into a temporary target folder, Python's http.server serves
it on 127.0.0.1, and Chromium (driven by the `playwright` package, never its downloaded browsers)
opens the page of `cltv_predictions`. The test follows the lineage back to the raw inputs twice:
through the "Depends On" lists of the model pages, and in the lineage graph the page draws. It
saves a screenshot of that graph to target/docs-site/cltv_predictions_lineage.png.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import DBT, PROJECT_DIR

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.dbt

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MODEL = "model.crm_analytics.cltv_predictions"
RAW_INPUT_READERS = {
    "model.crm_analytics.base_transactions__raw_lines",
    "model.crm_analytics.base_customer_summaries__raw_rows",
}
# the input files, declared as dbt sources: where the lineage starts
RAW_INPUT_SOURCES = {
    "source.crm_analytics.inputs.transactions",
    "source.crm_analytics.inputs.customer_summaries",
}
SCREENSHOT = PROJECT_DIR / "target" / "docs-site" / "cltv_predictions_lineage.png"
TIMEOUT_MS = 30_000

# The lineage graph is drawn by cytoscape on a canvas; its container keeps the instance.
RENDERED_GRAPH_NODES = """() => {
    for (const element of document.querySelectorAll('#graph-viz-wrapper *')) {
        if (element._cyreg && element._cyreg.cy) {
            return element._cyreg.cy.nodes().filter(node => node.visible())
                .map(node => ({id: node.id(), label: node.data('label')}));
        }
    }
    return [];
}"""


# The model page's heading is "<name> <materialization>", e.g. "cltv table" or
# "cltv_predictions parquet_table".
PAGE_TITLE_IS = """name => [...document.querySelectorAll('h1')].some(
    h1 => h1.offsetParent !== null && h1.textContent.trim().split(/\\s+/)[0] === name)"""


@pytest.fixture(scope="module")
def docs_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dbt docs generate` into a fresh target folder.

    `--empty-catalog`: the lineage needs only the manifest, and the catalog would need a full
    build first; `make docs` writes the real one.
    """
    work_dir = tmp_path_factory.mktemp("docs_site")
    target = work_dir / "target"
    completed = subprocess.run(
        [
            DBT,
            "docs",
            "generate",
            "--empty-catalog",
            "--profiles-dir",
            str(PROJECT_DIR),
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "CRM_DUCKDB_PATH": str(work_dir / "crm.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (target / "index.html").is_file()
    return target


@pytest.fixture(scope="module")
def site_url(docs_target: Path) -> Iterator[str]:
    """The docs site served by http.server on a free port of 127.0.0.1, stopped afterwards."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(docs_target))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium through playwright; fails (never skips) when either is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`, "
            "which `make setup` does where it is missing); playwright's own browsers are not used"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: `make setup` installs requirements.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def upstream_models(manifest: dict, unique_id: str) -> set[str]:
    """Every node the manifest puts upstream of `unique_id`."""
    found: set[str] = set()
    pending = [unique_id]
    while pending:
        for parent in manifest["parent_map"].get(pending.pop(), []):
            if parent not in found:
                found.add(parent)
                pending.append(parent)
    return found


def open_node_page(page: Page, base_url: str, unique_id: str) -> list[str]:
    """Open a node's page; return the nodes its "Depends On" section links to (not macros)."""
    resource_type, _package, name = unique_id.split(".", 2)
    page.goto(f"{base_url}#!/{resource_type}/{unique_id}")
    page.wait_for_function(PAGE_TITLE_IS, arg=name, timeout=TIMEOUT_MS)
    links = page.locator("section:has(#depends_on) a[href^='#!/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return [link.split("/")[-1] for link in links if not link.startswith("#!/macro/")]


def test_lineage_of_cltv_predictions_reaches_the_raw_inputs(
    browser: Browser, site_url: str, docs_target: Path
) -> None:
    manifest = json.loads((docs_target / "manifest.json").read_text(encoding="utf-8"))
    expected_upstream = upstream_models(manifest, MODEL)
    # the manifest itself, before the browser
    assert expected_upstream >= RAW_INPUT_READERS | RAW_INPUT_SOURCES

    # wide, at twice the pixel density: the graph is fitted to the window, labels stay legible
    page = browser.new_page(viewport={"width": 2000, "height": 900}, device_scale_factor=2)
    try:
        # the model's page, then every "Depends On" link until no page has one
        direct_parents = open_node_page(page, site_url, MODEL)
        assert page.evaluate(PAGE_TITLE_IS, "cltv_predictions")
        assert set(direct_parents) == set(manifest["parent_map"][MODEL])
        walked: set[str] = set()
        pending = list(direct_parents)
        while pending:
            unique_id = pending.pop()
            if unique_id in walked:
                continue
            walked.add(unique_id)
            pending += open_node_page(page, site_url, unique_id)
        # every model upstream is reached through the pages' "Depends On" lists (a page may
        # leave out a source its model reads; the graph below must show both sources)
        assert walked >= RAW_INPUT_READERS, sorted(walked)
        assert walked <= expected_upstream, sorted(walked - expected_upstream)
        assert expected_upstream - walked <= RAW_INPUT_SOURCES, sorted(expected_upstream - walked)

        # the lineage graph: open it from the model's page, full screen, upstream only
        open_node_page(page, site_url, MODEL)
        page.get_by_title("View Lineage Graph").click()
        page.locator("a[title='View Fullscreen']:visible").click()
        selector = page.locator("input[ng-model='selectorService.selection.dirty.include']")
        selector.fill("+cltv_predictions")
        page.locator("#submit-graph-selection").click()
        page.wait_for_function(
            f"ids => ({RENDERED_GRAPH_NODES})().filter(node => ids.includes(node.id)).length"
            " === ids.length",
            arg=sorted(RAW_INPUT_READERS | RAW_INPUT_SOURCES),
            timeout=TIMEOUT_MS,
        )
        page.wait_for_timeout(1000)  # let the layout animation settle before the screenshot
        drawn = page.evaluate(RENDERED_GRAPH_NODES)
        drawn_ids = {node["id"] for node in drawn}
        assert drawn_ids == expected_upstream | {MODEL}
        labels = {node["label"] for node in drawn}
        assert {"cltv_predictions", *(uid.split(".")[-1] for uid in RAW_INPUT_READERS)} <= labels

        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.mouse.move(1000, 5)  # no hover or tooltip over the graph and its controls
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        print(f"lineage graph screenshot: {SCREENSHOT}")
    finally:
        page.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_the_landing_page_is_the_project_overview(browser: Browser, site_url: str) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{site_url}#!/overview")
        heading = page.get_by_role("heading", name="From raw lines to CLV segments")
        heading.wait_for(timeout=TIMEOUT_MS)
        assert page.get_by_role("heading", name="The two input shapes").is_visible()
    finally:
        page.close()
