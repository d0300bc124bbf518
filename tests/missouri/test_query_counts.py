"""What a page costs the database (issue 20): a Spanish page the same number of queries as its
English page, both within QUERY_CEILING, with the page cache cold and the site structure warm
(each page asked once before, so what a process remembers of sites, pages and translations is
in place; the rendered pages are then made stale)."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from portal.cache import invalidate_public_pages

QUERY_CEILING = 15
PAGES = {
    "home": ("/", "/es/"),
    "get help": ("/get-help/", "/es/obtener-ayuda/"),
    "federal prosecutions": ("/federal-prosecutions/", "/es/procesos-federales/"),
    "hotline stats": ("/hotline-statistics/", "/es/estadisticas-de-la-linea-de-ayuda/"),
    "state profile": ("/state-profile/", "/es/perfil-del-estado/"),
    "laws": ("/laws/", "/es/leyes/"),
    "statewide efforts": ("/statewide-efforts/", "/es/esfuerzos-en-el-estado/"),
    "data": ("/data/", "/es/datos/"),
    "search": ("/search/?q=Missouri", "/es/search/?q=Missouri"),
}


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def first_embed(client, path):
    html = client.get(path).content.decode()
    return re.findall(r'href="(/embed/\d+/[0-9a-f-]+/)"', html)[0]


def cold_page_queries(client, path):
    """The queries of one request for `path` with the page cache cold, structure warm."""
    assert client.get(path).status_code == 200, path  # what processes remember: warm
    invalidate_public_pages()  # every rendered page: stale
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200, path
    return [q["sql"] for q in queries.captured_queries]


def listing(queries):
    return "\n".join(f"{i + 1:3}. {sql[:300]}" for i, sql in enumerate(queries))


@pytest.mark.parametrize("name", [*PAGES, "embed"])
def test_a_spanish_page_costs_what_its_english_page_costs_within_the_ceiling(
    missouri_site, client, name
):
    if name == "embed":
        english, spanish = (
            first_embed(client, "/federal-prosecutions/"),
            first_embed(client, "/es/procesos-federales/"),
        )
    else:
        english, spanish = PAGES[name]
    en, es = cold_page_queries(client, english), cold_page_queries(client, spanish)
    assert len(es) == len(en) <= QUERY_CEILING, (
        f"{name}: English {len(en)}, Spanish {len(es)} queries (ceiling {QUERY_CEILING})\n"
        f"English {english}:\n{listing(en)}\nSpanish {spanish}:\n{listing(es)}"
    )


# What makes these counts: routes, menus, translations and the pages a restriction is on are
# remembered per site structure version (portal.memo). A change of the tree reaches the next
# request: the memo can be missing, never wrong.


def test_a_page_withdrawn_after_its_route_was_remembered_is_not_served(missouri_site, client):
    from wagtail.models import Page

    assert client.get("/es/leyes/").status_code == 200  # its route: remembered
    Page.objects.get(slug="leyes").specific.unpublish()
    assert client.get("/es/leyes/").status_code == 404
    home = client.get("/es/").content.decode()
    assert 'href="/es/leyes/"' not in home  # nor in the menu or the home page's sections


def test_a_restriction_added_after_a_visit_applies_at_the_next_request(missouri_site, client):
    from wagtail.models import Page, PageViewRestriction

    assert client.get("/es/leyes/").status_code == 200  # the pages it checks: remembered
    laws = Page.objects.get(slug="leyes")
    PageViewRestriction.objects.create(
        page=laws.get_parent(), restriction_type=PageViewRestriction.PASSWORD, password="x" * 12
    )
    response = client.get("/es/leyes/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
