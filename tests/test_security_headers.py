"""Response headers: a strict content policy on public pages, a scoped looser one in the admin,
and the other protective headers (issue 9)."""

import importlib
import sys

import pytest
from django.test import Client, override_settings
from wagtail.models import Page, Site
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from pages.models import HomePage, TopicPage

pytestmark = pytest.mark.django_db


ALLOWED_SOURCES = {"'self'", "'none'", "data:"}


def parse_csp(header):
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def site_pages():
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Home", slug="security-home"))
    topic = home.add_child(instance=TopicPage(title="Get help", slug="get-help"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    return home, topic


PUBLIC_URLS = ["/", "/get-help/", "/search/?q=hotline", "/robots.txt", "/no-such-page/"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_page_has_a_strict_content_security_policy(client, site_pages, url):
    response = client.get(url)
    assert response.status_code in (200, 404)
    csp = parse_csp(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive] == ["'self'"], directive
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    # Every asset is self-hosted: no directive names another origin.
    for directive, sources in csp.items():
        assert set(sources) <= ALLOWED_SOURCES, (directive, sources)
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_page_has_protective_headers(client, site_pages, url):
    response = client.get(url)
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert policy[feature] == "()", feature
    # Not over plain HTTP, and not outside production.
    assert "Strict-Transport-Security" not in response


def test_public_page_sets_no_cookie_for_a_visitor(client, site_pages):
    response = client.get("/")
    assert response.status_code == 200
    assert not response.cookies


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_get_the_headers_too():
    # WhiteNoise answers before most middleware; its responses still pass back through ours.
    response = Client().get("/static/js/quick-exit.js")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


def test_admin_policy_is_looser_only_under_admin(client, site_pages, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(user)
    for url in ("/admin/login/", "/admin/", f"/admin/pages/{site_pages[0].id}/"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        csp = parse_csp(response["Content-Security-Policy"])
        assert "'unsafe-inline'" in csp["script-src"], url
        assert "'unsafe-inline'" in csp["style-src"], url
        # The preview panel frames admin URLs; nobody else may.
        assert csp["frame-ancestors"] == ["'self'"], url
        assert csp["object-src"] == ["'none'"], url
        # Same-origin, not no-referrer: the admin's form posts need their Origin header.
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in response["Permissions-Policy"]
    # The same logged-in editor on a public page still gets the strict policy.
    public = parse_csp(client.get("/").headers["Content-Security-Policy"])
    assert public["script-src"] == ["'self'"]
    assert public["style-src"] == ["'self'"]


def test_admin_loads_no_avatar_from_another_site(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert "gravatar.com" not in html


@pytest.fixture
def production_settings(monkeypatch):
    """portal.settings.production as it loads with its four variables set."""
    monkeypatch.setenv("SECRET_KEY", "k" * 60)
    monkeypatch.setenv("ALLOWED_HOSTS", "portal.example.org")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.org")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.sqlite3")
    sys.modules.pop("portal.settings.production", None)
    module = importlib.import_module("portal.settings.production")
    sys.modules.pop("portal.settings.production", None)
    return module


def test_hsts_under_production_settings(client, site_pages, production_settings):
    prod = production_settings
    assert prod.SECURE_HSTS_SECONDS >= 31536000
    with override_settings(
        SECURE_HSTS_SECONDS=prod.SECURE_HSTS_SECONDS,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=prod.SECURE_HSTS_INCLUDE_SUBDOMAINS,
        SECURE_HSTS_PRELOAD=prod.SECURE_HSTS_PRELOAD,
        SECURE_SSL_REDIRECT=prod.SECURE_SSL_REDIRECT,
        SECURE_PROXY_SSL_HEADER=prod.SECURE_PROXY_SSL_HEADER,
        SESSION_COOKIE_SECURE=prod.SESSION_COOKIE_SECURE,
        CSRF_COOKIE_SECURE=prod.CSRF_COOKIE_SECURE,
    ):
        # Behind the proxy, which terminates TLS and says so.
        response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200
        assert response["Strict-Transport-Security"] == (
            f"max-age={prod.SECURE_HSTS_SECONDS}; includeSubDomains; preload"
        )
        # Plain HTTP is sent to HTTPS.
        redirect = client.get("/get-help/")
        assert redirect.status_code == 301
        assert redirect["Location"].startswith("https://")
    assert prod.DEBUG is False
    assert prod.SESSION_COOKIE_SECURE and prod.CSRF_COOKIE_SECURE


def test_page_preview_may_be_framed_by_the_admin(client, site_pages, django_user_model):
    # Wagtail renders a preview through the middleware again under the page's public path;
    # with the public policy (frame-ancestors 'none') the preview panel would stay blank.
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(user)
    home, _ = site_pages
    url = f"/admin/pages/{home.id}/edit/preview/"
    form = nested_form_data(
        {
            "title": "Home",
            "slug": home.slug,
            "intro": rich_text(""),
            "body": streamfield([]),
            "comments": inline_formset([]),
        }
    )
    assert client.post(url, form).json()["is_valid"]
    response = client.get(url + "?in_preview_panel=true")
    assert response.status_code == 200
    assert b"<h1>Home</h1>" in response.content  # the page itself, not an error screen
    csp = parse_csp(response["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'self'"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
