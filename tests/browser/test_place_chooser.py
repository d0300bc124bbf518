"""The data page's place chooser in Chromium, by keyboard: typing lists the places with
figures from the server, Down and Up move, Enter chooses, Escape closes."""

import pytest

pytestmark = pytest.mark.browser


def test_a_place_is_chosen_by_typing_and_the_keyboard(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The form as it comes back with a message: the same include as the data page's.
    page.goto(live_server.url + "/data/download/csv/?period_from=20x9")
    field = page.locator("#dl-place")
    assert field.get_attribute("role") == "combobox"
    field.click()
    page.keyboard.type("misso")
    option = page.locator("#dl-place-list [role=option]").first
    option.wait_for(timeout=5_000)
    assert option.inner_text() == "Missouri (MO)"
    assert field.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    assert field.get_attribute("aria-activedescendant") == option.get_attribute("id")
    page.keyboard.press("Enter")  # chooses; does not submit
    assert field.input_value() == "Missouri (MO)"
    assert page.locator("#dl-place-list").is_hidden()
    assert "period_from=20x9" in page.url
    # Escape closes the list and keeps what was typed.
    field.fill("")
    page.keyboard.type("zzzz")
    page.locator("#dl-place-list .place-chooser__none").wait_for(timeout=5_000)
    page.keyboard.press("Escape")
    assert page.locator("#dl-place-list").is_hidden() and field.input_value() == "zzzz"
    assert not errors, errors
    context.close()
