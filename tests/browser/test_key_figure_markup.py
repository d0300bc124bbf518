"""Wagtail's accessibility checker (axe-core's rules, in the editor's preview) finds nothing
wrong with a row of key figures: in particular no paragraph styled as a heading, which editors
could not fix. The block is rendered from made-up figures and shown with the site's CSS."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

from stats.display import blocks as stats_blocks
from tests import test_blocks_render as blocks_render

pytestmark = pytest.mark.browser

figures_data = blocks_render.figures_data  # the "data" fixture

# The rules Wagtail's checker runs (wagtail.admin.userbar.AccessibilityItem.axe_rules).
WAGTAIL_CHECKER_RULES = [
    "button-name",
    "empty-heading",
    "empty-table-header",
    "frame-title",
    "heading-order",
    "input-button-name",
    "link-name",
    "p-as-heading",
]


def test_key_figures_pass_wagtails_accessibility_checker(browser, data):
    raw = {
        "heading": "At a glance",
        "figures": [
            blocks_render.key_raw(data, "months"),
            blocks_render.key_raw(data, "share", label="Convicted"),
            blocks_render.key_raw(data, "cases", year=2017),
        ],
    }
    row = blocks_render.render(stats_blocks.KeyFigureRowBlock(), raw)
    one = blocks_render.key_raw(data, "place")
    single = blocks_render.render(stats_blocks.KeyFigureBlock(), one)
    assert row.count('class="key-figure"') == 3 and 'class="key-figure"' in single
    css = (Path(settings.BASE_DIR) / "static" / "css" / "portal.css").read_text()
    page = browser.new_page()
    page.set_content(
        f'<!doctype html><html lang="en"><head><title>Key figures</title><style>{css}</style>'
        f"</head><body><main><h1>Figures</h1>{row}<h2>One figure</h2>{single}</main></body></html>"
    )
    options = {"runOnly": {"type": "rule", "values": WAGTAIL_CHECKER_RULES}}
    results = Axe().run(page, options=options).response
    page.close()
    ran = {r["id"] for kind in ("passes", "inapplicable", "incomplete") for r in results[kind]}
    assert "p-as-heading" in ran | {v["id"] for v in results["violations"]}
    found = [f"{v['id']}: {[n['html'][:80] for n in v['nodes']]}" for v in results["violations"]]
    assert not found, found
