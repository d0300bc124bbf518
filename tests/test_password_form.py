"""A page with a password (Wagtail's PageViewRestriction): its form, before and after a wrong
password, shows nothing of the page, carries the site's chrome (quick exit, hotlines) and
security headers, and sets no cookie but the CSRF token the form needs, for the browser's
session only. The right password opens the page."""

import pytest
from django.test import Client
from wagtail.models import Locale, Page, PageViewRestriction, Site

from pages.models import HomePage, SiteSettings, TopicPage
from stats.models import Jurisdiction
from tests.factories import HotlineFactory

# Everything of the page that must not reach a visitor without the password.
SECRETS = ["Hidden title", "Hidden SEO title", "Hidden description", "Hidden intro", "Aviso oculto"]


@pytest.fixture
def restricted(db):
    home = Page.get_first_root_node().add_child(instance=HomePage(title="Home", slug="h"))
    site = Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "testserver", "port": 80, "root_page": home}
    )[0]
    tipline = HotlineFactory(site=site, name="Made-up tipline", phone="555-010-0199")
    SiteSettings.objects.update_or_create(
        site=site,
        defaults={"jurisdiction": Jurisdiction.objects.get(code="MO"), "state_tipline": tipline},
    )
    page = home.add_child(
        instance=TopicPage(
            title="Hidden title",
            slug="private",
            seo_title="Hidden SEO title",
            search_description="Hidden description",
            intro="<p>Hidden intro</p>",
        )
    )
    spanish_locale = Locale.objects.get_or_create(language_code="es")[0]
    spanish = page.copy_for_translation(spanish_locale, copy_parents=True)
    spanish.title, spanish.slug = "Aviso oculto", "aviso-oculto"
    spanish.save_revision().publish()
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="made-up-secret"
    )
    return page


def assert_form_only(response):
    body = response.content.decode()
    assert response.status_code == 200 and 'type="password"' in body
    for secret in SECRETS:
        assert secret not in body
    assert "aviso-oculto" not in body and 'rel="canonical"' not in body
    # The site's chrome: quick exit and the header's hotline.
    assert "data-quick-exit" in body and 'href="tel:+15550100199"' in body
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    return body


def test_the_password_form_shows_nothing_of_the_page(restricted):
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get("/private/")
    assert_form_only(response)
    # The one cookie: the CSRF token of the form, gone when the browser closes.
    assert set(response.cookies) == {"csrftoken"}
    csrf = response.cookies["csrftoken"]
    assert csrf["max-age"] == "" == csrf["expires"]


def test_a_wrong_password_shows_the_form_again_with_nothing_of_the_page(restricted):
    visitor = Client(enforce_csrf_checks=True)
    body = assert_form_only(visitor.get("/private/"))
    action = body.split('class="password-form" action="', 1)[1].split('"', 1)[0]
    token = visitor.cookies["csrftoken"].value
    data = {"password": "wrong", "return_url": "/private/", "csrfmiddlewaretoken": token}
    response = visitor.post(action, data)
    assert 'aria-invalid="true"' in assert_form_only(response)
    assert "sessionid" not in response.cookies  # a wrong password opens nothing

    data["password"] = "made-up-secret"
    response = visitor.post(action, data)
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert response.cookies["sessionid"]["expires"] == ""  # the browser's session only
    opened = visitor.get("/private/")
    assert b"Hidden intro" in opened.content and "no-store" in opened["Cache-Control"]
