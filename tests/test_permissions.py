"""The permission matrix of issue 9: Editors, Data managers, anonymous visitors."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.models import Page, Site
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from pages.models import HomePage, TopicPage
from portal.permissions import DATA_MANAGERS, EDITORS, ensure_groups
from resources.models import Hotline
from stats.models import ImportRecord, Jurisdiction, Metric, Observation, Source

pytestmark = pytest.mark.django_db


IMPORT_URL_NAME = "stats_import:upload"
PASSWORD = "a long and unguessable passphrase"


@pytest.fixture
def pages():
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Home", slug="perm-home"))
    topic = home.add_child(instance=TopicPage(title="Laws", slug="laws"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
    )
    return home, topic


@pytest.fixture
def observation():
    source = Source.objects.create(
        slug="perm-source-2019", publisher="Test", title="Test", edition="2019", edition_year=2019
    )
    metric = Metric.objects.create(slug="perm-cases", label="Cases", unit="count")
    return Observation.objects.create(
        metric=metric,
        jurisdiction=Jurisdiction.objects.get(code="MO"),
        period_start=datetime.date(2019, 1, 1),
        period_end=datetime.date(2019, 12, 31),
        value=Decimal(12),
        source=source,
    )


def member(django_user_model, group_name):
    user = django_user_model.objects.create_user(
        group_name.lower().replace(" ", "_"), password=PASSWORD
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor(django_user_model):
    return member(django_user_model, EDITORS)


@pytest.fixture
def data_manager(django_user_model):
    return member(django_user_model, DATA_MANAGERS)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


# --- the groups themselves ------------------------------------------------------------------


def test_groups_exist_after_migrate():
    # The test database was built by `migrate`, whose post_migrate ran ensure_groups().
    assert set(Group.objects.values_list("name", flat=True)) >= {EDITORS, DATA_MANAGERS}
    assert Group.objects.get(name=EDITORS).permissions.filter(codename="access_admin").exists()


def _snapshot(group):
    return (
        sorted(group.permissions.values_list("codename", flat=True)),
        sorted(group.page_permissions.values_list("page_id", "permission__codename")),
        sorted(group.collection_permissions.values_list("collection_id", "permission__codename")),
    )


def test_ensure_groups_is_idempotent_and_keeps_extra_rights():
    editors, data_managers = ensure_groups()
    before = (_snapshot(editors), _snapshot(data_managers))
    ensure_groups()
    ensure_groups()
    assert (_snapshot(editors), _snapshot(data_managers)) == before
    assert Group.objects.filter(name=EDITORS).count() == 1

    # A right removed by mistake comes back; one granted by hand stays.
    editors.permissions.remove(Permission.objects.get(codename="publish_hotline"))
    extra = Permission.objects.get(codename="delete_hotline")
    editors.permissions.add(extra)
    ensure_groups()
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"publish_hotline", "delete_hotline"} <= codenames


RESOURCES = ["statute", "organization", "publication", "fundingopportunity", "campaign", "hotline"]
STATS = ["jurisdiction", "source", "dimension", "category", "metric", "observation"]


@pytest.mark.parametrize("model", RESOURCES)
def test_both_groups_add_change_publish_resources(editor, data_manager, model):
    for user in (editor, data_manager):
        for action in ("add", "change", "publish"):
            assert user.has_perm(f"resources.{action}_{model}"), (user, action, model)


@pytest.mark.parametrize("model", STATS)
def test_editors_only_view_statistics(editor, model):
    assert editor.has_perm(f"stats.view_{model}")
    for action in ("add", "change", "delete"):
        assert not editor.has_perm(f"stats.{action}_{model}"), (action, model)
    assert not editor.has_perm("stats.import_observation")


@pytest.mark.parametrize("model", STATS)
def test_data_managers_change_statistics(data_manager, model):
    for action in ("view", "add", "change", "delete"):
        assert data_manager.has_perm(f"stats.{action}_{model}"), (action, model)
    assert data_manager.has_perm("stats.import_observation")


def test_both_groups_edit_and_publish_every_page(editor, data_manager, pages):
    home, topic = pages
    for user in (editor, data_manager):
        for page in (home, topic):
            perms = page.permissions_for_user(user)
            assert perms.can_edit() and perms.can_publish() and perms.can_add_subpage()


# --- through the admin ----------------------------------------------------------------------


def test_editor_publishes_a_page_in_the_admin(editor, pages):
    _, topic = pages
    client = client_for(editor)
    url = reverse("wagtailadmin_pages:edit", args=[topic.id])
    assert client.get(url).status_code == 200
    data = nested_form_data(
        {
            "title": "Missouri laws",
            "slug": "laws",
            "intro": rich_text("<p>What the law says.</p>"),
            "body": streamfield([]),
            "comments": inline_formset([]),
            "action-publish": "action-publish",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    topic.refresh_from_db()
    assert topic.title == "Missouri laws"
    assert topic.live and not topic.has_unpublished_changes


def test_editor_adds_and_publishes_a_hotline_in_the_admin(editor):
    client = client_for(editor)
    url = reverse(Hotline.snippet_viewset.get_url_name("add"))
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "Test tipline",
            "scope": "state",
            "site": Site.objects.get(is_default_site=True).pk,
            "sort_order": "0",
            "phone": "1-555-0100",
            "action-publish": "action-publish",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    hotline = Hotline.objects.get(name="Test tipline")
    assert hotline.live


def _observation_url(action, observation=None):
    name = Observation.snippet_viewset.get_url_name(action)
    return reverse(name, args=[observation.pk] if observation else [])


def test_editor_views_but_cannot_change_statistics(editor, observation):
    client = client_for(editor)
    assert client.get(_observation_url("list")).status_code == 200
    # No edit form and no delete: Wagtail refuses and sends the editor home.
    for action in ("edit", "delete"):
        assert_refused(client.get(_observation_url(action, observation)))
    client.post(_observation_url("delete", observation))
    assert Observation.objects.filter(pk=observation.pk).exists()


def test_data_manager_changes_statistics(data_manager, observation):
    client = client_for(data_manager)
    assert client.get(_observation_url("edit", observation)).status_code == 200
    response = client.post(_observation_url("delete", observation))
    assert response.status_code == 302
    assert not Observation.objects.filter(pk=observation.pk).exists()


def assert_refused(response):
    """Wagtail answers PermissionDenied in an admin view with a redirect to the dashboard and
    "Sorry, you do not have permission to access this area." (a bare 403 only for XHR
    requests, which these tests do not make)."""
    assert response.status_code == 302, response.status_code
    assert response["Location"] == reverse("wagtailadmin_home")


def test_editor_gets_403_on_the_import_view(editor):
    client = client_for(editor)
    url = reverse(IMPORT_URL_NAME)
    assert client.get(url).status_code == 403
    assert client.get(url, HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 403
    upload = SimpleUploadedFile("figures.csv", b"jurisdiction,metric\nMO,x\n", "text/csv")
    assert client.post(url, {"file": upload}).status_code == 403
    assert not ImportRecord.objects.exists()
    assert client.get(reverse("stats_import:template", args=["csv"])).status_code == 403


def test_data_manager_opens_the_import_view(data_manager):
    assert client_for(data_manager).get(reverse(IMPORT_URL_NAME)).status_code == 200


def test_import_is_not_in_an_editors_menu(editor, data_manager):
    url = reverse(IMPORT_URL_NAME)
    assert url not in client_for(editor).get(reverse("wagtailadmin_home")).content.decode()
    assert url in client_for(data_manager).get(reverse("wagtailadmin_home")).content.decode()


# --- anonymous visitors ---------------------------------------------------------------------

# Admin URLs that must answer a visitor who is not logged in.
PUBLIC_ADMIN_URL_NAMES = {
    "wagtailadmin_login",
    "wagtailadmin_logout",
    "wagtailadmin_password_reset",
    "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm",
    "wagtailadmin_password_reset_complete",
    "wagtailadmin_sprite",
    "wagtailadmin_javascript_catalog",
}


def _admin_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _admin_patterns(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("admin/"):
            yield route, pattern.name


def _example_path(route, ids):
    """A concrete path for a route: numbers for <int:...>, real-looking words otherwise."""
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:[^>]+>", str(ids["int"]), route)
    route = re.sub(r"<(?:str|slug|path|uuid):?[^>]*>", "1", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", str(ids["int"]), route)
    if re.search(r"[\\()\[\]*+?]", route):
        return None  # a regular expression we cannot fill in; covered by the named URLs below
    return "/" + route


def test_anonymous_reaches_no_admin_url(client, pages, observation):
    _, topic = pages
    checked = 0
    for route, name in _admin_patterns():
        if name in PUBLIC_ADMIN_URL_NAMES:
            continue
        path = _example_path(route, {"int": topic.id})
        if path is None:
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("wagtailadmin_login")), path
        checked += 1
    assert checked > 100  # the walk really covered the admin


@pytest.mark.parametrize(
    "name,args",
    [
        ("wagtailadmin_home", []),
        ("wagtailadmin_pages:edit", ["topic"]),
        ("wagtailadmin_pages:preview_on_edit", ["topic"]),
        ("wagtailadmin_pages:view_draft", ["topic"]),
        ("wagtailadmin_pages:revisions_index", ["topic"]),
        ("wagtailadmin_pages:preview_on_add", ["pages", "topicpage", "home"]),
        (IMPORT_URL_NAME, []),
    ],
)
def test_anonymous_is_sent_to_login_from_admin_and_previews(client, pages, name, args):
    home, topic = pages
    ids = {"topic": topic.id, "home": home.id}
    url = reverse(name, args=[ids.get(a, a) for a in args])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login") + "?next=")


def test_anonymous_cannot_preview_a_snippet(client):
    hotline = Hotline.objects.create(
        name="Draft line", scope="state", live=False, site=Site.objects.get(is_default_site=True)
    )
    url = reverse(Hotline.snippet_viewset.get_url_name("preview_on_edit"), args=[hotline.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_anonymous_does_not_see_drafts(client, pages):
    home, _ = pages
    draft = home.add_child(instance=TopicPage(title="Not yet", slug="not-yet", live=False))
    assert client.get(draft.url_path.replace("/perm-home", "", 1)).status_code == 404
    assert client.get("/laws/").status_code == 200
