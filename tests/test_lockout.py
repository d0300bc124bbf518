"""Admin login protection: django-axes on Wagtail's login view, password rules, sessions."""

import datetime
import runpy
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable passphrase"
LOGIN_URL = "/admin/login/"
BASE_SETTINGS = Path(__file__).resolve().parents[1] / "portal" / "settings" / "base.py"


@pytest.fixture
def staff_account(django_user_model):
    return django_user_model.objects.create_superuser(
        "editor", "editor-editor@example.org", PASSWORD
    )


def login(client, username, password, address="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def fail(client, username, times, address="203.0.113.7"):
    for _ in range(times):
        response = login(client, username, "wrong password", address)
    return response


def test_login_url_is_wagtails():
    assert reverse("wagtailadmin_login") == LOGIN_URL


def test_right_password_logs_in(client, staff_account):
    response = login(client, "editor", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_ten_wrong_passwords_lock_the_account(client, staff_account):
    assert settings.AXES_FAILURE_LIMIT == 10
    response = fail(client, "editor", 9)
    # Nine failures: still Wagtail's login form, with its error.
    assert response.status_code == 200
    assert b"Sign-in is locked" not in response.content
    response = fail(client, "editor", 1)
    assert response.status_code == 429
    assert b"Sign-in is locked" in response.content

    # Now the right password is refused too, with the lockout page.
    response = login(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Sign-in is locked for now" in page
    assert "Try again after" in page
    assert "60 minutes" in page
    assert "ask a site administrator" in page
    assert response["Retry-After"] == "3600"
    # The lockout page is a public-style page: strict policy, no admin chrome needed.
    assert "Exit this page" in page


def test_lockout_page_says_when_to_try_again(client, staff_account, settings):
    settings.TIME_ZONE = "America/Chicago"
    settings.PORTAL_ADMIN_CONTACT = "portal-admin@example.org"
    fail(client, "editor", 10)
    response = login(client, "editor", PASSWORD)
    context = response.context
    retry_after = context["retry_after"]
    now = datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=59) < retry_after - now <= datetime.timedelta(hours=1)
    assert "portal-admin@example.org" in response.content.decode()


def test_lockout_by_address_covers_every_username(client, staff_account):
    # Guessing many usernames from one address locks that address, even for a real account.
    for n in range(10):
        login(client, f"guess{n}", "wrong password", address="198.51.100.9")
    assert login(client, "editor", PASSWORD, address="198.51.100.9").status_code == 429
    # Another address is not affected.
    assert login(client, "editor", PASSWORD, address="198.51.100.10").status_code == 302


def test_axes_reset_username_unlocks(client, staff_account):
    fail(client, "editor", 10)
    assert login(client, "editor", PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username="editor").exists()

    out = StringIO()
    call_command("axes_reset_username", "editor", stdout=out)
    assert "attempts removed" in out.getvalue()

    response = login(client, "editor", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_account.pk)


def test_success_before_the_limit_clears_the_count(client, staff_account):
    fail(client, "editor", 9)
    assert login(client, "editor", PASSWORD).status_code == 302
    client.logout()
    assert fail(client, "editor", 9).status_code == 200


def behind_proxies(settings, monkeypatch, count):
    """The client-address settings that portal/settings/base.py derives from
    PORTAL_TRUSTED_PROXY_COUNT=count (read from the environment, as in a deployment)."""
    monkeypatch.setenv("PORTAL_TRUSTED_PROXY_COUNT", str(count))
    derived = runpy.run_path(str(BASE_SETTINGS))
    for name in [n for n in derived if n.startswith(("AXES_IPWARE_", "IPWARE_"))]:
        setattr(settings, name, derived[name])


def attempt(client, username, password, forwarded, proxy="10.0.0.2"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_client_address_behind_trusted_proxy(client, staff_account, settings, monkeypatch):
    """Behind one proxy, failures count against the client, not the proxy's address."""
    behind_proxies(settings, monkeypatch, 1)
    for _ in range(10):
        attempt(client, "nobody", "x", "198.51.100.20")
    other = attempt(client, "editor", PASSWORD, "spoofed, 198.51.100.21")
    assert other.status_code == 302
    assert AccessAttempt.objects.filter(ip_address="198.51.100.20").exists()
    assert not AccessAttempt.objects.filter(ip_address="10.0.0.2").exists()


def test_a_spoofed_forwarded_for_does_not_dodge_the_lockout(
    client, staff_account, settings, monkeypatch
):
    """A client that sends its own X-Forwarded-For, another address each time (and another
    user name), is still counted by the address the trusted proxy appended."""
    behind_proxies(settings, monkeypatch, 1)
    for n in range(10):
        attempt(client, f"guess{n}", "x", f"192.0.2.{n + 1}, 198.51.100.30")
    locked = attempt(client, "editor", PASSWORD, "192.0.2.99, 198.51.100.30")
    assert locked.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.30"}
    # Another visitor behind the same proxy is not locked out with it.
    assert attempt(client, "editor", PASSWORD, "198.51.100.31").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "counted"),
    [
        (2, "192.0.2.{n}, 198.51.100.40, 10.0.0.3", "198.51.100.40"),  # second from the right
        (0, "198.51.100.{n}", "10.0.0.2"),  # no trusted proxy: X-Forwarded-For is not read
    ],
)
def test_failures_count_under_the_address_the_trusted_proxies_saw(
    client, staff_account, settings, monkeypatch, proxies, forwarded, counted
):
    behind_proxies(settings, monkeypatch, proxies)
    for n in range(1, 11):
        attempt(client, "nobody", "x", forwarded.format(n=n))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {counted}
    assert attempt(client, "editor", PASSWORD, forwarded.format(n=99)).status_code == 429


def change_password(client, user, new):
    """An editor changes their password on Wagtail's account page, as in the admin."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.post(
        reverse("wagtailadmin_account"),
        {
            "name_email-first_name": "Eddie",
            "name_email-last_name": "Tor",
            "name_email-email": user.email,
            "theme-theme": "system",
            "theme-contrast": "system",
            "theme-density": "default",
            "password-old_password": PASSWORD,
            "password-new_password1": new,
            "password-new_password2": new,
        },
    )


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1A!", "at least 12 characters"),
        ("password1234", "too common"),
        ("12345678901234", "entirely numeric"),
        ("editor-editor@example.org", "too similar"),
    ],
)
def test_weak_passwords_are_refused_on_the_account_page(client, staff_account, password, why):
    response = change_password(client, staff_account, password)
    assert response.status_code == 200  # the form again, with the reason
    assert why in response.content.decode()
    staff_account.refresh_from_db()
    assert staff_account.check_password(PASSWORD)


def test_a_strong_password_is_taken_on_the_account_page(client, staff_account):
    response = change_password(client, staff_account, "another long unguessable passphrase")
    assert response.status_code == 302
    staff_account.refresh_from_db()
    assert staff_account.check_password("another long unguessable passphrase")


def test_staff_sessions_expire(client, staff_account):
    assert login(client, "editor", PASSWORD).status_code == 302
    assert client.session.get_expire_at_browser_close()
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    # A browser-session cookie: no expiry date stored on the device.
    assert not cookie["expires"] and not cookie["max-age"]
    assert cookie["httponly"]
