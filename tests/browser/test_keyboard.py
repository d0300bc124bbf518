"""Keyboard only: the skip link comes first and moves focus to the main content, focus is
always visible, and every link, button and field can be reached with Tab."""

import pytest

pytestmark = pytest.mark.browser

FOCUSABLE = (
    "a[href], area[href], button:not([disabled]), input:not([disabled]):not([type=hidden]),"
    " select:not([disabled]), textarea:not([disabled]), summary, iframe,"
    " [tabindex]:not([tabindex='-1']), [contenteditable='true']"
)

# Records the focused element and how focus looks on it; returns its position in the walk,
# or the position it had when it was first reached (the walk has come round again).
RECORD_FOCUS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  window.__stops = window.__stops || [];
  const seen = window.__stops.indexOf(el);
  if (seen >= 0) return seen;
  el.__focusedLook = window.__look(el);
  window.__stops.push(el);
  return -1;
}
"""

# How focus can show: an outline or a shadow (the portal draws both).
LOOK = """
() => { window.__look = (el) => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  return {
    drawn: outline || s.boxShadow !== "none",
    text: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(" | "),
  };
}; }
"""

# The elements reached whose focused look shows nothing, or nothing different from unfocused.
NOT_VISIBLY_FOCUSED = """
() => {
  if (document.activeElement) document.activeElement.blur();
  return window.__stops
    .filter((el) => !el.__focusedLook.drawn || window.__look(el).text === el.__focusedLook.text)
    .map((el) => el.outerHTML.slice(0, 120) + " -> " + el.__focusedLook.text);
}
"""

UNREACHED = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter((el) => {
    const s = getComputedStyle(el);
    // Inside a closed <details> a control is reached by opening it: its summary is a stop.
    const folded = el.closest("details:not([open])") && !el.closest("summary");
    return el.getClientRects().length && s.visibility !== "hidden" && !el.closest("[inert]")
      && !folded;
  })
  .filter((el) => !window.__stops.includes(el))
  .map((el) => el.outerHTML.slice(0, 120))
"""


def tab_through(page, limit=400):
    """Press Tab until focus comes round again; the number of elements reached."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        seen = page.evaluate(RECORD_FOCUS)
        if seen is not None and seen >= 0:
            return presses - 1
        if seen is None and presses > 1:
            return presses - 1  # focus left the document (the browser's own controls)
    pytest.fail(f"focus did not come round after {limit} presses of Tab")


def test_first_tab_focuses_the_skip_link_which_moves_focus_to_main(page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.outerHTML")
    assert "skip-link" in focused and "#main" in focused, focused
    skip = page.get_by_role("link", name="Skip to main content")
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 0, "the focused skip link is off screen"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    assert page.url.endswith("#main")
    # The next Tab continues inside the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_focus_is_visible_on_every_control(page, live_server, public_pages):
    problems = {}
    for label, path, status in public_pages:
        if status != 200:
            continue
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        page.evaluate("window.__stops = []")
        page.evaluate(LOOK)
        reached = tab_through(page)
        assert reached > 3, f"{label}: Tab reached only {reached} elements"
        invisible = page.evaluate(NOT_VISIBLY_FOCUSED)
        if invisible:
            problems[f"{label} {path}"] = invisible
    assert not problems, problems


def test_every_control_on_the_home_page_is_reachable_by_tab(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_load_state("load")
    page.evaluate("window.__stops = []")
    page.evaluate(LOOK)
    reached = tab_through(page)
    unreached = page.evaluate(UNREACHED, FOCUSABLE)
    assert not unreached, f"{len(unreached)} of {reached + len(unreached)} not reached: {unreached}"
