"""Charts on a phone (390 px) and a desktop (1280 px): readable, drawn lazily, with a PNG,
citation and embed; the embed may be framed by another site and the pages may not."""

import re

import pytest

from tests.browser.test_charts import draw_every_chart

pytestmark = pytest.mark.browser

WIDTHS = [390, 1280]

# For each chart: the canvas's CSS height, the HTML legend's height, the smallest tick font,
# and the rotation of the x axis labels, as Chart.js laid them out.
CHART_LAYOUT = """
(figure) => {
  const canvas = figure.querySelector("canvas");
  const chart = window.Chart.getChart(canvas);
  const legend = figure.querySelector("[data-chart-legend]");
  const sizes = Object.values(chart.scales).map((s) => s.options.ticks.font.size);
  const x = chart.scales.x;
  return {
    plot: canvas.getBoundingClientRect().height,
    legend: legend.hidden ? 0 : legend.getBoundingClientRect().height,
    font: Math.min(...sizes, chart.options.font ? chart.options.font.size || 99 : 99),
    rotation: x ? x.labelRotation : 0,
    years: JSON.parse(document.getElementById(figure.dataset.chart).textContent).years,
  };
}
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_charts_are_readable_at_each_width(browser, live_server, public_pages, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    problems, seen = [], 0
    for label, path, status in public_pages:
        if status != 200:
            continue
        page.goto(live_server.url + path)
        for chart in draw_every_chart(page):
            seen += 1
            name = f"{label} {path} #{chart.get_attribute('id')} at {width}px"
            layout = chart.evaluate(CHART_LAYOUT)
            if layout["plot"] < 240:
                problems.append(f"{name}: plot {layout['plot']}px tall")
            if layout["legend"] > layout["plot"]:
                problems.append(f"{name}: legend {layout['legend']}px, plot {layout['plot']}px")
            if layout["font"] < 12:
                problems.append(f"{name}: labels of {layout['font']}px")
            if layout["years"] and layout["rotation"]:
                problems.append(f"{name}: year labels rotated {layout['rotation']} degrees")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0 and page.locator("figure.chart").count():
            problems.append(f"{label} {path}: scrolls sideways by {overflow}px at {width}px")
    context.close()
    assert seen
    assert not problems, problems


def test_chartjs_is_fetched_only_where_a_chart_is(page, live_server):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    assert not [u for u in fetched if "chart.umd" in u], "Chart.js loaded on the home page"
    page.goto(live_server.url + "/federal-prosecutions/")
    draw_every_chart(page)
    assert [u for u in fetched if "chart.umd" in u]


def first_chart(page, live_server):
    page.goto(live_server.url + "/federal-prosecutions/")
    return draw_every_chart(page)[0]


def test_png_of_a_chart_is_drawn_in_the_browser_and_named_after_it(page, live_server):
    chart = first_chart(page, live_server)
    title = chart.locator(".chart__title").inner_text()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    with page.expect_download() as info:
        chart.get_by_role("button", name="Download PNG").click()
    download = info.value
    expected = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") + ".png"
    assert download.suggested_filename == expected
    with open(download.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 5000
    assert not [u for u in requests if not u.startswith("blob:")], "the PNG went to a server"


def test_citation_is_copied_with_todays_date(page, context, live_server):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    chart = first_chart(page, live_server)
    chart.get_by_text("Cite this chart").click()
    chart.get_by_role("button", name="Copy citation").click()
    page.get_by_role("status").filter(has_text="citation copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    today = page.evaluate(
        "new Date().toLocaleDateString('en-US', {year: 'numeric', month: 'long', day: 'numeric'})"
    )
    # The citation links to the figures as they stood when cited (?as_of=, in UTC).
    anchor = re.escape(chart.get_attribute("id"))
    cited = rf"Figures as of [^:]+: \S+/federal-prosecutions/\?as_of=[0-9T:.-]+Z#{anchor}\. "
    assert re.search(cited, copied), copied
    assert copied.endswith(f"Retrieved {today}.")


@pytest.fixture
def framing_page(launch_browser, browser_context_args, live_server):
    """A page in a browser without Chromium's local-network checks, which would refuse any
    public origin (the made-up other site here) framing the test server on localhost, whatever
    its headers say. The portal's own headers decide, as they would on the internet."""
    from tests.browser.conftest import CHROMIUM_ARGS

    browser = launch_browser(args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"])
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()
    browser.close()


def test_embed_is_framed_by_another_site_and_the_page_is_not(framing_page, live_server):
    page = framing_page
    chart = first_chart(page, live_server)
    title = chart.locator(".chart__title").inner_text()
    chart.get_by_text("Embed this chart").click()
    code = chart.locator("textarea").input_value()
    src = re.search(r'src="([^"]+)"', code).group(1)
    path = re.sub(r"^https?://[^/]+", "", src)
    embed_url = live_server.url + path
    host = (
        "<!DOCTYPE html><title>Another site</title>"
        f'<iframe id="embed" src="{embed_url}" title="embed" width="600" height="700"></iframe>'
        f'<iframe id="page" src="{live_server.url}/federal-prosecutions/" title="page"></iframe>'
    )
    page.route(
        "http://start.test/host",
        lambda route: route.fulfill(status=200, content_type="text/html", body=host),
    )
    page.goto("http://start.test/host")
    embed = page.frame_locator("#embed")
    embed.locator("figure[data-chart][data-chart-drawn]").wait_for(timeout=10_000)
    assert embed.locator(".chart__title").inner_text() == title
    assert embed.get_by_text(re.compile("data as of")).count()
    assert embed.get_by_role("link", name=re.compile("see it on the")).count() == 1
    framed_page = page.frame(url=f"{live_server.url}/federal-prosecutions/")
    # Refused: Chromium shows its error page instead, so the portal's page never loads in it.
    assert framed_page is None or not framed_page.locator("main").count()


@pytest.mark.parametrize("width", WIDTHS)
def test_figure_tools_pass_axe_opened_at_each_width(browser, live_server, width):
    from tests.browser.support import run_axe

    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    violations = {}
    for path in ("/federal-prosecutions/", "/state-profile/"):
        page.goto(live_server.url + path)
        draw_every_chart(page)
        # Open every "Cite this" and "Embed" panel, and one table, so axe sees them too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.locator("[data-chart-toggle]").first.click()
        found = run_axe(page)
        if found:
            violations[path] = found
    context.close()
    assert not violations, violations
