"""Helpers shared by the browser tests: watching a page, reading canvases, running axe."""

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

# WCAG 2.2 A and AA, as axe-core tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Runs before any page script (Playwright injects it outside the page's CSP), so it sees every
# violation of the Content-Security-Policy from the first byte of the document.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


def public_page_paths():
    """(label, path, expected status) of every public page type: each live page of the default
    site, a search with results, a page that does not exist, the API docs, and the public record
    (revisions log, release calendar). Needs database access."""
    from wagtail.models import Page, Site

    site = Site.objects.get(is_default_site=True)
    pages = [
        (f"{page.specific_class.__name__} {page.slug}", page.get_url(), 200)
        for page in Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
    ]
    assert pages, "load_initial_data built no public page"
    return pages + [
        ("search results", "/search/?q=trafficking", 200),
        ("not found", "/no-such-page-here/", 404),
        ("API docs", "/api/docs", 200),
        ("revisions log", "/data/revisions/", 200),
        ("revisions log in Spanish", "/es/data/revisions/", 200),
        ("release calendar", "/data/releases/", 200),
    ]


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PageWatch:
    """Records what went wrong while a page loaded: console errors, script errors, failed or
    refused requests, error responses, and requests to any origin other than the portal's."""

    def __init__(self, page, own_origin, expected_statuses=None):
        self.page = page
        self.own_origin = own_origin
        # url -> status that is expected for it (the 404 page's own document).
        self.expected_statuses = expected_statuses or {}
        self.console_errors = []
        self.page_errors = []
        self.failed_requests = []
        self.error_responses = []
        self.foreign_requests = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message):
        if message.type != "error":
            return
        location = message.location.get("url", "")
        # Chromium reports an expected error status of a document as a console error too.
        expected = self.expected_statuses.get(location)
        if expected and f"status of {expected}" in message.text:
            return
        self.console_errors.append(f"{message.text} ({location})")

    def _on_request(self, request):
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if origin(request.url) != self.own_origin:
            self.foreign_requests.append(request.url)

    def _on_request_failed(self, request):
        self.failed_requests.append(f"{request.url}: {request.failure}")

    def _on_response(self, response):
        if response.status < 400:
            return
        if self.expected_statuses.get(response.url) == response.status:
            return
        self.error_responses.append(f"{response.status} {response.url}")

    def csp_violations(self):
        return self.page.evaluate("window.__cspViolations || []")

    def problems(self):
        found = {
            "console errors": self.console_errors,
            "script errors": self.page_errors,
            "failed requests": self.failed_requests,
            "error responses": self.error_responses,
            "requests to other origins": self.foreign_requests,
            "CSP violations": self.csp_violations(),
        }
        return {kind: items for kind, items in found.items() if items}


# Of a canvas's pixels: the share that is not transparent, and the number that are coloured
# (not grey: the axes, grid lines and labels are grey, the data is drawn in colour).
CANVAS_INK = """
(canvas) => {
  if (!canvas.width || !canvas.height) return [0, 0];
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0, coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    ink++;
    const r = data[i], g = data[i + 1], b = data[i + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
  }
  return [ink / (canvas.width * canvas.height), coloured];
}
"""

# Resolves once the canvas has ink and its picture has stopped changing (animation done).
CANVAS_SETTLED = """
(canvas) => new Promise((resolve) => {
  let last = null, stable = 0, tries = 0;
  const tick = () => {
    const url = canvas.width && canvas.height ? canvas.toDataURL() : "";
    stable = url === last ? stable + 1 : 0;
    last = url;
    if ((stable >= 3 && url) || ++tries > 100) resolve(url);
    else setTimeout(tick, 50);
  };
  tick();
})
"""


def canvas_ink(canvas):
    canvas.evaluate(CANVAS_SETTLED)
    return canvas.evaluate(CANVAS_INK)


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def number_in(text):
    """The first number written in a cell ('1,234', '22%', '92 months', '$1.5') as a Decimal."""
    match = NUMBER.search(text.replace("\u00a0", " "))
    if not match:
        return None
    try:
        return Decimal(match.group().replace(",", "")).normalize()
    except InvalidOperation:
        return None


def run_axe(page):
    """axe-core's violations of the WCAG 2.2 A and AA rules, as readable lines."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return lines
